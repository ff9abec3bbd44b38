/**
 * PEM and DER parsing: splitting PEM text into CERTIFICATE blocks, normalising what CAs deliver,
 * and parsing the leaf and the chain into X.509 certificates (CertificateInvalid on what does
 * not parse, with OpenSSL's reason but never the input bytes).
 */
import { X509Certificate } from 'node:crypto';
import { CertificateInvalid } from '../errors';
import type { CertificateBundle } from './types';

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

/** Whether `cert` is self-signed (a root): it names itself as issuer and its own key verifies it. */
export function isSelfSigned(cert: X509Certificate): boolean {
  try {
    return cert.checkIssued(cert) && cert.verify(cert.publicKey);
  } catch {
    return false;
  }
}

/** The certificate of a PEM block, or undefined when it does not parse. */
export function tryParse(pem: string): X509Certificate | undefined {
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

/** The one leaf of the certificate field. Throws CertificateInvalid(certificate-unparseable). */
export function parseLeaf(certificate: string): X509Certificate {
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

/** The chain's certificates in the order given. Throws CertificateInvalid(chain-unparseable). */
export function parseChain(chain: string | undefined): X509Certificate[] {
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
