/** The IAM certificates a simulated account starts with: the current one, the other one, the fleet's older ones. */
import { X509Certificate } from 'node:crypto';
import { isoDay } from './certinfo';
import type { SimClock } from './clock';
import type { IamServerCertificate, SimCertificate, SimIam } from './iam';

export const DEFAULT_IAM_PATH = '/cloudfront/rehearsal/';
export const OTHER_IAM_PATH = '/cloudfront/other/';

export function iamNameFor(cert: SimCertificate, fallbackDomain: string): string {
  const x = new X509Certificate(cert.certPem);
  const san = (x.subjectAltName ?? '').split(/,\s*/).find((s) => s.startsWith('DNS:'));
  const cn = /CN=([^\n,]+)/.exec(x.subject)?.[1];
  const name = (san?.slice(4) ?? cn ?? fallbackDomain).replace(/^\*\./, 'STAR.').replace(/[^\w+=,.@-]/g, '-');
  return `${name}_${isoDay(new Date(x.validFrom))}`;
}

/** The current certificate's default IAM name: `STAR.<domain>_<yyyy-mm-dd of its notBefore>`. */
export function currentIamName(cert: SimCertificate, domain: string): string {
  return `STAR.${domain}_${isoDay(new Date(new X509Certificate(cert.certPem).validFrom))}`;
}

/** Days ago the current and the other certificate were uploaded. */
const SEEDED_DAYS_AGO = 400;

/** Uploads a certificate to IAM long ago: it may have expired since, and every service sees it. */
export function seedIam(
  iam: SimIam,
  clock: SimClock,
  cert: SimCertificate,
  name: string,
  path: string,
  daysAgo = SEEDED_DAYS_AGO,
): IamServerCertificate {
  try {
    iam.upload(
      {
        ServerCertificateName: name,
        Path: path,
        CertificateBody: cert.certPem,
        PrivateKey: cert.keyPem,
        CertificateChain: cert.chainPem || undefined,
      },
      { allowExpired: true, uploadedAt: new Date(clock.nowMs() - daysAgo * 86_400_000) },
    );
  } catch (e) {
    throw new Error(`cannot seed IAM certificate ${name}: ${(e as Error).message}`, { cause: e });
  }
  return iam.byName(name)!;
}
