/**
 * Simulated SSM Run Command: SendCommand, GetCommandInvocation, ListCommandInvocations and
 * ListCommands, in simulated time, as SSM behaves:
 *  - SendCommand takes the registered document (ssm-documents.ts) with its parameters checked,
 *    `InstanceIds` (<= 50, each registered with SSM, else InvalidInstanceId) or `Targets` (<= 5,
 *    <= 50 values each; `InstanceIds`, `tag:<key>` or `tag-key`; targets AND together, the values of
 *    one OR; only SSM-managed instances match), `MaxConcurrency` (default 50), `MaxErrors` (default
 *    0), `TimeoutSeconds` (delivery timeout, default 3600).
 *  - Invocations exist {@link INVOCATION_DELAY_SECONDS} simulated seconds after SendCommand: before,
 *    GetCommandInvocation is `InvocationDoesNotExist` and ListCommandInvocations lists none.
 *  - At most MaxConcurrency invocations run at once, each {@link RUN_SECONDS} simulated seconds (a real
 *    script run, nginx nodes, is awaited when simulated time reaches its end). Failed and
 *    ExecutionTimedOut count as errors; once errors exceed MaxErrors, the invocations not yet sent
 *    are `Cancelled` / `Terminated` and the command is `Failed`. An instance that is offline
 *    (ConnectionLost) is `Failed` / `Undeliverable`, which does not count against MaxErrors; one still
 *    waiting for a slot when the delivery timeout passes is `TimedOut` / `DeliveryTimedOut`.
 *  - GetCommandInvocation gives the first 24,000 characters of stdout and 8,000 of stderr;
 *    ListCommandInvocations with `Details` the plugin's `Output` (stdout, then stderr after
 *    `----------ERROR-------`), first 2,500 characters. A non-zero exit adds the agent's
 *    `failed to run commands: exit status N` to stderr.
 * Work is done lazily, when an SSM call looks (or {@link RunCommand.settle}), one refresh at a time.
 */
import { randomUUID } from 'node:crypto';
import type {
  CommandFilter,
  CommandInvocationStatus,
  GetCommandInvocationCommandInput,
  GetCommandInvocationCommandOutput,
  ListCommandInvocationsCommandInput,
  ListCommandInvocationsCommandOutput,
  ListCommandsCommandInput,
  ListCommandsCommandOutput,
  SendCommandCommandInput,
  SendCommandCommandOutput,
  Target,
} from '@aws-sdk/client-ssm';
import type { SimClock } from './clock';
import type { SimEc2, SimInstance } from './ec2';
import { awsError } from './errors';
import type { Out } from './iam';
import { resolveParameters, type SimDocument } from './ssm-documents';
import { targetsOf } from './ssm-targets';
import { amountOf, commandView, invocationView, isoOrEmpty, statusOf, TERMINAL_ERRORS } from './ssm-command-views';
import { copy, pageSize, paginate } from './util';

export { PLUGIN_OUTPUT_LIMIT } from './ssm-command-views';

/** Simulated seconds after SendCommand before its invocations exist (InvocationDoesNotExist before). */
export const INVOCATION_DELAY_SECONDS = 2;
/** Simulated seconds one invocation runs. */
export const RUN_SECONDS = 3;
export const STDOUT_LIMIT = 24_000;
export const STDERR_LIMIT = 8_000;
/** Default page of ListCommandInvocations / ListCommands (real: 50; small here to exercise pagination). */
export const RUN_COMMAND_DEFAULT_PAGE = 5;

/** What a node is asked to run: one `aws:runShellScript` step of the document with its parameters. */
export interface CommandExecution {
  readonly commandId: string;
  readonly instanceId: string;
  readonly documentName: string;
  readonly stepName: string;
  readonly script: string;
  /** Every parameter's value (given over the document's defaults): the agent's `SSM_<name>` variables. */
  readonly parameters: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
}

/** How a run ended: exit code (null when killed at the execution timeout), its stdout and stderr. */
export interface ExecutionResult {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Simulated seconds the run took on the node, when longer than {@link RUN_SECONDS}. */
  readonly simulatedSeconds?: number;
}

/** Runs a step on a node (the account wires it to the node runtime). */
export type CommandExecutor = (execution: CommandExecution) => Promise<ExecutionResult>;

/** One invocation (a command on one instance). */
export interface SimInvocation {
  readonly instanceId: string;
  readonly instanceName: string;
  phase: 'pending' | 'running' | 'done';
  startedAtMs?: number;
  endsAtMs?: number;
  endedAtMs?: number;
  run?: Promise<ExecutionResult>;
  status: CommandInvocationStatus;
  statusDetails: string;
  responseCode: number;
  stdout: string;
  stderr: string;
}

/** One command. */
export interface SimCommand {
  readonly id: string;
  readonly document: SimDocument;
  readonly documentVersion: string;
  readonly comment: string;
  /** The parameters as given (what ListCommands shows). */
  readonly givenParameters: Record<string, string[]>;
  readonly parameters: Readonly<Record<string, string>>;
  readonly instanceIds: string[];
  readonly targets: Target[];
  readonly requestedAtMs: number;
  readonly visibleAtMs: number;
  readonly maxConcurrency: string;
  readonly maxErrors: string;
  readonly timeoutSeconds: number;
  readonly invocations: SimInvocation[];
  cursorMs: number;
  refreshing: Promise<void>;
}

const MAX_CONCURRENCY_RE = /^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$/;
const MAX_ERRORS_RE = /^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$/;

/** The Run Command half of the simulated SSM (see the module comment). */
export class RunCommand {
  readonly commands: SimCommand[] = [];
  /** Instances whose agent is offline (the `offline` node fault): ConnectionLost, commands Undeliverable. */
  readonly offline = new Set<string>();
  /** Runs a step on a node; the account sets it. */
  executor: CommandExecutor = () => Promise.reject(new Error('internal: no node executor'));

  constructor(
    private readonly clock: SimClock,
    private readonly accountId: string,
    private readonly ec2: SimEc2,
    private readonly documents: ReadonlyMap<string, SimDocument>,
  ) {}

  /** Instances registered with SSM. */
  managed(): SimInstance[] {
    return this.ec2.instances.filter((i) => i.ssmManaged);
  }

  /** Brings every command up to the current simulated time (the rehearsal calls it before it looks at the nodes). */
  async settle(): Promise<void> {
    for (const cmd of this.commands) await this.refresh(cmd);
  }

  readonly operations = {
    SendCommand: (input: SendCommandCommandInput): Out<SendCommandCommandOutput> => {
      const document = this.documents.get(input.DocumentName ?? '');
      if (!document) throw awsError('InvalidDocument', `Document with name ${String(input.DocumentName)} does not exist.`);
      const version = input.DocumentVersion ?? '$DEFAULT';
      if (!['$DEFAULT', '$LATEST', document.version].includes(version)) {
        throw awsError('InvalidDocumentVersion', `Document ${document.name} has no version ${version}.`);
      }
      const parameters = resolveParameters(document, input.Parameters);
      if ((input.Comment ?? '').length > 100) throw awsError('ValidationException', 'Comment must be at most 100 characters');
      const maxConcurrency = input.MaxConcurrency ?? '50';
      const maxErrors = input.MaxErrors ?? '0';
      if (!MAX_CONCURRENCY_RE.test(maxConcurrency) || maxConcurrency.length > 7) {
        throw awsError('ValidationException', `Value '${maxConcurrency}' at 'maxConcurrency' failed to satisfy constraint`);
      }
      if (!MAX_ERRORS_RE.test(maxErrors) || maxErrors.length > 7) {
        throw awsError('ValidationException', `Value '${maxErrors}' at 'maxErrors' failed to satisfy constraint`);
      }
      const timeoutSeconds = input.TimeoutSeconds ?? 3600;
      if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 30 || timeoutSeconds > 2_592_000) {
        throw awsError('ValidationException', 'TimeoutSeconds must be an integer between 30 and 2592000');
      }
      const instances = targetsOf(input, this.managed(), this.accountId);
      const now = this.clock.nowMs();
      const cmd: SimCommand = {
        id: randomUUID(),
        document,
        documentVersion: version,
        comment: input.Comment ?? '',
        givenParameters: copy(input.Parameters ?? {}),
        parameters,
        instanceIds: [...(input.InstanceIds ?? [])],
        targets: copy(input.Targets ?? []),
        requestedAtMs: now,
        visibleAtMs: now + INVOCATION_DELAY_SECONDS * 1000,
        maxConcurrency,
        maxErrors,
        timeoutSeconds,
        invocations: instances.map((i) => ({
          instanceId: i.id,
          instanceName: i.privateDnsName,
          phase: 'pending',
          status: 'Pending',
          statusDetails: 'Pending',
          responseCode: -1,
          stdout: '',
          stderr: '',
        })),
        cursorMs: now + INVOCATION_DELAY_SECONDS * 1000,
        refreshing: Promise.resolve(),
      };
      this.commands.push(cmd);
      return { Command: commandView(cmd, this.clock.nowMs()) };
    },

    GetCommandInvocation: async (input: GetCommandInvocationCommandInput): Promise<Out<GetCommandInvocationCommandOutput>> => {
      const cmd = this.commands.find((c) => c.id === input.CommandId);
      if (!input.CommandId || !input.InstanceId) throw awsError('ValidationException', 'CommandId and InstanceId are required');
      if (cmd) await this.refresh(cmd);
      const inv = cmd && this.clock.nowMs() >= cmd.visibleAtMs ? cmd.invocations.find((i) => i.instanceId === input.InstanceId) : undefined;
      if (!cmd || !inv) throw awsError('InvocationDoesNotExist', '');
      const step = cmd.document.steps[0];
      if (input.PluginName !== undefined && !cmd.document.steps.some((s) => s.name === input.PluginName)) {
        throw awsError('InvalidPluginName', `The plugin name ${input.PluginName} is not valid.`);
      }
      const done = inv.phase === 'done';
      const end = done ? inv.endedAtMs : undefined;
      return {
        CommandId: cmd.id,
        InstanceId: inv.instanceId,
        Comment: cmd.comment,
        DocumentName: cmd.document.name,
        DocumentVersion: cmd.documentVersion,
        PluginName: input.PluginName ?? step.name,
        ResponseCode: inv.responseCode,
        ExecutionStartDateTime: isoOrEmpty(inv.startedAtMs),
        ExecutionElapsedTime:
          inv.startedAtMs === undefined ? '' : `PT${(((end ?? this.clock.nowMs()) - inv.startedAtMs) / 1000).toFixed(3)}S`,
        ExecutionEndDateTime: isoOrEmpty(end),
        Status: inv.status,
        StatusDetails: inv.statusDetails,
        StandardOutputContent: done ? inv.stdout.slice(0, STDOUT_LIMIT) : '',
        StandardOutputUrl: '',
        StandardErrorContent: done ? inv.stderr.slice(0, STDERR_LIMIT) : '',
        StandardErrorUrl: '',
        CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
      };
    },

    ListCommandInvocations: async (input: ListCommandInvocationsCommandInput): Promise<Out<ListCommandInvocationsCommandOutput>> => {
      const size = pageSize(input.MaxResults, RUN_COMMAND_DEFAULT_PAGE, 1, 50, 'ValidationException', 'MaxResults');
      const cmds = this.selectCommands(input.CommandId, input.InstanceId);
      for (const c of cmds) await this.refresh(c);
      const now = this.clock.nowMs();
      const rows = cmds
        .filter((c) => now >= c.visibleAtMs && this.matchesFilters(c, input.Filters))
        .flatMap((c) => c.invocations.filter((i) => !input.InstanceId || i.instanceId === input.InstanceId).map((i) => ({ c, i })));
      const { page, next } = paginate(rows, {
        marker: input.NextToken,
        pageSize: size,
        kind: 'ssm-invocations',
        errorCode: 'InvalidNextToken',
      });
      return { CommandInvocations: page.map(({ c, i }) => invocationView(c, i, input.Details === true)), NextToken: next };
    },

    ListCommands: async (input: ListCommandsCommandInput): Promise<Out<ListCommandsCommandOutput>> => {
      const size = pageSize(input.MaxResults, RUN_COMMAND_DEFAULT_PAGE, 1, 50, 'ValidationException', 'MaxResults');
      if (input.CommandId && !this.commands.some((c) => c.id === input.CommandId)) {
        throw awsError('InvalidCommandId', `The command ID ${input.CommandId} is not valid.`);
      }
      const cmds = this.selectCommands(input.CommandId, input.InstanceId);
      for (const c of cmds) await this.refresh(c);
      const rows = cmds.filter((c) => this.matchesFilters(c, input.Filters));
      const { page, next } = paginate(rows, {
        marker: input.NextToken,
        pageSize: size,
        kind: 'ssm-commands',
        errorCode: 'InvalidNextToken',
      });
      return { Commands: page.map((c) => commandView(c, this.clock.nowMs())), NextToken: next };
    },
  };

  private selectCommands(commandId: string | undefined, instanceId: string | undefined): SimCommand[] {
    return this.commands.filter(
      (c) => (!commandId || c.id === commandId) && (!instanceId || c.invocations.some((i) => i.instanceId === instanceId)),
    );
  }

  private matchesFilters(c: SimCommand, filters: readonly CommandFilter[] | undefined): boolean {
    return (filters ?? []).every((f) => {
      const value = f.value ?? '';
      switch (f.key) {
        case 'Status':
          return statusOf(c, this.clock.nowMs()).status === value;
        case 'DocumentName':
          return c.document.name === value;
        case 'InvokedAfter':
          return c.requestedAtMs >= Date.parse(value);
        case 'InvokedBefore':
          return c.requestedAtMs <= Date.parse(value);
        case 'ExecutionStage':
          return (value === 'Complete') === c.invocations.every((i) => i.phase === 'done');
        default:
          throw awsError('InvalidFilterKey', `The filter key ${String(f.key)} is not valid.`);
      }
    });
  }

  /** Runs the command's schedule up to now, one refresh at a time per command. */
  private refresh(cmd: SimCommand): Promise<void> {
    cmd.refreshing = cmd.refreshing.then(() => this.advance(cmd));
    return cmd.refreshing;
  }

  private async advance(cmd: SimCommand): Promise<void> {
    const now = this.clock.nowMs();
    if (now < cmd.visibleAtMs) return;
    const total = cmd.invocations.length;
    const slots = amountOf(cmd.maxConcurrency, total, true);
    const allowed = amountOf(cmd.maxErrors, total, false);
    const deadline = cmd.requestedAtMs + cmd.timeoutSeconds * 1000;
    for (;;) {
      const errors = cmd.invocations.filter((i) => TERMINAL_ERRORS.has(i.statusDetails)).length;
      const pending = cmd.invocations.filter((i) => i.phase === 'pending');
      if (errors > allowed) for (const inv of pending) this.end(inv, cmd.cursorMs, 'Cancelled', 'Terminated');
      const running = cmd.invocations.filter((i) => i.phase === 'running');
      const next = cmd.invocations.find((i) => i.phase === 'pending');
      if (next && running.length < slots) {
        if (cmd.cursorMs > deadline) this.end(next, deadline, 'TimedOut', 'DeliveryTimedOut');
        else if (this.offline.has(next.instanceId)) this.end(next, cmd.cursorMs, 'Failed', 'Undeliverable');
        else this.start(cmd, next);
        continue;
      }
      const first = running.sort((a, b) => (a.endsAtMs ?? 0) - (b.endsAtMs ?? 0))[0];
      if (!first || (first.endsAtMs ?? 0) > now) break;
      const result = await first.run!;
      // A run that took longer on the node ends later.
      const end = first.startedAtMs! + (result.simulatedSeconds ?? 0) * 1000;
      if (end > first.endsAtMs!) {
        first.endsAtMs = end;
        continue;
      }
      this.finish(first, result);
      cmd.cursorMs = Math.max(cmd.cursorMs, first.endsAtMs ?? 0);
    }
    if (now > deadline)
      for (const inv of cmd.invocations.filter((i) => i.phase === 'pending')) this.end(inv, deadline, 'TimedOut', 'DeliveryTimedOut');
  }

  private start(cmd: SimCommand, inv: SimInvocation): void {
    const step = cmd.document.steps[0];
    inv.phase = 'running';
    inv.status = 'InProgress';
    inv.statusDetails = 'InProgress';
    inv.startedAtMs = cmd.cursorMs;
    inv.endsAtMs = cmd.cursorMs + RUN_SECONDS * 1000;
    const execution: CommandExecution = {
      commandId: cmd.id,
      instanceId: inv.instanceId,
      documentName: cmd.document.name,
      stepName: step.name,
      script: step.script,
      parameters: cmd.parameters,
      timeoutSeconds: step.timeoutSeconds,
    };
    // Started now (a real script runs while simulated time passes); awaited when its end is reached.
    inv.run = this.executor(execution).catch((e: unknown) => ({
      exitCode: 1,
      stdout: '',
      stderr: `the simulated node could not run the command: ${e instanceof Error ? e.message : String(e)}\n`,
    }));
  }

  private finish(inv: SimInvocation, r: ExecutionResult): void {
    inv.stdout = r.stdout;
    if (r.exitCode === null) {
      inv.stderr = r.stderr;
      this.end(inv, inv.endsAtMs!, 'TimedOut', 'ExecutionTimedOut', -1);
    } else if (r.exitCode === 0) {
      inv.stderr = r.stderr;
      this.end(inv, inv.endsAtMs!, 'Success', 'Success', 0);
    } else {
      inv.stderr = `${r.stderr}${r.stderr === '' || r.stderr.endsWith('\n') ? '' : '\n'}failed to run commands: exit status ${r.exitCode}`;
      this.end(inv, inv.endsAtMs!, 'Failed', 'Failed', r.exitCode);
    }
  }

  private end(inv: SimInvocation, atMs: number, status: CommandInvocationStatus, details: string, code = -1): void {
    inv.phase = 'done';
    inv.status = status;
    inv.statusDetails = details;
    inv.responseCode = code;
    inv.endedAtMs = atMs;
  }
}
