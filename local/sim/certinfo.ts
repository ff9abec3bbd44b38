/**
 * Small X.509 helpers on node:crypto, shared by the simulated services and TLS endpoints.
 */
import { createHash, X509Certificate, type KeyObject } from 'node:crypto';

const PEM_CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Every `CERTIFICATE` PEM block in `text`, in order. */
export function certificateBlocks(text: string | undefined): string[] {
  return text ? (text.match(PEM_CERT_RE) ?? []) : [];
}

/** Parses one PEM certificate; throws when it does not parse. */
export function parseCertificate(pem: string): X509Certificate {
  return new X509Certificate(pem);
}

/** Lower-case hex SHA-256 of the certificate's DER (what `getPeerCertificate().raw` hashes to). */
export function sha256OfCertificate(cert: X509Certificate | string): string {
  const x = typeof cert === 'string' ? parseCertificate(cert) : cert;
  return createHash('sha256').update(x.raw).digest('hex');
}

/** Upper-case hex MD5 of the certificate's DER, as monit's certmd5 takes it (`openssl x509 -fingerprint -md5 | tr -d :`). */
export function md5OfCertificate(cert: X509Certificate | string): string {
  const x = typeof cert === 'string' ? parseCertificate(cert) : cert;
  return createHash('md5').update(x.raw).digest('hex').toUpperCase();
}

/** True when the certificate's SANs (or CN) cover `hostname`, wildcards included. */
export function certificateCoversHost(cert: X509Certificate, hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host.startsWith('*.')) {
    // A wildcard alias (CloudFront) is covered only by the same wildcard SAN.
    const sans = (cert.subjectAltName ?? '').split(/,\s*/).map((s) => s.replace(/^DNS:/i, '').toLowerCase());
    return sans.includes(host);
  }
  return cert.checkHost(host) !== undefined;
}

/** `yyyy-mm-dd` (UTC) of a date. */
export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The key algorithm and size of a public or private key: `rsa` 2048, `ec` prime256v1, `ed25519`. */
export function keyDescription(key: KeyObject): { type: string; bits?: number; curve?: string } {
  const details = key.asymmetricKeyDetails ?? {};
  return { type: key.asymmetricKeyType ?? 'unknown', bits: details.modulusLength, curve: details.namedCurve };
}
