/**
 * Test and rehearsal certificate factory: builds real X.509 PKIs (root -> intermediate -> leaf)
 * with @peculiar/x509 on Node's WebCrypto. Never shipped in a Lambda bundle.
 *
 * Nothing is cached between calls: every call generates fresh keys, so two certificates are never
 * accidentally identical.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// The project compiles without the DOM lib: use Node's WebCrypto types.
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** Key algorithms the factory can generate. ed25519 and rsa-8192 exist for negative tests. */
export type KeyType = 'rsa-1024' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096' | 'rsa-8192' | 'ec-p256' | 'ec-p384' | 'ec-p521' | 'ed25519';

/** A CA able to sign certificates. `keys`, `cert`, `parent` are for the factory's own use. */
export interface CertificateAuthority {
  readonly certPem: string;
  readonly keyPem: string;
  readonly name: string;
  readonly keyType: KeyType;
  /** True for a self-signed root. */
  readonly isRoot: boolean;
  /** The CA that signed this one (undefined for a root). */
  readonly parent?: CertificateAuthority;
  readonly keys: CryptoKeyPair;
  readonly cert: x509.X509Certificate;
}

/** A leaf certificate with its key, intermediates and root, all PEM. */
export interface IssuedCertificate {
  /** The leaf only. */
  readonly certPem: string;
  /** PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"). */
  readonly keyPem: string;
  /** Intermediates, the leaf's issuer first, no root; '' when issued directly by a root. */
  readonly chainPem: string;
  /** The root CA certificate. */
  readonly rootPem: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;

type KeyAlgorithm = webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams | webcrypto.Algorithm;
type SigningAlgorithm = webcrypto.Algorithm | webcrypto.EcdsaParams;

/** WebCrypto key-generation parameters for a key type. */
function keyGenParams(keyType: KeyType): KeyAlgorithm {
  switch (keyType) {
    case 'rsa-1024':
    case 'rsa-2048':
    case 'rsa-3072':
    case 'rsa-4096':
    case 'rsa-8192':
      return {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: Number(keyType.slice(4)),
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      } satisfies webcrypto.RsaHashedKeyGenParams;
    case 'ec-p256':
      return { name: 'ECDSA', namedCurve: 'P-256' } satisfies webcrypto.EcKeyGenParams;
    case 'ec-p384':
      return { name: 'ECDSA', namedCurve: 'P-384' } satisfies webcrypto.EcKeyGenParams;
    case 'ec-p521':
      return { name: 'ECDSA', namedCurve: 'P-521' } satisfies webcrypto.EcKeyGenParams;
    case 'ed25519':
      return { name: 'Ed25519' };
  }
}

/** The signature algorithm a CA with this key type signs with (SHA-256 family). */
function signingParams(keyType: KeyType): SigningAlgorithm {
  if (keyType.startsWith('rsa-')) return { name: 'RSASSA-PKCS1-v1_5' };
  if (keyType === 'ed25519') return { name: 'Ed25519' };
  const hash = keyType === 'ec-p384' ? 'SHA-384' : keyType === 'ec-p521' ? 'SHA-512' : 'SHA-256';
  return { name: 'ECDSA', hash } satisfies webcrypto.EcdsaParams;
}

function isRsa(keyType: KeyType): boolean {
  return keyType.startsWith('rsa-');
}

async function generateKeys(keyType: KeyType): Promise<CryptoKeyPair> {
  const usages: webcrypto.KeyUsage[] = ['sign', 'verify'];
  const params = keyGenParams(keyType);
  // ed25519 / RSA / EC all generate a key pair (only the symmetric overloads return a single key).
  return await webcrypto.subtle.generateKey(params as webcrypto.RsaHashedKeyGenParams, true, usages);
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** A random positive 16-byte hex serial (top bit cleared so DER keeps it positive and 16 bytes). */
function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] & 0x7f) | 0x01;
  return Buffer.from(bytes).toString('hex');
}

/** Escape a value for a string DN ("CN=..."). */
function dnValue(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1');
}

function randomSuffix(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(4))).toString('hex');
}

async function caExtensions(publicKey: CryptoKey, issuerPublicKey: CryptoKey): Promise<x509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(issuerPublicKey),
  ];
}

/** A self-signed root CA (RSA-2048 or EC P-256 by keyType, default ec-p256 for speed), valid from now-1 day for 10 years. */
export async function createRootCa(opts: { name?: string; keyType?: KeyType } = {}): Promise<CertificateAuthority> {
  const keyType = opts.keyType ?? 'ec-p256';
  const name = opts.name ?? `Test Root CA ${randomSuffix()}`;
  const keys = await generateKeys(keyType);
  const notBefore = new Date(Date.now() - DAY_MS);
  const notAfter = new Date(notBefore.getTime() + 3652 * DAY_MS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${dnValue(name)}, O=Cert Rotation Tests`,
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: signingParams(keyType),
    extensions: await caExtensions(keys.publicKey, keys.publicKey),
  });
  return {
    certPem: cert.toString('pem'),
    keyPem: await privateKeyPem(keys.privateKey),
    name,
    keyType,
    isRoot: true,
    keys,
    cert,
  };
}

/** An intermediate CA signed by `issuer`, valid from now-1 day for 5 years. */
export async function createIntermediateCa(
  issuer: CertificateAuthority,
  opts: { name?: string; keyType?: KeyType } = {},
): Promise<CertificateAuthority> {
  const keyType = opts.keyType ?? 'ec-p256';
  const name = opts.name ?? `Test Intermediate CA ${randomSuffix()}`;
  const keys = await generateKeys(keyType);
  const notBefore = new Date(Date.now() - DAY_MS);
  const notAfter = new Date(notBefore.getTime() + 1826 * DAY_MS);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${dnValue(name)}, O=Cert Rotation Tests`,
    issuer: issuer.cert.subjectName,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: signingParams(issuer.keyType),
    extensions: await caExtensions(keys.publicKey, issuer.keys.publicKey),
  });
  return {
    certPem: cert.toString('pem'),
    keyPem: await privateKeyPem(keys.privateKey),
    name,
    keyType,
    isRoot: false,
    parent: issuer,
    keys,
    cert,
  };
}

/** The CAs above `ca` up to (excluding) its root: `[ca, ca.parent, ...]`; [] when `ca` is a root. */
function intermediatesFrom(ca: CertificateAuthority): CertificateAuthority[] {
  const out: CertificateAuthority[] = [];
  for (let c: CertificateAuthority | undefined = ca; c && !c.isRoot; c = c.parent) out.push(c);
  return out;
}

/** The root at the top of `ca`'s ancestry (itself when it is a root). */
function rootOf(ca: CertificateAuthority): CertificateAuthority {
  let c = ca;
  while (c.parent) c = c.parent;
  return c;
}

function joinPems(pems: readonly string[]): string {
  return pems.map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join('');
}

/**
 * Issues a TLS server certificate. Defaults: keyType 'rsa-2048', notBefore = now - 1 hour,
 * notAfter = notBefore + 90 days, issuer = a fresh root -> intermediate pair created for this call
 * (so chainPem holds one intermediate). names become DNS SANs; the first name is also the subject CN.
 */
export async function issueCertificate(opts: {
  names: string[];
  keyType?: KeyType;
  notBefore?: Date;
  notAfter?: Date;
  /** Sign with this CA. */
  issuer?: CertificateAuthority;
  /** Intermediates to put in chainPem (issuer first); default: the issuer's intermediates up to its root. */
  chain?: CertificateAuthority[];
  /** The root to report in rootPem; default: the issuer's root. */
  root?: CertificateAuthority;
  /** Hex serial number; default random. */
  serialNumber?: string;
  /**
   * Digest of the issuer's signature (default: SHA-256, or SHA-384/512 for P-384/P-521 issuers).
   * Only honoured for ECDSA issuers (WebCrypto ties an RSA key to its hash): 'SHA-1' makes a
   * weak-signature fixture.
   */
  signatureHash?: 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';
  /** IP address SANs besides the DNS names (a local server reached as https://127.0.0.1:port). @default none */
  ips?: string[];
}): Promise<IssuedCertificate> {
  if (opts.names.length === 0) throw new Error('issueCertificate: at least one name is required');
  const keyType = opts.keyType ?? 'rsa-2048';
  const issuer = opts.issuer ?? (await createIntermediateCa(await createRootCa()));
  const keys = await generateKeys(keyType);
  const notBefore = opts.notBefore ?? new Date(Date.now() - HOUR_MS);
  const notAfter = opts.notAfter ?? new Date(notBefore.getTime() + 90 * DAY_MS);
  const usage = x509.KeyUsageFlags.digitalSignature | (isRsa(keyType) ? x509.KeyUsageFlags.keyEncipherment : 0);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: opts.serialNumber ?? randomSerial(),
    subject: `CN=${dnValue(opts.names[0])}`,
    issuer: issuer.cert.subjectName,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm:
      opts.signatureHash && issuer.keyType.startsWith('ec-')
        ? ({ name: 'ECDSA', hash: opts.signatureHash } satisfies webcrypto.EcdsaParams)
        : signingParams(issuer.keyType),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(usage, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(
        [
          ...opts.names.map((value) => ({ type: 'dns' as const, value })),
          ...(opts.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
        ],
        false,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
    ],
  });
  const chain = opts.chain ?? intermediatesFrom(issuer);
  const root = opts.root ?? rootOf(issuer);
  return {
    certPem: cert.toString('pem') + '\n',
    keyPem: (await privateKeyPem(keys.privateKey)) + '\n',
    chainPem: joinPems(chain.map((c) => c.certPem)),
    rootPem: root.certPem + '\n',
  };
}

/** Convenience: a whole fresh PKI + leaf in one call (root -> intermediate -> leaf). */
export async function issueWithFreshPki(opts: {
  names: string[];
  keyType?: KeyType;
  notBefore?: Date;
  notAfter?: Date;
}): Promise<IssuedCertificate & { root: CertificateAuthority; intermediate: CertificateAuthority }> {
  const root = await createRootCa();
  const intermediate = await createIntermediateCa(root);
  const issued = await issueCertificate({ ...opts, issuer: intermediate });
  return { ...issued, root, intermediate };
}
