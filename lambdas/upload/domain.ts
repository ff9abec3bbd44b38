import { UploadServerCertificateCommand, type IAMClient } from '@aws-sdk/client-iam';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsErrorName } from '../shared/aws-errors';
import { readBundle } from '../shared/bundle-store';
import { normalizeBundle, sha256OfPem } from '../shared/certificate';
import { CertificateInvalid, CertificateNameConflict, CertificateNotPropagated } from '../shared/errors';
import { EXECUTION_TAG, getCertificateBody } from '../shared/iam-certs';
import type { DomainLogger } from '../shared/logger';

export { EXECUTION_TAG };

export interface UploadParams {
  readonly iam: IAMClient;
  readonly secrets: SecretsManagerClient;
  readonly logger: DomainLogger;
  readonly secretArn: string;
  readonly iamPath: string;
  readonly namePrefix: string;
  readonly domain: string;
  readonly executionName: string;
  /** The validated certificate: its fingerprint and the date used in the name. */
  readonly expected: { readonly sha256: string; readonly notBefore: string };
}

export interface UploadResult {
  readonly arn: string;
  readonly id: string;
  readonly name: string;
  readonly path: string;
  /** True when IAM already held this exact certificate under the name (a retry or re-run). */
  readonly reused: boolean;
}

/** `STAR.gitter.im_2026-11-27`: the runbook's dated name, from the certificate's notBefore (UTC). */
export function certificateName(prefix: string, notBefore: string): string {
  return `${prefix}_${notBefore.slice(0, 10)}`;
}

/**
 * Uploads the new certificate to IAM under the configured `/cloudfront/...` path. Idempotent:
 * if the dated name holds the same certificate it is reused; a different body under that name is
 * a conflict (never overwritten). Verified by reading it back.
 */
export async function uploadCertificate(params: UploadParams): Promise<UploadResult> {
  const name = certificateName(params.namePrefix, params.expected.notBefore);
  const bundle = normalizeBundle(await readBundle(params.secrets, params.secretArn));
  if (sha256OfPem(bundle.certificate) !== params.expected.sha256) {
    throw new CertificateInvalid(
      'changed-after-validation',
      `secret ${params.secretArn} no longer holds the validated certificate ${params.expected.sha256}`,
    );
  }

  const existing = await getCertificateBody(params.iam, name);
  if (existing) {
    if (sha256OfPem(existing.body) !== params.expected.sha256) {
      throw new CertificateNameConflict(
        `IAM already has a server certificate named ${name} with a different body (${sha256OfPem(existing.body)}); ` +
          'delete or rename it, or set another certificateNamePrefix',
      );
    }
    params.logger.info('certificate already in IAM under this name; reusing it', {
      name,
      // An earlier attempt of this very execution (a retry) uploaded it: still ours to roll back.
      uploadedByThisExecution: existing.tags[EXECUTION_TAG] === params.executionName,
    });
  } else {
    try {
      await params.iam.send(
        new UploadServerCertificateCommand({
          ServerCertificateName: name,
          Path: params.iamPath,
          CertificateBody: bundle.certificate,
          PrivateKey: bundle.privateKey,
          ...(bundle.chain ? { CertificateChain: bundle.chain } : {}),
          Tags: [
            { Key: 'cert-rotation:domain', Value: params.domain },
            { Key: EXECUTION_TAG, Value: params.executionName },
          ],
        }),
      );
      params.logger.info('certificate uploaded to IAM', { name, path: params.iamPath });
    } catch (error) {
      const code = awsErrorName(error);
      if (code === 'EntityAlreadyExistsException') {
        // Lost a race with our own retry; the read-back below decides.
      } else if (code === 'MalformedCertificateException' || code === 'KeyPairMismatchException') {
        throw new CertificateInvalid('iam-refused', `IAM refused the certificate: ${code}: ${error instanceof Error ? error.message : ''}`);
      } else {
        throw error;
      }
    }
  }

  // Read-back: the certificate IAM serves under the name must be the validated one, on the right path.
  const readBack = await getCertificateBody(params.iam, name);
  if (!readBack) throw new CertificateNotPropagated(`IAM does not return ${name} yet after the upload`);
  if (sha256OfPem(readBack.body) !== params.expected.sha256) {
    throw new CertificateNameConflict(`IAM returns a different certificate under ${name}`);
  }
  const meta = readBack.metadata;
  if (meta.Path !== params.iamPath) {
    throw new CertificateNameConflict(
      `IAM certificate ${name} exists on path ${meta.Path}, not ${params.iamPath}; CloudFront needs the configured path`,
    );
  }
  // Ours to delete on rollback only if this execution uploaded it (the tag says so even after a retry).
  const reused = readBack.tags[EXECUTION_TAG] !== params.executionName;
  return { arn: meta.Arn ?? '', id: meta.ServerCertificateId ?? '', name, path: meta.Path ?? params.iamPath, reused };
}
