import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { GatePhase, type GatePhaseProps, type PhaseContext } from '../workflow';
import { nodeStatePath, pascalOf } from './node-phase';

export interface NodeApprovalProps extends GatePhaseProps {
  /** The node phase that just finished, and the one the approval lets start. */
  readonly after: string;
  readonly before: string;
  /** Its number among the gates: Approval 4 after the first node phase, 5 after the second... */
  readonly number: number;
}

/** The console name of the gate after node phase `after`. */
export function nodeGateName(number: number, after: string): string {
  return `Approval ${number}: ${after} nodes OK, continue?`;
}

/**
 * Approval 4, 5...: between two node phases (after beta, after the prod canary `ws-01`). The email
 * shows how the phase that just ran went: how many nodes serve the new certificate (each by its own
 * TLS handshake), the failures by name, the rate control it ran with and where every node's result
 * is; and which phase comes next. In the rehearsal, `--approve reject:"Approval 4"` (or
 * `reject:"beta nodes"`) rejects here.
 *
 * Verified by: the node phase's per-node results before it; only the approver roles may answer.
 * Errors: a rejection or any error goes to the failure path (which rolls back the nodes that
 * changed, then the edge), a timeout through `onTimeout`.
 */
export class NodeApproval extends GatePhase {
  constructor(ctx: PhaseContext, props: NodeApprovalProps) {
    const path = nodeStatePath(props.after);
    super(ctx, props, {
      phaseId: `NodeApproval${pascalOf(props.after)}`,
      reportPhase: `approval: nodes ${props.after}`,
      constructId: `GateNodes${pascalOf(props.after)}`,
      stateName: nodeGateName(props.number, props.after),
      gate: `nodes${pascalOf(props.after)}`,
      details: {
        phase: props.after,
        sent: sfn.JsonPath.objectAt(`${path}.send`),
        result: sfn.JsonPath.objectAt(`${path}.poll`),
      },
      next: { description: `node phase ${props.before}`, touches: { nodePhases: [props.before] } },
    });
  }
}
