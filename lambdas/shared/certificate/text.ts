/**
 * How certificates and keys are named in summaries and messages: a one-line subject, the subject
 * with its serial, a readable key type. Never any part of a key, never raw input text.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';

/** "CN=a\nO=b" (Node's multi-line form) -> "CN=a, O=b". */
export function oneLine(dn: string): string {
  return dn.split('\n').filter(Boolean).join(', ');
}

/** A certificate as messages name it: its subject and serial. */
export function describe(cert: X509Certificate): string {
  return `"${oneLine(cert.subject)}" (serial ${cert.serialNumber.toUpperCase()})`;
}

/** A readable key type: 'RSA-2048', 'EC-P-256', 'Ed25519', 'RSA-PSS-2048', 'DSA-2048'... */
export function describeKey(key: KeyObject): string {
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
