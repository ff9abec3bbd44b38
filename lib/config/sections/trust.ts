/** Extra root CAs trusted when validating the chain of a new certificate (a private CA). */
import { strList } from '../fields';
import { defineSection } from '../section';

const PEM_CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;
// Lambda environment variables share a 4 KiB budget; roots travel there.
const MAX_TRUSTED_ROOTS_BYTES = 3000;

export const trustSection = defineSection({
  keys: ['trustedRootCertificates'],
  resolve(raw, p) {
    const roots = strList(p, raw, 'trustedRootCertificates', 'trustedRootCertificates') ?? [];
    roots.forEach((r, i) => {
      if (!PEM_CERT_RE.test(r)) p.add(`trustedRootCertificates[${i}]`, 'must be a PEM certificate (-----BEGIN CERTIFICATE-----...)');
    });
    if (roots.join('\n').length > MAX_TRUSTED_ROOTS_BYTES) {
      p.add(
        'trustedRootCertificates',
        `together must stay under ${MAX_TRUSTED_ROOTS_BYTES} characters (they travel in Lambda environment variables)`,
      );
    }
    return { trustedRootCertificates: roots };
  },
});
