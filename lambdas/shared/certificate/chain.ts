/** Chain checks: no root in the chain, its order and links, signature strength, and trust up to a root. */
import type { X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';
import { CertificateInvalid } from '../errors';
import { isSelfSigned, splitPemCertificates, tryParse } from './pem';
import { describe, oneLine } from './text';

/** Throws CertificateInvalid(chain-contains-root) for a self-signed certificate in the chain. */
export function checkNoRootInChain(chain: readonly X509Certificate[]): void {
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

/** Throws CertificateInvalid(chain-order) when the chain links to the leaf only in another order. */
export function checkChainOrder(leaf: X509Certificate, chain: readonly X509Certificate[]): void {
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

/** Throws CertificateInvalid(chain-broken) when a chain certificate did not issue the one before it, or is no CA. */
export function checkChainLinks(leaf: X509Certificate, chain: readonly X509Certificate[]): void {
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
export function checkSignatureStrength(leaf: X509Certificate, chain: readonly X509Certificate[]): void {
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
export function checkTrust(leaf: X509Certificate, chain: readonly X509Certificate[], extraRoots: readonly string[] | undefined): string {
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
