import { randomBytes } from 'node:crypto';
import { hashApprovalId } from '../lambdas/approval-page/store';
import { approvalLinksIn } from './approval-client';
import type { Approver, Decision } from './approver';
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

/** A gate's decision as the approval store recorded it. */
export interface ApprovalReport {
  readonly gate: string;
  readonly decision: Decision | 'timeout';
  readonly approver?: string;
  readonly comment?: string;
  readonly decidedAt?: string;
}

/**
 * The gates waiting for an answer, by state name. When the engine times a gate out (its callback
 * task's TimeoutSeconds), {@link timedOut} closes that gate's token as Step Functions does (a
 * later SendTaskSuccess/Failure is `TaskTimedOut`), so the waiting handler records the timeout.
 */
export class WaitingGates {
  private readonly tokens = new Map<string, string>();

  constructor(private readonly sim: Pick<SimulatedAccount, 'sfn'>) {}

  waiting(stateName: string, token: string): void {
    this.tokens.set(stateName, token);
  }

  /** The engine raised States.Timeout in `stateName`. */
  timedOut(stateName: string): void {
    const token = this.tokens.get(stateName);
    if (token) this.sim.sfn.timeOutTaskToken(token);
  }
}

export interface TaskHandlerOptions {
  readonly sim: SimulatedAccount;
  readonly workflow: SynthesizedWorkflow;
  readonly approver: Approver;
  /** The approval page's base URL (the rehearsal's server on 127.0.0.1). */
  readonly pageUrl: string;
  /** Every task token handed to a gate is appended here (the token check searches for them). */
  readonly issuedTokens: string[];
  readonly progress: (line: string) => void;
  readonly around?: AroundHandler;
  /** Each gate's decision is appended here, in the order the gates ran. */
  readonly approvals: ApprovalReport[];
  /** Where a waiting gate's token is kept, for the engine's timeout to close. @default a private one (no timeouts observed) */
  readonly waitingGates?: WaitingGates;
}

/**
 * The local handler of each Task state, for the engine: a Lambda task runs its real handler
 * in-process with its function's environment (inside `sim.runTask`, for state faults); a callback
 * task (an approval gate) runs request-approval with a token of its own, hands the approver the
 * link of the email it sent (the approver answers on the real approval page, whose POST calls
 * SendTaskSuccess/SendTaskFailure), and waits for the task to end.
 *
 * Crash faults: the handler's side effects happen, then the invocation "fails" as a Lambda
 * service error would, and the state machine retries it. (With `afterCalls`, the simulated account
 * crashes the invocation itself, mid-work: sim.runTask.)
 */
export function taskHandlers(options: TaskHandlerOptions): (stateName: string, state: EngineState) => LocalHandler | undefined {
  const { sim, workflow, approver, progress, around, approvals, pageUrl, issuedTokens } = options;
  const waitingGates = options.waitingGates ?? new WaitingGates(sim);
  const crashes = sim.stateFaults.filter((f) => f.afterCalls === undefined).map((f) => ({ state: f.state, remaining: f.count ?? 1 }));

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
        const synthesized = workflow.functions.get(FunctionName);
        if (!synthesized) throw new Error(`no handler for ${FunctionName}`);
        // The links in the email point at the page this rehearsal serves on 127.0.0.1.
        const fn = { ...synthesized, environment: { ...synthesized.environment, APPROVAL_PAGE_URL: pageUrl } };
        const executionArn = String(Payload.executionArn);
        // The engine does not mint task tokens; give each gate invocation its own (as long as AWS's).
        const token = `rehearsal-task-token-${randomBytes(300).toString('base64url')}`;
        sim.sfn.expectTaskToken(token);
        issuedTokens.push(token);
        sim.sfn.recordStateEvent(executionArn, 'TaskStateEntered', stateName);
        const sent = sim.sns.messages.length;
        await sim.runTask(stateName, () => invoke(stateName, fn, { ...Payload, taskToken: token }));
        crash();
        // The approver reads the email, as an operator would, and answers on the page it links.
        const email = sim.sns.messages
          .slice(sent)
          .map((m) => m.message)
          .find((m) => approvalLinksIn(m).length > 0);
        if (!email) throw new Error(`${stateName}: request-approval sent no email with an approval link`);
        const link = approvalLinksIn(email)[0];
        progress(`  waiting for approval: ${stateName}`);
        const ended = sim.sfn.waitForTaskToken(token);
        waitingGates.waiting(stateName, token);
        await approver.decide({ stateName, link, email });
        const result = await ended;
        sim.sfn.recordStateEvent(executionArn, 'TaskStateExited', stateName);
        // What the approval store recorded (observed, not what the approver meant to do).
        const idHash = hashApprovalId(link.slice(link.lastIndexOf('/') + 1));
        const item = sim.dynamodb.items(workflow.approvalTable.name).find((i) => i.idHash?.S === idHash);
        const recorded = item?.decision?.S;
        // The engine's timeout ended the task: a timeout, whatever anyone posted after it.
        const timedOut = 'error' in result && result.error === 'States.Timeout';
        const decision: Decision | 'timeout' = !timedOut && (recorded === 'approved' || recorded === 'rejected') ? recorded : 'timeout';
        approvals.push({
          gate: stateName,
          decision,
          ...(item?.decidedBy?.S ? { approver: item.decidedBy.S } : {}),
          ...(item?.comment?.S ? { comment: item.comment.S } : {}),
          ...(item?.decidedAt?.S ? { decidedAt: item.decidedAt.S } : {}),
        });
        progress(`  ${decision}: ${stateName}${item?.decidedBy?.S ? ` (by ${item.decidedBy.S})` : ''}`);
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
