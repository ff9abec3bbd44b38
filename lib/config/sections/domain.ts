/** The domain and the names of the certificate: what is rotated, and where it lives in IAM. */
import { DNS_NAME_RE, isDnsNameOrWildcard } from '../../problems';
import { str, strList } from '../fields';
import { defineSection } from '../section';

// IAM ServerCertificateName: [\w+=,.@-]+, at most 128; we append `_yyyy-mm-dd` (11 chars).
const IAM_NAME_RE = /^[\w+=,.@-]{1,117}$/;
const IAM_PATH_RE = /^\/cloudfront(\/[\x21-\x7e]*)?\/$/;

export const domainSection = defineSection({
  keys: ['domain', 'certificateNames', 'iamPath', 'certificateNamePrefix'],
  resolve(raw, p) {
    const domain = str(p, raw, 'domain', 'domain', true);
    if (domain !== undefined && !DNS_NAME_RE.test(domain)) p.add('domain', `"${domain}" is not a lower-case DNS name like "gitter.im"`);

    // Defaults derive from a valid domain only (an invalid one is reported once, under "domain").
    const certificateNames =
      strList(p, raw, 'certificateNames', 'certificateNames') ?? (domain && DNS_NAME_RE.test(domain) ? [`*.${domain}`, domain] : []);
    certificateNames.forEach((n, i) => {
      if (!isDnsNameOrWildcard(n)) p.add(`certificateNames[${i}]`, `"${n}" is not a DNS name or *.wildcard`);
    });
    if (raw.certificateNames !== undefined && certificateNames.length === 0) p.add('certificateNames', 'must not be empty');

    const iamPath = str(p, raw, 'iamPath', 'iamPath', true);
    if (iamPath !== undefined && !IAM_PATH_RE.test(iamPath)) {
      p.add(
        'iamPath',
        `"${iamPath}" must start with "/cloudfront" and end with "/" (CloudFront only sees certificates under /cloudfront/...), e.g. "/cloudfront/gitter-production/"`,
      );
    }
    const certificateNamePrefix = str(p, raw, 'certificateNamePrefix', 'certificateNamePrefix', true);
    if (certificateNamePrefix !== undefined && !IAM_NAME_RE.test(certificateNamePrefix)) {
      p.add(
        'certificateNamePrefix',
        `"${certificateNamePrefix}" may only hold letters, digits and +=,.@_- (at most 117 characters; a date is appended)`,
      );
    }
    if (!domain || !iamPath || !certificateNamePrefix) return undefined;
    return { domain, certificateNames, iamPath, certificateNamePrefix };
  },
});
