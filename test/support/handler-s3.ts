import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/util-stream';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { settle } from './handler-support';

/** S3 operations the fake implements. */
export type FakeS3Operation = 'PutObject' | 'GetObject' | 'ListObjectsV2' | 'DeleteObject';

/**
 * An in-memory S3 bucket set behind a mocked S3Client, for handler unit tests that use the
 * ArtifactStore / ChangeLedger (plan, approvals, ledger, report) or staged objects (obtain).
 *
 * Semantics kept from S3: GetObject of a missing key throws `NoSuchKey` (name 'NoSuchKey', 404);
 * GetObject's Body is an SDK stream (`transformToString()`); DeleteObject of a missing key
 * succeeds; ListObjectsV2 returns keys in lexicographic order, `pageSize` per page, with
 * IsTruncated / NextContinuationToken.
 */
export interface InMemoryS3 {
  readonly client: S3Client;
  readonly mock: AwsClientStub<S3Client>;
  /** Body text of `bucket`/`key`, or undefined. */
  text(bucket: string, key: string): string | undefined;
  /** Parsed JSON of `bucket`/`key`, or undefined. */
  json<T>(bucket: string, key: string): T | undefined;
  /** Keys of `bucket` starting with `prefix`, sorted. */
  keys(bucket: string, prefix?: string): string[];
  /** Stores an object directly (arrange step). */
  put(bucket: string, key: string, body: string): void;
  /** The next call of `operation` (matching `key` when given) throws `error` instead of running. */
  failNext(operation: FakeS3Operation, error: Error, key?: string): void;
  /** Empties every bucket, forgets queued failures and recorded calls, re-installs the fake. */
  reset(): void;
}

function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body).toString('utf-8');
  throw new Error(`in-memory S3: unsupported PutObject Body type ${typeof body}`);
}

function noSuchKey(key: string): NoSuchKey {
  return new NoSuchKey({ message: `The specified key does not exist. (${key})`, $metadata: { httpStatusCode: 404 } });
}

export function createInMemoryS3(options: { readonly pageSize?: number; readonly versioned?: boolean } = {}): InMemoryS3 {
  const pageSize = options.pageSize ?? 1000;
  const client = new S3Client({ region: 'us-east-1' });
  const mock = mockClient(client);
  const objects = new Map<string, string>();
  const failures: Array<{ operation: FakeS3Operation; error: Error; key?: string }> = [];
  const id = (bucket: string, key: string) => `${bucket}\u0000${key}`;

  const takeFailure = (operation: FakeS3Operation, key: string | undefined): void => {
    const index = failures.findIndex((f) => f.operation === operation && (f.key === undefined || f.key === key));
    if (index >= 0) {
      const [failure] = failures.splice(index, 1);
      throw failure.error;
    }
  };

  const keys = (bucket: string, prefix = ''): string[] =>
    [...objects.keys()]
      .filter((k) => k.startsWith(`${bucket}\u0000`))
      .map((k) => k.slice(bucket.length + 1))
      .filter((k) => k.startsWith(prefix))
      .sort();

  const install = () => {
    mock.on(PutObjectCommand).callsFake(
      settle((input: { Bucket?: string; Key?: string; Body?: unknown }) => {
        takeFailure('PutObject', input.Key);
        objects.set(id(input.Bucket ?? '', input.Key ?? ''), bodyText(input.Body));
        return { ETag: '"etag"', $metadata: { httpStatusCode: 200 } };
      }),
    );
    mock.on(GetObjectCommand).callsFake(
      settle((input: { Bucket?: string; Key?: string }) => {
        takeFailure('GetObject', input.Key);
        const text = objects.get(id(input.Bucket ?? '', input.Key ?? ''));
        if (text === undefined) throw noSuchKey(input.Key ?? '');
        const body = sdkStreamMixin(Readable.from([Buffer.from(text, 'utf-8')]));
        return {
          Body: body as GetObjectCommandOutput['Body'],
          ...(options.versioned ? { VersionId: `v-${input.Key ?? ''}` } : {}),
          $metadata: { httpStatusCode: 200 },
        };
      }),
    );
    mock.on(DeleteObjectCommand).callsFake(
      settle((input: { Bucket?: string; Key?: string }) => {
        takeFailure('DeleteObject', input.Key);
        objects.delete(id(input.Bucket ?? '', input.Key ?? ''));
        return { $metadata: { httpStatusCode: 204 } };
      }),
    );
    mock.on(ListObjectsV2Command).callsFake(
      settle((input: { Bucket?: string; Prefix?: string; ContinuationToken?: string }) => {
        takeFailure('ListObjectsV2', input.Prefix);
        const all = keys(input.Bucket ?? '', input.Prefix ?? '');
        const start = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
        const page = all.slice(start, start + pageSize);
        const truncated = start + pageSize < all.length;
        return {
          Contents: page.map((Key) => ({ Key })),
          KeyCount: page.length,
          IsTruncated: truncated,
          ...(truncated ? { NextContinuationToken: String(start + pageSize) } : {}),
          $metadata: { httpStatusCode: 200 },
        };
      }),
    );
  };
  install();

  return {
    client,
    mock,
    text: (bucket, key) => objects.get(id(bucket, key)),
    json: <T>(bucket: string, key: string) => {
      const text = objects.get(id(bucket, key));
      return text === undefined ? undefined : (JSON.parse(text) as T);
    },
    keys,
    put: (bucket, key, body) => {
      objects.set(id(bucket, key), body);
    },
    failNext: (operation, error, key) => {
      failures.push({ operation, error, ...(key !== undefined ? { key } : {}) });
    },
    reset: () => {
      mock.reset();
      objects.clear();
      failures.length = 0;
      install();
    },
  };
}
