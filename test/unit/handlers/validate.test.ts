import { X509Certificate } from 'node:crypto';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { summarizeCertificate } from '../../../lambdas/shared/certificate';
import { CertificateInvalid, InputInvalid } from '../../../lambdas/shared/errors';
import { silentLogger } from '../../../lambdas/shared/logger';
import { validateNewCertificate, type ValidateParams } from '../../../lambdas/validate/domain';
import { issueCertificate, issueWithFreshPki, type CertificateAuthority } from '../../../local/certs';
import { caught, expectNoKeyMaterial, md5Of, recordingLogger, sha256Of } from '../../support/handler-support';

const secretsMock = mockClient(SecretsManagerClient);
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cert-rotation/gitter.im/rotate-2026-11-27-AbCdEf';
const NAMES = ['*.gitter.im', 'gitter.im'];
const DAY = 24 * 60 * 60 * 1000;

let fresh: {
  certPem: string;
  keyPem: string;
  chainPem: string;
  rootPem: string;
  root: CertificateAuthority;
  intermediate: CertificateAuthority;
};
let current: { certPem: string; keyPem: string; chainPem: string };
let stranger: { certPem: string; keyPem: string };

beforeAll(async () => {
  fresh = await issueWithFreshPki({ names: NAMES });
  // The certificate in use: same CA, issued 60 days ago, expires in 30 days.
  const notBefore = new Date(Date.now() - 60 * DAY);
  current = await issueCertificate({
    names: NAMES,
    issuer: fresh.intermediate,
    notBefore,
    notAfter: new Date(notBefore.getTime() + 90 * DAY),
  });
  stranger = await issueCertificate({ names: NAMES, issuer: fresh.intermediate, keyType: 'ec-p256' });
});

beforeEach(() => {
  secretsMock.reset();
});

function storeBundle(bundle: Record<string, string>): void {
  secretsMock.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ ARN: SECRET_ARN, SecretString: JSON.stringify(bundle) });
}

function currentOf(pem: string): ValidateParams['current'] {
  const s = summarizeCertificate(pem);
  return { notAfter: s.notAfter, names: s.names, sha256: s.sha256 };
}

function makeParams(overrides: Partial<ValidateParams> = {}): ValidateParams {
  return {
    secrets: new SecretsManagerClient({ region: 'eu-west-1' }),
    logger: silentLogger,
    secretArn: SECRET_ARN,
    requiredNames: NAMES,
    extraTrustedRoots: [fresh.rootPem],
    current: currentOf(current.certPem),
    now: () => new Date(),
    ...overrides,
  };
}

describe('validateNewCertificate', () => {
  test('a valid renewed bundle -> its summary, chain length and trusted root', async () => {
    // Arrange
    storeBundle({ certificate: fresh.certPem, privateKey: fresh.keyPem, chain: fresh.chainPem });
    const x509 = new X509Certificate(fresh.certPem);

    // Act
    const result = await validateNewCertificate(makeParams());

    // Assert
    expect(result.summary).toMatchObject({
      sha256: sha256Of(fresh.certPem),
      md5: md5Of(fresh.certPem),
      serial: x509.serialNumber.toUpperCase(),
      notBefore: new Date(x509.validFrom).toISOString(),
      notAfter: new Date(x509.validTo).toISOString(),
      names: NAMES,
      keyType: 'RSA-2048',
    });
    expect(result.chainLength).toBe(1);
    expect(result.trustedRoot).toBe(new X509Certificate(fresh.rootPem).subject.split('\n').join(', '));
    expect(Array.isArray(result.warnings)).toBe(true);
    expect(secretsMock.commandCalls(GetSecretValueCommand)[0].args[0].input).toEqual({ SecretId: SECRET_ARN });
  });

  test('a "fullchain" in the certificate field (no chain) is accepted: the leaf is summarised', async () => {
    // Arrange
    storeBundle({ certificate: fresh.certPem + fresh.chainPem, privateKey: fresh.keyPem });

    // Act
    const result = await validateNewCertificate(makeParams());

    // Assert
    expect(result.summary.sha256).toBe(sha256Of(fresh.certPem));
    expect(result.chainLength).toBe(1);
  });

  test('a key that does not match the certificate -> CertificateInvalid key-mismatch, no key material in the message', async () => {
    // Arrange
    storeBundle({ certificate: fresh.certPem, privateKey: stranger.keyPem, chain: fresh.chainPem });

    // Act
    const thrown = await caught(() => validateNewCertificate(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(CertificateInvalid);
    expect(thrown).toMatchObject({ name: 'CertificateInvalid', problem: 'key-mismatch' });
    expectNoKeyMaterial(thrown.message, stranger.keyPem);
    expectNoKeyMaterial(thrown.message, fresh.keyPem);
  });

  test('a certificate that does not cover the configured names -> CertificateInvalid names-not-covered naming them', async () => {
    // Arrange
    storeBundle({ certificate: fresh.certPem, privateKey: fresh.keyPem, chain: fresh.chainPem });

    // Act
    const thrown = await caught(() => validateNewCertificate(makeParams({ requiredNames: [...NAMES, 'irc.gitter.network'] })));

    // Assert
    expect(thrown).toMatchObject({ name: 'CertificateInvalid', problem: 'names-not-covered' });
    expect(thrown.message).toContain('irc.gitter.network');
  });

  test('a chain from an untrusted CA (no configured root) -> CertificateInvalid untrusted-root', async () => {
    // Arrange
    storeBundle({ certificate: fresh.certPem, privateKey: fresh.keyPem, chain: fresh.chainPem });

    // Act
    const thrown = await caught(() => validateNewCertificate(makeParams({ extraTrustedRoots: [] })));

    // Assert
    expect(thrown).toMatchObject({ name: 'CertificateInvalid', problem: 'untrusted-root' });
  });

  test('the certificate in use expires later -> CertificateInvalid not-newer', async () => {
    // Arrange
    storeBundle({ certificate: current.certPem, privateKey: current.keyPem, chain: current.chainPem });

    // Act
    const thrown = await caught(() => validateNewCertificate(makeParams({ current: currentOf(fresh.certPem) })));

    // Assert
    expect(thrown).toMatchObject({ name: 'CertificateInvalid', problem: 'not-newer' });
  });

  test('a fingerprint equal to the current one -> CertificateInvalid same-as-current, asking for the renewed certificate', async () => {
    // Arrange: only the fingerprint identifies the certificate in use (expiry given as earlier)
    storeBundle({ certificate: fresh.certPem, privateKey: fresh.keyPem, chain: fresh.chainPem });
    const sameSha = { notAfter: new Date(Date.now() + 10 * DAY).toISOString(), sha256: sha256Of(fresh.certPem) };

    // Act
    const thrown = await caught(() => validateNewCertificate(makeParams({ current: sameSha })));

    // Assert
    expect(thrown).toMatchObject({ name: 'CertificateInvalid', problem: 'same-as-current' });
    expect(thrown.message).toMatch(/already in use/);
  });

  // PRODUCT BUG (lambdas/validate/domain.ts:30-38): the same-as-current check runs AFTER
  // validateCertificateBundle, whose not-newer check (notAfter <= current.notAfter) always fires
  // first when the staged certificate IS the current one (same notAfter). So with the real input
  // of the workflow ($.current is the summary of that very certificate) the operator is told
  // "not later than the certificate in use" and never "is the one already in use".
  test('re-staging the certificate in use (real current summary) -> same-as-current, not the misleading not-newer', async () => {
    // Arrange
    storeBundle({ certificate: current.certPem, privateKey: current.keyPem, chain: current.chainPem });

    // Act
    const thrown = await caught(() => validateNewCertificate(makeParams({ current: currentOf(current.certPem) })));

    // Assert
    expect(thrown).toMatchObject({ name: 'CertificateInvalid', problem: 'same-as-current' });
  });

  test('a secret that has disappeared -> InputInvalid naming it', async () => {
    // Arrange
    secretsMock
      .on(GetSecretValueCommand)
      .rejects(new ResourceNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 400 } }));

    // Act
    const thrown = await caught(() => validateNewCertificate(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(InputInvalid);
    expect(thrown.message).toContain(SECRET_ARN);
  });

  test('logs the fingerprint and expiry but never the key', async () => {
    // Arrange
    storeBundle({ certificate: fresh.certPem, privateKey: fresh.keyPem, chain: fresh.chainPem });
    const log = recordingLogger();

    // Act
    await validateNewCertificate(makeParams({ logger: log.logger }));

    // Assert
    expect(log.text()).toContain(sha256Of(fresh.certPem));
    expectNoKeyMaterial(log.text(), fresh.keyPem);
  });
});
