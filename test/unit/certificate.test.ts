import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CertificateBundle,
  normalizeBundle,
  sha256OfPem,
  splitPemCertificates,
  summarizeCertificate,
  type ValidationPolicy,
  validateCertificateBundle,
} from '../../lambdas/shared/certificate';
import {
  type CertificateAuthority,
  createIntermediateCa,
  createRootCa,
  issueCertificate,
  type IssuedCertificate,
  issueWithFreshPki,
} from '../../local/certs';

const OPENSSL = '/usr/bin/openssl';
const DAY = 24 * 60 * 60 * 1000;
const NAMES = ['*.gitter.im', 'gitter.im'];

// Shared fixtures, generated once (key generation dominates the run time).
let root: CertificateAuthority;
let intermediate: CertificateAuthority;
let intermediate2: CertificateAuthority; // signed by `intermediate`: root -> intermediate -> intermediate2
let otherRoot: CertificateAuthority;
let otherIntermediate: CertificateAuthority;
let good: IssuedCertificate; // RSA-2048 leaf for NAMES, issued by `intermediate`
let deep: IssuedCertificate; // leaf issued by `intermediate2`, chain [intermediate2, intermediate]
let tmp: string;

/** Every message a test saw, checked for key material at the end. */
const seenMessages: string[] = [];

beforeAll(async () => {
  root = await createRootCa({ name: 'Unit Root' });
  intermediate = await createIntermediateCa(root, { name: 'Unit Intermediate' });
  intermediate2 = await createIntermediateCa(intermediate, { name: 'Unit Intermediate 2' });
  otherRoot = await createRootCa({ name: 'Other Root' });
  otherIntermediate = await createIntermediateCa(otherRoot, { name: 'Other Intermediate' });
  good = await issueCertificate({ names: NAMES, issuer: intermediate });
  deep = await issueCertificate({ names: NAMES, issuer: intermediate2, keyType: 'ec-p256' });
  tmp = mkdtempSync(join(tmpdir(), 'certificate-test-'));
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function makeBundle(overrides: Partial<CertificateBundle> = {}): CertificateBundle {
  return { certificate: good.certPem, privateKey: good.keyPem, chain: good.chainPem, ...overrides };
}

function makePolicy(overrides: Partial<ValidationPolicy> = {}): ValidationPolicy {
  return { requiredNames: NAMES, now: new Date(), extraTrustedRoots: [root.certPem], ...overrides };
}

/** The base64 body lines of a PEM key. */
function keyBodyLines(keyPem: string): string[] {
  return keyPem.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));
}

/** Runs `act`, asserts it throws CertificateInvalid(problem) with a message matching `message`, returns the message. */
function expectProblem(act: () => unknown, problem: string, message: RegExp): string {
  expect(act).toThrow(expect.objectContaining({ name: 'CertificateInvalid', problem }));
  let text = '';
  try {
    act();
  } catch (err) {
    text = (err as Error).message;
  }
  seenMessages.push(text);
  expect(text).toMatch(message);
  expect(text).not.toContain('PRIVATE KEY');
  for (const line of keyBodyLines(good.keyPem)) expect(text).not.toContain(line);
  return text;
}

function writeTemp(name: string, content: string): string {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return path;
}

function opensslFingerprint(certPem: string, digest: 'md5' | 'sha256'): string {
  const file = writeTemp(`fp-${digest}.pem`, certPem);
  const out = execFileSync(OPENSSL, ['x509', '-noout', '-fingerprint', `-${digest}`, '-in', file], { encoding: 'utf8' });
  return out.trim().split('=')[1].replace(/:/g, '');
}

describe('local/certs factory', () => {
  it('issues a leaf that node:crypto and openssl verify against its chain and root', async () => {
    // Arrange
    const pki = await issueWithFreshPki({ names: ['a.example.test', 'b.example.test'] });
    const leaf = new X509Certificate(pki.certPem);
    const inter = new X509Certificate(pki.chainPem);
    const files = {
      root: writeTemp('root.pem', pki.rootPem),
      chain: writeTemp('chain.pem', pki.chainPem),
      leaf: writeTemp('leaf.pem', pki.certPem),
    };

    // Act
    const verified = execFileSync(OPENSSL, ['verify', '-CAfile', files.root, '-untrusted', files.chain, files.leaf], {
      encoding: 'utf8',
    });

    // Assert
    expect(leaf.checkIssued(inter)).toBe(true);
    expect(leaf.verify(inter.publicKey)).toBe(true);
    expect(leaf.checkPrivateKey(createPrivateKey(pki.keyPem))).toBe(true);
    expect(inter.checkIssued(new X509Certificate(pki.rootPem))).toBe(true);
    expect(pki.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(splitPemCertificates(pki.chainPem)).toHaveLength(1);
    expect(leaf.subjectAltName).toBe('DNS:a.example.test, DNS:b.example.test');
    expect(leaf.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(leaf.ca).toBe(false);
    expect(inter.ca).toBe(true);
    expect(verified).toMatch(/: OK\s*$/);
  });

  it('reports an empty chain when a root issues the leaf directly', async () => {
    // Arrange / Act
    const leaf = await issueCertificate({ names: ['direct.example.test'], issuer: root, keyType: 'ec-p256' });

    // Assert
    expect(leaf.chainPem).toBe('');
    expect(new X509Certificate(leaf.certPem).verify(new X509Certificate(leaf.rootPem).publicKey)).toBe(true);
  });
});

describe('PEM helpers and fingerprints', () => {
  it('splits PEM text into normalised certificate blocks, ignoring text between them', () => {
    // Arrange
    const messy = `subject=CN = leaf\r\n${good.certPem.replace(/\n/g, '\r\n')}\r\nissuer=whatever\r\n${good.chainPem}junk`;

    // Act
    const blocks = splitPemCertificates(messy);

    // Assert
    expect(blocks).toEqual([good.certPem, good.chainPem]);
  });

  it('gives md5 and sha256 fingerprints equal to openssl x509 -fingerprint', () => {
    // Arrange
    const expectedMd5 = opensslFingerprint(good.certPem, 'md5');
    const expectedSha256 = opensslFingerprint(good.certPem, 'sha256').toLowerCase();

    // Act
    const summary = summarizeCertificate(good.certPem);

    // Assert
    expect(summary.md5).toBe(expectedMd5);
    expect(summary.md5).toMatch(/^[0-9A-F]{32}$/);
    expect(summary.sha256).toBe(expectedSha256);
    expect(sha256OfPem(good.certPem + good.chainPem)).toBe(expectedSha256);
  });

  it('summarises names, serial, dates and key type', () => {
    // Arrange
    const leaf = new X509Certificate(good.certPem);

    // Act
    const summary = summarizeCertificate(good.certPem);

    // Assert
    expect(summary).toEqual(
      expect.objectContaining({
        serial: leaf.serialNumber,
        names: ['*.gitter.im', 'gitter.im'],
        keyType: 'RSA-2048',
        subject: 'CN=*.gitter.im',
        issuer: 'CN=Unit Intermediate, O=Cert Rotation Tests',
        notAfter: new Date(leaf.validTo).toISOString(),
        notBefore: new Date(leaf.validFrom).toISOString(),
      }),
    );
    expect(summarizeCertificate(deep.certPem).keyType).toBe('EC-P-256');
  });
});

describe('normalizeBundle', () => {
  it('splits a fullchain (CRLF, text between blocks) into leaf and chain', () => {
    // Arrange
    const fullchain = `${good.certPem}Bag Attributes: x\n${good.chainPem}`.replace(/\n/g, '\r\n');

    // Act
    const normalized = normalizeBundle({ certificate: `\n  ${fullchain}  \n`, privateKey: `${good.keyPem}\n\n` });

    // Assert
    expect(normalized.certificate).toBe(good.certPem);
    expect(normalized.chain).toBe(good.chainPem);
    expect(normalized.privateKey).toBe(good.keyPem);
  });

  it('keeps a root at the end of the chain unless dropRoot is set', () => {
    // Arrange
    const bundle = makeBundle({ certificate: good.certPem + good.chainPem + root.certPem, chain: '' });

    // Act
    const kept = normalizeBundle(bundle);
    const dropped = normalizeBundle(bundle, { dropRoot: true });

    // Assert
    expect(splitPemCertificates(kept.chain ?? '')).toHaveLength(2);
    expect(dropped.chain).toBe(good.chainPem);
  });

  it('omits the chain when there is none', () => {
    // Act
    const normalized = normalizeBundle(makeBundle({ chain: '' }));

    // Assert
    expect(normalized).not.toHaveProperty('chain');
  });
});

describe('validateCertificateBundle: happy path', () => {
  it('accepts root -> intermediate -> leaf with the root as an extra trusted root', () => {
    // Arrange
    const bundle = makeBundle();

    // Act
    const result = validateCertificateBundle(bundle, makePolicy({ current: { notAfter: new Date().toISOString(), names: NAMES } }));

    // Assert
    expect(result.summary.names).toEqual(NAMES);
    expect(result.summary.keyType).toBe('RSA-2048');
    expect(result.chain.map((c) => c.subject)).toEqual(['CN=Unit Intermediate, O=Cert Rotation Tests']);
    expect(result.trustedRoot).toBe('CN=Unit Root, O=Cert Rotation Tests');
    expect(result.warnings).toEqual([]);
  });

  it('accepts a fullchain in the certificate field and a two-intermediate chain', () => {
    // Arrange
    const bundle: CertificateBundle = { certificate: deep.certPem + deep.chainPem, privateKey: deep.keyPem };

    // Act
    const result = validateCertificateBundle(bundle, makePolicy());

    // Assert
    expect(result.chain).toHaveLength(2);
    expect(result.summary.keyType).toBe('EC-P-256');
  });

  it('accepts the largest RSA key CloudFront serves (4096 bits)', async () => {
    // Arrange
    const leaf = await issueCertificate({ names: NAMES, issuer: intermediate, keyType: 'rsa-4096' });

    // Act
    const result = validateCertificateBundle({ certificate: leaf.certPem, privateKey: leaf.keyPem, chain: leaf.chainPem }, makePolicy());

    // Assert
    expect(result.summary.keyType).toBe('RSA-4096');
  });
});

describe('validateCertificateBundle: problems', () => {
  it('certificate-unparseable: missing, garbage, a key, a corrupt block, two leaves', () => {
    const policy = makePolicy();
    expectProblem(() => validateCertificateBundle(makeBundle({ certificate: '' }), policy), 'certificate-unparseable', /no certificate/);
    expectProblem(
      () => validateCertificateBundle(makeBundle({ certificate: 'hello world' }), policy),
      'certificate-unparseable',
      /not a PEM certificate/,
    );
    expectProblem(
      () => validateCertificateBundle(makeBundle({ certificate: good.keyPem }), policy),
      'certificate-unparseable',
      /holds a key, not a certificate/,
    );
    const corrupt = good.certPem.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA');
    expectProblem(
      () => validateCertificateBundle(makeBundle({ certificate: corrupt }), policy),
      'certificate-unparseable',
      /does not parse as an X\.509 certificate/,
    );
    expectProblem(
      () => validateCertificateBundle(makeBundle({ certificate: good.certPem + deep.certPem }), policy),
      'certificate-unparseable',
      /holds 2 certificates and a chain was also given/,
    );
  });

  it('key-unparseable: missing, not PEM, encrypted (PKCS#8 and PKCS#1), garbage', () => {
    // Arrange
    const key = createPrivateKey(good.keyPem);
    const encrypted8 = key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }) as string;
    const encrypted1 = key.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }) as string;
    const policy = makePolicy();

    // Act / Assert
    expectProblem(() => validateCertificateBundle(makeBundle({ privateKey: '' }), policy), 'key-unparseable', /no private key/);
    expectProblem(() => validateCertificateBundle(makeBundle({ privateKey: 'not a key' }), policy), 'key-unparseable', /not PEM/);
    for (const encrypted of [encrypted8, encrypted1]) {
      const message = expectProblem(
        () => validateCertificateBundle(makeBundle({ privateKey: encrypted }), policy),
        'key-unparseable',
        /encrypted/,
      );
      expect(message).toBe('encrypted private keys are not supported; stage the decrypted key');
    }
    const garbage = `-----BEGIN PRIVATE KEY-----\n${Buffer.from('definitely not a key').toString('base64')}\n-----END PRIVATE KEY-----\n`;
    expectProblem(() => validateCertificateBundle(makeBundle({ privateKey: garbage }), policy), 'key-unparseable', /does not parse/);
    expectProblem(
      () => validateCertificateBundle(makeBundle({ privateKey: good.certPem }), policy),
      'key-unparseable',
      /holds a certificate, not a key/,
    );
  });

  it('key-mismatch: the key of another certificate', () => {
    expectProblem(
      () => validateCertificateBundle(makeBundle({ privateKey: deep.keyPem }), makePolicy()),
      'key-mismatch',
      /private key \(EC-P-256\) does not belong to the certificate "CN=\*\.gitter\.im".*RSA-2048/,
    );
  });

  it('key-type-unsupported: Ed25519, RSA-1024, EC P-384 (and EC P-256 is accepted)', async () => {
    // Arrange
    const [ed, small, p384, p256] = await Promise.all(
      (['ed25519', 'rsa-1024', 'ec-p384', 'ec-p256'] as const).map((keyType) =>
        issueCertificate({ names: NAMES, issuer: intermediate, keyType }),
      ),
    );
    const bundleOf = (c: IssuedCertificate): CertificateBundle => ({ certificate: c.certPem, privateKey: c.keyPem, chain: c.chainPem });

    // Act / Assert
    expectProblem(
      () => validateCertificateBundle(bundleOf(ed), makePolicy()),
      'key-type-unsupported',
      /Ed25519 keys are not accepted by Elastic Load Balancing and CloudFront/,
    );
    expectProblem(
      () => validateCertificateBundle(bundleOf(small), makePolicy()),
      'key-type-unsupported',
      /smaller than 2048 bits are weak.*1024/,
    );
    expectProblem(
      () => validateCertificateBundle(bundleOf(p384), makePolicy()),
      'key-type-unsupported',
      /P-384 are not accepted by CloudFront/,
    );
    expect(validateCertificateBundle(bundleOf(p256), makePolicy()).summary.keyType).toBe('EC-P-256');
  });

  it('key-type-unsupported: RSA larger than 4096 bits (RSA-8192)', async () => {
    // Arrange (slow: an 8192-bit key)
    const big = await issueCertificate({ names: NAMES, issuer: intermediate, keyType: 'rsa-8192' });

    // Act / Assert
    expectProblem(
      () => validateCertificateBundle({ certificate: big.certPem, privateKey: big.keyPem, chain: big.chainPem }, makePolicy()),
      'key-type-unsupported',
      /larger than 4096 bits are not accepted by CloudFront \(this one has 8192 bits\)/,
    );
  }, 300_000);

  it('chain-unparseable: text without blocks, a corrupt block', () => {
    const corrupt = good.chainPem.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA');
    expectProblem(
      () => validateCertificateBundle(makeBundle({ chain: 'intermediate goes here' }), makePolicy()),
      'chain-unparseable',
      /does not split into PEM CERTIFICATE blocks/,
    );
    expectProblem(
      () => validateCertificateBundle(makeBundle({ chain: corrupt }), makePolicy()),
      'chain-unparseable',
      /chain certificate #1 of 1 does not parse/,
    );
  });

  it('chain-contains-root: the root appended to the chain', () => {
    expectProblem(
      () => validateCertificateBundle(makeBundle({ chain: good.chainPem + root.certPem }), makePolicy()),
      'chain-contains-root',
      /chain certificate #2 "CN=Unit Root.*is a self-signed root: CloudFront rejects chains that include the root/,
    );
  });

  it('chain-order: intermediates given top first', () => {
    // Arrange
    const reversed = intermediate.certPem + '\n' + intermediate2.certPem;

    // Act / Assert
    expectProblem(
      () => validateCertificateBundle({ certificate: deep.certPem, privateKey: deep.keyPem, chain: reversed }, makePolicy()),
      'chain-order',
      /reorder: issuer of the leaf first \("CN=Unit Intermediate 2.*" -> "CN=Unit Intermediate, /,
    );
  });

  it('chain-broken: an unrelated intermediate, a missing link', () => {
    expectProblem(
      () => validateCertificateBundle(makeBundle({ chain: otherIntermediate.certPem }), makePolicy()),
      'chain-broken',
      /chain certificate #1 "CN=Other Intermediate.*did not issue the leaf "CN=\*\.gitter\.im".*it is issued by "CN=Unit Intermediate/,
    );
    expectProblem(
      () =>
        validateCertificateBundle(
          { certificate: deep.certPem, privateKey: deep.keyPem, chain: intermediate2.certPem + otherIntermediate.certPem },
          makePolicy(),
        ),
      'chain-broken',
      /chain certificate #2 "CN=Other Intermediate.*did not issue chain certificate #1 "CN=Unit Intermediate 2/,
    );
  });

  it('weak-signature: a leaf signed with SHA-1', async () => {
    // Arrange
    const sha1 = await issueCertificate({ names: NAMES, issuer: intermediate, signatureHash: 'SHA-1' });

    // Act / Assert
    expectProblem(
      () => validateCertificateBundle({ certificate: sha1.certPem, privateKey: sha1.keyPem, chain: sha1.chainPem }, makePolicy()),
      'weak-signature',
      /weak digest \(SHA-1 or MD5\)/,
    );
  });

  it('untrusted-root: a private root that is not configured', () => {
    expectProblem(
      () => validateCertificateBundle(makeBundle(), makePolicy({ extraTrustedRoots: [otherRoot.certPem] })),
      'untrusted-root',
      /chain ends at "CN=Unit Intermediate.*issued by "CN=Unit Root, O=Cert Rotation Tests", which is not a trusted root/,
    );
  });

  it('untrusted-root: a self-signed leaf', async () => {
    // Arrange: a root CA used as the "leaf" (self-signed, with its own key)
    const selfSigned = await createRootCa({ name: 'gitter.im self-signed' });

    // Act / Assert
    expectProblem(
      () => validateCertificateBundle({ certificate: selfSigned.certPem, privateKey: selfSigned.keyPem }, makePolicy()),
      'untrusted-root',
      /is self-signed and not a trusted root/,
    );
  });

  it('chain-incomplete: an intermediate-issued leaf without its chain', () => {
    expectProblem(
      () => validateCertificateBundle(makeBundle({ chain: '' }), makePolicy()),
      'chain-incomplete',
      /no chain was given and the issuer of the leaf, "CN=Unit Intermediate, O=Cert Rotation Tests", is not a trusted root/,
    );
  });

  it('names-not-covered: other names, and the wildcard rules', async () => {
    // Arrange
    const other = await issueCertificate({ names: ['*.example.org'], issuer: intermediate, keyType: 'ec-p256' });
    const bundle = makeBundle();

    // Act / Assert
    expectProblem(
      () =>
        validateCertificateBundle(
          { certificate: other.certPem, privateKey: other.keyPem, chain: other.chainPem },
          makePolicy({ requiredNames: ['*.gitter.im'] }),
        ),
      'names-not-covered',
      /^certificate does not cover \*\.gitter\.im \(it covers: \*\.example\.org\)$/,
    );
    expect(() =>
      validateCertificateBundle(bundle, makePolicy({ requiredNames: ['x.gitter.im', 'GITTER.IM.', '*.gitter.im'] })),
    ).not.toThrow();
    expectProblem(
      () => validateCertificateBundle(bundle, makePolicy({ requiredNames: ['a.b.gitter.im'] })),
      'names-not-covered',
      /does not cover a\.b\.gitter\.im/,
    );
    const onlyWildcard = await issueCertificate({ names: ['*.gitter.im'], issuer: intermediate, keyType: 'ec-p256' });
    expectProblem(
      () =>
        validateCertificateBundle(
          { certificate: onlyWildcard.certPem, privateKey: onlyWildcard.keyPem, chain: onlyWildcard.chainPem },
          makePolicy(),
        ),
      'names-not-covered',
      /^certificate does not cover gitter\.im \(it covers: \*\.gitter\.im\)$/,
    );
  });

  it('names-dropped: a name the current certificate covers', () => {
    expectProblem(
      () =>
        validateCertificateBundle(
          makeBundle(),
          makePolicy({ current: { notAfter: new Date().toISOString(), names: ['gitter.im', 'irc.gitter.im', 'gitter.net'] } }),
        ),
      'names-dropped',
      /certificate drops gitter\.net, which the certificate in use covers/,
    );
  });

  it('not-yet-valid, expired, expires-too-soon for the leaf', async () => {
    // Arrange
    const now = Date.now();
    const [future, past, soon] = await Promise.all([
      issueCertificate({
        names: NAMES,
        issuer: intermediate,
        keyType: 'ec-p256',
        notBefore: new Date(now + DAY),
        notAfter: new Date(now + 90 * DAY),
      }),
      issueCertificate({
        names: NAMES,
        issuer: intermediate,
        keyType: 'ec-p256',
        notBefore: new Date(now - 90 * DAY),
        notAfter: new Date(now - DAY),
      }),
      issueCertificate({
        names: NAMES,
        issuer: intermediate,
        keyType: 'ec-p256',
        notBefore: new Date(now - 80 * DAY),
        notAfter: new Date(now + 3 * DAY),
      }),
    ]);
    const bundleOf = (c: IssuedCertificate): CertificateBundle => ({ certificate: c.certPem, privateKey: c.keyPem, chain: c.chainPem });

    // Act / Assert
    expectProblem(
      () => validateCertificateBundle(bundleOf(future), makePolicy()),
      'not-yet-valid',
      /the certificate "CN=\*\.gitter\.im".* is not valid until/,
    );
    expectProblem(
      () => validateCertificateBundle(bundleOf(past), makePolicy()),
      'expired',
      /the certificate "CN=\*\.gitter\.im".* expired on/,
    );
    expectProblem(
      () => validateCertificateBundle(bundleOf(soon), makePolicy()),
      'expires-too-soon',
      /in 3\.0 days: at least 7 days are required/,
    );
    expect(validateCertificateBundle(bundleOf(soon), makePolicy({ minDaysValid: 2 })).warnings).toEqual([
      expect.stringMatching(/expires in 3\.0 days/),
    ]);
  });

  it('expired: an intermediate that expires before the leaf', async () => {
    // Arrange: intermediates live 5 years; this leaf lives 6, and "now" is 5.5 years away
    const now = Date.now();
    const long = await issueCertificate({
      names: NAMES,
      issuer: intermediate,
      keyType: 'ec-p256',
      notBefore: new Date(now - DAY),
      notAfter: new Date(now + 6 * 365 * DAY),
    });
    const bundle = { certificate: long.certPem, privateKey: long.keyPem, chain: long.chainPem };

    // Act / Assert
    expectProblem(
      () => validateCertificateBundle(bundle, makePolicy({ now: new Date(now + 5.5 * 365 * DAY) })),
      'expired',
      /chain certificate #1 "CN=Unit Intermediate.* expired on/,
    );
    expect(validateCertificateBundle(bundle, makePolicy()).warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/valid for \d+ days; browsers refuse/),
        expect.stringMatching(/chain certificate #1 "CN=Unit Intermediate.*expires on .* before the certificate/),
      ]),
    );
  });

  it('not-newer: expires no later than the certificate in use', () => {
    // Arrange
    const leafNotAfter = new Date(new X509Certificate(good.certPem).validTo).getTime();

    // Act / Assert
    expectProblem(
      () => validateCertificateBundle(makeBundle(), makePolicy({ current: { notAfter: new Date(leafNotAfter + DAY).toISOString() } })),
      'not-newer',
      /not later than the certificate in use/,
    );
    expectProblem(
      () => validateCertificateBundle(makeBundle(), makePolicy({ current: { notAfter: new Date(leafNotAfter).toISOString() } })),
      'not-newer',
      /not later than/,
    );
  });

  it('never puts private key material in a message', () => {
    // Arrange: every key-related failure, including keys pasted in the wrong field
    const cases: CertificateBundle[] = [
      makeBundle({ certificate: good.keyPem }),
      makeBundle({ chain: good.keyPem }),
      makeBundle({ privateKey: good.keyPem.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!') }),
      makeBundle({ privateKey: deep.keyPem }),
      makeBundle({ privateKey: good.keyPem.slice(0, 200) }),
      makeBundle({ certificate: good.certPem + good.keyPem, chain: '' }),
    ];
    const messages = [...seenMessages];

    // Act
    for (const bundle of cases) {
      try {
        validateCertificateBundle(bundle, makePolicy());
      } catch (err) {
        messages.push((err as Error).message);
      }
    }

    // Assert
    expect(messages.length).toBeGreaterThan(cases.length);
    const bodies = [...keyBodyLines(good.keyPem), ...keyBodyLines(deep.keyPem)];
    for (const message of messages) {
      expect(message).not.toContain('PRIVATE KEY');
      for (const line of bodies) expect(message).not.toContain(line);
    }
  });
});
