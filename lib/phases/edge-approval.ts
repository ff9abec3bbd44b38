import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Phase, STATE, gate, type Functions, type PhaseContext, type PhaseProps } from '../workflow';

export interface EdgeApprovalProps extends PhaseProps {
  /** The approval-request function (`createApprovalFunction`), shared by every gate. */
  readonly functions: Functions<'request-approval'>;
  /** The one "no answer in time" state every gate goes to on a timeout (`approvalTimedOut`). */
  readonly onTimeout: sfn.IChainable;
}

/**
 * Approval 3: every edge target that served the old certificate serves the new one (switch counts
 * and what verification saw are shown); a human lets the rotation go on, or not. In the rehearsal,
 * `--approve reject:rollout` (or `reject:Approval 3`) rejects here: `reject:edge` would match the
 * canary gate first ("canary edge").
 *
 * Verified by: the edge phase's verification before it; only the approver roles may read the
 * callback token.
 * Errors: a rejection or any error goes to the failure path (which restores every edge target
 * and the canary), a timeout through `onTimeout`.
 */
export class EdgeApproval extends Phase {
  public readonly startState: sfn.State;
  public override readonly gates = 1;

  constructor(ctx: PhaseContext, props: EdgeApprovalProps) {
    super('EdgeApproval', 'approval: edge', [props.next, props.onError, props.onTimeout]);
    const c = ctx.config;
    const approval = gate({
      scope: ctx.scope,
      id: 'GateEdge',
      stateName: STATE.gateEdge,
      gate: 'edge',
      details: {
        targets: sfn.JsonPath.objectAt('$.edgeBatches.targets'),
        switched: sfn.JsonPath.objectAt('$.edgeSwitch'),
        verified: sfn.JsonPath.objectAt('$.edgeVerify'),
        next: 'finish and report (node phases are not part of this version)',
      },
      handler: props.functions['request-approval'],
      timeoutSeconds: c.approvals.timeoutSeconds,
      timing: c.timing,
      onTimeout: props.onTimeout,
      onError: props.onError,
    });
    approval.next(props.next);
    this.startState = approval;
  }
}
