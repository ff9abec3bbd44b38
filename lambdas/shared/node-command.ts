import {
  GetCommandInvocationCommand,
  paginateListCommandInvocations,
  paginateListCommands,
  SendCommandCommand,
  type CommandInvocation,
  type ListCommandsCommandInput,
  type SSMClient,
  type Target,
} from '@aws-sdk/client-ssm';
import { ArtifactStore } from './artifacts';
import { pages } from './aws-clients';
import { awsErrorName } from './aws-errors';

/**
 * SSM Run Command for the node phases and the node rollback: sending the deploy document once per
 * phase (idempotently: a retried task finds its own command instead of sending a second one), and
 * reading every node's invocation back. Only references travel: the secret ARN and the expected
 * fingerprint; the node fetches the key itself with its instance role.
 */

/** SendCommand takes at most 50 `InstanceIds`; beyond that a phase is targeted by its tags (`Targets`). */
export const MAX_INSTANCE_IDS = 50;
/** ListCommandInvocations `MaxResults`: 1..50. */
export const INVOCATIONS_PAGE = 50;
/** SendCommand `Comment`: at most 100 characters. */
const COMMENT_MAX = 100;

/** One SendCommand this execution made. */
export interface SentCommand {
  readonly commandId: string;
  /** The instances it names, when sent by `InstanceIds`; absent when sent by tag `Targets`. */
  readonly instanceIds?: string[];
  readonly targets?: Target[];
}

/** What a phase (or the rollback) sent, in S3: its commands, and the moment it started sending. */
export interface CommandsDocument {
  readonly purpose: string;
  readonly comment: string;
  readonly sendingSince: string;
  readonly commands: SentCommand[];
}

/** The documents of one purpose (`install-<phase>` or `rollback`): `executions/<x>/nodes/<purpose>/`. */
export function nodeDocumentKeys(executionName: string, purpose: string) {
  const base = `${ArtifactStore.executionPrefix(executionName)}nodes/${purpose.replace(/[^A-Za-z0-9._-]/g, '_')}/`;
  return { commands: `${base}commands.json`, results: `${base}results.json` };
}

/** The comment that names a command as this execution's (how a retry finds its own command). */
export function commandComment(executionName: string, purpose: string): string {
  return `cert-rotation ${purpose} ${executionName}`.slice(0, COMMENT_MAX);
}

/** How one SendCommand addresses its nodes: by id (at most 50), or by the phase's tags. */
export type Addressing = { readonly instanceIds: string[] } | { readonly targets: Target[] };

export interface SendOnceParams {
  readonly ssm: SSMClient;
  readonly store: ArtifactStore;
  readonly key: string;
  readonly purpose: string;
  readonly comment: string;
  readonly documentName: string;
  readonly parameters: Record<string, string[]>;
  readonly maxConcurrency: string;
  readonly maxErrors: string;
  /** Seconds SSM keeps trying to deliver the command to a node that is not reachable. */
  readonly deliveryTimeoutSeconds: number;
  readonly batches: readonly Addressing[];
  readonly now: () => Date;
}

/**
 * Sends the commands once per execution: an earlier attempt's commands.json is returned as is.
 * Before the first SendCommand the document is written with no commands (`sendingSince`), so a
 * retry after a crash between SendCommand and that write finds the command it sent by its comment
 * (ListCommands, document name, invoked after `sendingSince`) instead of sending it again.
 */
export async function sendOnce(p: SendOnceParams): Promise<CommandsDocument> {
  const existing = await p.store.getJson<CommandsDocument>(p.key);
  if (existing && existing.commands.length === p.batches.length) return existing;
  const sendingSince = existing?.sendingSince ?? p.now().toISOString();
  if (!existing) await p.store.putJson(p.key, { purpose: p.purpose, comment: p.comment, sendingSince, commands: [] });
  const adopted = existing ? await ownCommands(p.ssm, p.documentName, p.comment, sendingSince) : [];
  const commands: SentCommand[] = [...(existing?.commands ?? [])];
  for (let i = commands.length; i < p.batches.length; i++) {
    const batch = p.batches[i];
    const found = adopted[i];
    const commandId = found ?? (await send(p, batch));
    commands.push({ commandId, ...('instanceIds' in batch ? { instanceIds: batch.instanceIds } : { targets: batch.targets }) });
    await p.store.putJson(p.key, { purpose: p.purpose, comment: p.comment, sendingSince, commands });
  }
  return { purpose: p.purpose, comment: p.comment, sendingSince, commands };
}

async function send(p: SendOnceParams, batch: Addressing): Promise<string> {
  const out = await p.ssm.send(
    new SendCommandCommand({
      DocumentName: p.documentName,
      DocumentVersion: '$LATEST',
      Comment: p.comment,
      Parameters: p.parameters,
      MaxConcurrency: p.maxConcurrency,
      MaxErrors: p.maxErrors,
      TimeoutSeconds: p.deliveryTimeoutSeconds,
      ...('instanceIds' in batch ? { InstanceIds: batch.instanceIds } : { Targets: batch.targets }),
    }),
  );
  const id = out.Command?.CommandId;
  if (!id) throw new Error(`SendCommand of ${p.documentName} returned no CommandId`);
  return id;
}

/** This execution's commands of that purpose sent since `since`, oldest first (the order they were sent in). */
async function ownCommands(ssm: SSMClient, documentName: string, comment: string, since: string): Promise<string[]> {
  // A minute of slack: SSM's RequestedDateTime and this function's clock may differ a little.
  const after = new Date(new Date(since).getTime() - 60_000).toISOString();
  const found: Array<{ id: string; at: number }> = [];
  const input: ListCommandsCommandInput = {
    Filters: [
      { key: 'DocumentName', value: documentName },
      { key: 'InvokedAfter', value: after },
    ],
  };
  for await (const out of paginateListCommands(pages(ssm, 50), input)) {
    for (const c of out.Commands ?? []) {
      if (c.Comment === comment && c.CommandId) found.push({ id: c.CommandId, at: c.RequestedDateTime?.getTime() ?? 0 });
    }
  }
  return found.sort((a, b) => a.at - b.at).map((f) => f.id);
}

/** The deploy script's one line of JSON, as far as the workflow reads it. */
export interface ScriptResult {
  readonly action?: string;
  readonly status?: string;
  readonly stage?: string;
  readonly message?: string;
  readonly served?: string | null;
  readonly previous?: string | null;
  readonly installed?: string | null;
  readonly changed?: boolean;
  /** The monit control files the run rewrote (the document's `monitFiles`). */
  readonly monitUpdated?: readonly string[];
}

/** The last line of stdout that parses as the script's JSON object, or undefined. */
export function parseScriptOutput(stdout: string | undefined): ScriptResult | undefined {
  const lines = (stdout ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('{'));
  for (const line of lines.reverse()) {
    try {
      const value = JSON.parse(line) as unknown;
      if (typeof value === 'object' && value !== null && typeof (value as ScriptResult).status === 'string') return value;
    } catch {
      // not the result line (or cut off at the output limit)
    }
  }
  return undefined;
}

/** Statuses of an invocation that are not final yet. */
const NOT_FINAL = new Set(['Pending', 'InProgress', 'Delayed', 'Cancelling']);
/** StatusDetails of an invocation SSM never ran: stopped by MaxErrors before it started, or never delivered. */
const NEVER_RAN = new Set(['Terminated', 'Undeliverable', 'Delivery Timed Out', 'DeliveryTimedOut']);

/** One node's invocation, as read back. */
export interface Invocation {
  readonly instanceId: string;
  readonly status: string;
  readonly statusDetails: string;
  readonly final: boolean;
  /** False when SSM never ran it there (nothing changed on the node). */
  readonly ran: boolean;
  readonly script?: ScriptResult;
}

function invocationOf(instanceId: string, status: string, details: string, stdout: string | undefined): Invocation {
  const final = !NOT_FINAL.has(status);
  const script = parseScriptOutput(stdout);
  const ran = !(final && NEVER_RAN.has(details) && !script);
  return { instanceId, status, statusDetails: details, final, ran, ...(script ? { script } : {}) };
}

/**
 * Reads one command's invocations. Sent by id: GetCommandInvocation per node still open (its
 * whole stdout, up to SSM's 24,000 characters; `InvocationDoesNotExist` right after SendCommand
 * means "not yet"). Sent by tag: one ListCommandInvocations pass (Details, 50 per page) gives every
 * node at once, with the first 2,500 characters of output (the script's one line fits); a line that
 * did not parse is read again with GetCommandInvocation.
 */
export async function readInvocations(
  ssm: SSMClient,
  command: SentCommand,
  open: ReadonlySet<string>,
  concurrency: (ids: string[], fn: (id: string) => Promise<Invocation | undefined>) => Promise<Array<Invocation | undefined>>,
): Promise<Invocation[]> {
  if (command.instanceIds) {
    const ids = command.instanceIds.filter((id) => open.has(id));
    const found = await concurrency(ids, (id) => getInvocation(ssm, command.commandId, id));
    return found.filter((i): i is Invocation => i !== undefined);
  }
  const listed: Invocation[] = [];
  const input = { CommandId: command.commandId, Details: true };
  for await (const out of paginateListCommandInvocations(pages(ssm, INVOCATIONS_PAGE), input)) {
    for (const inv of out.CommandInvocations ?? []) listed.push(fromListed(inv));
  }
  const again = listed.filter((i) => i.final && i.ran && !i.script).map((i) => i.instanceId);
  const reread = await concurrency(again, (id) => getInvocation(ssm, command.commandId, id));
  const byId = new Map(reread.filter((i): i is Invocation => i !== undefined).map((i) => [i.instanceId, i]));
  return listed.map((i) => byId.get(i.instanceId) ?? i);
}

function fromListed(inv: CommandInvocation): Invocation {
  const output = inv.CommandPlugins?.map((p) => p.Output ?? '').join('\n');
  return invocationOf(inv.InstanceId ?? '', inv.Status ?? 'Pending', inv.StatusDetails ?? '', output);
}

async function getInvocation(ssm: SSMClient, commandId: string, instanceId: string): Promise<Invocation | undefined> {
  try {
    const out = await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }));
    return invocationOf(instanceId, out.Status ?? 'Pending', out.StatusDetails ?? '', out.StandardOutputContent);
  } catch (error) {
    // Right after SendCommand the invocation may not exist yet: not an error, just "not yet".
    if (awsErrorName(error) === 'InvocationDoesNotExist') return undefined;
    throw error;
  }
}
