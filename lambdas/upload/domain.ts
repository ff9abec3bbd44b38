import { GetAccountSummaryCommand, UploadServerCertificateCommand, type IAMClient } from '@aws-sdk/client-iam';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsErrorName } from '../shared/aws-errors';
import { readBundle } from '../shared/bundle-store';
import { normalizeBundle, sha256OfPem } from '../shared/certificate';
import type { EdgeReadClients } from '../shared/certificate-uses';
import { CertificateInvalid, CertificateNameConflict, CertificateNotPropagated, ServerCertificateQuotaExceeded } from '../shared/errors';
import { EXECUTION_TAG, getCertificateBody } from '../shared/iam-certs';
import { listServerCertificates, selectPrunable } from '../shared/iam-prune';
import type { DomainLogger } from '../shared/logger';

export { EXECUTION_TAG };

export interface UploadParams {
  readonly iam: IAMClient;
  readonly secrets: SecretsManagerClient;
  /** Read only when the quota is full: which certificates are in use, to name the prunable ones. */
  readonly edge: EdgeReadClients;
  readonly logger: DomainLogger;
  readonly secretArn: string;
  readonly iamPath: string;
  readonly namePrefix: string;
  readonly domain: string;
  readonly executionName: string;
  /** The validated certificate: its fingerprint and the date used in the name. */
  readonly expected: { readonly sha256: string; readonly notBefore: string };
  /** The certificate in use now (the one this rotation replaces): pruning keeps it and what is newer. */
  readonly currentArn: string;
  /** `prune.keep` of the config: named prunable certificates are the ones pruning would delete. */
  readonly pruneKeep: number;
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
    await checkQuota(params, name);
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
      } else if (code === 'LimitExceededException' || code === 'LimitExceeded') {
        // The account filled up between the quota check and the upload (another upload raced it):
        // the same named error as the check gives, not a throttle to retry (the SDK classifies it so).
        const summary = (await params.iam.send(new GetAccountSummaryCommand({}))).SummaryMap ?? {};
        await quotaExceeded(params, name, summary.ServerCertificates, summary.ServerCertificatesQuota);
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

/**
 * Refuses the upload before it is made when the account has no room for another server
 * certificate (GetAccountSummary `ServerCertificates` >= `ServerCertificatesQuota`), naming the
 * certificates of this domain that pruning could delete. Called only when IAM does not show the
 * name yet; a listing that does show it (an earlier attempt of this execution uploaded it, and
 * GetServerCertificate has not caught up) lets the upload go on to its read-back.
 */
async function checkQuota(params: UploadParams, name: string): Promise<void> {
  const summary = (await params.iam.send(new GetAccountSummaryCommand({}))).SummaryMap ?? {};
  const used = summary.ServerCertificates;
  const quota = summary.ServerCertificatesQuota;
  if (used === undefined || quota === undefined || used < quota) {
    params.logger.info('IAM server certificate quota has room', { used, quota });
    return;
  }
  await quotaExceeded(params, name, used, quota);
}

/**
 * Throws ServerCertificateQuotaExceeded naming what pruning could delete, unless IAM lists `name`
 * already (an earlier attempt of this execution uploaded it: the read-back decides).
 */
async function quotaExceeded(params: UploadParams, name: string, used: number | undefined, quota: number | undefined): Promise<void> {
  const listed = await listServerCertificates(params.iam);
  if (listed.some((m) => m.ServerCertificateName === name)) return;
  const decision = await selectPrunable(
    {
      iam: params.iam,
      clients: params.edge,
      iamPath: params.iamPath,
      namePrefix: params.namePrefix,
      previousArn: params.currentArn,
      keep: params.pruneKeep,
    },
    listed,
  );
  const names = decision.prunable.map((c) => c.name);
  throw new ServerCertificateQuotaExceeded(
    `IAM holds ${used ?? 'as many'} server certificates, its quota (ServerCertificatesQuota) is ${quota ?? 'reached'}: no room to upload ${name}; nothing was uploaded. ` +
      (names.length
        ? `Certificates of ${params.domain} under ${params.iamPath} that are older than the one in use and used by no listener or distribution, ` +
          `so could be pruned: ${names.join(', ')}. Delete some (aws iam delete-server-certificate --server-certificate-name NAME) ` +
          'or ask AWS for a higher quota, then start the rotation again.'
        : `No certificate of ${params.domain} under ${params.iamPath} can be pruned (kept: ${
            decision.kept.map((k) => `${k.name}: ${k.reason}`).join('; ') || 'none'
          }). Delete unused server certificates of other domains or ask AWS for a higher quota.`),
  );
}
