/** PagerDuty maintenance windows (lambdas/shared/pager-duty*.ts, lambdas/maintenance-window) against the local stand-in on 127.0.0.1. */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { maintenanceWindow, type MaintenanceWindowParams } from '../../lambdas/maintenance-window/domain';
import { MaintenanceWindowNotClosed, MaintenanceWindowNotOpened } from '../../lambdas/shared/errors';
import {
  closeMaintenance,
  openMaintenance,
  resolvePagerDutyEnv,
  type OpenMaintenanceParams,
} from '../../lambdas/shared/pager-duty-maintenance';
import { closeWindows, openWindow, PagerDutyError, type PagerDutySettings } from '../../lambdas/shared/pager-duty';
import { startPagerDutyStandIn, type PagerDutyStandIn } from '../../local/pager-duty-standin';
import { recordingLogger } from '../support/handler-support';

const TOKEN = 'u+standin-token-0123456789';
const SERVICES = ['PQ8QK9U', 'PABC123'];
const NOW = new Date('2026-12-01T10:00:00.000Z');
const secretsMock = mockClient(SecretsManagerClient);

let pd: PagerDutyStandIn;
let clock: Date;

beforeEach(async () => {
  secretsMock.reset();
  secretsMock.on(GetSecretValueCommand, { SecretId: 'pagerduty/api-token' }).resolves({ SecretString: `${TOKEN}\n` });
  clock = NOW;
  pd = await startPagerDutyStandIn({ token: TOKEN, serviceIds: SERVICES, now: () => clock });
});
afterEach(() => pd.close());

const settings = (overrides: Partial<PagerDutySettings> = {}): PagerDutySettings => ({
  apiUrl: pd.url,
  token: TOKEN,
  fromEmail: 'sre@example.com',
  serviceIds: SERVICES,
  ...overrides,
});

function makeParams(overrides: Partial<OpenMaintenanceParams> = {}): OpenMaintenanceParams {
  return {
    secrets: new SecretsManagerClient({ region: 'eu-west-1' }),
    logger: recordingLogger().logger,
    now: () => clock,
    domain: 'gitter.im',
    executionName: 'rotate-2026-12-01',
    pagerDuty: {
      serviceName: 'monit-prod-critical',
      serviceIds: SERVICES,
      apiUrl: pd.url,
      fromEmail: 'sre@example.com',
      tokenSecretId: 'pagerduty/api-token',
      windowMinutes: 600,
    },
    ...overrides,
  };
}

describe('maintenance windows against the stand-in', () => {
  test('open posts one window for every configured service, with the documented headers and body; the stand-in finds nothing wrong', async () => {
    // Act
    const result = await openMaintenance(makeParams());

    // Assert
    expect(result).toEqual({ windowId: 'PMW0001', services: SERVICES, endTime: '2026-12-01T20:00:00.000Z', reused: false });
    expect(pd.requests.map((r) => `${r.method} ${r.path} ${r.status} ${r.problems.join(';')}`)).toEqual([
      'GET /maintenance_windows 200 ',
      'POST /maintenance_windows 201 ',
    ]);
    expect(pd.windows[0]).toMatchObject({
      start_time: NOW.toISOString(),
      description: 'cert-rotation gitter.im: certificate rotation rotate-2026-12-01',
      services: SERVICES.map((id) => ({ id, type: 'service_reference' })),
    });
  });

  test('a retried open finds its own window instead of opening a second one', async () => {
    // Act
    await openMaintenance(makeParams());
    const again = await openMaintenance(makeParams());

    // Assert
    expect(again).toMatchObject({ windowId: 'PMW0001', reused: true });
    expect(pd.windows).toHaveLength(1);
  });

  test("close ends this execution's window (DELETE, 204) and leaves another execution's alone; closing again does nothing", async () => {
    // Arrange
    await openMaintenance(makeParams());
    await openMaintenance(makeParams({ executionName: 'rotate-other' }));

    // Act
    const closed = await closeMaintenance(makeParams());
    const again = await closeMaintenance(makeParams());

    // Assert
    expect(closed).toEqual({ closed: ['PMW0001'] });
    expect(again).toEqual({ closed: [] });
    expect(pd.windows.map((w) => [w.id, w.endedAt !== undefined])).toEqual([
      ['PMW0001', true],
      ['PMW0002', false],
    ]);
    expect(pd.requests.filter((r) => r.method === 'DELETE').map((r) => `${r.path} ${r.status}`)).toEqual([
      '/maintenance_windows/PMW0001 204',
    ]);
  });

  test('a wrong token is refused (401) and the error names the call, never the token', async () => {
    // Act
    const thrown = await openWindow(settings({ token: 'wrong-token-abc' }), {
      domain: 'gitter.im',
      executionName: 'x',
      now: NOW,
      minutes: 60,
    }).then(
      () => new Error('did not throw'),
      (e: unknown) => e as Error,
    );

    // Assert
    expect(thrown).toBeInstanceOf(PagerDutyError);
    expect(thrown.message).toContain('HTTP 401');
    expect(thrown.message).not.toContain('wrong-token-abc');
  });

  test('the stand-in refuses what the API refuses: a bad From header, an unknown service', async () => {
    // Act
    const badFrom = await openWindow(settings({ fromEmail: 'not-an-email' }), {
      domain: 'gitter.im',
      executionName: 'x',
      now: NOW,
      minutes: 60,
    }).then(
      () => new Error('did not throw'),
      (e: unknown) => e as Error,
    );
    const unknown = await openWindow(settings({ serviceIds: ['PNOPE99'] }), {
      domain: 'gitter.im',
      executionName: 'y',
      now: NOW,
      minutes: 60,
    }).then(
      () => new Error('did not throw'),
      (e: unknown) => e as Error,
    );

    // Assert
    expect(badFrom.message).toContain('HTTP 400');
    expect(unknown.message).toContain('service PNOPE99 does not exist');
    expect(pd.windows).toHaveLength(0);
  });

  test('a close that fails is returned as a warning, not thrown (the report must still be written)', async () => {
    // Arrange
    await openMaintenance(makeParams());
    await pd.close();

    // Act
    const result = await closeMaintenance(makeParams());

    // Assert
    expect(result).toEqual({ error: expect.stringContaining('PagerDutyError') as string });
  });

  test('a window that ended by its end time is not ended again', async () => {
    // Arrange
    await openWindow(settings(), { domain: 'gitter.im', executionName: 'rotate-2026-12-01', now: NOW, minutes: 60 });
    clock = new Date(NOW.getTime() + 2 * 3_600_000);

    // Act
    const closed = await closeWindows(settings(), 'gitter.im', 'rotate-2026-12-01');

    // Assert
    expect(closed).toEqual([]);
    expect(pd.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
  });
});

describe('the maintenance-window handler (lambdas/maintenance-window) against the stand-in', () => {
  const params = (overrides: Partial<MaintenanceWindowParams> = {}): MaintenanceWindowParams => ({
    ...makeParams(),
    action: 'open',
    ...overrides,
  });

  test('open returns the window for the state (id, services, end), never the token', async () => {
    // Act
    const result = await maintenanceWindow(params());

    // Assert
    expect(result).toEqual({
      windowId: 'PMW0001',
      serviceName: 'monit-prod-critical',
      services: SERVICES,
      endTime: '2026-12-01T20:00:00.000Z',
      reused: false,
    });
    expect(JSON.stringify(result)).not.toContain(TOKEN);
  });

  test('a refused open is MaintenanceWindowNotOpened naming the services and the cause, never the token', async () => {
    // Arrange: PagerDuty does not know one of the services
    const pagerDuty = { ...makeParams().pagerDuty, serviceIds: ['PNOPE99'] };

    // Act
    const thrown = await maintenanceWindow(params({ pagerDuty })).then(
      () => new Error('did not throw'),
      (e: unknown) => e as Error,
    );

    // Assert
    expect(thrown).toBeInstanceOf(MaintenanceWindowNotOpened);
    expect(thrown.name).toBe('MaintenanceWindowNotOpened');
    expect(thrown.message).toContain('monit-prod-critical (PNOPE99) could not be opened, so the rotation stops before any change');
    expect(thrown.message).toContain('service PNOPE99 does not exist');
    expect(thrown.message).not.toContain(TOKEN);
    expect(pd.windows).toHaveLength(0);
  });

  test('PagerDuty unreachable: MaintenanceWindowNotOpened too', async () => {
    // Arrange
    await pd.close();

    // Act
    const thrown = await maintenanceWindow(params()).then(
      () => new Error('did not throw'),
      (e: unknown) => e as Error,
    );

    // Assert
    expect(thrown).toBeInstanceOf(MaintenanceWindowNotOpened);
    expect(thrown.message).toContain('failed after 3 attempts');
  });

  test('a missing token secret: MaintenanceWindowNotOpened naming the secret', async () => {
    // Arrange
    secretsMock.reset();
    secretsMock
      .on(GetSecretValueCommand)
      .rejects(Object.assign(new Error("Secrets Manager can't find the specified secret."), { name: 'ResourceNotFoundException' }));

    // Act
    const thrown = await maintenanceWindow(params()).then(
      () => new Error('did not throw'),
      (e: unknown) => e as Error,
    );

    // Assert
    expect(thrown).toBeInstanceOf(MaintenanceWindowNotOpened);
    expect(thrown.message).toContain('ResourceNotFoundException');
  });

  test('a throttled token read is left to the state to retry (not MaintenanceWindowNotOpened)', async () => {
    // Arrange
    secretsMock.reset();
    secretsMock
      .on(GetSecretValueCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));

    // Act
    const thrown = await maintenanceWindow(params()).then(
      () => new Error('did not throw'),
      (e: unknown) => e as Error,
    );

    // Assert
    expect(thrown).not.toBeInstanceOf(MaintenanceWindowNotOpened);
    expect(thrown.name).toBe('ThrottlingException');
  });

  test("close ends this execution's window; with none open it ends none", async () => {
    // Arrange
    await maintenanceWindow(params());

    // Act
    const closed = await maintenanceWindow(params({ action: 'close' }));
    const again = await maintenanceWindow(params({ action: 'close' }));

    // Assert
    expect(closed).toEqual({ closed: ['PMW0001'] });
    expect(again).toEqual({ closed: [] });
    expect(pd.requests.every((r) => r.problems.length === 0)).toBe(true);
  });

  test('a failed close is MaintenanceWindowNotClosed (the state catches it into a warning), never the token', async () => {
    // Arrange
    await maintenanceWindow(params());
    pd.failNext('DELETE', 3, 503);

    // Act
    const thrown = await maintenanceWindow(params({ action: 'close' })).then(
      () => new Error('did not throw'),
      (e: unknown) => e as Error,
    );

    // Assert
    expect(thrown).toBeInstanceOf(MaintenanceWindowNotClosed);
    expect(thrown.message).toContain('could not be closed');
    expect(thrown.message).toContain('HTTP 503');
    expect(thrown.message).not.toContain(TOKEN);
    expect(pd.windows[0]?.endedAt).toBeUndefined();
  });
});

describe('resolvePagerDutyEnv: production is https only; the rehearsal reaches its stand-in on loopback only', () => {
  const env = (apiUrl: string) => ({ ...makeParams().pagerDuty, apiUrl });

  test('https passes; http or anything else is refused, naming the url', () => {
    expect(resolvePagerDutyEnv(env('https://api.eu.pagerduty.com'), undefined).apiUrl).toBe('https://api.eu.pagerduty.com');
    expect(() => resolvePagerDutyEnv(env('http://api.pagerduty.com'), undefined)).toThrow(/not an https:\/\/ origin/);
  });

  test('the rehearsal variable is taken only as http://127.0.0.1:<port>', () => {
    expect(resolvePagerDutyEnv(env('https://api.pagerduty.com'), 'http://127.0.0.1:40123').apiUrl).toBe('http://127.0.0.1:40123');
    expect(() => resolvePagerDutyEnv(env('https://api.pagerduty.com'), 'http://evil.example.com')).toThrow(/must be http:\/\/127\.0\.0\.1/);
    expect(() => resolvePagerDutyEnv(env('https://api.pagerduty.com'), 'http://127.0.0.1.evil.com:80')).toThrow(
      /must be http:\/\/127\.0\.0\.1/,
    );
  });
});
