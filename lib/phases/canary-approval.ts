import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Phase, STATE, gate, type Functions, type PhaseContext, type PhaseProps } from '../workflow';

export interface CanaryApprovalProps extends PhaseProps {
  /** The approval-request function (`createApprovalFunction`), shared by every gate. */
  readonly functions: Functions<'request-approval'>;
  /** The one "no answer in time" state every gate goes to on a timeout (`approvalTimedOut`). */
  readonly onTimeout: sfn.IChainable;
}

/**
 * Approval 2: the canary edge serves the new certificate; a human checks it and lets the
 * rotation go on (the edge rollout), or not.
 *
 * Verified by: the TLS check before it (the served SHA-256 and the number of checks are shown);
 * only the approver roles may read the callback token.
 * Errors: a rejection or any error goes to the failure path (which switches the canary back), a
 * timeout through `onTimeout`.
 */
export class CanaryApproval extends Phase {
  public readonly startState: sfn.State;
  public override readonly gates = 1;

  constructor(ctx: PhaseContext, props: CanaryApprovalProps) {
    super('CanaryApproval', 'approval: canary', [props.next, props.onError, props.onTimeout]);
    const c = ctx.config;
    const approval = gate({
      scope: ctx.scope,
      id: 'GateCanary',
      stateName: STATE.gateCanary,
      gate: 'canary',
      details: {
        canary: c.canary.endpoint,
        servedSha256: sfn.JsonPath.stringAt('$.canaryCheck.servedSha256'),
        checks: sfn.JsonPath.numberAt('$.canaryCheck.attempts'),
        next: 'the edge rollout: every other ELB and ELBv2 listener and CloudFront distribution that serves the current certificate',
        targets: sfn.JsonPath.objectAt('$.plan.counts'),
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
