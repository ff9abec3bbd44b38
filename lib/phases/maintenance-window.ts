import * as path from 'node:path';
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { MaintenanceWindowEvent } from '../../lambdas/maintenance-window';
import type { PagerDutyEnv } from '../../lambdas/shared/pager-duty-maintenance';
import { gateNamesOf, gateTimeoutSeconds, type ResolvedConfig } from '../config';
import { RotationFunction } from '../rotation-function';
import { EXECUTION_NAME, Phase, allow, payloadFor, task, type PhaseContext, type PhaseProps } from '../workflow';

/** The states' names (only in a workflow whose config has `pagerDuty`). */
export const MAINTENANCE_STATE = {
  open: 'PagerDuty: open the maintenance window',
  closeOnSuccess: 'PagerDuty: close the maintenance window',
  closeOnFailure: 'Rollback: close the PagerDuty maintenance window',
  closeOnStop: 'Stopped: close the PagerDuty maintenance window',
} as const;

/** The report phase of the open and close states. */
export const MAINTENANCE_REPORT_PHASE = 'maintenance window';

/**
 * How long the window lasts if nothing closes it: every gate after Approval 1 waiting its full
 * timeout (canary, edge, one between two node phases; each its own `approvals.gates.<gate>` or
 * `approvals.timeoutSeconds`) plus a day of work, the longest the rest of
 * an execution can run. So it never ends in the middle of a rotation; the close at the end
 * shortens it to what the rotation took.
 */
export function windowMinutes(config: ResolvedConfig): number {
  const gatesAfterStart = gateNamesOf(config.nodePhases.map((p) => p.name)).filter((g) => g !== 'start');
  const waits = gatesAfterStart.reduce((n, g) => n + gateTimeoutSeconds(config.approvals, g), 0);
  return Math.ceil((waits + 86_400) / 60);
}

/** The token secret's ARN: Secrets Manager appends six random characters to a secret's name. */
export function tokenSecretArn(ctx: PhaseContext, secretName: string): string {
  return Stack.of(ctx.scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${secretName}-??????`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

interface MaintenanceProps {
  readonly handler: RotationFunction;
}

/**
 * After Approval 1, before the upload (the first change monit could see: the canary switch comes
 * right after it): open a PagerDuty maintenance window for the configured services. Its id goes to
 * `$.maintenance` (never the token).
 *
 * Verified by: PagerDuty's answer (201 with the window's id); a retry finds its own window by its
 * description (it names the execution) instead of opening a second one.
 * Errors: a transient AWS error reading the token is retried; any other failure is
 * `MaintenanceWindowNotOpened` and goes to the failure path before anything changed (an empty
 * ledger): on-call would be paged by an unannounced rotation, so it does not start.
 */
export class OpenMaintenanceWindow extends Phase {
  public readonly startState: sfn.State;

  constructor(ctx: PhaseContext, props: PhaseProps & MaintenanceProps) {
    super('OpenMaintenanceWindow', MAINTENANCE_REPORT_PHASE, [props.next, props.onError]);
    const open = task({
      scope: ctx.scope,
      id: 'OpenMaintenanceWindow',
      stateName: MAINTENANCE_STATE.open,
      handler: props.handler,
      payload: payloadFor<MaintenanceWindowEvent>({ executionName: EXECUTION_NAME, action: 'open' }),
      resultPath: '$.maintenance',
      timing: ctx.config.timing,
      onError: props.onError,
    });
    open.next(props.next);
    this.startState = open;
  }
}

/** Where a close runs: before the success report, the failure report (after the rollback), or the stop report (a gate timeout with `onTimeout: stop`). */
export type CloseOutcome = 'success' | 'failure' | 'stopped';

const CLOSE_IDS: Record<CloseOutcome, { phaseId: string; id: string; stateName: string }> = {
  success: { phaseId: 'CloseMaintenanceWindowSuccess', id: 'CloseMaintenanceWindow', stateName: MAINTENANCE_STATE.closeOnSuccess },
  failure: { phaseId: 'CloseMaintenanceWindowFailure', id: 'RollbackCloseMaintenanceWindow', stateName: MAINTENANCE_STATE.closeOnFailure },
  stopped: { phaseId: 'CloseMaintenanceWindowStopped', id: 'StoppedCloseMaintenanceWindow', stateName: MAINTENANCE_STATE.closeOnStop },
};

/**
 * Before each finish, whatever the outcome (on success after prune; on the failure path after the
 * rollback was verified, before its report; after a gate timeout with `onTimeout: stop`, before the
 * stop report: the rotation ends there, its changes kept, and on-call must see what monit sees):
 * end every maintenance window of this execution.
 *
 * Verified by: PagerDuty's answer to each DELETE (204); `$.maintenanceClose.closed` lists the ids.
 * Errors: never a change of outcome. Any error goes to `$.maintenanceCloseError`, the state (and
 * this report phase) is FAILED, and finish reports it as a warning naming the window and when it
 * ends by itself.
 */
export class CloseMaintenanceWindow extends Phase {
  public readonly startState: sfn.State;

  constructor(ctx: PhaseContext, props: MaintenanceProps & { readonly next: sfn.IChainable; readonly outcome: CloseOutcome }) {
    const { phaseId, id, stateName } = CLOSE_IDS[props.outcome];
    super(phaseId, MAINTENANCE_REPORT_PHASE, [props.next]);
    const close = task({
      scope: ctx.scope,
      id,
      stateName,
      handler: props.handler,
      payload: payloadFor<MaintenanceWindowEvent>({ executionName: EXECUTION_NAME, action: 'close' }),
      resultPath: '$.maintenanceClose',
      timing: ctx.config.timing,
    });
    close.addCatch(props.next, { errors: ['States.ALL'], resultPath: '$.maintenanceCloseError' });
    close.next(props.next);
    this.startState = close;
  }
}

/** What the composer builds with when the config has `pagerDuty`: the phases, each given where it hands over. */
export interface MaintenanceWindowPhases {
  readonly handler: RotationFunction;
  readonly open: (props: PhaseProps) => OpenMaintenanceWindow;
  readonly close: (outcome: CloseOutcome, next: sfn.IChainable) => CloseMaintenanceWindow;
  /** Rollback's `beforeReport`: the close before the failure report and before the stop report. */
  readonly beforeReport: (report: sfn.State, path: 'failure' | 'stopped') => CloseMaintenanceWindow;
}

/**
 * The PagerDuty maintenance window (config `pagerDuty`), or undefined when it is not configured
 * (then no function, no state, no grant exists). One function opens and closes, and it is the only
 * one that may read the token secret: GetSecretValue on exactly that secret's ARN.
 */
export function maintenanceWindowPhases(ctx: PhaseContext): MaintenanceWindowPhases | undefined {
  const pd = ctx.config.pagerDuty;
  if (!pd) return undefined;
  const env: PagerDutyEnv = {
    serviceName: pd.serviceName,
    serviceIds: pd.serviceIds,
    apiUrl: pd.apiUrl,
    fromEmail: pd.fromEmail ?? ctx.config.notificationEmails[0] ?? '',
    tokenSecretId: pd.apiTokenSecretName,
    windowMinutes: windowMinutes(ctx.config),
  };
  const handler = new RotationFunction(ctx.scope, 'MaintenanceWindow', {
    handler: { name: 'maintenance-window', entry: path.join(__dirname, '..', '..', 'lambdas', 'maintenance-window', 'index.ts') },
    description: 'Opens and closes the PagerDuty maintenance window of a rotation',
    // Three attempts of 10 s at most per PagerDuty call, a GET then a POST or DELETEs.
    timeout: Duration.minutes(2),
    environment: { DOMAIN: ctx.config.domain, PAGER_DUTY: JSON.stringify(env) },
  });
  allow(handler, ['secretsmanager:GetSecretValue'], [tokenSecretArn(ctx, pd.apiTokenSecretName)]);
  return {
    handler,
    open: (props) => new OpenMaintenanceWindow(ctx, { ...props, handler }),
    close: (outcome, next) => new CloseMaintenanceWindow(ctx, { handler, next, outcome }),
    beforeReport: (report, path) => new CloseMaintenanceWindow(ctx, { handler, next: report, outcome: path }),
  };
}
