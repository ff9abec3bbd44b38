/**
 * The automatic certificate sources (`certificateSource`): ACME (DNS-01 through Route53) and ACM
 * export. Both optional; the execution input picks one with `{"source": {"acme": {}}}` or
 * `{"source": {"acm": {}}}`, and only the configured ones are granted and accepted.
 */
import { ACME_KEY_TYPES, type AcmeKeyType, type CertificateSources } from '../../../lambdas/shared/source-config';
import { int, objectAt, str, strList } from '../fields';
import { defineSection } from '../section';

/** Directory shorthands. */
export const ACME_DIRECTORIES: Readonly<Record<string, string>> = {
  letsencrypt: 'https://acme-v02.api.letsencrypt.org/directory',
  'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
};

const ZONE_ID_RE = /^Z[A-Z0-9]{1,31}$/;
const ACM_ARN_RE = /^arn:aws[\w-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/;
const SECRET_NAME_RE = /^[\w/+=.@-]{1,512}$/;
const PEM_CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/** The default account secret: one per CA host, under the rotation's secret prefix. */
function accountSecretName(domain: string, directoryUrl: string): string {
  let host = 'ca';
  try {
    host = new URL(directoryUrl).host.replace(/[^\w.-]/g, '-');
  } catch {
    // reported by the directoryUrl check
  }
  return `cert-rotation/${domain}/acme-account/${host}`;
}

export const certificateSourceSection = defineSection({
  keys: ['certificateSource'],
  resolve(raw, p) {
    const src = objectAt(p, raw, 'certificateSource', false, ['acme', 'acm']);
    const domain = typeof raw.domain === 'string' ? raw.domain : '';
    const out: { acme?: CertificateSources['acme']; acm?: CertificateSources['acm'] } = {};
    const acmeRaw = src?.acme === undefined ? undefined : p.object(src.acme, 'certificateSource.acme', ACME_FIELDS);
    if (acmeRaw) {
      const f = (k: string) => `certificateSource.acme.${k}`;
      const given = str(p, acmeRaw, 'directoryUrl', f('directoryUrl'), false) ?? 'letsencrypt';
      const directoryUrl = ACME_DIRECTORIES[given] ?? given;
      if (!/^https:\/\/[^/\s]+/.test(directoryUrl)) {
        p.add(f('directoryUrl'), `must be an https:// ACME directory URL or one of ${Object.keys(ACME_DIRECTORIES).join(', ')}`);
      }
      const contactEmail = str(p, acmeRaw, 'contactEmail', f('contactEmail'), false);
      if (contactEmail !== undefined && !/^[^@\s]+@[^@\s]+$/.test(contactEmail)) p.add(f('contactEmail'), 'must be an email address');
      let eab: { keyId: string; hmacSecretName: string } | undefined;
      const eabRaw = acmeRaw.eab === undefined ? undefined : p.object(acmeRaw.eab, f('eab'), ['keyId', 'hmacSecretName']);
      if (eabRaw) {
        const keyId = str(p, eabRaw, 'keyId', f('eab.keyId'), true);
        const hmacSecretName = str(p, eabRaw, 'hmacSecretName', f('eab.hmacSecretName'), true);
        if (hmacSecretName !== undefined && !SECRET_NAME_RE.test(hmacSecretName))
          p.add(f('eab.hmacSecretName'), 'must be a Secrets Manager secret name');
        if (keyId && hmacSecretName) eab = { keyId, hmacSecretName };
      }
      const accountKeySecretName =
        str(p, acmeRaw, 'accountKeySecretName', f('accountKeySecretName'), false) ?? accountSecretName(domain, directoryUrl);
      if (!accountKeySecretName.startsWith(`cert-rotation/${domain}/`) || !SECRET_NAME_RE.test(accountKeySecretName)) {
        p.add(f('accountKeySecretName'), `must be a secret name under cert-rotation/${domain}/ (the rotation's secrets)`);
      }
      const keyType = (acmeRaw.keyType ?? 'rsa-2048') as AcmeKeyType;
      if (!ACME_KEY_TYPES.includes(keyType)) {
        p.add(f('keyType'), `must be one of ${ACME_KEY_TYPES.join(', ')} (key types both ELB and CloudFront accept)`);
      }
      const hostedZoneIds = strList(p, acmeRaw, 'hostedZoneIds', f('hostedZoneIds')) ?? [];
      if (hostedZoneIds.length === 0)
        p.add(f('hostedZoneIds'), 'is required: the Route53 hosted zone ids the challenge records may be written in');
      hostedZoneIds.forEach((z, i) => {
        if (!ZONE_ID_RE.test(z))
          p.add(`${f('hostedZoneIds')}[${i}]`, 'must be a hosted zone id like Z0123456789ABCDEFGHIJ (without /hostedzone/)');
      });
      const roots = strList(p, acmeRaw, 'directoryTrustedCertificates', f('directoryTrustedCertificates')) ?? [];
      roots.forEach((r, i) => {
        if (!PEM_CERT_RE.test(r)) p.add(`${f('directoryTrustedCertificates')}[${i}]`, 'must be a PEM certificate');
      });
      if (roots.join('\n').length > 2000)
        p.add(f('directoryTrustedCertificates'), 'together must stay under 2000 characters (Lambda environment)');
      out.acme = {
        directoryUrl,
        ...(contactEmail ? { contactEmail } : {}),
        ...(eab ? { eab } : {}),
        accountKeySecretName,
        keyType,
        hostedZoneIds,
        dnsTimeoutSeconds: int(p, acmeRaw, 'dnsTimeoutSeconds', f('dnsTimeoutSeconds'), 10, 600, 300)!,
        dnsPollSeconds: int(p, acmeRaw, 'dnsPollSeconds', f('dnsPollSeconds'), 1, 60, 10)!,
        directoryTrustedCertificates: roots,
      };
    }
    const acmRaw = src?.acm === undefined ? undefined : p.object(src.acm, 'certificateSource.acm', ['certificateArn', 'startOnRenewal']);
    if (acmRaw) {
      const certificateArn = str(p, acmRaw, 'certificateArn', 'certificateSource.acm.certificateArn', true);
      if (certificateArn !== undefined && !ACM_ARN_RE.test(certificateArn)) {
        p.add('certificateSource.acm.certificateArn', 'must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)');
      }
      const startOnRenewal = acmRaw.startOnRenewal ?? false;
      if (typeof startOnRenewal !== 'boolean') p.add('certificateSource.acm.startOnRenewal', 'must be true or false');
      if (certificateArn) out.acm = { certificateArn, startOnRenewal: startOnRenewal === true };
    }
    return { certificateSource: out };
  },
});

const ACME_FIELDS = [
  'directoryUrl',
  'contactEmail',
  'eab',
  'accountKeySecretName',
  'keyType',
  'hostedZoneIds',
  'dnsTimeoutSeconds',
  'dnsPollSeconds',
  'directoryTrustedCertificates',
] as const;
