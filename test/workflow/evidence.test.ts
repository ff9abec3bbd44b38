import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitCodeFor, main } from '../../local/cli';
import type { RehearsalReport } from '../../local/rehearsal';
import { defaultFleet } from '../../local/sim';
import { canaryOf, rehearse } from '../support/rehearsal';

/**
 * Evidence is observed, never asserted: phases that failed inside say so, targets are judged by
 * TLS handshakes, and a rollback that cannot be verified is ROLLBACK_INCOMPLETE (exit 4). Each
 * test runs `npm start -- ...` in-process (the real synthesized state machine, the local engine,
 * the simulated account) and reads the report it writes.
 */
describe('the rehearsal reports what it observed (npm start)', () => {
  let dir: string;
  let spy: jest.SpyInstance;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rehearsal-evidence-'));
    spy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => spy.mockRestore());

  async function start(faults: unknown[], ...args: string[]): Promise<{ code: number; report: RehearsalReport }> {
    const faultsFile = join(dir, 'faults.json');
    writeFileSync(faultsFile, JSON.stringify(faults));
    const reportFile = join(dir, 'report.json');
    const code = await main(['--quiet', '--faults', faultsFile, '--report', reportFile, ...args]);
    return { code, report: JSON.parse(readFileSync(reportFile, 'utf8')) as RehearsalReport };
  }

  const phase = (report: RehearsalReport, name: string) => report.phases.find((p) => p.name === name);

  test('serves-stale on the canary exits 1: the canary phase is FAILED, and every target is back (TLS)', async () => {
    // Arrange: IAM propagates at once, so that each switch call counted below is one that took effect
    const fleetFile = join(dir, 'fleet.json');
    writeFileSync(fleetFile, JSON.stringify({ ...defaultFleet(), iamPropagationSeconds: 0 }));

    // Act
    const { code, report } = await start([{ target: 'elb/apps-servers-elb-prod/6667', fault: 'serves-stale' }], '--fleet', fleetFile);

    // Assert
    expect(code).toBe(1);
    expect(report.status).toBe('FAILED');
    expect(report.error).toMatch(/^VerificationFailed: irc\.gitter\.im:6667 still does not serve the new certificate/);
    expect(phase(report, 'canary edge')).toMatchObject({ status: 'FAILED' });
    expect(phase(report, 'rollback')).toMatchObject({ status: 'SUCCEEDED' });
    for (const t of report.targets) expect({ key: t.key, servedAfter: t.servedAfter }).toEqual({ key: t.key, servedAfter: t.before });
    // The API was switched and switched back; TLS never saw the new certificate.
    const canary = canaryOf(report);
    expect(canary).toMatchObject({ key: 'elb/apps-servers-elb-prod/6667', changed: false, rolledBack: true, after: canary.before });
    expect(report.apiCalls['elb:SetLoadBalancerListenerSSLCertificate']).toBe(2);
    expect(report.rollbackIncomplete).toBeUndefined();
  });

  test('stuck-after-change on the canary with --approve reject:canary exits 4: ROLLBACK_INCOMPLETE naming the canary listener', async () => {
    // Act
    const { code, report } = await start(
      [{ target: 'elb/apps-servers-elb-prod/6667', fault: 'stuck-after-change' }],
      '--approve',
      'reject:canary',
    );

    // Assert
    expect(code).toBe(4);
    expect(report.status).toBe('ROLLBACK_INCOMPLETE');
    expect(report.rollbackIncomplete).toEqual(['elb/apps-servers-elb-prod/6667']);
    // The execution's error names the target and keeps the error that started the rollback.
    expect(report.error).toMatch(
      /^RollbackIncomplete: 1 target\(s\) not proven back on the previous certificate: ELB apps-servers-elb-prod:6667/,
    );
    expect(report.error).toContain('elb/apps-servers-elb-prod/6667');
    expect(report.error).toContain('The rollback started because of: ApprovalRejected');
    expect(report.rollbackStartedBy).toMatch(/^ApprovalRejected: rejected by rehearsal at \S+: --approve reject:canary$/);
    // The API says the canary is back; TLS says it still serves the new certificate.
    const canary = canaryOf(report);
    expect(canary).toMatchObject({ rolledBack: true, changed: true, servedAfter: report.certificate.new?.sha256, after: canary.before });
    expect(canary.apiBefore).toBe(canary.before);
    // The rejection and the unverified rollback are failures of their phases; verify-rollback was retried.
    expect(phase(report, 'approval: canary')).toMatchObject({ status: 'FAILED' });
    expect(phase(report, 'rollback')?.status).toBe('FAILED');
    expect(phase(report, 'rollback')?.retries).toBeGreaterThan(0);
    expect(report.notifications.at(-1)?.subject).toMatch(/^ACTION NEEDED/);
    // Everything else is back.
    for (const t of report.targets.filter((x) => x !== canary))
      expect({ key: t.key, changed: t.changed }).toEqual({ key: t.key, changed: false });
  });

  test('a rollback that itself fails (here: deleting the uploaded certificate) exits 4: nothing was verified', async () => {
    // Act
    const { code, report } = await start(
      [{ operation: 'iam:DeleteServerCertificate', error: 'AccessDenied', count: 1000 }],
      '--approve',
      'reject:canary',
    );

    // Assert
    expect(code).toBe(4);
    expect(report.status).toBe('ROLLBACK_INCOMPLETE');
    // The workflow could not prove the canary back (verification never ran), although TLS shows it is.
    expect(report.rollbackIncomplete).toEqual(['elb/apps-servers-elb-prod/6667']);
    expect(canaryOf(report)).toMatchObject({ rolledBack: true, changed: false });
    expect(report.error).toContain('Rollback problem: AccessDenied');
    expect(report.error).toContain('The rollback started because of: ApprovalRejected');
    expect(phase(report, 'rollback')?.status).toBe('FAILED');
    expect(report.notifications.at(-1)?.subject).toMatch(/^ACTION NEEDED/);
  });

  test('a run that fails in Plan reports phase plan FAILED with its retries, later phases NOT_RUN', async () => {
    // Act: every ListDistributions call fails (only Plan makes it).
    const { code, report } = await start([{ operation: 'cloudfront:ListDistributions', error: 'ServiceUnavailable', count: 1000 }]);

    // Assert
    expect(code).toBe(1);
    expect(report.status).toBe('FAILED');
    expect(report.error).toMatch(/^AwsTransient: /);
    expect(phase(report, 'validate')).toMatchObject({ status: 'SUCCEEDED', retries: 0 });
    expect(phase(report, 'plan')?.status).toBe('FAILED');
    expect(phase(report, 'plan')?.retries).toBeGreaterThan(0);
    expect(phase(report, 'upload')?.status).toBe('NOT_RUN');
    expect(report.rollbackIncomplete).toBeUndefined();
  });
});

describe('the report of a clean run', () => {
  test('every phase that ran SUCCEEDED without retries; each target has its report key and both views', async () => {
    // Act (IAM propagates at once: by default its 10 simulated seconds make the canary switch retry)
    const report = await rehearse({ fleet: { ...defaultFleet(), iamPropagationSeconds: 0 } });

    // Assert
    expect(report.status).toBe('SUCCEEDED');
    for (const p of report.phases) {
      expect(p).toEqual({
        name: p.name,
        status: expect.stringMatching(/^(SUCCEEDED|NOT_RUN)$/),
        retries: 0,
        simulatedSeconds: expect.any(Number),
      });
    }
    const keys = report.targets.map((t) => t.key);
    expect(keys).toEqual(
      expect.arrayContaining(['elb/apps-servers-elb-prod/6667', 'elbv2/api-alb-prod/443', 'cloudfront/E1GITTERCDN', 'node/i-0ws01']),
    );
    expect(new Set(keys).size).toBe(keys.length);
    for (const t of report.targets) expect({ key: t.key, changed: t.changed }).toEqual({ key: t.key, changed: t.servedAfter !== t.before });
    const canary = canaryOf(report);
    expect(canary).toMatchObject({ apiBefore: canary.before, after: report.certificate.new?.sha256, changed: true });
  });
});

describe('the rehearsal does not take the workflow at its word', () => {
  test('a target whose TLS is not back after a failed run makes it ROLLBACK_INCOMPLETE, even when the workflow says rolled back', async () => {
    // Arrange: after the start was observed, someone switches the webapp ELB (not part of this rotation) to another certificate.
    const report = await rehearse({
      approve: { mode: 'reject', gate: 'canary' },
      beforeStart: (sim) => {
        const listener = sim.elb.loadBalancers.find((lb) => lb.name === 'webapp-elb-prod')?.listeners.find((l) => l.port === 443);
        if (!listener) throw new Error('fleet has no webapp-elb-prod:443');
        listener.certificateArn = sim.otherCertificate.arn;
      },
    });

    // Assert
    expect(report.status).toBe('ROLLBACK_INCOMPLETE');
    expect(report.rollbackIncomplete).toEqual(['elb/webapp-elb-prod/443']);
    expect(report.error).toMatch(
      /^RollbackIncomplete: the rehearsal sees elb\/webapp-elb-prod\/443 not back over TLS, although the execution ended with ApprovalRejected/,
    );
    expect(canaryOf(report)).toMatchObject({ rolledBack: true, changed: false });
    expect(report.rollbackStartedBy).toMatch(/^ApprovalRejected: rejected by rehearsal at \S+: --approve reject:canary$/);
  });
});

describe('exitCodeFor', () => {
  const report = (status: RehearsalReport['status'], findings = 0) =>
    ({ status, secretScan: { findings } }) as Pick<RehearsalReport, 'status' | 'secretScan'>;

  test.each([
    ['SUCCEEDED', 0, 0],
    ['FAILED', 0, 1],
    ['REJECTED', 0, 1],
    ['ROLLBACK_INCOMPLETE', 0, 4],
    ['ROLLBACK_INCOMPLETE', 1, 5],
    ['SUCCEEDED', 2, 5],
  ] as const)('%s with %d secret finding(s) -> %d', (status, findings, code) => {
    expect(exitCodeFor(report(status, findings))).toBe(code);
  });
});
