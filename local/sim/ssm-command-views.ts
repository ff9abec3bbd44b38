/**
 * What the Run Command operations answer about a command and its invocations (ssm-run-command.ts):
 * the aggregate command status, ListCommands' Command, ListCommandInvocations' CommandInvocation.
 */
import type { Command, CommandInvocation, CommandStatus } from '@aws-sdk/client-ssm';
import type { SimCommand, SimInvocation } from './ssm-run-command';
import { copy } from './util';

export const PLUGIN_OUTPUT_LIMIT = 2_500;
/** Invocation StatusDetails that count against MaxErrors. */
export const TERMINAL_ERRORS: ReadonlySet<string> = new Set(['Failed', 'ExecutionTimedOut']);

/** A count or a percentage of `total` (rounded down; concurrency at least 1). */
export function amountOf(value: string, total: number, atLeastOne: boolean): number {
  const n = value.endsWith('%') ? Math.floor((Number(value.slice(0, -1)) * total) / 100) : Number(value);
  return atLeastOne ? Math.max(1, n) : n;
}

export function isoOrEmpty(ms: number | undefined): string {
  return ms === undefined ? '' : new Date(ms).toISOString();
}

/** The agent's combined output of a plugin (ListCommandInvocations `Output`). */
function pluginOutput(inv: SimInvocation): string {
  const text = inv.stderr ? `${inv.stdout}\n----------ERROR-------\n${inv.stderr}` : inv.stdout;
  return text.slice(0, PLUGIN_OUTPUT_LIMIT);
}

/** The command's aggregate status (see the SSM statuses in the module comment). */
export function statusOf(c: SimCommand, nowMs: number): { status: CommandStatus; details: string } {
  const visible = nowMs >= c.visibleAtMs;
  const invs = c.invocations;
  if (!visible || invs.every((i) => i.phase === 'pending')) return { status: 'Pending', details: 'Pending' };
  const errors = invs.filter((i) => TERMINAL_ERRORS.has(i.statusDetails)).length;
  if (errors > amountOf(c.maxErrors, invs.length, false) && invs.every((i) => i.phase !== 'running')) {
    return { status: 'Failed', details: 'Failed' };
  }
  if (invs.some((i) => i.phase !== 'done')) return { status: 'InProgress', details: 'InProgress' };
  const counted = invs.filter((i) => i.statusDetails !== 'Undeliverable');
  if (counted.every((i) => i.status === 'Success') && counted.length > 0) return { status: 'Success', details: 'Success' };
  if (invs.length === 0) return { status: 'Success', details: 'Success' };
  if (counted.length === 0) return { status: 'Failed', details: 'Undeliverable' };
  if (counted.every((i) => i.statusDetails === 'DeliveryTimedOut' || i.status === 'Success')) {
    return { status: 'TimedOut', details: 'DeliveryTimedOut' };
  }
  return { status: 'Failed', details: 'Incomplete' };
}

export function commandView(c: SimCommand, nowMs: number): Command {
  const { status, details } = statusOf(c, nowMs);
  const visible = nowMs >= c.visibleAtMs;
  const invs = visible ? c.invocations : [];
  const step = c.document.steps[0];
  return {
    CommandId: c.id,
    DocumentName: c.document.name,
    DocumentVersion: c.documentVersion,
    Comment: c.comment,
    ExpiresAfter: new Date(c.requestedAtMs + (c.timeoutSeconds + step.timeoutSeconds) * 1000),
    Parameters: copy(c.givenParameters),
    InstanceIds: [...c.instanceIds],
    Targets: copy(c.targets),
    RequestedDateTime: new Date(c.requestedAtMs),
    Status: status,
    StatusDetails: details,
    OutputS3Region: '',
    OutputS3BucketName: '',
    OutputS3KeyPrefix: '',
    MaxConcurrency: c.maxConcurrency,
    MaxErrors: c.maxErrors,
    // Known at once for InstanceIds; for Targets once they are resolved (with the invocations).
    TargetCount: c.instanceIds.length > 0 ? c.invocations.length : invs.length,
    CompletedCount: invs.filter((i) => i.phase === 'done').length,
    ErrorCount: invs.filter((i) => TERMINAL_ERRORS.has(i.statusDetails)).length,
    DeliveryTimedOutCount: invs.filter((i) => i.statusDetails === 'DeliveryTimedOut').length,
    ServiceRole: '',
    NotificationConfig: { NotificationArn: '', NotificationEvents: [], NotificationType: 'Command' },
    CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
    TimeoutSeconds: c.timeoutSeconds,
  };
}

export function invocationView(c: SimCommand, inv: SimInvocation, details: boolean): CommandInvocation {
  const step = c.document.steps[0];
  const done = inv.phase === 'done';
  return {
    CommandId: c.id,
    InstanceId: inv.instanceId,
    InstanceName: inv.instanceName,
    Comment: c.comment,
    DocumentName: c.document.name,
    DocumentVersion: c.documentVersion,
    RequestedDateTime: new Date(c.requestedAtMs),
    Status: inv.status,
    StatusDetails: inv.statusDetails,
    TraceOutput: '',
    StandardOutputUrl: '',
    StandardErrorUrl: '',
    CommandPlugins: details
      ? [
          {
            Name: step.name,
            Status: inv.status === 'Delayed' || inv.status === 'Cancelling' ? 'InProgress' : inv.status,
            StatusDetails: inv.statusDetails,
            ResponseCode: inv.responseCode,
            ...(inv.startedAtMs !== undefined ? { ResponseStartDateTime: new Date(inv.startedAtMs) } : {}),
            ...(done && inv.startedAtMs !== undefined ? { ResponseFinishDateTime: new Date(inv.endedAtMs!) } : {}),
            Output: done ? pluginOutput(inv) : '',
            StandardOutputUrl: '',
            StandardErrorUrl: '',
            OutputS3Region: '',
            OutputS3BucketName: '',
            OutputS3KeyPrefix: '',
          },
        ]
      : [],
    ServiceRole: '',
    NotificationConfig: { NotificationArn: '', NotificationEvents: [], NotificationType: 'Command' },
    CloudWatchOutputConfig: { CloudWatchLogGroupName: '', CloudWatchOutputEnabled: false },
  };
}
