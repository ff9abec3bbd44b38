/**
 * Certificate validation and fingerprints, with node:crypto and node:tls only (no third-party
 * parser: a product requirement). Used by the validate phase and by the verification steps.
 *
 * Rules kept here:
 * - Messages name the certificate (subject, serial) and say what to do; they never contain any part
 *   of the private key, nor echo raw input text (which could be a mis-pasted key).
 * - Every refusal is a `CertificateInvalid` with a stable kebab-case `problem` code.
 */
import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';
import { CertificateInvalid, InputInvalid } from './errors';

/** A certificate as staged by an operator or issued by ACME: PEM text. */
export interface CertificateBundle {
  /** The leaf (or a "fullchain": leaf first, then intermediates). */
  readonly certificate: string;
  /** The private key (PEM). Never logged, never put in a message. */
  readonly privateKey: string;
  /** Intermediates, the leaf's issuer first, no root. */
  readonly chain?: string;
}

/** What the workflow reports and compares about a certificate. Public data only. */
export interface CertificateSummary {
  /** Uppercase hex, as `X509Certificate.serialNumber` gives it. */
  readonly serial: string;
  /** Lowercase hex, no colons, SHA-256 of the DER. */
  readonly sha256: string;
  /** Uppercase hex, no colons, MD5 of the DER (what `openssl x509 -noout -fingerprint -md5` prints, minus colons). */
  readonly md5: string;
  /** ISO-8601. */
  readonly notBefore: string;
  /** ISO-8601. */
  readonly notAfter: string;
  /** One line, e.g. "CN=*.gitter.im, O=Gitter". */
  readonly subject: string;
  readonly issuer: string;
  /** DNS subject alternative names, lowercased. */
  readonly names: string[];
  /** e.g. 'RSA-2048', 'EC-P-256', 'Ed25519'. */
  readonly keyType: string;
}

/** What a new certificate is validated against. */
export interface ValidationPolicy {
  /** Each must be covered by a DNS SAN, e.g. ['*.gitter.im', 'gitter.im']. */
  readonly requiredNames: readonly string[];
  readonly now: Date;
  /**
   * The certificate in use: the new one must expire later, and must cover every name the current
   * one covers.
   */
  readonly current?: { readonly notAfter: string; readonly names?: readonly string[] };
  /** PEM roots trusted in addition to `tls.rootCertificates` (private CA, tests). */
  readonly extraTrustedRoots?: readonly string[];
  /** Refuse a certificate that expires within this many days (default 7). */
  readonly minDaysValid?: number;
}

/** A successful validation. */
export interface ValidationResult {
  readonly summary: CertificateSummary;
  readonly chain: CertificateSummary[];
  /** Subject of the trusted root the chain leads to. */
  readonly trustedRoot: string;
  readonly warnings: string[];
}

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_MIN_DAYS_VALID = 7;
/** Warn when the certificate expires within this many days (but after minDaysValid). */
const WARN_DAYS_VALID = 30;
/** Browsers refuse TLS server certificates valid for longer than this (CA/B Forum, Apple, Chrome). */
const MAX_BROWSER_VALIDITY_DAYS = 398;
const SERVER_AUTH_EKU = '1.3.6.1.5.5.7.3.1';

/*
 * Key types every target accepts (the intersection), looked up in the AWS documentation:
 * - CloudFront, "Requirements for using SSL/TLS certificates with CloudFront" and "Determine the size
 *   of the public key in an SSL/TLS RSA certificate": the maximum RSA key size is 4096 bits.
 *   ACM, "Prerequisites for importing ACM certificates": "CloudFront only supports 1024-bit RSA,
 *   2048-bit RSA, 3072-bit RSA, 4096-bit RSA, and Elliptic Prime Curve 256-bit keys, while
 *   Application Load Balancer supports all of the algorithms available from ACM" (RSA 1024-4096,
 *   ECDSA P-256, P-384, P-521).
 * - ELBv2, "Create an HTTPS listener for your Application Load Balancer": ALBs do not support
 *   ED25519 keys.
 * - Classic ELB: its predefined security policies carry ECDHE-ECDSA ciphers next to RSA ones, and
 *   its certificate guide covers RSA and ECDSA (prime256v1) keys; no larger limit than the ones above.
 * So: RSA 2048..4096 bits and ECDSA on P-256 only. RSA below 2048 bits is technically accepted by
 * AWS but is weak (and refused by public CAs and browsers), so it is refused here. P-384/P-521 are
 * refused because CloudFront does not serve them; Ed25519/Ed448, RSA-PSS-only keys and DSA are
 * refused because neither ELB nor CloudFront serves them.
 */
const RSA_MIN_BITS = 2048;
const RSA_MAX_BITS = 4096;
const SUPPORTED_EC_CURVES: readonly string[] = ['prime256v1'];

// ---------------------------------------------------------------------------------------------
// PEM handling
// ---------------------------------------------------------------------------------------------

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
const CERT_BEGIN = /-----BEGIN CERTIFICATE-----/g;

function normalizeLineEndings(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

function wrapPem(label: string, base64: string): string {
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * Each CERTIFICATE block of `pem`, normalised (LF line endings, base64 rewrapped at 64 columns,
 * trailing newline), in order. Text between blocks (bag attributes, comments, other PEM blocks) is
 * ignored.
 */
export function splitPemCertificates(pem: string): string[] {
  const text = normalizeLineEndings(pem ?? '');
  return [...text.matchAll(CERT_BLOCK)].map((m) => wrapPem('CERTIFICATE', (m[1] ?? '').replace(/\s+/g, '')));
}

function countCertificateMarkers(text: string): number {
  return (text.match(CERT_BEGIN) ?? []).length;
}

/** The certificates of a PEM text, or undefined if some block is malformed (so validation refuses it). */
function splitStrict(text: string): string[] | undefined {
  const blocks = splitPemCertificates(text);
  return blocks.length === countCertificateMarkers(text) ? blocks : undefined;
}

function isSelfSigned(cert: X509Certificate): boolean {
  try {
    return cert.checkIssued(cert) && cert.verify(cert.publicKey);
  } catch {
    return false;
  }
}

function tryParse(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

/**
 * Accept what CAs deliver. If `certificate` holds several certificates (a "fullchain") and `chain`
 * is empty, the first is the leaf and the rest become the chain. Trims, normalises line endings and
 * PEM wrapping, drops text between blocks. A self-signed (root) certificate at the END of the chain
 * is dropped only with `dropRoot: true`; by default it is kept so that validation refuses it.
 * Text that does not split cleanly into blocks is kept as is (trimmed) for validation to refuse.
 * The returned bundle has no `chain` property when there is no chain.
 */
export function normalizeBundle(bundle: CertificateBundle, options: { dropRoot?: boolean } = {}): CertificateBundle {
  const certText = normalizeLineEndings(bundle.certificate ?? '').trim();
  const chainText = normalizeLineEndings(bundle.chain ?? '').trim();
  const certBlocks = splitStrict(certText);
  let chainBlocks = splitStrict(chainText);

  // A chain that is not empty but has no (or malformed) CERTIFICATE blocks is kept as is: refused later.
  const keepRawChain = chainText !== '' && (!chainBlocks || chainBlocks.length === 0);

  let certificate: string;
  if (!certBlocks || certBlocks.length === 0) {
    certificate = certText;
  } else if (certBlocks.length > 1 && chainText === '') {
    certificate = certBlocks[0]!;
    chainBlocks = certBlocks.slice(1);
  } else {
    certificate = certBlocks.join('');
  }

  if (!keepRawChain && chainBlocks && options.dropRoot && chainBlocks.length > 0) {
    const last = tryParse(chainBlocks[chainBlocks.length - 1]);
    if (last && isSelfSigned(last)) chainBlocks = chainBlocks.slice(0, -1);
  }
  const chain = keepRawChain || !chainBlocks ? chainText : chainBlocks.join('');
  const privateKey = normalizeLineEndings(bundle.privateKey ?? '').trim();
  return {
    certificate,
    privateKey: privateKey === '' ? '' : `${privateKey}\n`,
    ...(chain === '' ? {} : { chain }),
  };
}

// ---------------------------------------------------------------------------------------------
// Summaries
// ---------------------------------------------------------------------------------------------

/** "CN=a\nO=b" (Node's multi-line form) -> "CN=a, O=b". */
function oneLine(dn: string): string {
  return dn.split('\n').filter(Boolean).join(', ');
}

/** Parses Node's `subjectAltName` text ("DNS:a, DNS:b, IP Address:1.2.3.4"; values may be JSON-quoted). */
function parseSubjectAltName(san: string | undefined): Array<{ type: string; value: string }> {
  const out: Array<{ type: string; value: string }> = [];
  if (!san) return out;
  let i = 0;
  while (i < san.length) {
    const colon = san.indexOf(':', i);
    if (colon < 0) break;
    const type = san.slice(i, colon).trim();
    let j = colon + 1;
    let value: string;
    if (san[j] === '"') {
      // Node quotes values holding separators or special characters, with JSON escaping.
      let k = j + 1;
      while (k < san.length && san[k] !== '"') k += san[k] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(san.slice(j, k + 1)) as string;
      } catch {
        value = san.slice(j + 1, k);
      }
      j = k + 1;
    } else {
      const comma = san.indexOf(', ', j);
      const end = comma < 0 ? san.length : comma;
      value = san.slice(j, end);
      j = end;
    }
    out.push({ type, value });
    const next = san.indexOf(', ', j);
    if (next < 0) break;
    i = next + 2;
  }
  return out;
}

function dnsNames(cert: X509Certificate): string[] {
  return parseSubjectAltName(cert.subjectAltName)
    .filter((e) => e.type === 'DNS')
    .map((e) => normalizeName(e.value));
}

function normalizeName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/** A readable key type: 'RSA-2048', 'EC-P-256', 'Ed25519', 'RSA-PSS-2048', 'DSA-2048'... */
function describeKey(key: KeyObject): string {
  const type = key.asymmetricKeyType ?? 'unknown';
  const details = key.asymmetricKeyDetails ?? {};
  switch (type) {
    case 'rsa':
      return `RSA-${details.modulusLength ?? '?'}`;
    case 'rsa-pss':
      return `RSA-PSS-${details.modulusLength ?? '?'}`;
    case 'dsa':
      return `DSA-${details.modulusLength ?? '?'}`;
    case 'ec': {
      const curve = details.namedCurve ?? '?';
      const nist: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
      return `EC-${nist[curve] ?? curve}`;
    }
    case 'ed25519':
      return 'Ed25519';
    case 'ed448':
      return 'Ed448';
    default:
      return type.toUpperCase();
  }
}

function isoDate(text: string): string {
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}

function summarize(cert: X509Certificate): CertificateSummary {
  return {
    serial: cert.serialNumber.toUpperCase(),
    sha256: createHash('sha256').update(cert.raw).digest('hex'),
    md5: createHash('md5').update(cert.raw).digest('hex').toUpperCase(),
    notBefore: isoDate(cert.validFrom),
    notAfter: isoDate(cert.validTo),
    subject: oneLine(cert.subject),
    issuer: oneLine(cert.issuer),
    names: dnsNames(cert),
    keyType: describeKey(cert.publicKey),
  };
}

function firstCertificate(certPem: string): X509Certificate {
  const first = splitPemCertificates(certPem)[0];
  const cert = first === undefined ? undefined : tryParse(first);
  if (!cert) {
    throw new CertificateInvalid('certificate-unparseable', 'the text holds no parseable PEM CERTIFICATE block');
  }
  return cert;
}

/** Summary of the first certificate in `certPem`. Throws CertificateInvalid(certificate-unparseable). */
export function summarizeCertificate(certPem: string): CertificateSummary {
  return summarize(firstCertificate(certPem));
}

/** SHA-256 (lowercase hex, no colons) of the DER of the first certificate in `certPem`. */
export function sha256OfPem(certPem: string): string {
  return createHash('sha256').update(firstCertificate(certPem).raw).digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Name coverage
// ---------------------------------------------------------------------------------------------

/**
 * Whether one SAN covers a name. `*.a.b` covers `x.a.b` and `*.a.b`, not `a.b` nor `x.y.a.b`.
 * Only a whole left-most `*` label is a wildcard; anything else must match exactly.
 */
function sanCovers(san: string, name: string): boolean {
  const s = normalizeName(san);
  const n = normalizeName(name);
  if (s === n) return true;
  if (!s.startsWith('*.') || n.startsWith('*.')) return false;
  const suffix = s.slice(1); // ".a.b"
  if (!n.endsWith(suffix)) return false;
  const label = n.slice(0, n.length - suffix.length);
  return label.length > 0 && !label.includes('.');
}

function isCovered(sans: readonly string[], name: string): boolean {
  return sans.some((san) => sanCovers(san, name));
}

// ---------------------------------------------------------------------------------------------
// Validation steps (each throws CertificateInvalid with its own problem code)
// ---------------------------------------------------------------------------------------------

function describe(cert: X509Certificate): string {
  return `"${oneLine(cert.subject)}" (serial ${cert.serialNumber.toUpperCase()})`;
}

function parseLeaf(certificate: string): X509Certificate {
  const text = certificate.trim();
  if (text === '') throw new CertificateInvalid('certificate-unparseable', 'no certificate was given');
  const blocks = splitStrict(text);
  if (!blocks || blocks.length === 0) {
    const hint = /-----BEGIN [A-Z ]*KEY-----/.test(text)
      ? 'it holds a key, not a certificate (were the certificate and key fields swapped?)'
      : 'expected a PEM block starting with -----BEGIN CERTIFICATE-----';
    throw new CertificateInvalid('certificate-unparseable', `the certificate is not a PEM certificate: ${hint}`);
  }
  if (blocks.length > 1) {
    throw new CertificateInvalid(
      'certificate-unparseable',
      `the certificate field holds ${blocks.length} certificates and a chain was also given: put only the leaf in the certificate field (or leave the chain empty to use the extra certificates as the chain)`,
    );
  }
  try {
    return new X509Certificate(blocks[0]);
  } catch (err) {
    throw new CertificateInvalid(
      'certificate-unparseable',
      `the certificate PEM block does not parse as an X.509 certificate (${opensslReason(err)})`,
    );
  }
}

/** The OpenSSL reason of a parse error, e.g. "wrong tag" (never holds input bytes). */
function opensslReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const reason = /::(.+)$/.exec(message)?.[1];
  return (reason ?? 'unreadable DER').slice(0, 100);
}

const ENCRYPTED_KEY = 'encrypted private keys are not supported; stage the decrypted key';

function parseKey(privateKey: string): KeyObject {
  const text = privateKey.trim();
  if (text === '') throw new CertificateInvalid('key-unparseable', 'no private key was given');
  if (/-----BEGIN ENCRYPTED /.test(text) || /Proc-Type:\s*4,\s*ENCRYPTED/i.test(text)) {
    throw new CertificateInvalid('key-unparseable', ENCRYPTED_KEY);
  }
  if (!/-----BEGIN [A-Z0-9 ]+-----/.test(text)) {
    throw new CertificateInvalid('key-unparseable', 'the private key is not PEM: expected a -----BEGIN ... KEY----- block');
  }
  if (/-----BEGIN CERTIFICATE-----/.test(text) && !/-----BEGIN [A-Z0-9 ]*KEY-----/.test(text)) {
    throw new CertificateInvalid(
      'key-unparseable',
      'the private key field holds a certificate, not a key (were the certificate and key fields swapped?)',
    );
  }
  try {
    return createPrivateKey({ key: text, format: 'pem' });
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (code === 'ERR_MISSING_PASSPHRASE' || code === 'ERR_OSSL_CRYPTO_INTERRUPTED_OR_CANCELLED') {
      throw new CertificateInvalid('key-unparseable', ENCRYPTED_KEY);
    }
    throw new CertificateInvalid(
      'key-unparseable',
      'the private key does not parse (expected an unencrypted PKCS#8, PKCS#1 RSA or SEC1 EC key in PEM)',
    );
  }
}

function checkKeyMatches(leaf: X509Certificate, key: KeyObject): void {
  let matches: boolean;
  try {
    matches = leaf.checkPrivateKey(key);
  } catch {
    matches = false;
  }
  if (!matches) {
    throw new CertificateInvalid(
      'key-mismatch',
      `the private key (${describeKey(key)}) does not belong to the certificate ${describe(leaf)} whose public key is ${describeKey(leaf.publicKey)}`,
    );
  }
}

/** Why a key type cannot be served by every target, or undefined when it can. */
function keyTypeProblem(key: KeyObject): string | undefined {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (bits > RSA_MAX_BITS) {
      return `RSA keys larger than ${RSA_MAX_BITS} bits are not accepted by CloudFront (this one has ${bits} bits)`;
    }
    if (bits < RSA_MIN_BITS) {
      return `RSA keys smaller than ${RSA_MIN_BITS} bits are weak and refused (this one has ${bits} bits)`;
    }
    return undefined;
  }
  if (type === 'ec') {
    const curve = details.namedCurve ?? 'unknown';
    if (SUPPORTED_EC_CURVES.includes(curve)) return undefined;
    return `ECDSA keys on ${describeKey(key).slice(3)} are not accepted by CloudFront (only P-256 is)`;
  }
  return `${describeKey(key)} keys are not accepted by Elastic Load Balancing and CloudFront`;
}

function checkKeyType(leaf: X509Certificate): void {
  const problem = keyTypeProblem(leaf.publicKey);
  if (problem) {
    throw new CertificateInvalid(
      'key-type-unsupported',
      `the certificate ${describe(leaf)} has a ${describeKey(leaf.publicKey)} key: ${problem}; use RSA 2048-4096 or ECDSA P-256`,
    );
  }
}

function parseChain(chain: string | undefined): X509Certificate[] {
  const text = (chain ?? '').trim();
  if (text === '') return [];
  const blocks = splitStrict(text);
  if (!blocks || blocks.length === 0) {
    throw new CertificateInvalid(
      'chain-unparseable',
      'the chain is not empty but does not split into PEM CERTIFICATE blocks (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)',
    );
  }
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new CertificateInvalid(
        'chain-unparseable',
        `chain certificate #${index + 1} of ${blocks.length} does not parse as an X.509 certificate (${opensslReason(err)})`,
      );
    }
  });
}

function checkNoRootInChain(chain: readonly X509Certificate[]): void {
  chain.forEach((cert, index) => {
    if (isSelfSigned(cert)) {
      throw new CertificateInvalid(
        'chain-contains-root',
        `chain certificate #${index + 1} ${describe(cert)} is a self-signed root: CloudFront rejects chains that include the root; remove it and keep only the intermediates`,
      );
    }
  });
}

/** Whether `issuer` issued and signed `cert`. */
function issued(issuer: X509Certificate, cert: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** The chain certificates in issuing order from the leaf, if every one of them links; else undefined. */
function orderedPath(leaf: X509Certificate, chain: readonly X509Certificate[]): X509Certificate[] | undefined {
  const remaining = [...chain];
  const path: X509Certificate[] = [];
  let current = leaf;
  while (remaining.length > 0) {
    const next = remaining.findIndex((candidate) => issued(candidate, current));
    if (next < 0) return undefined;
    current = remaining.splice(next, 1)[0]!;
    path.push(current);
  }
  return path;
}

function checkChainOrder(leaf: X509Certificate, chain: readonly X509Certificate[]): void {
  if (chain.length < 2) return;
  const path = orderedPath(leaf, chain);
  if (!path) return; // not a permutation that links: reported as chain-broken
  const inOrder = path.every((cert, index) => cert === chain[index]);
  if (!inOrder) {
    const expected = path.map((cert) => `"${oneLine(cert.subject)}"`).join(' -> ');
    throw new CertificateInvalid(
      'chain-order',
      `the chain certificates link to the leaf but are in the wrong order; reorder: issuer of the leaf first (${expected})`,
    );
  }
}

function checkChainLinks(leaf: X509Certificate, chain: readonly X509Certificate[]): void {
  chain.forEach((cert, index) => {
    const child = index === 0 ? leaf : chain[index - 1];
    const childName = index === 0 ? `the leaf ${describe(leaf)}` : `chain certificate #${index} ${describe(child)}`;
    if (!issued(cert, child)) {
      const why = child.checkIssued(cert) ? 'its name matches but its key did not sign it' : `it is issued by "${oneLine(child.issuer)}"`;
      throw new CertificateInvalid('chain-broken', `chain certificate #${index + 1} ${describe(cert)} did not issue ${childName}: ${why}`);
    }
    if (!cert.ca) {
      throw new CertificateInvalid(
        'chain-broken',
        `chain certificate #${index + 1} ${describe(cert)} is not a CA certificate (basicConstraints CA:FALSE)`,
      );
    }
  });
}

/**
 * SHA-1/MD5 signatures. node:crypto does not expose the signature algorithm, but OpenSSL's TLS
 * security level (1, the default) refuses such certificates when loaded into a TLS context with
 * "ca md too weak": that is what a TLS server would do with them too.
 */
function checkSignatureStrength(leaf: X509Certificate, chain: readonly X509Certificate[]): void {
  [leaf, ...chain].forEach((cert, index) => {
    try {
      tls.createSecureContext({ cert: cert.toString() });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_SSL_CA_MD_TOO_WEAK') {
        const which = index === 0 ? 'the certificate' : `chain certificate #${index}`;
        throw new CertificateInvalid(
          'weak-signature',
          `${which} ${describe(cert)} is signed with a weak digest (SHA-1 or MD5) that TLS clients refuse; get it reissued with SHA-256`,
        );
      }
    }
  });
}

let publicRoots: X509Certificate[] | undefined;

/** Mozilla's roots as bundled with Node (`tls.rootCertificates`), parsed once. */
function bundledRoots(): X509Certificate[] {
  publicRoots ??= tls.rootCertificates.flatMap((pem) => {
    const cert = tryParse(pem);
    return cert ? [cert] : [];
  });
  return publicRoots;
}

function parseExtraRoots(pems: readonly string[] | undefined): X509Certificate[] {
  return (pems ?? []).flatMap((pem) =>
    splitPemCertificates(pem).flatMap((block) => {
      const cert = tryParse(block);
      return cert ? [cert] : [];
    }),
  );
}

/** Finds the trusted root that issued the top of the chain; returns its one-line subject. */
function checkTrust(leaf: X509Certificate, chain: readonly X509Certificate[], extraRoots: readonly string[] | undefined): string {
  const roots = [...parseExtraRoots(extraRoots), ...bundledRoots()];
  const top = chain.length > 0 ? chain[chain.length - 1] : leaf;
  // Like OpenSSL's trusted-first path building: a trusted root may issue any certificate of the
  // path (e.g. a chain that ends with a cross-signed intermediate whose own issuer was retired).
  for (const cert of [leaf, ...chain]) {
    const same = roots.find((root) => root.raw.equals(cert.raw));
    if (same) return oneLine(same.subject);
    const root = roots.find((candidate) => issued(candidate, cert));
    if (root) return oneLine(root.subject);
  }

  const trustedCount = `Mozilla's root list in Node plus ${extraRoots?.length ?? 0} configured root(s)`;
  if (isSelfSigned(top)) {
    throw new CertificateInvalid(
      'untrusted-root',
      `the certificate ${describe(top)} is self-signed and not a trusted root (${trustedCount})`,
    );
  }
  const nameMatch = roots.find((candidate) => top.checkIssued(candidate));
  if (nameMatch) {
    throw new CertificateInvalid(
      'untrusted-root',
      `${describe(top)} names the trusted root "${oneLine(nameMatch.subject)}" as issuer but its signature does not verify with that root's key: it chains to a different, untrusted root`,
    );
  }
  if (chain.length === 0) {
    throw new CertificateInvalid(
      'chain-incomplete',
      `no chain was given and the issuer of the leaf, "${oneLine(leaf.issuer)}", is not a trusted root (${trustedCount}): add the intermediate certificate(s), the issuer of the leaf first`,
    );
  }
  throw new CertificateInvalid(
    'untrusted-root',
    `the chain ends at ${describe(top)}, issued by "${oneLine(top.issuer)}", which is not a trusted root (${trustedCount}); if that issuer is an intermediate, the chain is incomplete: append it`,
  );
}

function checkNames(leaf: X509Certificate, policy: ValidationPolicy): void {
  const sans = dnsNames(leaf);
  const covers = sans.length > 0 ? sans.join(', ') : 'no DNS names';
  const missing = policy.requiredNames.filter((name) => !isCovered(sans, name));
  if (missing.length > 0) {
    throw new CertificateInvalid('names-not-covered', `certificate does not cover ${missing.join(', ')} (it covers: ${covers})`);
  }
  const dropped = (policy.current?.names ?? []).filter((name) => !isCovered(sans, name));
  if (dropped.length > 0) {
    throw new CertificateInvalid(
      'names-dropped',
      `certificate drops ${dropped.join(', ')}, which the certificate in use covers (the new one covers: ${covers})`,
    );
  }
}

function checkValidity(leaf: X509Certificate, chain: readonly X509Certificate[], policy: ValidationPolicy): void {
  const now = policy.now.getTime();
  [leaf, ...chain].forEach((cert, index) => {
    const which = index === 0 ? 'the certificate' : `chain certificate #${index}`;
    const notBefore = new Date(cert.validFrom);
    const notAfter = new Date(cert.validTo);
    if (notBefore.getTime() > now) {
      throw new CertificateInvalid(
        'not-yet-valid',
        `${which} ${describe(cert)} is not valid until ${notBefore.toISOString()} (now is ${policy.now.toISOString()})`,
      );
    }
    if (notAfter.getTime() <= now) {
      throw new CertificateInvalid(
        'expired',
        `${which} ${describe(cert)} expired on ${notAfter.toISOString()} (now is ${policy.now.toISOString()})`,
      );
    }
  });
  const minDays = policy.minDaysValid ?? DEFAULT_MIN_DAYS_VALID;
  const leafNotAfter = new Date(leaf.validTo).getTime();
  if (leafNotAfter - now < minDays * DAY_MS) {
    const days = ((leafNotAfter - now) / DAY_MS).toFixed(1);
    throw new CertificateInvalid(
      'expires-too-soon',
      `the certificate ${describe(leaf)} expires on ${new Date(leafNotAfter).toISOString()}, in ${days} days: at least ${minDays} days are required`,
    );
  }
}

function checkNewer(leaf: X509Certificate, policy: ValidationPolicy): void {
  if (!policy.current) return;
  const current = Date.parse(policy.current.notAfter);
  if (Number.isNaN(current)) {
    throw new InputInvalid(`policy.current.notAfter is not a date: ${JSON.stringify(policy.current.notAfter)}`);
  }
  const notAfter = new Date(leaf.validTo).getTime();
  if (notAfter <= current) {
    throw new CertificateInvalid(
      'not-newer',
      `the certificate ${describe(leaf)} expires on ${new Date(notAfter).toISOString()}, not later than the certificate in use (${new Date(current).toISOString()})`,
    );
  }
}

function collectWarnings(leaf: X509Certificate, chain: readonly X509Certificate[], policy: ValidationPolicy): string[] {
  const warnings: string[] = [];
  const notBefore = new Date(leaf.validFrom).getTime();
  const notAfter = new Date(leaf.validTo).getTime();
  const daysLeft = (notAfter - policy.now.getTime()) / DAY_MS;
  if (daysLeft < WARN_DAYS_VALID) {
    warnings.push(`the certificate expires in ${daysLeft.toFixed(1)} days (${new Date(notAfter).toISOString()})`);
  }
  if ((notAfter - notBefore) / DAY_MS > MAX_BROWSER_VALIDITY_DAYS + 1) {
    warnings.push(
      `the certificate is valid for ${Math.round((notAfter - notBefore) / DAY_MS)} days; browsers refuse public TLS certificates valid for more than ${MAX_BROWSER_VALIDITY_DAYS} days`,
    );
  }
  const eku = leaf.keyUsage;
  if (Array.isArray(eku) && eku.length > 0 && !eku.includes(SERVER_AUTH_EKU)) {
    warnings.push('the certificate has an extended key usage without serverAuth: TLS clients may refuse it');
  }
  if (leaf.ca) warnings.push('the certificate is a CA certificate (basicConstraints CA:TRUE), unusual for a server certificate');
  chain.forEach((cert, index) => {
    const caNotAfter = new Date(cert.validTo).getTime();
    if (caNotAfter < notAfter) {
      warnings.push(
        `chain certificate #${index + 1} "${oneLine(cert.subject)}" expires on ${new Date(caNotAfter).toISOString()}, before the certificate (${new Date(notAfter).toISOString()})`,
      );
    }
  });
  return warnings;
}

/**
 * Validates a new certificate bundle before anything is changed. The bundle is normalised first
 * (a fullchain in `certificate` is split; a root left in the chain is refused). Throws
 * CertificateInvalid on the first problem, in this order: certificate-unparseable, key-unparseable,
 * key-mismatch, key-type-unsupported, chain-unparseable, chain-contains-root, chain-order,
 * chain-broken, weak-signature, untrusted-root | chain-incomplete, names-not-covered, names-dropped,
 * not-yet-valid | expired, expires-too-soon, not-newer.
 */
export function validateCertificateBundle(bundle: CertificateBundle, policy: ValidationPolicy): ValidationResult {
  const normalized = normalizeBundle(bundle);
  const leaf = parseLeaf(normalized.certificate);
  const key = parseKey(normalized.privateKey);
  checkKeyMatches(leaf, key);
  checkKeyType(leaf);
  const chain = parseChain(normalized.chain);
  checkNoRootInChain(chain);
  checkChainOrder(leaf, chain);
  checkChainLinks(leaf, chain);
  checkSignatureStrength(leaf, chain);
  const trustedRoot = checkTrust(leaf, chain, policy.extraTrustedRoots);
  checkNames(leaf, policy);
  checkValidity(leaf, chain, policy);
  checkNewer(leaf, policy);
  return {
    summary: summarize(leaf),
    chain: chain.map(summarize),
    trustedRoot,
    warnings: collectWarnings(leaf, chain, policy),
  };
}
