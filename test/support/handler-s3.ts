import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { sdkStreamMixin } from '@smithy/util-stream';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { settle } from './handler-support';

/** S3 operations the fake implements. */
export type FakeS3Operation = 'PutObject' | 'GetObject' | 'ListObjectsV2' | 'DeleteObject' | 'ListObjectVersions';

/**
 * An in-memory S3 bucket set behind a mocked S3Client, for handler unit tests that use the
 * ArtifactStore / ChangeLedger (plan, approvals, ledger, report) or staged objects (obtain).
 *
 * Semantics kept from S3: GetObject of a missing key throws `NoSuchKey` (name 'NoSuchKey', 404);
 * GetObject's Body is an SDK stream (`transformToString()`); DeleteObject of a missing key
 * succeeds; ListObjectsV2 returns keys in lexicographic order, `pageSize` per page, with
 * IsTruncated / NextContinuationToken.
 *
 * With `versioned: true` the buckets keep versions as S3 does: PutObject adds a version (id
 * `v1`, `v2`, ... per key), GetObject reads the latest or `VersionId`, DeleteObject without a
 * VersionId adds a delete marker, with one removes that version or marker for good, and
 * ListObjectVersions pages (`pageSize`) through versions and markers with KeyMarker /
 * VersionIdMarker. Unversioned, every object is version `null`, as S3 lists it.
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
  /** Stores an object directly (arrange step); versioned: a new version, whose id is returned. */
  put(bucket: string, key: string, body: string): string;
  /** Versioned: adds a delete marker directly (arrange step); returns its version id. */
  deleteMarker(bucket: string, key: string): string;
  /** Every version and delete marker of `bucket`/`key`, oldest first. */
  versions(bucket: string, key: string): Array<{ readonly versionId: string; readonly deleteMarker: boolean }>;
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
  const versioned = options.versioned ?? false;
  const client = new S3Client({ region: 'us-east-1' });
  const mock = mockClient(client);
  /** bucket\0key -> its entries, oldest first (a `text` of undefined is a delete marker). */
  const history = new Map<string, Array<{ versionId: string; text?: string }>>();
  let serial = 0;
  const failures: Array<{ operation: FakeS3Operation; error: Error; key?: string }> = [];
  const id = (bucket: string, key: string) => `${bucket}\u0000${key}`;
  const latest = (bucket: string, key: string) => history.get(id(bucket, key))?.at(-1)?.text;

  const takeFailure = (operation: FakeS3Operation, key: string | undefined): void => {
    const index = failures.findIndex((f) => f.operation === operation && (f.key === undefined || f.key === key));
    if (index >= 0) {
      const [failure] = failures.splice(index, 1);
      throw failure.error;
    }
  };

  const add = (bucket: string, key: string, text: string | undefined): string => {
    const entries = history.get(id(bucket, key)) ?? [];
    const versionId = versioned ? `v${++serial}` : 'null';
    history.set(
      id(bucket, key),
      versioned ? [...entries, { versionId, ...(text !== undefined ? { text } : {}) }] : text === undefined ? [] : [{ versionId, text }],
    );
    if (history.get(id(bucket, key))!.length === 0) history.delete(id(bucket, key));
    return versionId;
  };

  const allKeys = (bucket: string, prefix = ''): string[] =>
    [...history.keys()]
      .filter((k) => k.startsWith(`${bucket}\u0000`))
      .map((k) => k.slice(bucket.length + 1))
      .filter((k) => k.startsWith(prefix))
      .sort();
  const keys = (bucket: string, prefix = ''): string[] => allKeys(bucket, prefix).filter((k) => latest(bucket, k) !== undefined);

  const install = () => {
    mock.on(PutObjectCommand).callsFake(
      settle((input: { Bucket?: string; Key?: string; Body?: unknown }) => {
        takeFailure('PutObject', input.Key);
        const versionId = add(input.Bucket ?? '', input.Key ?? '', bodyText(input.Body));
        return { ETag: '"etag"', ...(versioned ? { VersionId: versionId } : {}), $metadata: { httpStatusCode: 200 } };
      }),
    );
    mock.on(GetObjectCommand).callsFake(
      settle((input: { Bucket?: string; Key?: string; VersionId?: string }) => {
        takeFailure('GetObject', input.Key);
        const entries = history.get(id(input.Bucket ?? '', input.Key ?? '')) ?? [];
        const entry = input.VersionId === undefined ? entries.at(-1) : entries.find((e) => e.versionId === input.VersionId);
        if (entry?.text === undefined) throw noSuchKey(input.Key ?? '');
        const body = sdkStreamMixin(Readable.from([Buffer.from(entry.text, 'utf-8')]));
        return {
          Body: body as GetObjectCommandOutput['Body'],
          ...(versioned ? { VersionId: entry.versionId } : {}),
          $metadata: { httpStatusCode: 200 },
        };
      }),
    );
    mock.on(DeleteObjectCommand).callsFake(
      settle((input: { Bucket?: string; Key?: string; VersionId?: string }) => {
        takeFailure('DeleteObject', input.Key);
        const at = id(input.Bucket ?? '', input.Key ?? '');
        if (input.VersionId === undefined) {
          const marker = add(input.Bucket ?? '', input.Key ?? '', undefined);
          return { ...(versioned ? { DeleteMarker: true, VersionId: marker } : {}), $metadata: { httpStatusCode: 204 } };
        }
        const rest = (history.get(at) ?? []).filter((e) => e.versionId !== input.VersionId);
        if (rest.length > 0) history.set(at, rest);
        else history.delete(at);
        return { VersionId: input.VersionId, $metadata: { httpStatusCode: 204 } };
      }),
    );
    mock.on(ListObjectVersionsCommand).callsFake(
      settle((input: { Bucket?: string; Prefix?: string; KeyMarker?: string; VersionIdMarker?: string }) => {
        takeFailure('ListObjectVersions', input.Prefix);
        const bucket = input.Bucket ?? '';
        const all = allKeys(bucket, input.Prefix ?? '').flatMap((key) => {
          const entries = history.get(id(bucket, key)) ?? [];
          return entries.map((e, i) => ({ key, ...e, isLatest: i === entries.length - 1 })).reverse();
        });
        let start = 0;
        if (input.KeyMarker !== undefined) {
          const marker = input.KeyMarker;
          if (input.VersionIdMarker) {
            const at = all.findIndex((v) => v.key === marker && v.versionId === input.VersionIdMarker);
            start = at < 0 ? all.length : at + 1;
          } else {
            const at = all.findIndex((v) => v.key > marker);
            start = at < 0 ? all.length : at;
          }
        }
        const page = all.slice(start, start + pageSize);
        const truncated = start + page.length < all.length;
        const last = page.at(-1);
        return {
          Versions: page.filter((v) => v.text !== undefined).map((v) => ({ Key: v.key, VersionId: v.versionId, IsLatest: v.isLatest })),
          DeleteMarkers: page
            .filter((v) => v.text === undefined)
            .map((v) => ({ Key: v.key, VersionId: v.versionId, IsLatest: v.isLatest })),
          IsTruncated: truncated,
          ...(truncated && last ? { NextKeyMarker: last.key, NextVersionIdMarker: last.versionId } : {}),
          $metadata: { httpStatusCode: 200 },
        };
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
    text: (bucket, key) => latest(bucket, key),
    json: <T>(bucket: string, key: string) => {
      const text = latest(bucket, key);
      return text === undefined ? undefined : (JSON.parse(text) as T);
    },
    keys,
    put: (bucket, key, body) => add(bucket, key, body),
    deleteMarker: (bucket, key) => {
      if (!versioned) throw new Error('in-memory S3: delete markers exist only in a versioned bucket');
      return add(bucket, key, undefined);
    },
    versions: (bucket, key) =>
      (history.get(id(bucket, key)) ?? []).map((e) => ({ versionId: e.versionId, deleteMarker: e.text === undefined })),
    failNext: (operation, error, key) => {
      failures.push({ operation, error, ...(key !== undefined ? { key } : {}) });
    },
    reset: () => {
      mock.reset();
      history.clear();
      failures.length = 0;
      install();
    },
  };
}
