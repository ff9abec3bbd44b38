/** Validity: dates (valid now, long enough, later than the certificate in use) and the warnings a valid certificate may still earn. */
import type { X509Certificate } from 'node:crypto';
import { CertificateInvalid, InputInvalid } from '../errors';
import { describe, oneLine } from './text';
import type { ValidationPolicy } from './types';

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_MIN_DAYS_VALID = 7;
/** Warn when the certificate expires within this many days (but after minDaysValid). */
const WARN_DAYS_VALID = 30;
/** Browsers refuse TLS server certificates valid for longer than this (CA/B Forum, Apple, Chrome). */
const MAX_BROWSER_VALIDITY_DAYS = 398;
const SERVER_AUTH_EKU = '1.3.6.1.5.5.7.3.1';

/** Throws CertificateInvalid(not-yet-valid | expired | expires-too-soon). */
export function checkValidity(leaf: X509Certificate, chain: readonly X509Certificate[], policy: ValidationPolicy): void {
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

/** Throws CertificateInvalid(not-newer) when the leaf does not expire later than the certificate in use. */
export function checkNewer(leaf: X509Certificate, policy: ValidationPolicy): void {
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

/** What is not a refusal but an operator should know. */
export function collectWarnings(leaf: X509Certificate, chain: readonly X509Certificate[], policy: ValidationPolicy): string[] {
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
