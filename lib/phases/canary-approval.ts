import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { GatePhase, STATE, type GatePhaseProps, type PhaseContext } from '../workflow';

export type CanaryApprovalProps = GatePhaseProps;

/**
 * Approval 2: the canary edge serves the new certificate; a human checks it and lets the
 * rotation go on (the edge rollout), or not.
 *
 * Verified by: the TLS check before it (the served SHA-256 and the number of checks are shown);
 * only the approval page's role reads the task token.
 * Errors: a rejection or any error goes to the failure path (which switches the canary back), a
 * timeout through `onTimeout`.
 */
export class CanaryApproval extends GatePhase {
  constructor(ctx: PhaseContext, props: CanaryApprovalProps) {
    const c = ctx.config;
    super(ctx, props, {
      phaseId: 'CanaryApproval',
      reportPhase: 'approval: canary',
      constructId: 'GateCanary',
      stateName: STATE.gateCanary,
      gate: 'canary',
      details: {
        canary: c.canary.endpoint,
        servedSha256: sfn.JsonPath.stringAt('$.canaryCheck.servedSha256'),
        checks: sfn.JsonPath.numberAt('$.canaryCheck.attempts'),
      },
      next: {
        description: 'the edge rollout: every other ELB and ELBv2 listener and CloudFront distribution that serves the current certificate',
        touches: { edge: true },
      },
    });
  }
}
