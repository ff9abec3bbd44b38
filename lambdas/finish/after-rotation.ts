/**
 * What finish does and says about the monitoring around a rotation: monit's fingerprint parameter
 * (written after a success) and the PagerDuty maintenance window (opened after Approval 1, closed
 * by the state before finish). Neither ever changes the outcome: a problem is a warning in the
 * report, the email and its subject. Public material only (an MD5 fingerprint, a window id).
 */
import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { DomainLogger } from '../shared/logger';
import { describeError } from './message';

/** The parts of the execution state about the window (all optional: a run can stop anywhere). */
export interface MaintenanceState {
  /** The open state's result. */
  readonly maintenance?: {
    readonly windowId?: string;
    readonly serviceName?: string;
    readonly services?: readonly string[];
    readonly endTime?: string;
    readonly reused?: boolean;
  };
  /** The close state's result: the windows of this execution it ended. */
  readonly maintenanceClose?: { readonly closed?: readonly string[] };
  /** Set when the close state failed (MaintenanceWindowNotClosed, or a Lambda error). */
  readonly maintenanceCloseError?: { readonly Error?: string; readonly Cause?: string };
}

/** The report's `maintenanceWindow`: what the states did, or null when the workflow has none or it never ran. */
export interface MaintenanceAccount {
  readonly report: {
    readonly windowId: string | null;
    readonly serviceName: string | null;
    readonly endTime: string | null;
    readonly closed: readonly string[];
    readonly error?: string;
  } | null;
  readonly lines: string[];
  /** Set when the window could not be closed. */
  readonly warning?: string;
}

/** The window's account: opened (id, services), closed or not (and then when it ends by itself). */
export function maintenanceAccount(state: MaintenanceState): MaintenanceAccount {
  const opened = state.maintenance;
  const closed = state.maintenanceClose?.closed ?? [];
  const failed = state.maintenanceCloseError;
  if (!opened && !failed && !state.maintenanceClose) return { report: null, lines: [] };
  const id = opened?.windowId ?? null;
  const name = opened?.serviceName ?? 'the configured services';
  const warning = failed ? describeError(failed) : undefined;
  const report = {
    windowId: id,
    serviceName: opened?.serviceName ?? null,
    endTime: opened?.endTime ?? null,
    closed,
    ...(warning ? { error: warning } : {}),
  };
  if (warning) {
    return {
      report,
      warning,
      lines: [
        '',
        `WARNING: the PagerDuty maintenance window${id ? ` ${id}` : ''} for ${name} could not be closed: ${warning}`,
        `  It ends by itself at ${opened?.endTime ?? 'its end time'}. End it now in PagerDuty (Maintenance Windows) so that on-call is paged again.`,
      ],
    };
  }
  const lines = opened
    ? [
        '',
        `PagerDuty: maintenance window ${id ?? '?'} for ${name} was open from before the first change; ${
          closed.length ? `closed at the end (${closed.join(', ')})` : 'it had already ended when the rotation closed it'
        }.`,
      ]
    : closed.length
      ? ['', `PagerDuty: closed maintenance window(s) ${closed.join(', ')} of this rotation.`]
      : [];
  return { report, lines };
}

/** The report's `monit`: the parameter and the value written, or why not. */
export interface MonitWrite {
  readonly parameter: string;
  readonly value: string | null;
  readonly written: boolean;
  readonly error?: string;
}

/**
 * After a success: the new certificate's MD5 (uppercase hex, no colons: what
 * `openssl x509 -noout -fingerprint -md5 | tr -d :` prints after `MD5 Fingerprint=`) into monit's
 * SSM parameter (String, overwritten; idempotent). A failure is returned as a warning: the
 * rotation is complete, and the email says how to set it by hand.
 */
export async function writeMonitFingerprint(p: {
  readonly ssm: SSMClient;
  readonly parameter: string;
  readonly md5: string | undefined;
  readonly logger: DomainLogger;
}): Promise<MonitWrite> {
  if (!p.md5 || !/^[0-9A-F]{32}$/.test(p.md5)) {
    return { parameter: p.parameter, value: null, written: false, error: 'the new certificate has no MD5 fingerprint in the state' };
  }
  try {
    await p.ssm.send(new PutParameterCommand({ Name: p.parameter, Value: p.md5, Type: 'String', Overwrite: true }));
    p.logger.info('monit fingerprint written', { parameter: p.parameter, md5: p.md5 });
    return { parameter: p.parameter, value: p.md5, written: true };
  } catch (e) {
    const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    p.logger.warn('could not write the monit fingerprint parameter', { parameter: p.parameter, error });
    return { parameter: p.parameter, value: p.md5, written: false, error };
  }
}

/** The email's lines about the parameter (after a success). */
export function monitLines(write: MonitWrite): string[] {
  if (write.written) return [`  Written to the SSM parameter ${write.parameter} (String).`];
  return [
    `  WARNING: the SSM parameter ${write.parameter} could not be written (${write.error ?? 'unknown'}). Set it by hand:`,
    `    aws ssm put-parameter --name ${write.parameter} --type String --overwrite --value ${write.value ?? '<the MD5 above>'}`,
  ];
}
