import { randomUUID } from 'node:crypto';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient, SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { describeDetails } from '../lambdas/request-approval/domain';
import { APPROVAL_REJECTED } from '../lambdas/shared/errors';
import type { ApproveMode, Approver, Decision } from './approver';
import { invokeHandler } from './invoke';
import type { EngineState, LocalHandler } from './local-engine';
import type { SimulatedAccount } from './sim';
import type { SynthesizedWorkflow } from './template';

/** A callback (approval gate) task: the handler gets a task token and the execution waits for the answer. */
export const CALLBACK_RESOURCE = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/** Runs around each handler invocation, in the handler's place (tests: RehearsalOptions.aroundHandlerForTests). */
export type AroundHandler = (
  call: { readonly state: string; readonly handler: string; readonly event: unknown },
  invoke: () => Promise<unknown>,
) => Promise<unknown>;

export interface TaskHandlerOptions {
  readonly sim: SimulatedAccount;
  readonly workflow: SynthesizedWorkflow;
  readonly approve: ApproveMode;
  readonly approver: Approver;
  readonly progress: (line: string) => void;
  readonly around?: AroundHandler;
  /** Each gate's decision is appended here, in the order the gates ran. */
  readonly approvals: Array<{ readonly gate: string; readonly decision: Decision | 'timeout' }>;
}

/**
 * The local handler of each Task state, for the engine: a Lambda task runs its real handler
 * in-process with its function's environment (inside `sim.runTask`, for state faults); a callback
 * task (an approval gate) runs request-approval with a token of its own, lets the approver answer
 * the way an operator would, and waits for the answer.
 *
 * Crash faults: the handler's side effects happen, then the invocation "fails" as a Lambda
 * service error would, and the state machine retries it. (With `afterCalls`, the simulated account
 * crashes the invocation itself, mid-work: sim.runTask.)
 */
export function taskHandlers(options: TaskHandlerOptions): (stateName: string, state: EngineState) => LocalHandler | undefined {
  const { sim, workflow, approve, approver, progress, around, approvals } = options;
  const crashes = sim.stateFaults.filter((f) => f.afterCalls === undefined).map((f) => ({ state: f.state, remaining: f.count ?? 1 }));
  // The operator's own CLI calls retry patiently through injected throttling.
  const sfnClient = new SFNClient({ maxAttempts: 10 });
  const s3Client = new S3Client({ maxAttempts: 10 });

  type Fn = SynthesizedWorkflow['functions'] extends ReadonlyMap<string, infer F> ? F : never;
  const invoke = (state: string, fn: Fn, event: unknown) =>
    around
      ? around({ state, handler: fn.handler, event }, () => invokeHandler(fn.entry, fn.environment, event))
      : invokeHandler(fn.entry, fn.environment, event);
  return (stateName: string, state: EngineState): LocalHandler | undefined => {
    const crash = () => {
      const c = crashes.find((x) => stateName.includes(x.state) && x.remaining > 0);
      if (c) {
        c.remaining -= 1;
        const err = new Error(`simulated crash of "${stateName}" after its side effects`);
        err.name = 'Lambda.ServiceException';
        throw err;
      }
    };
    if (state.Resource === CALLBACK_RESOURCE) {
      return async (raw) => {
        const { FunctionName, Payload } = raw as { FunctionName: string; Payload: Record<string, unknown> };
        const fn = workflow.functions.get(FunctionName);
        if (!fn) throw new Error(`no handler for ${FunctionName}`);
        // The engine does not mint task tokens; give each gate invocation its own.
        const token = `rehearsal-token-${randomUUID()}`;
        sim.sfn.expectTaskToken(token);
        const requested = (await sim.runTask(stateName, () => invoke(stateName, fn, { ...Payload, taskToken: token }))) as {
          requestKey: string;
        };
        crash();
        // The approver reads the request (and its token) where an operator would, then answers.
        const object = await s3Client.send(new GetObjectCommand({ Bucket: workflow.buckets.artifacts, Key: requested.requestKey }));
        const request = JSON.parse((await object.Body?.transformToString()) ?? '{}') as { taskToken: string; gate: string };
        // What the approval email shows, for --approve prompt.
        const summary = describeDetails(Payload.details ?? {});
        progress(`  waiting for approval: ${stateName}`);
        const decision = await approver.decide(stateName, summary);
        approvals.push({ gate: stateName, decision });
        progress(`  ${decision}: ${stateName}`);
        if (decision === 'approved') {
          await sfnClient.send(
            new SendTaskSuccessCommand({
              taskToken: request.taskToken,
              output: JSON.stringify({ decision, approvedBy: 'rehearsal', at: sim.clock.now().toISOString() }),
            }),
          );
        } else {
          await sfnClient.send(
            new SendTaskFailureCommand({
              taskToken: request.taskToken,
              error: APPROVAL_REJECTED,
              cause: `rejected in the rehearsal (--approve ${approve.mode === 'reject' ? `reject:${approve.gate}` : approve.mode})`,
            }),
          );
        }
        const result = await sim.sfn.waitForTaskToken(token);
        if ('error' in result) {
          const err = new Error(result.cause);
          err.name = result.error;
          throw err;
        }
        return JSON.parse(result.output) as unknown;
      };
    }
    const fn = workflow.functions.get(state.Resource ?? '');
    if (!fn) return undefined;
    return async (payload) => {
      const out = await sim.runTask(stateName, () => invoke(stateName, fn, payload));
      crash();
      return out;
    };
  };
}
