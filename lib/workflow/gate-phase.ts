import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { GateNext } from '../../lambdas/request-approval';
import { gateTimeoutSeconds } from '../config';
import type { PhaseContext } from './context';
import { gate } from './gate';
import { Phase, type Functions, type PhaseProps } from './phase';

/** What every approval phase takes: the shared approval-request function and the one timeout state. */
export interface GatePhaseProps extends PhaseProps {
  /** The approval-request function (`createApprovalFunctions`), shared by every gate. */
  readonly functions: Functions<'request-approval'>;
  /** Where every gate goes on a timeout, after recording which gate it was (`gateTimeoutPath`). */
  readonly onTimeout: sfn.IChainable;
}

/** What tells one approval phase from another: its ids and names, and what its email shows. */
export interface GateSpec {
  /** The phase's id and its report phase name. */
  readonly phaseId: string;
  readonly reportPhase: string;
  /** The gate state's construct id, state name and gate name (`--approve reject:NAME`). */
  readonly constructId: string;
  readonly stateName: string;
  readonly gate: string;
  /** What was just done and verified, shown in the email and on the page. */
  readonly details: Record<string, unknown>;
  /**
   * What the next phase does, and which planned targets it touches (counts and the first names,
   * read from the execution's plan in S3). @default "the next phase of the rotation", none listed
   */
  readonly next?: GateNext;
}

/**
 * An approval phase: one callback gate (see {@link gate}) that goes on to `next` when approved,
 * to the failure path on a rejection or error, and to `onTimeout` when nobody answers in time.
 */
export abstract class GatePhase extends Phase {
  public readonly startState: sfn.State;
  public override readonly gates = 1;
  /** This gate's timeout: `approvals.gates.<gate>.timeoutSeconds`, else `approvals.timeoutSeconds`. */
  public override readonly gateTimeoutSeconds: number;

  protected constructor(ctx: PhaseContext, props: GatePhaseProps, spec: GateSpec) {
    super(spec.phaseId, spec.reportPhase, [props.next, props.onError, props.onTimeout]);
    this.gateTimeoutSeconds = gateTimeoutSeconds(ctx.config.approvals, spec.gate);
    const approval = gate({
      scope: ctx.scope,
      id: spec.constructId,
      stateName: spec.stateName,
      gate: spec.gate,
      details: spec.details,
      ...(spec.next ? { next: spec.next } : {}),
      handler: props.functions['request-approval'],
      timeoutSeconds: this.gateTimeoutSeconds,
      onTimeoutMode: ctx.config.approvals.onTimeout,
      timing: ctx.config.timing,
      onTimeout: props.onTimeout,
      onError: props.onError,
    });
    approval.next(props.next);
    this.startState = approval;
  }
}
