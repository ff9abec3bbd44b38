/**
 * `--source acme` (a real pebble, DNS-01 through the simulated Route53 and pebble-challtestsrv) and
 * `--source acm` (the simulated ACM) through the whole rehearsal: the real synthesized state
 * machine, the real handlers. The secret scan also looks for the ACME account key and the EAB HMAC,
 * and a leak of either is caught.
 */
import { Console } from 'node:console';
import { createPrivateKey } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { exitCodeFor } from '../../local/cli';
import type { RehearsalOptions } from '../../local/rehearsal';
import { defaultFleet, type SimulatedAccount } from '../../local/sim';
import { rehearse } from '../support/rehearsal';

async function secretString(id: string): Promise<string> {
  return (await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: id }))).SecretString ?? '';
}

/** After the obtain handler ran, writes `leak(secret)` to stderr as a careless handler would. */
function leakAfterObtain(secretName: string, pick: (secret: string) => string): RehearsalOptions['aroundHandlerForTests'] {
  return async (call, invoke) => {
    const out = await invoke();
    if (call.handler === 'obtain')
      new Console({ stdout: process.stdout, stderr: process.stderr }).error(`debug: ${pick(await secretString(secretName))}`);
    return out;
  };
}

describe('--source acme: a certificate issued by a real pebble over DNS-01', () => {
  test('the rotation succeeds; every changed target serves the pebble-issued certificate; no record stays; nothing leaks', async () => {
    // Act
    const report = await rehearse({ source: 'acme' });

    // Assert
    expect(report.status).toBe('SUCCEEDED');
    expect(report.source).toEqual({ kind: 'acme', issuer: expect.stringMatching(/Pebble Intermediate CA/) });
    const changed = report.targets.filter((t) => t.changed);
    expect(changed.length).toBeGreaterThanOrEqual(7);
    for (const t of changed) expect({ key: t.key, served: t.servedAfter }).toEqual({ key: t.key, served: report.certificate.new?.sha256 });
    expect(report.apiCalls['route53:ChangeResourceRecordSets']).toBe(2); // the UPSERT, then the DELETE
    expect(report.secretScan.findings).toBe(0);
    expect(exitCodeFor(report)).toBe(0);
  });

  test('EAB required by pebble: the HMAC from Secrets Manager binds the account, and the scan finds no HMAC anywhere', async () => {
    const report = await rehearse({ source: 'acme', acme: { eab: true } });
    expect(report.status).toBe('SUCCEEDED');
    expect(report.secretScan.findings).toBe(0);
  });

  test('the ACME account key leaked to stderr (its DER in hex, no PEM header) is caught: exit 5, where names the log', async () => {
    const derHex = (pem: string) => createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' }).toString('hex');
    const report = await rehearse({
      source: 'acme',
      aroundHandlerForTests: leakAfterObtain('cert-rotation/gitter.im/acme-account/pebble', (s) =>
        derHex((JSON.parse(s) as { accountKey: string }).accountKey),
      ),
    });
    expect(report.status).toBe('SUCCEEDED');
    expect(report.secretScan.where).toEqual(expect.arrayContaining([expect.objectContaining({ place: 'logs' })]));
    expect(exitCodeFor(report)).toBe(5);
  });

  test('the EAB HMAC leaked to stderr is caught: exit 5, as the secret value itself', async () => {
    const report = await rehearse({
      source: 'acme',
      acme: { eab: true },
      aroundHandlerForTests: leakAfterObtain('cert-rotation/gitter.im/acme-eab-hmac', (s) => s),
    });
    expect(report.secretScan.where).toEqual(expect.arrayContaining([expect.objectContaining({ place: 'logs', form: 'secret value' })]));
    expect(exitCodeFor(report)).toBe(5);
  });

  test('a challenge record that never reaches public DNS: AcmeChallengeInvalid, nothing changed, no record left', async () => {
    // Arrange
    let account: SimulatedAccount | undefined;

    // Act
    const report = await rehearse({
      source: 'acme',
      beforeStart: (sim) => {
        account = sim;
        sim.route53.publishing = false;
      },
    });

    // Assert
    expect(report.status).toBe('FAILED');
    expect(report.error).toMatch(/^AcmeChallengeInvalid: .*_acme-challenge\.gitter\.im/);
    expect(report.targets.filter((t) => t.changed)).toEqual([]);
    expect(report.apiCalls['iam:UploadServerCertificate']).toBeUndefined();
    expect(account!.route53.txtRecords()).toEqual([]);
    expect(exitCodeFor(report)).toBe(1);
  });
});

describe('--trigger schedule with ACME configured: the expiry check renews on its own', () => {
  test('20 days left: the check starts scheduled-<date> with the acme source, which issues and rotates', async () => {
    const report = await rehearse({ source: 'acme', trigger: 'schedule' });
    expect(report.trigger).toMatchObject({ kind: 'schedule', daysLeft: 20, due: true, started: true, automaticSource: 'acme' });
    expect(report.status).toBe('SUCCEEDED');
    expect(report.source?.kind).toBe('acme');
    expect(report.targets.filter((t) => t.changed).every((t) => t.servedAfter === report.certificate.new?.sha256)).toBe(true);
    expect(report.secretScan.findings).toBe(0);
  });
});

describe('--source acm: a certificate exported from the simulated ACM', () => {
  test('the rotation succeeds with the exported certificate, exported once, nothing leaks', async () => {
    const report = await rehearse({ source: 'acm' });
    expect(report.status).toBe('SUCCEEDED');
    expect(report.source?.kind).toBe('acm');
    expect(report.apiCalls['acm:ExportCertificate']).toBe(1);
    expect(report.targets.filter((t) => t.changed).every((t) => t.servedAfter === report.certificate.new?.sha256)).toBe(true);
    expect(report.secretScan.findings).toBe(0);
  });

  test('an imported ACM certificate: AcmCertificateNotExportable, exit 1, nothing changed', async () => {
    const report = await rehearse({ source: 'acm', fleet: { ...defaultFleet(), acm: [{ type: 'IMPORTED' }] } });
    expect(report.status).toBe('FAILED');
    expect(report.error).toMatch(/^AcmCertificateNotExportable: .*is IMPORTED/);
    expect(report.targets.filter((t) => t.changed)).toEqual([]);
    expect(exitCodeFor(report)).toBe(1);
  });
});
