import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { GatePhase, STATE, type GatePhaseProps, type PhaseContext } from '../workflow';

export type EdgeApprovalProps = GatePhaseProps;

/**
 * Approval 3: every edge target that served the old certificate serves the new one (switch counts
 * and what verification saw are shown); a human lets the rotation go on, or not. In the rehearsal,
 * `--approve reject:rollout` (or `reject:Approval 3`) rejects here: `reject:edge` would match the
 * canary gate first ("canary edge").
 *
 * Verified by: the edge phase's verification before it; only the approval page's role reads
 * the task token.
 * Errors: a rejection or any error goes to the failure path (which restores every edge target
 * and the canary), a timeout through `onTimeout`.
 */
export class EdgeApproval extends GatePhase {
  constructor(ctx: PhaseContext, props: EdgeApprovalProps) {
    super(ctx, props, {
      phaseId: 'EdgeApproval',
      reportPhase: 'approval: edge',
      constructId: 'GateEdge',
      stateName: STATE.gateEdge,
      gate: 'edge',
      details: {
        targets: sfn.JsonPath.objectAt('$.edgeBatches.targets'),
        switched: sfn.JsonPath.objectAt('$.edgeSwitch'),
        verified: sfn.JsonPath.objectAt('$.edgeVerify'),
      },
      next:
        ctx.config.nodePhases.length > 0
          ? {
              description: `node phase ${ctx.config.nodePhases[0].name} (then ${
                ctx.config.nodePhases
                  .slice(1)
                  .map((p) => p.name)
                  .join(', ') || 'no other'
              }, with an approval between two), then prune and report`,
              touches: { nodePhases: [ctx.config.nodePhases[0].name] },
            }
          : { description: 'prune old IAM certificates of this domain, then the final report (no node phase is configured)' },
    });
  }
}
