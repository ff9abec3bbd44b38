/** Names: the DNS subject alternative names of a certificate, and whether they cover the names a deployment needs. */
import type { X509Certificate } from 'node:crypto';
import { CertificateInvalid } from '../errors';
import type { ValidationPolicy } from './types';

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

/** The DNS SANs of `cert`, lowercased, without a trailing dot. */
export function dnsNames(cert: X509Certificate): string[] {
  return parseSubjectAltName(cert.subjectAltName)
    .filter((e) => e.type === 'DNS')
    .map((e) => normalizeName(e.value));
}

function normalizeName(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

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

/** The leaf covers every required name and every name the certificate in use covers (names-not-covered, names-dropped). */
export function checkNames(leaf: X509Certificate, policy: ValidationPolicy): void {
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
