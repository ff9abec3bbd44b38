import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Functions, Phase, PhaseContext } from '../workflow';
import { NodeApproval } from './node-approval';
import { NodePhase } from './node-phase';

export interface NodePhasesProps {
  readonly functions: Functions<'node-send' | 'node-poll' | 'request-approval'>;
  readonly next: sfn.IChainable;
  readonly onError: sfn.IChainable;
  readonly onTimeout: sfn.IChainable;
  /** The number of the first gate between node phases (the edge's is Approval 3). @default 4 */
  readonly firstGate?: number;
}

/**
 * The node phases in the config's order (`nodePhases`: beta, prod-canary, prod), each a
 * {@link NodePhase}, with a {@link NodeApproval} gate between two of them (none after the last: it
 * goes on to `next`). Built bottom-up like every phase. Returns where to go instead of `next`, and
 * the phases in flow order (their declarations go into the report).
 */
export function buildNodePhases(ctx: PhaseContext, props: NodePhasesProps): { start: sfn.IChainable; phases: Phase[] } {
  const configured = ctx.config.nodePhases;
  const first = props.firstGate ?? 4;
  const phases: Phase[] = [];
  let next = props.next;
  for (let i = configured.length - 1; i >= 0; i--) {
    if (i < configured.length - 1) {
      const gate = new NodeApproval(ctx, {
        functions: props.functions,
        next,
        onError: props.onError,
        onTimeout: props.onTimeout,
        after: configured[i].name,
        before: configured[i + 1].name,
        number: first + i,
      });
      phases.unshift(gate);
      next = gate;
    }
    const phase = new NodePhase(ctx, { functions: props.functions, next, onError: props.onError, phase: configured[i] });
    phases.unshift(phase);
    next = phase;
  }
  return { start: next, phases };
}
