/**
 * Simulated S3 (objects only): PutObject, GetObject (a real SDK stream body: `transformToString()`
 * works), HeadObject, DeleteObject, ListObjectsV2. Buckets are created with `createBucket(name)`
 * (the stack creates them in real life); a missing bucket is NoSuchBucket.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type {
  _Object,
  DeleteObjectCommandInput,
  DeleteObjectCommandOutput,
  GetObjectCommandInput,
  GetObjectCommandOutput,
  HeadObjectCommandInput,
  HeadObjectCommandOutput,
  ListObjectsV2CommandInput,
  ListObjectsV2CommandOutput,
  PutObjectCommandInput,
  PutObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/util-stream';
import type { SimClock } from './clock';
import { awsError } from './errors';
import type { Out } from './iam';

/** A stored object. */
export interface SimS3Object {
  readonly key: string;
  readonly body: Buffer;
  readonly contentType?: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly lastModified: Date;
  readonly etag: string;
  readonly serverSideEncryption?: string;
}

/** The object headers GetObject and HeadObject both return. */
function headersOf(obj: SimS3Object): Omit<HeadObjectCommandOutput, '$metadata'> {
  return {
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

/** Simulated S3. */
export class SimS3 {
  /** Bucket name -> key -> object. */
  readonly buckets = new Map<string, Map<string, SimS3Object>>();

  constructor(private readonly clock: SimClock) {}

  /** Creates an (empty) bucket; a no-op when it exists. */
  createBucket(name: string): void {
    if (!this.buckets.has(name)) this.buckets.set(name, new Map());
  }

  /** Direct read for tests and the report (no API call recorded). */
  getText(bucket: string, key: string): string | undefined {
    return this.buckets.get(bucket)?.get(key)?.body.toString('utf8');
  }

  /** The SDK operations, by name. */
  readonly operations = {
    PutObject: async (input: PutObjectCommandInput): Promise<Out<PutObjectCommandOutput>> => {
      const bucket = this.mustGetBucket(input.Bucket);
      const key = mustKey(input.Key);
      const body = await toBuffer(input.Body);
      const etag = `"${createHash('md5').update(body).digest('hex')}"`;
      bucket.set(key, {
        key,
        body,
        contentType: input.ContentType,
        metadata: { ...(input.Metadata ?? {}) },
        lastModified: this.clock.now(),
        etag,
        serverSideEncryption: input.ServerSideEncryption ?? 'AES256',
      });
      return { ETag: etag, ServerSideEncryption: input.ServerSideEncryption ?? 'AES256' };
    },
    GetObject: (input: GetObjectCommandInput): Out<GetObjectCommandOutput> => {
      const obj = this.mustGetObject(input.Bucket, input.Key, 'NoSuchKey');
      const stream = sdkStreamMixin(Readable.from([Buffer.from(obj.body)], { objectMode: false }));
      return {
        // The SDK types GetObject's Body as its Node.js stream mixin over IncomingMessage; a Readable is what it is at runtime.
        Body: stream,
        ...headersOf(obj),
      };
    },
    HeadObject: (input: HeadObjectCommandInput): Out<HeadObjectCommandOutput> => {
      return headersOf(this.mustGetObject(input.Bucket, input.Key, 'NotFound'));
    },
    DeleteObject: (input: DeleteObjectCommandInput): Out<DeleteObjectCommandOutput> => {
      this.mustGetBucket(input.Bucket).delete(mustKey(input.Key));
      return {};
    },
    ListObjectsV2: (input: ListObjectsV2CommandInput): Out<ListObjectsV2CommandOutput> => {
      const bucket = this.mustGetBucket(input.Bucket);
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
  };

  private mustGetBucket(name: string | undefined): Map<string, SimS3Object> {
    const bucket = name === undefined ? undefined : this.buckets.get(name);
    if (!bucket) throw awsError('NoSuchBucket', `The specified bucket does not exist: ${String(name)}`, 404);
    return bucket;
  }

  private mustGetObject(bucketName: string | undefined, key: string | undefined, code: 'NoSuchKey' | 'NotFound'): SimS3Object {
    const obj = this.mustGetBucket(bucketName).get(mustKey(key));
    if (!obj) throw awsError(code, code === 'NoSuchKey' ? 'The specified key does not exist.' : 'Not Found', 404);
    return obj;
  }
}

function mustKey(key: string | undefined): string {
  if (!key) throw awsError('InvalidArgument', 'Key is required');
  return key;
}
