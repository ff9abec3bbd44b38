import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { GatePhase, STATE, type GatePhaseProps, type PhaseContext } from '../workflow';

export type StartApprovalProps = GatePhaseProps;

/**
 * Approval 1: a human reads what will change (the new and the current certificate, the canary,
 * the target counts, the validation warnings) and starts the rotation, or not.
 *
 * Verified by: only the approval page's role reads the task token (the approval store's policy).
 * Errors: a rejection or any error goes to the failure path, a timeout through `onTimeout`; nothing
 * has changed yet (an empty ledger).
 */
export class StartApproval extends GatePhase {
  constructor(ctx: PhaseContext, props: StartApprovalProps) {
    const c = ctx.config;
    super(ctx, props, {
      phaseId: 'StartApproval',
      reportPhase: 'approval: start',
      constructId: 'GateStart',
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
      next: { description: 'upload the new certificate to IAM, then switch the canary listener', touches: { canary: true } },
    });
  }
}
