import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { isTransientAwsError } from '../shared/aws-errors';
import { MaintenanceWindowNotClosed, MaintenanceWindowNotOpened } from '../shared/errors';
import type { DomainLogger } from '../shared/logger';
import { closeMaintenance, openMaintenance, type PagerDutyEnv } from '../shared/pager-duty-maintenance';

export interface MaintenanceWindowParams {
  readonly secrets: SecretsManagerClient;
  readonly logger: DomainLogger;
  readonly now: () => Date;
  readonly domain: string;
  /** The config's `pagerDuty` as the stack hands it over (PAGER_DUTY), the token's secret named, never the token. */
  readonly pagerDuty: PagerDutyEnv;
  readonly executionName: string;
  /** `open`: after Approval 1, before the upload. `close`: before each finish (success, and after the rollback). */
  readonly action: 'open' | 'close';
}

/** `open`'s result (`$.maintenance`): what the report and the email name. Never the token. */
export interface WindowOpened {
  readonly windowId: string;
  readonly serviceName: string;
  readonly services: readonly string[];
  readonly endTime: string;
  /** A retried open found the window it had already opened. */
  readonly reused: boolean;
}

/** `close`'s result (`$.maintenanceClose`): the windows of this execution it ended (none when none was open). */
export interface WindowsClosed {
  readonly closed: readonly string[];
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * Opens or closes this execution's PagerDuty maintenance window (lambdas/shared/pager-duty.ts: a
 * window is found by its description, which names the execution, so a retried open reuses its
 * window and close ends every window of this execution).
 *
 * A failure to open is `MaintenanceWindowNotOpened`: the rotation stops before anything changed,
 * since changes monit sees would page on-call. A transient AWS error reading the token is left to
 * the state's retry (AwsTransient). A failure to close is `MaintenanceWindowNotClosed`, which the
 * state catches: a warning in the report and the email, never a change of outcome.
 */
export async function maintenanceWindow(params: MaintenanceWindowParams): Promise<WindowOpened | WindowsClosed> {
  const pd = params.pagerDuty;
  const what = `the PagerDuty maintenance window for ${pd.serviceName} (${pd.serviceIds.join(', ')})`;
  if (params.action === 'close') {
    const result = await closeMaintenance(params);
    if ('error' in result) {
      throw new MaintenanceWindowNotClosed(
        `${what} could not be closed (${result.error}); it ends by itself at its end time: end it in PagerDuty so that on-call is paged again`,
      );
    }
    return { closed: result.closed };
  }
  try {
    const opened = await openMaintenance(params);
    return {
      windowId: opened.windowId,
      serviceName: pd.serviceName,
      services: opened.services,
      endTime: opened.endTime,
      reused: opened.reused,
    };
  } catch (e) {
    if (isTransientAwsError(e)) throw e;
    throw new MaintenanceWindowNotOpened(
      `${what} could not be opened, so the rotation stops before any change (changes without it would page on-call): ${describe(e)}`,
    );
  }
}
