import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Phase, STATE, gate, type Functions, type PhaseContext, type PhaseProps } from '../workflow';

export interface StartApprovalProps extends PhaseProps {
  /** The approval-request function (`createApprovalFunction`), shared by every gate. */
  readonly functions: Functions<'request-approval'>;
  /** The one "no answer in time" state every gate goes to on a timeout (`approvalTimedOut`). */
  readonly onTimeout: sfn.IChainable;
}

/**
 * Approval 1: a human reads what will change (the new and the current certificate, the canary,
 * the target counts, the validation warnings) and starts the rotation, or not.
 *
 * Verified by: only the approver roles may read the callback token (the artifact bucket policy).
 * Errors: a rejection or any error goes to the failure path, a timeout through `onTimeout`; nothing
 * has changed yet (an empty ledger).
 */
export class StartApproval extends Phase {
  public readonly startState: sfn.State;
  public override readonly gates = 1;

  constructor(ctx: PhaseContext, props: StartApprovalProps) {
    super('StartApproval', 'approval: start', [props.next, props.onError, props.onTimeout]);
    const c = ctx.config;
    const start = gate({
      scope: ctx.scope,
      id: 'GateStart',
      stateName: STATE.gateStart,
      gate: 'start',
      details: {
        newCertificate: {
          sha256: sfn.JsonPath.stringAt('$.validation.summary.sha256'),
          notAfter: sfn.JsonPath.stringAt('$.validation.summary.notAfter'),
          names: sfn.JsonPath.listAt('$.validation.summary.names'),
        },
        currentCertificate: {
          name: sfn.JsonPath.stringAt('$.current.name'),
          sha256: sfn.JsonPath.stringAt('$.current.sha256'),
          notAfter: sfn.JsonPath.stringAt('$.current.notAfter'),
        },
        canary: `${c.canary.loadBalancerName}:${c.canary.port} (${c.canary.endpoint})`,
        targets: sfn.JsonPath.objectAt('$.plan.counts'),
        edge: sfn.JsonPath.listAt('$.plan.edgeNames'),
        nodes: sfn.JsonPath.objectAt('$.plan.nodeNames'),
        warnings: sfn.JsonPath.listAt('$.validation.warnings'),
      },
      handler: props.functions['request-approval'],
      timeoutSeconds: c.approvals.timeoutSeconds,
      timing: c.timing,
      onTimeout: props.onTimeout,
      onError: props.onError,
    });
    start.next(props.next);
    this.startState = start;
  }
}
