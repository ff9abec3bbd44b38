/**
 * The ACM source against the simulated ACM (local/sim/acm.ts): DescribeCertificate, then
 * ExportCertificate with a passphrase made for the call, decrypted with node:crypto.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { ACMClient, ExportCertificateCommand } from '@aws-sdk/client-acm';
import { decryptPrivateKey, exportFromAcm, exportPassphrase } from '../../lambdas/shared/acm/export';
import { awsClient } from '../../lambdas/shared/aws-clients';
import { AcmCertificateNotExportable } from '../../lambdas/shared/errors';
import { defaultFleet, SimulatedAccount, type SimCertificate } from '../../local/sim';
import { recordingLogger } from '../support/handler-support';
import { seedCertificates } from '../support/sim-fixtures';

describe('ACM export (simulated ACM)', () => {
  let sim: SimulatedAccount;
  let material: SimCertificate;
  const arn = (i: number) => sim.acm.certificates[i].arn;

  beforeAll(async () => {
    const { current, other } = await seedCertificates();
    material = current;
    sim = await SimulatedAccount.create({
      fleet: {
        ...defaultFleet(),
        acm: [{}, { type: 'IMPORTED' }, { exportable: false }, { status: 'PENDING_VALIDATION' }, { type: 'PRIVATE' }],
      },
      current,
      other,
    });
    sim.acm.setMaterial([current, current, current, current, current]);
    sim.install();
  });
  afterAll(async () => {
    await sim?.close();
  });

  test('an exportable public certificate: the encrypted key decrypts, matches the certificate, and nothing is logged of it', async () => {
    // Arrange
    const log = recordingLogger();

    // Act
    const exported = await exportFromAcm({ acm: awsClient(ACMClient), certificateArn: arn(0), logger: log.logger });

    // Assert
    expect(exported.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(new X509Certificate(exported.certificate).checkPrivateKey(createPrivateKey(exported.privateKey))).toBe(true);
    expect(createPrivateKey(exported.privateKey).export({ format: 'jwk' })).toEqual(
      createPrivateKey(material.keyPem).export({ format: 'jwk' }),
    );
    expect(exported.chain).toBe(material.chainPem);
    expect(log.text()).not.toContain('PRIVATE KEY');
  });

  test('ACM really encrypts the key: the export decrypts with its passphrase only', async () => {
    // Arrange
    const passphrase = exportPassphrase();
    const out = await awsClient(ACMClient).send(
      new ExportCertificateCommand({ CertificateArn: arn(0), Passphrase: Buffer.from(passphrase) }),
    );

    // Assert
    expect(out.PrivateKey).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    expect(() => decryptPrivateKey(out.PrivateKey!, exportPassphrase())).toThrow();
    expect(decryptPrivateKey(out.PrivateKey!, passphrase)).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  test('each export gets its own random passphrase of ACM-safe characters', () => {
    const a = exportPassphrase();
    const b = exportPassphrase();
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  test('a private certificate with export enabled exports too', async () => {
    await expect(
      exportFromAcm({ acm: awsClient(ACMClient), certificateArn: arn(4), logger: recordingLogger().logger }),
    ).resolves.toMatchObject({
      certificate: material.certPem,
    });
  });

  test.each([
    [1, /is IMPORTED: ACM exports only certificates it issued/],
    [2, /was not requested with export enabled \(Options\.Export is DISABLED\).*request a new certificate with Options\.Export=ENABLED/],
    [3, /is PENDING_VALIDATION, not ISSUED/],
  ])('certificate %i of the wrong kind: AcmCertificateNotExportable saying what to do (%s)', async (index, message) => {
    const attempt = exportFromAcm({ acm: awsClient(ACMClient), certificateArn: arn(index), logger: recordingLogger().logger });
    await expect(attempt).rejects.toThrow(AcmCertificateNotExportable);
    await expect(attempt).rejects.toThrow(message);
    expect(sim.acm.certificates[index].exports).toBe(0);
  });

  test('an unknown certificate: AcmCertificateNotExportable naming the config key', async () => {
    const attempt = exportFromAcm({
      acm: awsClient(ACMClient),
      certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
      logger: recordingLogger().logger,
    });
    await expect(attempt).rejects.toThrow(/does not exist in this account and region.*certificateSource\.acm\.certificateArn/);
  });
});
