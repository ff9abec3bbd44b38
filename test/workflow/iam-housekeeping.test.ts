import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../local/cli';
import type { RehearsalReport } from '../../local/rehearsal';

const FIXTURES = join(__dirname, '..', 'fixtures');
const OLD_CERTS = join(FIXTURES, 'fleet-old-certificates.json');

/** The old certificates of the fixture that nothing uses, older than the current one: what pruning must delete. */
const UNUSED_OLD = ['STAR.gitter.im_2021-11-15', 'STAR.gitter.im_2022-11-15', 'STAR.gitter.im_2024-11-15'];

/**
 * IAM housekeeping through the real synthesized state machine and the simulated account: the
 * quota check before the upload, and pruning after a successful rotation. `pruned` in the report
 * is what the simulated IAM held at the start and no longer holds at the end (observed).
 */
describe('IAM housekeeping (workflow)', () => {
  let dir: string;
  let stderr: jest.SpyInstance;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'iam-housekeeping-'));
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => stderr.mockRestore());

  const run = async (args: string[]): Promise<{ code: number; report: RehearsalReport }> => {
    const reportPath = join(dir, 'report.json');
    const code = await main([...args, '--quiet', '--report', reportPath]);
    return { code, report: JSON.parse(readFileSync(reportPath, 'utf8')) as RehearsalReport };
  };
  const faults = (value: unknown) => {
    const path = join(dir, 'faults.json');
    writeFileSync(path, JSON.stringify(value));
    return path;
  };
  const phase = (report: RehearsalReport, name: string) => report.phases.find((p) => p.name === name)?.status;

  test('old certificates, some in use by an ELBv2 SNI list or a distribution: exit 0, exactly the unused old ones pruned', async () => {
    // Act
    const { code, report } = await run(['--fleet', OLD_CERTS]);

    // Assert
    expect(code).toBe(0);
    expect(report.status).toBe('SUCCEEDED');
    expect(phase(report, 'prune')).toBe('SUCCEEDED');
    // Observed in IAM: the previous one, the ones in use (partner-alb's SNI list, E5OLDCDN) and the other path stay.
    expect([...report.pruned].sort()).toEqual(UNUSED_OLD);
    expect(report.apiCalls['iam:DeleteServerCertificate']).toBe(UNUSED_OLD.length);
    // What the workflow says it kept, and why.
    const kept = Object.fromEntries((report.prune?.kept ?? []).map((k) => [k.name, k.reason]));
    expect(kept['STAR.gitter.im_2023-11-15']).toBe('in use by ELBv2 partner-alb:443 (SNI)');
    expect(kept['STAR.gitter.im_2024-02-01']).toBe('in use by CloudFront E5OLDCDN');
    const previousName = Object.entries(kept).find(([, reason]) => reason === 'the previous certificate (kept for rollback)')?.[0];
    expect(previousName).toMatch(/^STAR\.gitter\.im_\d{4}-\d{2}-\d{2}$/);
    expect(report.pruned).not.toContain(previousName);
    // The targets that use the old certificates were left alone.
    for (const key of ['elbv2/partner-alb/443', 'cloudfront/E5OLDCDN']) {
      expect(report.targets.find((t) => t.key === key)).toMatchObject({ changed: false });
    }
    expect(report.secretScan.findings).toBe(0);
  });

  test('the default fleet prunes its old unused certificates too', async () => {
    // Act
    const { code, report } = await run([]);

    // Assert
    expect(code).toBe(0);
    expect(report.pruned.length).toBeGreaterThan(0);
    expect(report.notifications.map((n) => n.subject)).toContain('[cert-rotation gitter.im] Rotation SUCCEEDED');
  });

  test('a pruning failure after a successful rotation: exit 0, still SUCCEEDED, prune FAILED and said so in the email', async () => {
    // Arrange
    const file = faults([{ operation: 'iam:DeleteServerCertificate', error: 'AccessDenied', count: 100 }]);

    // Act
    const { code, report } = await run(['--fleet', OLD_CERTS, '--faults', file]);

    // Assert
    expect(code).toBe(0);
    expect(report.status).toBe('SUCCEEDED');
    expect(phase(report, 'prune')).toBe('FAILED');
    expect(phase(report, 'rollback')).toBe('NOT_RUN');
    expect(report.pruned).toEqual([]);
    expect(report.prune?.error).toContain('AccessDenied');
    expect(report.notifications.map((n) => n.subject)).toContain(
      '[cert-rotation gitter.im] Rotation SUCCEEDED (pruning old IAM certificates failed)',
    );
    // the canary still serves the new certificate: nothing was rolled back
    const canary = report.targets.find((t) => t.key === 'elb/apps-servers-elb-prod/6667');
    expect(canary).toMatchObject({ changed: true, rolledBack: false, servedAfter: report.certificate.new?.sha256 });
  });

  test('a crash right after the first deletion: the retry deletes only the rest, and the report lists all', async () => {
    // Arrange: state-changing call 1 is the decision record (s3:PutObject), call 2 the first deletion
    const file = faults([{ state: 'Prune:', fault: 'crash-after-side-effects', afterCalls: 2, count: 1 }]);

    // Act
    const { code, report } = await run(['--fleet', OLD_CERTS, '--faults', file]);

    // Assert
    expect(code).toBe(0);
    expect(phase(report, 'prune')).toBe('SUCCEEDED');
    expect(report.phases.find((p) => p.name === 'prune')?.retries).toBe(1);
    expect([...report.pruned].sort()).toEqual(UNUSED_OLD);
    // one deletion each; the crashed call is counted twice (it took effect, then failed as the crash)
    expect(report.apiCalls['iam:DeleteServerCertificate']).toBe(UNUSED_OLD.length + 1);
    // the retry reports what the crashed attempt deleted too
    expect([...(report.prune?.pruned ?? [])].sort()).toEqual(UNUSED_OLD);
  });
});
