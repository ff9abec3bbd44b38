import { DeleteObjectCommand, GetObjectCommand, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsErrorName } from '../shared/aws-errors';
import { readBundle, type StoredBundle } from '../shared/bundle-store';
import { InputInvalid } from '../shared/errors';
import type { DomainLogger } from '../shared/logger';
import { obtainAutomatically, type AutomaticParams, type AutomaticResult } from './automatic';

/**
 * Where the new certificate comes from, as named in the execution input:
 * - `{ "secretId": "<name or ARN>" }`: a Secrets Manager secret the operator created under the
 *   configured prefix, JSON `{certificate, privateKey, chain}`;
 * - `{ "s3": { "prefix": "staged/2026-11-27/" } }`: `cert.pem`, `key.pem` and optional
 *   `chain.pem` uploaded to the staging bucket. The key is imported into Secrets Manager, then
 *   every version and delete marker of the staged `key.pem` is deleted (the runbook's "delete the
 *   local copies of the key": in the versioned bucket an older upload would otherwise stay).
 */
export type CertificateSource =
  | { readonly secretId: string }
  | { readonly s3: { readonly prefix: string; readonly bucket?: string } }
  | { readonly acme: Record<string, never> }
  | { readonly acm: Record<string, never> };

/** The automatic sources' clients and config (the staged sources need none of them). */
type AutomaticParts = Pick<AutomaticParams, 'route53' | 'acm' | 'sources' | 'names' | 'now' | 'sleep'>;

export interface ObtainParams extends Partial<AutomaticParts> {
  readonly s3: S3Client;
  readonly secrets: SecretsManagerClient;
  readonly logger: DomainLogger;
  readonly source: unknown;
  readonly executionName: string;
  readonly stagingBucket: string;
  /** Staged and imported secrets live under this name prefix (least privilege), e.g. `cert-rotation/gitter.im/`. */
  readonly secretPrefix: string;
  readonly domain: string;
}

export type ObtainResult =
  | {
      /** The only handle on the key that travels through the workflow. */
      readonly secretArn: string;
      readonly origin: 'secret' | 's3';
      readonly stagedAt?: string;
    }
  | AutomaticResult;

const SOURCE_HELP =
  'the execution input needs "source": {"secretId": "<secret under the configured prefix>"}, {"s3": {"prefix": "<folder in the staging bucket holding cert.pem, key.pem, chain.pem>"}}, {"acme": {}} or {"acm": {}}';

export function parseSource(source: unknown): CertificateSource {
  if (typeof source !== 'object' || source === null || Array.isArray(source)) throw new InputInvalid(SOURCE_HELP);
  const s = source as Record<string, unknown>;
  const keys = Object.keys(s);
  if (keys.length !== 1) throw new InputInvalid(`"source" must name exactly one of secretId, s3, acme, acm; ${SOURCE_HELP}`);
  if (typeof s.secretId === 'string' && s.secretId !== '') return { secretId: s.secretId };
  if (typeof s.s3 === 'object' && s.s3 !== null) {
    const o = s.s3 as Record<string, unknown>;
    if (typeof o.prefix !== 'string') throw new InputInvalid(`"source.s3.prefix" is required; ${SOURCE_HELP}`);
    if (o.bucket !== undefined && typeof o.bucket !== 'string') throw new InputInvalid('"source.s3.bucket" must be a string');
    return { s3: { prefix: o.prefix, ...(typeof o.bucket === 'string' ? { bucket: o.bucket } : {}) } };
  }
  if (s.acme !== undefined) return { acme: {} };
  if (s.acm !== undefined) return { acm: {} };
  throw new InputInvalid(SOURCE_HELP);
}

async function readStagedObject(s3: S3Client, bucket: string, key: string): Promise<{ text: string } | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const text = await out.Body?.transformToString('utf-8');
    return text === undefined ? undefined : { text };
  } catch (error) {
    if (awsErrorName(error) === 'NoSuchKey' || awsErrorName(error) === 'NotFound') return undefined;
    throw error;
  }
}

async function existingSecretArn(secrets: SecretsManagerClient, name: string): Promise<string | undefined> {
  try {
    const out = await secrets.send(new DescribeSecretCommand({ SecretId: name }));
    return out.ARN;
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

function normalisePrefix(prefix: string): string {
  const p = prefix.replace(/^\/+/, '');
  return p === '' || p.endsWith('/') ? p : `${p}/`;
}

/** Rounds of list-then-delete before giving up on a key that keeps getting new versions. */
const DELETE_ROUNDS = 3;

/**
 * Deletes every version and every delete marker of exactly `key` (not of keys that merely start
 * with it), by VersionId, so nothing of it stays readable. Lists again after deleting, and
 * returns only when a listing shows none left.
 */
async function deleteEveryVersion(s3: S3Client, bucket: string, key: string): Promise<{ versions: number; deleteMarkers: number }> {
  const removed = { versions: 0, deleteMarkers: 0 };
  for (let round = 0; round < DELETE_ROUNDS; round++) {
    const found = await listEveryVersion(s3, bucket, key);
    if (found.length === 0) return removed;
    for (const v of found) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: v.versionId }));
      if (v.deleteMarker) removed.deleteMarkers += 1;
      else removed.versions += 1;
    }
  }
  if ((await listEveryVersion(s3, bucket, key)).length === 0) return removed;
  throw new Error(`s3://${bucket}/${key} still has versions after ${DELETE_ROUNDS} rounds of deleting them; it is being re-uploaded`);
}

/** Every version and delete marker of exactly `key`, through all pages of ListObjectVersions. */
async function listEveryVersion(s3: S3Client, bucket: string, key: string): Promise<Array<{ versionId: string; deleteMarker: boolean }>> {
  const found: Array<{ versionId: string; deleteMarker: boolean }> = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const out = await s3.send(
      // The SDK has no paginator for ListObjectVersions (two markers); 1000 is S3's largest page.
      new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key, MaxKeys: 1000, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }),
    );
    for (const v of out.Versions ?? []) if (v.Key === key && v.VersionId) found.push({ versionId: v.VersionId, deleteMarker: false });
    for (const m of out.DeleteMarkers ?? []) if (m.Key === key && m.VersionId) found.push({ versionId: m.VersionId, deleteMarker: true });
    if (!out.IsTruncated) return found;
    if (out.NextKeyMarker === undefined) throw new Error(`ListObjectVersions of s3://${bucket}/${key} is truncated without a next marker`);
    // Keys are listed in order: once past `key`, no later page holds it.
    if (out.NextKeyMarker > key) return found;
    keyMarker = out.NextKeyMarker;
    versionIdMarker = out.NextVersionIdMarker;
  }
}

/** Imports S3-staged files into a secret named after the execution, then deletes the staged key. */
async function obtainFromS3(params: ObtainParams, bucket: string, rawPrefix: string): Promise<ObtainResult> {
  const prefix = normalisePrefix(rawPrefix);
  const secretName = `${params.secretPrefix}${params.executionName}`;
  const keyObject = `${prefix}key.pem`;
  const where = `s3://${bucket}/${prefix}`;

  const [certificateObject, chainObject, keyObjectRead] = await Promise.all([
    readStagedObject(params.s3, bucket, `${prefix}cert.pem`),
    readStagedObject(params.s3, bucket, `${prefix}chain.pem`),
    readStagedObject(params.s3, bucket, keyObject),
  ]);
  const certificate = certificateObject?.text;
  const chain = chainObject?.text;
  const privateKey = keyObjectRead?.text;

  let secretArn = await existingSecretArn(params.secrets, secretName);
  if (!secretArn) {
    if (certificate === undefined) throw new InputInvalid(`${where}cert.pem does not exist; stage cert.pem, key.pem and chain.pem there`);
    if (privateKey === undefined) throw new InputInvalid(`${where}key.pem does not exist; stage cert.pem, key.pem and chain.pem there`);
    const bundle: StoredBundle = { certificate, privateKey, ...(chain ? { chain } : {}) };
    try {
      const out = await params.secrets.send(
        new CreateSecretCommand({
          Name: secretName,
          Description: `New ${params.domain} certificate imported from ${where} by rotation ${params.executionName}`,
          SecretString: JSON.stringify(bundle),
          Tags: [
            { Key: 'cert-rotation:domain', Value: params.domain },
            { Key: 'cert-rotation:execution', Value: params.executionName },
          ],
        }),
      );
      secretArn = out.ARN;
    } catch (error) {
      // A retry after CreateSecret took effect: the secret is there, use it.
      if (awsErrorName(error) !== 'ResourceExistsException') throw error;
      secretArn = await existingSecretArn(params.secrets, secretName);
    }
    if (!secretArn) throw new Error(`secret ${secretName} was created but cannot be described`);
    params.logger.info('staged certificate imported into Secrets Manager', { secretName, from: where });
  } else {
    // Retried or re-run: the import happened; make sure it is the same certificate still staged.
    const stored = await readBundle(params.secrets, secretArn);
    if (certificate !== undefined && stored.certificate.trim() !== certificate.trim()) {
      throw new InputInvalid(
        `${where}cert.pem differs from what this execution already imported into ${secretName}; start a new execution`,
      );
    }
  }

  // The key is in Secrets Manager now: no version of the staged key may stay (this runs on every
  // attempt, so a retry after a partial deletion finishes it; nothing left is a no-op).
  const removed = await deleteEveryVersion(params.s3, bucket, keyObject);
  if (removed.versions + removed.deleteMarkers > 0) {
    params.logger.info('staged private key deleted from S3 (every version)', { object: `${where}key.pem`, ...removed });
  }
  return { secretArn, origin: 's3', stagedAt: where };
}

export async function obtainCertificate(params: ObtainParams): Promise<ObtainResult> {
  const source = parseSource(params.source);
  if ('acme' in source || 'acm' in source) {
    const { route53, acm, names, now, sleep } = params;
    if (!route53 || !acm || !names || !now || !sleep) throw new Error('internal: obtain was built without the automatic sources');
    const automatic: AutomaticParams = { ...params, route53, acm, names, now, sleep, sources: params.sources ?? {} };
    return obtainAutomatically(automatic, 'acme' in source ? 'acme' : 'acm');
  }
  if ('s3' in source) {
    const bucket = source.s3.bucket ?? params.stagingBucket;
    if (bucket !== params.stagingBucket) {
      throw new InputInvalid(`stage certificates in the rotation's staging bucket ${params.stagingBucket}, not ${bucket}`);
    }
    return obtainFromS3(params, bucket, source.s3.prefix);
  }
  const id = source.secretId;
  const name = id.startsWith('arn:') ? (id.split(':secret:')[1] ?? '') : id;
  if (!name.startsWith(params.secretPrefix)) {
    throw new InputInvalid(
      `secret "${id}" is not under the staging prefix "${params.secretPrefix}"; create it there so the rotation may read it`,
    );
  }
  const out = await params.secrets.send(new DescribeSecretCommand({ SecretId: id })).catch((error: unknown) => {
    if (awsErrorName(error) === 'ResourceNotFoundException') throw new InputInvalid(`secret ${id} does not exist`);
    throw error;
  });
  if (!out.ARN) throw new InputInvalid(`secret ${id} has no ARN`);
  // Read it once here so a malformed secret is refused at the start with a clear message.
  await readBundle(params.secrets, out.ARN);
  return { secretArn: out.ARN, origin: 'secret' };
}
