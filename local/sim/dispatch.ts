/**
 * The dispatcher of the simulated account: every SDK call the middleware hands over goes through
 * {@link Dispatcher.handle}, which records it, applies the fleet's request rates and the faults
 * file, runs the simulated operation and turns a service error into the real SDK exception. It also
 * runs task invocations ({@link Dispatcher.runTask}) so that `crash-after-side-effects` with
 * `afterCalls` can crash a handler right after its Nth state-changing call.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ApiRateLimiter } from './api-rates';
import type { SimClock } from './clock';
import { NotSimulatedError, SimServiceError, THROTTLING_CODES } from './errors';
import { callKey, FaultInjector, type ApiFault, type FaultSpec, type StateFault } from './faults';
import { SIMULATED_OPERATIONS, toSdkException, type ServicePrefix } from './registry';
import type { SimHandler } from './service';

/** One API call the account answered (or refused). Never the input: it can hold a private key. */
export interface SimCall {
  readonly operation: string;
  /** Error name/code when the call failed. */
  readonly error?: string;
  /** Whether the failure was injected by the faults file. */
  readonly injected?: boolean;
  /** Whether the call was throttled by the fleet's `apiRates` (simulated requests per second). */
  readonly rateLimited?: boolean;
  /** Simulated epoch ms. */
  readonly at: number;
}

/** The task invocation a call belongs to, for `crash-after-side-effects` with `afterCalls`. */
interface TaskInvocation {
  readonly state: string;
  /** State-changing calls that succeeded so far in this invocation. */
  changes: number;
  /** The fault that crashes this invocation, and after how many state-changing calls. */
  readonly crash?: StateFault & { readonly afterCalls: number };
  /** Set once the simulated process died: every later call of the invocation fails with it. */
  crashed?: Error;
}

/** Operation names (after the service prefix) that change something: what `afterCalls` counts. */
const STATE_CHANGING_VERB =
  /^(Put|Create|Delete|Set|Modify|Add|Remove|Update|Upload|Tag|Untag|Publish|Send|Start|Stop|Register|Deregister|Attach|Detach|Import|Restore|Rotate|Cancel|Terminate|Reboot|Run)/;

/** True for operations that change state (`s3:PutObject`, `elb:SetLoadBalancerListenerSSLCertificate`, `sfn:SendTaskSuccess`...). */
export function isStateChanging(operation: string): boolean {
  return STATE_CHANGING_VERB.test(operation.split(':')[1] ?? '');
}

function injectedMessage(operation: string, fault: ApiFault): string {
  return THROTTLING_CODES.has(fault.error) ? 'Rate exceeded' : `${fault.error} (injected by the faults file for ${operation})`;
}

/** What the dispatcher is built from. */
export interface DispatcherOptions {
  readonly clock: SimClock;
  /** `service:Operation` -> its handler. */
  readonly table: ReadonlyMap<string, SimHandler>;
  /** The whole faults file (the dispatcher acts on the API and state faults). */
  readonly faults: readonly FaultSpec[];
  readonly stateFaults: readonly StateFault[];
  /** The fleet's `apiRates`. */
  readonly apiRates?: Readonly<Record<string, number>>;
  /** Per-run names (execution names) replaced in fault keys, so that a rate fault fails the same calls in every run. */
  readonly runNames: () => Iterable<string>;
  /** Runs after every call that succeeded (target faults watch for changes). */
  readonly afterCall: () => void;
}

/** Records, limits, faults and runs calls. */
export class Dispatcher {
  private readonly injector: FaultInjector;
  private readonly rates: ApiRateLimiter;
  private readonly tasks = new AsyncLocalStorage<TaskInvocation>();
  private readonly crashesLeft = new Map<StateFault, number>();
  private readonly callLog: SimCall[] = [];

  constructor(private readonly opts: DispatcherOptions) {
    this.injector = new FaultInjector(opts.faults);
    this.rates = new ApiRateLimiter(opts.clock, opts.apiRates);
    for (const f of opts.stateFaults) if (f.afterCalls !== undefined) this.crashesLeft.set(f, f.count);
  }

  /** Every call, failed ones included, in order. */
  get calls(): ReadonlyArray<SimCall> {
    return this.callLog;
  }

  /** How many calls each API fault of the faults file failed so far. */
  faultsFired(): Array<{ fault: ApiFault; fired: number }> {
    return this.injector.firedCounts();
  }

  /** Answers one call (see the module comment). Throws the real SDK exception classes. */
  async handle(operation: string, input: unknown): Promise<unknown> {
    const at = this.opts.clock.nowMs();
    const fn = this.opts.table.get(operation);
    if (!fn) {
      this.callLog.push({ operation, error: 'NotSimulated', at });
      throw new NotSimulatedError(
        `${operation} is not simulated by the simulated AWS account (simulated: ${SIMULATED_OPERATIONS.filter((o) => o.startsWith(`${operation.split(':')[0]}:`)).join(', ') || 'none for this service'})`,
      );
    }
    const service = operation.split(':')[0] as ServicePrefix;
    const task = this.tasks.getStore();
    // A crashed task's process is gone: nothing it would still send reaches AWS.
    if (task?.crashed) throw task.crashed;
    const limited = this.rates.take(operation);
    if (limited) {
      this.callLog.push({ operation, error: limited, rateLimited: true, at });
      throw toSdkException(
        service,
        limited,
        `Rate exceeded (${operation} is limited to ${this.rates.rateOf(operation)} requests per second)`,
      );
    }
    const fault = this.injector.check(
      operation,
      callKey(input, (v) => this.normalizeRunValue(v)),
    );
    if (fault) {
      this.callLog.push({ operation, error: fault.error, injected: true, at });
      throw toSdkException(service, fault.error, injectedMessage(operation, fault));
    }
    try {
      const output = await (fn as (i: unknown) => unknown)(input ?? {});
      this.callLog.push({ operation, at });
      this.opts.afterCall();
      if (task && isStateChanging(operation)) this.afterStateChange(task, operation);
      return output;
    } catch (e) {
      if (e instanceof SimServiceError) {
        this.callLog.push({ operation, error: e.code, at });
        throw toSdkException(service, e.code, e.message, e.httpStatusCode);
      }
      this.callLog.push({ operation, error: e instanceof Error ? e.name : 'Error', at });
      throw e;
    }
  }

  /**
   * Answers a call that no task invocation makes (a node's own call: the deploy script's
   * GetSecretValue), even when it happens while a task runs: it is recorded, rate-limited and
   * faulted like any call, and never counts towards, or dies with, that task's crash.
   */
  handleOutsideTask(operation: string, input: unknown): Promise<unknown> {
    return this.tasks.exit(() => this.handle(operation, input));
  }

  /**
   * Runs one invocation of a task state's handler, so that `crash-after-side-effects` with
   * `afterCalls: N` can crash it right after its Nth state-changing call: that call takes effect,
   * then it and every later call of the invocation fail, and so does the invocation itself, with
   * the error a crashed Lambda gives (`Lambda.ServiceException`), whatever the handler caught.
   */
  async runTask<T>(state: string, body: () => Promise<T>): Promise<T> {
    const fault = this.opts.stateFaults.find(
      (f): f is StateFault & { afterCalls: number } =>
        f.afterCalls !== undefined && state.includes(f.state) && (this.crashesLeft.get(f) ?? 0) > 0,
    );
    const invocation: TaskInvocation = { state, changes: 0, ...(fault ? { crash: fault } : {}) };
    return this.tasks.run(invocation, async () => {
      let result: T;
      try {
        result = await body();
      } catch (e) {
        throw invocation.crashed ?? e;
      }
      if (invocation.crashed) throw invocation.crashed;
      return result;
    });
  }

  private afterStateChange(task: TaskInvocation, operation: string): void {
    task.changes += 1;
    if (!task.crash || task.changes !== task.crash.afterCalls) return;
    this.crashesLeft.set(task.crash, (this.crashesLeft.get(task.crash) ?? 1) - 1);
    const error = new Error(
      `simulated crash of "${task.state}" right after its state-changing AWS call #${task.changes} (${operation}) took effect`,
    );
    error.name = 'Lambda.ServiceException';
    task.crashed = error;
    throw error;
  }

  /** Per-run strings (execution names, timestamps, random ARN suffixes) made the same in every run, for fault keys. */
  private normalizeRunValue(value: string): string {
    let v = value;
    for (const name of this.opts.runNames()) if (name) v = v.split(name).join('<execution>');
    return (
      v
        .replace(/\d{4}-\d{2}-\d{2}T\d{2}[-:]\d{2}[-:]\d{2}(?:[-.]\d{1,3})?Z/g, '<time>')
        .replace(/(:secret:[^:]+)-[A-Za-z0-9]{6}$/, '$1-<suffix>')
        // The approval store's per-run values: task tokens, id hashes and fingerprints, epoch seconds.
        .replace(/rehearsal-task-token-[A-Za-z0-9_-]+/g, '<task-token>')
        .replace(/[0-9a-fA-F]{32,}/g, '<hex>')
        .replace(/^\d{10}$/, '<epoch>')
    );
  }
}
