/**
 * Simulated S3 (objects only), versioned like the rotation's real buckets (lib/storage.ts):
 * PutObject (a new version each time, earlier ones kept), GetObject (a real SDK stream body:
 * `transformToString()` works) and HeadObject of the current or a given VersionId, DeleteObject
 * (without VersionId: a delete marker, the object then reads as NoSuchKey and its versions stay;
 * with VersionId: that version or delete marker is gone for good), ListObjectsV2 (current
 * objects) and ListObjectVersions (versions and delete markers, KeyMarker/VersionIdMarker pages).
 * Buckets are created with `createBucket(name)` (the stack creates them in real life); a missing
 * bucket is NoSuchBucket.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type {
  _Object,
  DeleteMarkerEntry,
  DeleteObjectCommandInput,
  DeleteObjectCommandOutput,
  GetObjectCommandInput,
  GetObjectCommandOutput,
  HeadObjectCommandInput,
  HeadObjectCommandOutput,
  ListObjectVersionsCommandInput,
  ListObjectVersionsCommandOutput,
  ListObjectsV2CommandInput,
  ListObjectsV2CommandOutput,
  PutObjectCommandInput,
  PutObjectCommandOutput,
  ObjectVersion,
} from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/util-stream';
import * as s3Sdk from '@aws-sdk/client-s3';
import type { SimClock } from './clock';
import { awsError } from './errors';
import type { Out } from './iam';
import { defineService, type OperationsOf } from './service';
import { randomMixed } from './util';

/** A stored object version. */
export interface SimS3Object {
  readonly key: string;
  readonly versionId: string;
  readonly body: Buffer;
  readonly contentType?: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly lastModified: Date;
  readonly etag: string;
  readonly serverSideEncryption?: string;
}

/** A delete marker: the key reads as NoSuchKey while it is the latest entry. */
export interface SimS3DeleteMarker {
  readonly key: string;
  readonly versionId: string;
  readonly deleteMarker: true;
  readonly lastModified: Date;
}

/** One entry of a key's history: an object version or a delete marker. */
export type SimS3Entry = SimS3Object | SimS3DeleteMarker;

function isDeleteMarker(e: SimS3Entry): e is SimS3DeleteMarker {
  return 'deleteMarker' in e;
}

/** The object headers GetObject and HeadObject both return. */
function headersOf(obj: SimS3Object): Omit<HeadObjectCommandOutput, '$metadata'> {
  return {
    VersionId: obj.versionId,
    ContentLength: obj.body.length,
    ContentType: obj.contentType,
    ETag: obj.etag,
    LastModified: new Date(obj.lastModified),
    Metadata: { ...obj.metadata },
    ServerSideEncryption: obj.serverSideEncryption as HeadObjectCommandOutput['ServerSideEncryption'],
  };
}

/** Reads any body the SDK accepts for PutObject into a Buffer. */
async function toBuffer(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (Buffer.isBuffer(body)) return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (typeof Blob !== 'undefined' && body instanceof Blob) return Buffer.from(await body.arrayBuffer());
  if (typeof body === 'object' && Symbol.asyncIterator in body) {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<unknown>) {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
    }
    return Buffer.concat(chunks);
  }
  throw awsError('InvalidRequest', `The simulated S3 cannot read a Body of type ${typeof body}`);
}

/** The operations of s3 the simulator answers (the SDK command names without `Command`). */
export const S3_OPERATIONS = ['PutObject', 'GetObject', 'HeadObject', 'DeleteObject', 'ListObjectsV2', 'ListObjectVersions'] as const;

/** Simulated S3. */
export class SimS3 {
  /** Bucket name -> key -> its entries, oldest first (the last one is the latest). */
  private readonly store = new Map<string, Map<string, SimS3Entry[]>>();

  constructor(private readonly clock: SimClock) {}

  /** Creates an (empty, versioned) bucket; a no-op when it exists. */
  createBucket(name: string): void {
    if (!this.store.has(name)) this.store.set(name, new Map());
  }

  /** The current objects (latest versions that are not delete markers), bucket -> key -> object. A snapshot. */
  get buckets(): ReadonlyMap<string, ReadonlyMap<string, SimS3Object>> {
    const out = new Map<string, Map<string, SimS3Object>>();
    for (const [name, keys] of this.store) {
      const current = new Map<string, SimS3Object>();
      for (const [key, entries] of keys) {
        const latest = entries[entries.length - 1];
        if (latest && !isDeleteMarker(latest)) current.set(key, latest);
      }
      out.set(name, current);
    }
    return out;
  }

  /** Every version and delete marker of every key of every bucket (oldest first per key), for the secret scan and tests. */
  allVersions(): Array<{ readonly bucket: string; readonly entry: SimS3Entry; readonly isLatest: boolean }> {
    const out: Array<{ bucket: string; entry: SimS3Entry; isLatest: boolean }> = [];
    for (const [bucket, keys] of this.store) {
      for (const entries of keys.values()) entries.forEach((entry, i) => out.push({ bucket, entry, isLatest: i === entries.length - 1 }));
    }
    return out;
  }

  /** Direct read of the current version for tests and the report (no API call recorded). */
  getText(bucket: string, key: string): string | undefined {
    return this.buckets.get(bucket)?.get(key)?.body.toString('utf8');
  }

  /** The SDK operations, by name (exactly S3_OPERATIONS). */
  readonly operations = {
    PutObject: async (input: PutObjectCommandInput): Promise<Out<PutObjectCommandOutput>> => {
      const bucket = this.mustGetBucket(input.Bucket);
      const key = mustKey(input.Key);
      const body = await toBuffer(input.Body);
      const etag = `"${createHash('md5').update(body).digest('hex')}"`;
      const versionId = newVersionId();
      append(bucket, key, {
        key,
        versionId,
        body,
        contentType: input.ContentType,
        metadata: { ...(input.Metadata ?? {}) },
        lastModified: this.clock.now(),
        etag,
        serverSideEncryption: input.ServerSideEncryption ?? 'AES256',
      });
      return { ETag: etag, VersionId: versionId, ServerSideEncryption: input.ServerSideEncryption ?? 'AES256' };
    },
    GetObject: (input: GetObjectCommandInput): Out<GetObjectCommandOutput> => {
      const obj = this.mustGetObject(input.Bucket, input.Key, input.VersionId, 'NoSuchKey');
      const stream = sdkStreamMixin(Readable.from([Buffer.from(obj.body)], { objectMode: false }));
      return {
        // The SDK types GetObject's Body as its Node.js stream mixin over IncomingMessage; a Readable is what it is at runtime.
        Body: stream,
        ...headersOf(obj),
      };
    },
    HeadObject: (input: HeadObjectCommandInput): Out<HeadObjectCommandOutput> => {
      return headersOf(this.mustGetObject(input.Bucket, input.Key, input.VersionId, 'NotFound'));
    },
    DeleteObject: (input: DeleteObjectCommandInput): Out<DeleteObjectCommandOutput> => {
      const bucket = this.mustGetBucket(input.Bucket);
      const key = mustKey(input.Key);
      if (input.VersionId === undefined) {
        // A versioned bucket keeps every version: a plain delete only adds a delete marker (even for a key that never existed).
        const versionId = newVersionId();
        append(bucket, key, { key, versionId, deleteMarker: true, lastModified: this.clock.now() });
        return { DeleteMarker: true, VersionId: versionId };
      }
      // Deleting one version (or delete marker) is permanent; a version that is not there is a no-op, as in S3.
      const entries = bucket.get(key) ?? [];
      const index = entries.findIndex((e) => e.versionId === input.VersionId);
      if (index < 0) return { VersionId: input.VersionId };
      const [removed] = entries.splice(index, 1);
      if (entries.length === 0) bucket.delete(key);
      return { VersionId: input.VersionId, ...(isDeleteMarker(removed) ? { DeleteMarker: true } : {}) };
    },
    ListObjectsV2: (input: ListObjectsV2CommandInput): Out<ListObjectsV2CommandOutput> => {
      const bucket = this.currentObjects(input.Bucket);
      if (input.Delimiter !== undefined) throw awsError('InvalidArgument', 'The simulated S3 does not implement Delimiter');
      if (input.MaxKeys !== undefined && (!Number.isInteger(input.MaxKeys) || input.MaxKeys < 0)) {
        throw awsError('InvalidArgument', 'MaxKeys must be a non-negative integer');
      }
      // S3 accepts a larger MaxKeys but never returns more than 1,000 keys a page.
      const max = Math.min(input.MaxKeys ?? 1000, 1000);
      const prefix = input.Prefix ?? '';
      let after = input.StartAfter ?? '';
      if (input.ContinuationToken !== undefined) {
        const decoded = Buffer.from(input.ContinuationToken, 'base64').toString('utf8');
        if (!decoded.startsWith('after:')) throw awsError('InvalidArgument', 'The continuation token provided is incorrect');
        after = decoded.slice('after:'.length);
      }
      const keys = [...bucket.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
      const page = keys.slice(0, Math.min(max, 1000));
      const truncated = keys.length > page.length;
      const contents: _Object[] = page.map((k) => {
        const o = bucket.get(k)!;
        return { Key: k, LastModified: new Date(o.lastModified), ETag: o.etag, Size: o.body.length, StorageClass: 'STANDARD' };
      });
      return {
        Name: input.Bucket,
        Prefix: prefix,
        MaxKeys: max,
        KeyCount: page.length,
        IsTruncated: truncated,
        Contents: contents.length > 0 ? contents : undefined,
        ContinuationToken: input.ContinuationToken,
        NextContinuationToken: truncated ? Buffer.from(`after:${page[page.length - 1]}`).toString('base64') : undefined,
        StartAfter: input.StartAfter,
      };
    },
    ListObjectVersions: (input: ListObjectVersionsCommandInput): Out<ListObjectVersionsCommandOutput> => {
      const bucket = this.mustGetBucket(input.Bucket);
      if (input.Delimiter !== undefined) throw awsError('InvalidArgument', 'The simulated S3 does not implement Delimiter');
      const max = input.MaxKeys ?? 1000;
      if (!Number.isInteger(max) || max < 0) throw awsError('InvalidArgument', 'MaxKeys must be a non-negative integer');
      if (input.VersionIdMarker !== undefined && input.KeyMarker === undefined) {
        throw awsError('InvalidArgument', 'A version-id marker cannot be specified without a key marker.');
      }
      const prefix = input.Prefix ?? '';
      // Keys in order; per key the latest entry first, as S3 lists them.
      const all: Array<{ entry: SimS3Entry; isLatest: boolean }> = [];
      for (const key of [...bucket.keys()].filter((k) => k.startsWith(prefix)).sort()) {
        const entries = bucket.get(key)!;
        for (let i = entries.length - 1; i >= 0; i--) all.push({ entry: entries[i], isLatest: i === entries.length - 1 });
      }
      let start = 0;
      if (input.KeyMarker !== undefined) {
        const keyMarker = input.KeyMarker;
        if (input.VersionIdMarker === undefined || input.VersionIdMarker === '') {
          start = all.findIndex((v) => v.entry.key > keyMarker);
        } else {
          const at = all.findIndex((v) => v.entry.key === keyMarker && v.entry.versionId === input.VersionIdMarker);
          if (at < 0) throw awsError('InvalidArgument', 'Invalid version id specified');
          start = at + 1;
        }
        if (start < 0) start = all.length;
      }
      const page = all.slice(start, start + Math.min(max, 1000));
      const truncated = start + page.length < all.length;
      const last = page[page.length - 1]?.entry;
      const versions: ObjectVersion[] = [];
      const markers: DeleteMarkerEntry[] = [];
      for (const { entry, isLatest } of page) {
        if (isDeleteMarker(entry)) {
          markers.push({ Key: entry.key, VersionId: entry.versionId, IsLatest: isLatest, LastModified: new Date(entry.lastModified) });
        } else {
          versions.push({
            Key: entry.key,
            VersionId: entry.versionId,
            IsLatest: isLatest,
            LastModified: new Date(entry.lastModified),
            ETag: entry.etag,
            Size: entry.body.length,
            StorageClass: 'STANDARD',
          });
        }
      }
      return {
        Name: input.Bucket,
        Prefix: prefix,
        MaxKeys: max,
        KeyMarker: input.KeyMarker ?? '',
        VersionIdMarker: input.VersionIdMarker ?? '',
        IsTruncated: truncated,
        Versions: versions.length > 0 ? versions : undefined,
        DeleteMarkers: markers.length > 0 ? markers : undefined,
        ...(truncated && last ? { NextKeyMarker: last.key, NextVersionIdMarker: last.versionId } : {}),
      };
    },
  } satisfies OperationsOf<typeof S3_OPERATIONS>;

  private mustGetBucket(name: string | undefined): Map<string, SimS3Entry[]> {
    const bucket = name === undefined ? undefined : this.store.get(name);
    if (!bucket) throw awsError('NoSuchBucket', `The specified bucket does not exist: ${String(name)}`, 404);
    return bucket;
  }

  private currentObjects(name: string | undefined): ReadonlyMap<string, SimS3Object> {
    this.mustGetBucket(name);
    return this.buckets.get(name!)!;
  }

  /** The latest version, or the given one; a delete marker reads as NoSuchKey (latest) or MethodNotAllowed (by id), as in S3. */
  private mustGetObject(
    bucketName: string | undefined,
    key: string | undefined,
    versionId: string | undefined,
    code: 'NoSuchKey' | 'NotFound',
  ): SimS3Object {
    const entries = this.mustGetBucket(bucketName).get(mustKey(key)) ?? [];
    if (versionId !== undefined) {
      const entry = entries.find((e) => e.versionId === versionId);
      if (!entry)
        throw awsError(
          code === 'NoSuchKey' ? 'NoSuchVersion' : 'NotFound',
          code === 'NoSuchKey' ? 'The specified version does not exist.' : 'Not Found',
          404,
        );
      if (isDeleteMarker(entry)) throw awsError('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405);
      return entry;
    }
    const latest = entries[entries.length - 1];
    if (!latest || isDeleteMarker(latest)) {
      throw awsError(code, code === 'NoSuchKey' ? 'The specified key does not exist.' : 'Not Found', 404);
    }
    return latest;
  }
}

function append(bucket: Map<string, SimS3Entry[]>, key: string, entry: SimS3Entry): void {
  const entries = bucket.get(key);
  if (entries) entries.push(entry);
  else bucket.set(key, [entry]);
}

/** S3 version ids are 32 URL-safe characters. */
function newVersionId(): string {
  return randomMixed(32);
}

function mustKey(key: string | undefined): string {
  if (!key) throw awsError('InvalidArgument', 'Key is required');
  return key;
}

/** s3 in the registry (registry.ts). */
export const s3Service = defineService({
  prefix: 's3',
  property: 's3',
  operations: S3_OPERATIONS,
  client: s3Sdk.S3Client,
  sdk: { exports: s3Sdk, baseException: 'S3ServiceException' },
  throttlingCode: 'SlowDown',
  // Published: 3,500 writes and 5,500 reads per second per prefix.
  defaultRates: { 's3:*': 5500, 's3:PutObject': 3500, 's3:DeleteObject': 3500 },
  create: (ctx) => new SimS3(ctx.clock),
  // Every version of every object (an old version stays readable by its VersionId); delete markers hold no data.
  recorded: (s3) =>
    s3.allVersions().flatMap(({ bucket, entry: o }) =>
      'deleteMarker' in o
        ? []
        : [
            {
              place: 's3 objects',
              name: `s3://${bucket}/${o.key}?versionId=${o.versionId}`,
              text: `${JSON.stringify(o.metadata)}\n${textOf(o.body)}`,
            },
          ],
    ),
});

/** An object body as text; a body that is not UTF-8 (raw DER, say) as hex, so the scan's hex needles see it. */
function textOf(body: Buffer): string {
  const text = body.toString('utf8');
  return Buffer.from(text, 'utf8').equals(body) ? text : body.toString('hex');
}
