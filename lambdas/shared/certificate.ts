/**
 * Certificate validation and fingerprints, with node:crypto and node:tls only (no third-party
 * parser: a product requirement). Used by the validate phase and by the verification steps.
 *
 * Rules kept here:
 * - Messages name the certificate (subject, serial) and say what to do; they never contain any part
 *   of the private key, nor echo raw input text (which could be a mis-pasted key).
 * - Every refusal is a `CertificateInvalid` with a stable kebab-case `problem` code.
 */
import { checkChainLinks, checkChainOrder, checkNoRootInChain, checkSignatureStrength, checkTrust } from './certificate/chain';
import { checkKeyMatches, checkKeyType, parseKey } from './certificate/keys';
import { checkNames } from './certificate/names';
import { normalizeBundle, parseChain, parseLeaf } from './certificate/pem';
import { summarize } from './certificate/summary';
import type { CertificateBundle, ValidationPolicy, ValidationResult } from './certificate/types';
import { checkNewer, checkValidity, collectWarnings } from './certificate/validity';

export type { CertificateBundle, CertificateSummary, ValidationPolicy, ValidationResult } from './certificate/types';
export { normalizeBundle, splitPemCertificates } from './certificate/pem';
export { sha256OfPem, summarizeCertificate } from './certificate/summary';

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
