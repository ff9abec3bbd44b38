/** Summaries and fingerprints: what the workflow reports and compares about a certificate (SHA-256, MD5, serial, dates, names). */
import { createHash, type X509Certificate } from 'node:crypto';
import { CertificateInvalid } from '../errors';
import { dnsNames } from './names';
import { splitPemCertificates, tryParse } from './pem';
import { describeKey, oneLine } from './text';
import type { CertificateSummary } from './types';

function isoDate(text: string): string {
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}

/** The summary of a parsed certificate. */
export function summarize(cert: X509Certificate): CertificateSummary {
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
