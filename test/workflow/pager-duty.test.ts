/**
 * The PagerDuty maintenance window and monit's parameter through the real synthesized state
 * machine (a config with `pagerDuty`), the real handlers, the simulated account and the PagerDuty
 * stand-in on 127.0.0.1. What is asserted is what the stand-in and the simulated account observed
 * (report `pagerDuty`, `monit`, targets), not what the workflow says about itself.
 */
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { loadConfig } from '../../local/cli';
import type { RehearsalReport } from '../../local/rehearsal';
import { mutatingCalls, rehearse } from '../support/rehearsal';
import type { RehearsalOptions } from '../../local/rehearsal-options';

const CONFIG = join(__dirname, '..', 'fixtures', 'config-pager-duty.json');
const config = () => loadConfig(CONFIG);
const run = (overrides: Partial<RehearsalOptions> = {}) => rehearse({ config: config(), ...overrides });
const phase = (r: RehearsalReport, name: string) => r.phases.find((p) => p.name === name)?.status;
const lastSubject = (r: RehearsalReport) => r.notifications[r.notifications.length - 1]?.subject;

jest.setTimeout(120_000);

describe('PagerDuty maintenance window (workflow, config with pagerDuty)', () => {
  test('success: the window opens before the first change and closes after the last; monit holds the new MD5', async () => {
    // Act
    const report = await run();

    // Assert
    expect(report.status).toBe('SUCCEEDED');
    expect(report.pagerDuty).toEqual({
      serviceIds: ['PQ8QK9U'],
      windowId: 'PMW0001',
      opened: true,
      closed: true,
      changesBeforeOpen: 0,
      changesAfterClose: 0,
      requests: [
        'GET /maintenance_windows 200',
        'POST /maintenance_windows 201',
        'GET /maintenance_windows 200',
        'DELETE /maintenance_windows/PMW0001 204',
      ],
      problems: [],
    });
    // Changes did happen inside the window: the upload, the canary switch, the edge and the nodes.
    expect(report.apiCalls['iam:UploadServerCertificate']).toBe(1);
    expect(report.apiCalls['elb:SetLoadBalancerListenerSSLCertificate']).toBeGreaterThan(0);
    expect(report.apiCalls['ssm:SendCommand']).toBeGreaterThan(0);
    expect(phase(report, 'maintenance window')).toBe('SUCCEEDED');
    expect(report.monit).toEqual({ parameter: '/gitter/monit/certificate-md5', value: report.certificate.new?.md5, matchesNew: true });
    expect(lastSubject(report)).toBe('[cert-rotation gitter.im] Rotation SUCCEEDED');
    expect(report.secretScan.findings).toBe(0);
  });

  test('rejected at Approval 3 (after the canary and the edge changed): rolled back, then the window closed', async () => {
    // Act
    const report = await run({ approve: { mode: 'reject', gate: 'rollout' } });

    // Assert
    expect(report.status).toBe('REJECTED');
    expect(report.targets.filter((t) => t.rolledBack).length).toBeGreaterThan(0);
    expect(report.targets.every((t) => t.servedAfter === t.before)).toBe(true);
    expect(report.pagerDuty).toMatchObject({
      windowId: 'PMW0001',
      opened: true,
      closed: true,
      changesBeforeOpen: 0,
      changesAfterClose: 0,
      problems: [],
    });
    // The rollback's own switches happened inside the window too.
    expect(report.apiCalls['iam:DeleteServerCertificate']).toBeGreaterThan(0);
    expect(phase(report, 'maintenance window')).toBe('SUCCEEDED');
    // The previous certificate is back: monit's parameter was not written.
    expect(report.monit).toMatchObject({ value: null, matchesNew: false });
    expect(lastSubject(report)).toBe('[cert-rotation gitter.im] Rotation REJECTED');
  });

  test('a gate timeout with onTimeout: stop (changes kept): the window closes before the stop report', async () => {
    // Arrange
    const stopping = { ...config(), approvals: { ...config().approvals, onTimeout: 'stop' as const } };

    // Act
    const report = await run({ config: stopping, approve: { mode: 'timeout', gate: 'edge' } });

    // Assert
    expect(report.status).toBe('FAILED');
    expect(report.error).toMatch(/^GateTimedOut/);
    expect(report.targets.some((t) => t.changed)).toBe(true);
    expect(report.pagerDuty).toMatchObject({ windowId: 'PMW0001', opened: true, closed: true, changesBeforeOpen: 0, changesAfterClose: 0 });
    expect(phase(report, 'maintenance window')).toBe('SUCCEEDED');
    expect(report.monit).toMatchObject({ value: null });
  });

  test('a close that fails (PagerDuty answers 503 to every DELETE): still SUCCEEDED, the close FAILED, the email warns', async () => {
    // Act
    const report = await run({ pagerDutyFaultsForTests: [{ method: 'DELETE', count: 3, status: 503 }] });

    // Assert
    expect(report.status).toBe('SUCCEEDED');
    expect(report.pagerDuty).toMatchObject({ opened: true, closed: false, changesBeforeOpen: 0, problems: [] });
    expect(report.pagerDuty?.requests.filter((r) => r.startsWith('DELETE'))).toEqual(
      Array(3).fill('DELETE /maintenance_windows/PMW0001 503 (injected)'),
    );
    expect(phase(report, 'maintenance window')).toBe('FAILED');
    expect(lastSubject(report)).toBe('[cert-rotation gitter.im] Rotation SUCCEEDED (PagerDuty window not closed)');
    expect(report.monit?.matchesNew).toBe(true);
  });

  test('an open that fails (PagerDuty down): FAILED with MaintenanceWindowNotOpened before any change', async () => {
    // Act
    const report = await run({ pagerDutyFaultsForTests: [{ method: 'POST', count: 3, status: 503 }] });

    // Assert
    expect(report.status).toBe('FAILED');
    expect(report.error).toMatch(
      /^MaintenanceWindowNotOpened: the PagerDuty maintenance window for monit-prod-critical \(PQ8QK9U\) could not be opened/,
    );
    expect(report.pagerDuty).toMatchObject({ windowId: null, opened: false, closed: false });
    expect(mutatingCalls(report)).toEqual([]);
    expect(report.targets.every((t) => !t.changed)).toBe(true);
    expect(phase(report, 'upload')).toBe('NOT_RUN');
    expect(phase(report, 'maintenance window')).toBe('FAILED');
    expect(report.monit).toMatchObject({ value: null });
    expect(lastSubject(report)).toBe('[cert-rotation gitter.im] Rotation FAILED');
  });

  test('the open crashes after PagerDuty created the window: the retry finds it, one window, closed at the end', async () => {
    // Act
    const report = await run({ faults: [{ state: 'PagerDuty: open', fault: 'crash-after-side-effects', count: 1 }] });

    // Assert
    expect(report.status).toBe('SUCCEEDED');
    expect(report.phases.find((p) => p.name === 'maintenance window')?.retries).toBe(1);
    expect(report.pagerDuty?.requests.filter((r) => r.startsWith('POST'))).toEqual(['POST /maintenance_windows 201']);
    expect(report.pagerDuty).toMatchObject({ windowId: 'PMW0001', opened: true, closed: true, changesBeforeOpen: 0, changesAfterClose: 0 });
  });

  test('the secret scan searches for the PagerDuty token: a handler that logs it is caught (then nothing else is)', async () => {
    // Arrange: read the token the rehearsal stored, as the handler does, and leak it to stdout once
    let token = '';
    const options: Partial<RehearsalOptions> = {
      beforeStart: async (sim) => {
        const out = await new SecretsManagerClient({ region: 'us-east-1' }).send(
          new GetSecretValueCommand({ SecretId: 'pagerduty/api-token' }),
        );
        token = out.SecretString ?? '';
        expect(sim.secretsManager).toBeDefined();
      },
      aroundHandlerForTests: async (call, invoke) => {
        if (call.handler === 'maintenance-window') process.stdout.write(`debug: PagerDuty token ${token}\n`);
        return invoke();
      },
    };

    // Act
    const report = await run(options);

    // Assert
    expect(token).toMatch(/^u\+/);
    expect(report.secretScan.findings).toBeGreaterThan(0);
    expect(new Set(report.secretScan.where.map((w) => `${w.place} ${w.form}`))).toEqual(new Set(['logs secret value']));
  });
});
