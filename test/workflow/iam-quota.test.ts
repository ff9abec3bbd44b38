import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../local/cli';
import type { RehearsalReport } from '../../local/rehearsal';
import { mutatingCalls } from '../support/rehearsal';

/**
 * The IAM quota check before the upload, through the real synthesized state machine: a fleet whose
 * account already holds as many server certificates as its quota (the current one, an unrelated
 * one and six older ones of the domain, two of them in use).
 */
describe('IAM server-certificate quota (workflow)', () => {
  let stderr: jest.SpyInstance;
  beforeEach(() => {
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => stderr.mockRestore());

  test('a full quota fails before the upload with nothing changed: exit 1, the error names the prunable certificates', async () => {
    // Arrange
    const reportPath = join(mkdtempSync(join(tmpdir(), 'iam-quota-')), 'report.json');

    // Act
    const code = await main(['--fleet', join(__dirname, '..', 'fixtures', 'fleet-iam-quota-full.json'), '--quiet', '--report', reportPath]);

    // Assert
    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as RehearsalReport;
    expect(code).toBe(1);
    expect(report.status).toBe('FAILED');
    expect(report.error).toContain('ServerCertificateQuotaExceeded');
    expect(report.error).toContain('IAM holds 8 server certificates, its quota (ServerCertificatesQuota) is 8');
    // old, unused, this domain, the configured path: newest first; not the ones in use, nor the one on another path
    expect(report.error).toContain('could be pruned: STAR.gitter.im_2024-11-15, STAR.gitter.im_2022-11-15, STAR.gitter.im_2021-11-15.');
    expect(report.phases.find((p) => p.name === 'upload')?.status).toBe('FAILED');
    expect(report.apiCalls['iam:UploadServerCertificate'] ?? 0).toBe(0);
    expect(mutatingCalls(report).filter((op) => !op.startsWith('sns:') && !op.startsWith('sfn:'))).toEqual([]);
    for (const t of report.targets) expect({ key: t.key, changed: t.changed }).toEqual({ key: t.key, changed: false });
  });
});
