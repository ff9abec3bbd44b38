/**
 * Simulated Step Functions API, for the handlers that call it: ListExecutions / DescribeExecution
 * (the concurrency guard) over executions the rehearsal registers, and SendTaskSuccess /
 * SendTaskFailure / SendTaskHeartbeat (the approval page) over task tokens the rehearsal expects.
 * The rehearsal awaits an approver's decision with {@link SimSfn.waitForTaskToken}.
 * StartExecution (the expiry check) starts an execution of a state machine the rehearsal
 * registered, with AWS's name rules: the same name and input while it runs returns the same
 * execution; otherwise a name already used is `ExecutionAlreadyExists`.
 */
import type {
  DescribeExecutionCommandInput,
  DescribeExecutionCommandOutput,
  ExecutionListItem,
  GetExecutionHistoryCommandInput,
  GetExecutionHistoryCommandOutput,
  HistoryEvent,
  HistoryEventType,
  ExecutionStatus,
  ListExecutionsCommandInput,
  ListExecutionsCommandOutput,
  SendTaskFailureCommandInput,
  SendTaskFailureCommandOutput,
  SendTaskHeartbeatCommandInput,
  SendTaskHeartbeatCommandOutput,
  SendTaskSuccessCommandInput,
  SendTaskSuccessCommandOutput,
  StartExecutionCommandInput,
  StartExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import { randomUUID } from 'node:crypto';
import * as sfnSdk from '@aws-sdk/client-sfn';
import type { SimClock } from './clock';
import { awsError } from './errors';
import type { Out } from './iam';
import { defineService, type OperationsOf } from './service';
import { paginate } from './util';

/** An execution the rehearsal registered. */
export interface SimExecution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  status: ExecutionStatus;
  readonly startDate: Date;
  stopDate?: Date;
  readonly input?: string;
  output?: string;
}

/** How a callback task ended. */
export type TaskTokenResult = { output: string } | { error: string; cause: string };

interface TokenState {
  result?: TaskTokenResult;
  /** Set when the task ended (decided or timed out): later calls get TaskTimedOut. */
  closed: boolean;
  heartbeats: number;
  waiters: Array<(r: TaskTokenResult) => void>;
}

/** Simulated Step Functions API. */
/** The fields ListExecutions and DescribeExecution share. */
function listItemOf(e: SimExecution): ExecutionListItem {
  return {
    executionArn: e.executionArn,
    stateMachineArn: e.stateMachineArn,
    name: e.name,
    status: e.status,
    startDate: new Date(e.startDate),
    stopDate: e.stopDate ? new Date(e.stopDate) : undefined,
  };
}

/** The operations of sfn the simulator answers (the SDK command names without `Command`). */
export const SFN_OPERATIONS = [
  'ListExecutions',
  'DescribeExecution',
  'StartExecution',
  'SendTaskSuccess',
  'SendTaskFailure',
  'SendTaskHeartbeat',
  'GetExecutionHistory',
] as const;

/** StartExecution `name`: 1 to 80 characters, no whitespace, wildcards, brackets, control characters or these: " # % \ ^ | ~ ` $ & , ; : / */
function validExecutionName(name: string): boolean {
  const control = [...name].some((c) => c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f));
  return name.length >= 1 && name.length <= 80 && !control && !/[\s<>{}[\]?*"#%\\^|~`$&,;:/]/.test(name);
}

export class SimSfn {
  readonly executions: SimExecution[] = [];
  /** Executions StartExecution created (not the ones the rehearsal registered), in start order. */
  readonly started: SimExecution[] = [];
  readonly #stateMachines = new Set<string>();
  readonly #tokens = new Map<string, TokenState>();
  /** Per execution, the state events the rehearsal records (GetExecutionHistory), oldest first. */
  readonly #history = new Map<string, HistoryEvent[]>();

  constructor(private readonly clock: SimClock) {}

  /** Declares a state machine StartExecution may start (any other ARN is `StateMachineDoesNotExist`). */
  registerStateMachine(stateMachineArn: string): void {
    this.#stateMachines.add(stateMachineArn);
  }

  /** Registers (or replaces) an execution that ListExecutions / DescribeExecution will show. */
  registerExecution(e: {
    executionArn: string;
    stateMachineArn: string;
    name: string;
    status: ExecutionStatus;
    startDate?: Date;
    input?: string;
  }): void {
    const i = this.executions.findIndex((x) => x.executionArn === e.executionArn);
    const item: SimExecution = { ...e, startDate: e.startDate ?? this.clock.now() };
    if (i >= 0) this.executions[i] = item;
    else this.executions.push(item);
  }

  /** Updates a registered execution's status (and stop date when it is no longer RUNNING). */
  setExecutionStatus(executionArn: string, status: ExecutionStatus, output?: string): void {
    const e = this.executions.find((x) => x.executionArn === executionArn);
    if (!e) throw new Error(`sfn.setExecutionStatus: no registered execution ${executionArn}`);
    e.status = status;
    if (output !== undefined) e.output = output;
    if (status !== 'RUNNING') e.stopDate = this.clock.now();
  }

  /** Declares a task token the engine handed to a callback task, so Send* calls can complete it. */
  expectTaskToken(token: string): void {
    if (!this.#tokens.has(token)) this.#tokens.set(token, { closed: false, heartbeats: 0, waiters: [] });
  }

  /** Resolves when the token's task gets SendTaskSuccess / SendTaskFailure (or {@link timeOutTaskToken}). */
  waitForTaskToken(token: string): Promise<TaskTokenResult> {
    const state = this.#tokens.get(token);
    if (!state) return Promise.reject(new Error('sfn.waitForTaskToken: unknown task token (call expectTaskToken first)'));
    if (state.result) return Promise.resolve(state.result);
    return new Promise((resolve) => state.waiters.push(resolve));
  }

  /** Ends a waiting task as the engine's TimeoutSeconds would: later Send* calls get TaskTimedOut. */
  timeOutTaskToken(token: string): void {
    const state = this.#tokens.get(token);
    if (!state || state.closed) return;
    this.close(state, { error: 'States.Timeout', cause: 'The callback task timed out' });
  }

  /** Tokens expected and not yet completed. Counts only, never the tokens' use elsewhere. */
  pendingTaskTokens(): string[] {
    return [...this.#tokens.entries()].filter(([, s]) => !s.closed).map(([t]) => t);
  }

  /**
   * Records a state event of a registered execution, as the service would (the rehearsal
   * records a callback task's TaskStateEntered when it starts waiting, and TaskStateExited when
   * it ends), for GetExecutionHistory.
   */
  recordStateEvent(executionArn: string, type: Extract<HistoryEventType, `${string}State${'Entered' | 'Exited'}`>, name: string): void {
    const events = this.#history.get(executionArn) ?? [];
    const id = events.length + 1;
    const event: HistoryEvent = type.endsWith('Entered')
      ? { id, previousEventId: id - 1, timestamp: this.clock.now(), type, stateEnteredEventDetails: { name } }
      : { id, previousEventId: id - 1, timestamp: this.clock.now(), type, stateExitedEventDetails: { name } };
    events.push(event);
    this.#history.set(executionArn, events);
  }

  /** Heartbeats received for a token. */
  heartbeats(token: string): number {
    return this.#tokens.get(token)?.heartbeats ?? 0;
  }

  /** The SDK operations, by name (exactly SFN_OPERATIONS). */
  readonly operations = {
    ListExecutions: (input: ListExecutionsCommandInput): Out<ListExecutionsCommandOutput> => {
      if (!input.stateMachineArn && !input.mapRunArn) {
        throw awsError('ValidationException', 'Must provide a StateMachine ARN or MapRun ARN');
      }
      // Lenient on purpose: an unknown state machine lists nothing (the rehearsal registers only what it runs).
      const matching = this.executions
        .filter((e) => e.stateMachineArn === input.stateMachineArn)
        .filter((e) => !input.statusFilter || e.status === input.statusFilter)
        .sort((a, b) => b.startDate.getTime() - a.startDate.getTime());
      if (input.maxResults !== undefined && (!Number.isInteger(input.maxResults) || input.maxResults < 0 || input.maxResults > 1000)) {
        throw awsError(
          'ValidationException',
          `1 validation error detected: Value '${input.maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000`,
        );
      }
      const max = input.maxResults && input.maxResults > 0 ? input.maxResults : 100;
      const { page, next } = paginate(matching, { marker: input.nextToken, pageSize: max, kind: 'sfn', errorCode: 'InvalidToken' });
      return {
        executions: page.map(listItemOf),
        nextToken: next,
      };
    },
    DescribeExecution: (input: DescribeExecutionCommandInput): Out<DescribeExecutionCommandOutput> => {
      const e = this.executions.find((x) => x.executionArn === input.executionArn);
      if (!e) throw awsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(input.executionArn)}'`);
      return {
        ...listItemOf(e),
        input: e.input,
        output: e.output,
      };
    },
    StartExecution: (input: StartExecutionCommandInput): Out<StartExecutionCommandOutput> => {
      const smArn = input.stateMachineArn ?? '';
      if (!this.#stateMachines.has(smArn)) throw awsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${smArn}'`);
      const name = input.name ?? randomUUID();
      if (!validExecutionName(name)) throw awsError('InvalidName', `Invalid Name: '${name}'`);
      const execInput = input.input ?? '{}';
      try {
        JSON.parse(execInput);
      } catch {
        throw awsError('InvalidExecutionInput', 'Invalid State Machine Execution Input: input must be valid JSON');
      }
      if (Buffer.byteLength(execInput, 'utf8') > 256 * 1024) throw awsError('InvalidExecutionInput', 'input is larger than 256 KiB');
      const executionArn = `${smArn.replace(':stateMachine:', ':execution:')}:${name}`;
      const existing = this.executions.find((e) => e.executionArn === executionArn);
      if (existing) {
        // Idempotent while it runs with the same input; a name is never reused otherwise (90 days).
        if (existing.status === 'RUNNING' && (existing.input ?? '{}') === execInput) {
          return { executionArn, startDate: new Date(existing.startDate) };
        }
        throw awsError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
      }
      const execution: SimExecution = {
        executionArn,
        stateMachineArn: smArn,
        name,
        status: 'RUNNING',
        startDate: this.clock.now(),
        input: execInput,
      };
      this.executions.push(execution);
      this.started.push(execution);
      return { executionArn, startDate: new Date(execution.startDate) };
    },
    SendTaskSuccess: (input: SendTaskSuccessCommandInput): Out<SendTaskSuccessCommandOutput> => {
      const state = this.openToken(input.taskToken);
      const output = input.output ?? '';
      try {
        JSON.parse(output);
      } catch {
        throw awsError('InvalidOutput', 'Invalid State Machine Execution Output: output must be valid JSON');
      }
      this.close(state, { output });
      return {};
    },
    SendTaskFailure: (input: SendTaskFailureCommandInput): Out<SendTaskFailureCommandOutput> => {
      const state = this.openToken(input.taskToken);
      if ((input.error ?? '').length > 256) throw awsError('ValidationException', 'error must be at most 256 characters');
      if ((input.cause ?? '').length > 32768) throw awsError('ValidationException', 'cause must be at most 32768 characters');
      this.close(state, { error: input.error ?? '', cause: input.cause ?? '' });
      return {};
    },
    SendTaskHeartbeat: (input: SendTaskHeartbeatCommandInput): Out<SendTaskHeartbeatCommandOutput> => {
      this.openToken(input.taskToken).heartbeats += 1;
      return {};
    },
    GetExecutionHistory: (input: GetExecutionHistoryCommandInput): Out<GetExecutionHistoryCommandOutput> => {
      if (!this.executions.some((x) => x.executionArn === input.executionArn)) {
        throw awsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(input.executionArn)}'`);
      }
      const all = [...(this.#history.get(input.executionArn ?? '') ?? [])];
      if (input.reverseOrder) all.reverse();
      const max = input.maxResults && input.maxResults > 0 ? Math.min(input.maxResults, 1000) : 100;
      const { page, next } = paginate(all, { marker: input.nextToken, pageSize: max, kind: 'sfn-history', errorCode: 'InvalidToken' });
      return { events: page.map((e) => structuredClone(e)), nextToken: next };
    },
  } satisfies OperationsOf<typeof SFN_OPERATIONS>;

  private openToken(token: string | undefined): TokenState {
    if (!token || token.length > 2048) throw awsError('InvalidToken', 'Invalid Token');
    const state = this.#tokens.get(token);
    if (!state) throw awsError('TaskDoesNotExist', 'Task Does Not Exist');
    if (state.closed) throw awsError('TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'");
    return state;
  }

  private close(state: TokenState, result: TaskTokenResult): void {
    state.closed = true;
    state.result = result;
    for (const w of state.waiters.splice(0)) w(result);
  }
}

/** sfn in the registry (registry.ts). */
export const sfnService = defineService({
  prefix: 'sfn',
  property: 'sfn',
  operations: SFN_OPERATIONS,
  client: sfnSdk.SFNClient,
  sdk: { exports: sfnSdk, baseException: 'SFNServiceException' },
  throttlingCode: 'ThrottlingException',
  // Published: ListExecutions 2/s; the others an estimate.
  defaultRates: { 'sfn:*': 100, 'sfn:ListExecutions': 2 },
  create: (ctx) => new SimSfn(ctx.clock),
});
