import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { defineHandler } from '../shared/handler';
import { resolvePagerDutyEnv, type PagerDutyEnv } from '../shared/pager-duty-maintenance';
import { maintenanceWindow, type MaintenanceWindowParams, type WindowOpened, type WindowsClosed } from './domain';

/** The state's payload: these fields of {@link MaintenanceWindowParams} (the rest is the container's). */
export type MaintenanceWindowEvent = Pick<MaintenanceWindowParams, 'executionName' | 'action'>;

export const handler = defineHandler({
  name: 'maintenance-window',
  deps: ({ requireEnv, requireJsonEnv, awsClient }) => ({
    domain: requireEnv('DOMAIN'),
    // https only; the rehearsal's loopback stand-in through its own variable (see resolvePagerDutyEnv).
    pagerDuty: resolvePagerDutyEnv(requireJsonEnv<PagerDutyEnv>('PAGER_DUTY')),
    secrets: awsClient(SecretsManagerClient),
  }),
  run: (event: MaintenanceWindowEvent, d, { logger, now }): Promise<WindowOpened | WindowsClosed> =>
    maintenanceWindow({ ...d, ...event, logger, now }),
});
