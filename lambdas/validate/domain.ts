import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { readBundle } from '../shared/bundle-store';
import { normalizeBundle, sha256OfPem, validateCertificateBundle, type CertificateSummary } from '../shared/certificate';
import { CertificateInvalid } from '../shared/errors';
import type { DomainLogger } from '../shared/logger';

export interface ValidateParams {
  readonly secrets: SecretsManagerClient;
  readonly logger: DomainLogger;
  readonly secretArn: string;
  readonly requiredNames: readonly string[];
  readonly extraTrustedRoots: readonly string[];
  readonly current: { readonly notAfter: string; readonly names?: readonly string[]; readonly sha256?: string };
  readonly now: () => Date;
}

export interface ValidateResult {
  readonly summary: CertificateSummary;
  readonly chainLength: number;
  readonly trustedRoot: string;
  readonly warnings: string[];
}

/** The staged certificate's fingerprint, or undefined when it does not parse (validation says why). */
function stagedSha256(certificatePem: string): string | undefined {
  try {
    return sha256OfPem(certificatePem);
  } catch {
    return undefined;
  }
}

/**
 * Every check of DESIGN.md §2 phase 2, on the staged bundle. A failure throws CertificateInvalid
 * (caught by the state machine before any change) naming the problem.
 */
export async function validateNewCertificate(params: ValidateParams): Promise<ValidateResult> {
  const bundle = normalizeBundle(await readBundle(params.secrets, params.secretArn));
  // Re-staging the certificate in use would also fail "not newer"; say what actually happened.
  if (params.current.sha256 && stagedSha256(bundle.certificate) === params.current.sha256) {
    throw new CertificateInvalid('same-as-current', 'the staged certificate is the one already in use; stage the renewed certificate');
  }
  const result = validateCertificateBundle(bundle, {
    requiredNames: params.requiredNames,
    now: params.now(),
    current: { notAfter: params.current.notAfter, ...(params.current.names ? { names: params.current.names } : {}) },
    extraTrustedRoots: params.extraTrustedRoots,
  });
  params.logger.info('new certificate is valid', {
    sha256: result.summary.sha256,
    notAfter: result.summary.notAfter,
    names: result.summary.names,
    warnings: result.warnings,
  });
  return { summary: result.summary, chainLength: result.chain.length, trustedRoot: result.trustedRoot, warnings: result.warnings };
}
