/** Key checks: the private key parses (unencrypted PEM), belongs to the certificate, and is a type every target serves. */
import { createPrivateKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { CertificateInvalid } from '../errors';
import { describe, describeKey } from './text';

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

const ENCRYPTED_KEY = 'encrypted private keys are not supported; stage the decrypted key';

/** The private key. Throws CertificateInvalid(key-unparseable), never echoing the key's text. */
export function parseKey(privateKey: string): KeyObject {
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

/** Throws CertificateInvalid(key-mismatch) when the key does not belong to the leaf. */
export function checkKeyMatches(leaf: X509Certificate, key: KeyObject): void {
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

/** Throws CertificateInvalid(key-type-unsupported) for a key type some target cannot serve. */
export function checkKeyType(leaf: X509Certificate): void {
  const problem = keyTypeProblem(leaf.publicKey);
  if (problem) {
    throw new CertificateInvalid(
      'key-type-unsupported',
      `the certificate ${describe(leaf)} has a ${describeKey(leaf.publicKey)} key: ${problem}; use RSA 2048-4096 or ECDSA P-256`,
    );
  }
}
