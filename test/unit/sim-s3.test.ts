/**
 * The simulated S3 is versioned like the rotation's real buckets (lib/storage.ts): driven through a
 * real SDK v3 client against the simulated account.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  type ListObjectVersionsCommandOutput,
} from '@aws-sdk/client-s3';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { issueWithFreshPki } from '../../local/certs';
import { defaultFleet, SimulatedAccount, SIMULATED_OPERATIONS } from '../../local/sim';

const BUCKET = 'versioned';

describe('simulated S3 versioning', () => {
  let account: SimulatedAccount;
  let s3: S3Client;

  beforeAll(async () => {
    const [current, other] = await Promise.all([
      issueWithFreshPki({ names: ['*.gitter.im', 'gitter.im'] }),
      issueWithFreshPki({ names: ['*.example.org'], keyType: 'ec-p256' }),
    ]);
    account = await SimulatedAccount.create({ fleet: defaultFleet(), current, other });
    account.install();
  });

  afterAll(async () => {
    await account.close();
  });

  let bucket = '';
  let n = 0;
  beforeEach(() => {
    // A fresh bucket per test: the account is shared.
    bucket = `${BUCKET}-${++n}`;
    account.s3.createBucket(bucket);
    s3 = new S3Client({ maxAttempts: 1 });
  });

  const bucketName = () => bucket;
  const put = async (Key: string, Body: string) => (await s3.send(new PutObjectCommand({ Bucket: bucketName(), Key, Body }))).VersionId!;
  const text = async (Key: string, VersionId?: string) =>
    (await s3.send(new GetObjectCommand({ Bucket: bucketName(), Key, VersionId }))).Body!.transformToString();

  async function listAllVersions(Prefix: string | undefined, MaxKeys: number) {
    const versions: Array<{ key: string; versionId: string; isLatest: boolean; marker: boolean }> = [];
    let pages = 0;
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    for (;;) {
      const out: ListObjectVersionsCommandOutput = await s3.send(
        new ListObjectVersionsCommand({ Bucket: bucketName(), Prefix, MaxKeys, KeyMarker, VersionIdMarker }),
      );
      pages += 1;
      const page = [
        ...(out.Versions ?? []).map((v) => ({
          key: v.Key!,
          versionId: v.VersionId!,
          isLatest: v.IsLatest!,
          marker: false,
          at: v.LastModified,
        })),
        ...(out.DeleteMarkers ?? []).map((m) => ({
          key: m.Key!,
          versionId: m.VersionId!,
          isLatest: m.IsLatest!,
          marker: true,
          at: m.LastModified,
        })),
      ];
      expect(page.length).toBeLessThanOrEqual(MaxKeys);
      versions.push(...page.map(({ key, versionId, isLatest, marker }) => ({ key, versionId, isLatest, marker })));
      if (!out.IsTruncated) break;
      KeyMarker = out.NextKeyMarker;
      VersionIdMarker = out.NextVersionIdMarker;
    }
    return { versions, pages };
  }

  test('the operations are declared, so the faults file may name them', () => {
    expect(SIMULATED_OPERATIONS).toEqual(expect.arrayContaining(['s3:ListObjectVersions', 's3:DeleteObject', 's3:GetObject']));
  });

  test('PutObject returns a new VersionId each time and keeps the earlier versions readable by id', async () => {
    // Act
    const v1 = await put('key.pem', 'one');
    const v2 = await put('key.pem', 'two');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucketName(), Key: 'key.pem', VersionId: v1 }));

    // Assert
    expect(v1).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(v2).not.toBe(v1);
    expect(await text('key.pem')).toBe('two');
    expect(await text('key.pem', v1)).toBe('one');
    expect(await text('key.pem', v2)).toBe('two');
    expect(head).toMatchObject({ VersionId: v1, ContentLength: 3 });
    const current = await s3.send(new GetObjectCommand({ Bucket: bucketName(), Key: 'key.pem' }));
    expect(current.VersionId).toBe(v2);
  });

  test('DeleteObject without VersionId adds a delete marker: the key reads as NoSuchKey, its versions stay', async () => {
    // Arrange
    const v1 = await put('key.pem', 'one');

    // Act
    const deleted = await s3.send(new DeleteObjectCommand({ Bucket: bucketName(), Key: 'key.pem' }));
    const get = await s3.send(new GetObjectCommand({ Bucket: bucketName(), Key: 'key.pem' })).catch((e: unknown) => e);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucketName(), Key: 'key.pem' })).catch((e: unknown) => e);
    const byMarker = await s3
      .send(new GetObjectCommand({ Bucket: bucketName(), Key: 'key.pem', VersionId: deleted.VersionId }))
      .catch((e: unknown) => e);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucketName() }));

    // Assert
    expect(deleted).toMatchObject({ DeleteMarker: true, VersionId: expect.stringMatching(/^[A-Za-z0-9]{32}$/) });
    expect(get).toBeInstanceOf(NoSuchKey);
    expect(head).toMatchObject({ name: 'NotFound', $metadata: { httpStatusCode: 404 } });
    expect(byMarker).toMatchObject({ name: 'MethodNotAllowed', $metadata: { httpStatusCode: 405 } });
    expect(listed.Contents).toBeUndefined();
    expect(await text('key.pem', v1)).toBe('one');
    const expected = [
      { key: 'key.pem', versionId: deleted.VersionId!, isLatest: true, marker: true },
      { key: 'key.pem', versionId: v1, isLatest: false, marker: false },
    ];
    expect(sortLike((await listAllVersions(undefined, 1000)).versions, expected)).toEqual(expected);
  });

  test('DeleteObject with VersionId removes that version (or delete marker) for good; an older version becomes current', async () => {
    // Arrange
    const v1 = await put('key.pem', 'one');
    const v2 = await put('key.pem', 'two');
    const marker = (await s3.send(new DeleteObjectCommand({ Bucket: bucketName(), Key: 'key.pem' }))).VersionId!;

    // Act: remove the marker, then the version read last (the mistake of issue finding 5)
    const unmarked = await s3.send(new DeleteObjectCommand({ Bucket: bucketName(), Key: 'key.pem', VersionId: marker }));
    const afterMarker = await text('key.pem');
    const removed = await s3.send(new DeleteObjectCommand({ Bucket: bucketName(), Key: 'key.pem', VersionId: v2 }));
    const afterV2 = await text('key.pem');
    const gone = await s3.send(new GetObjectCommand({ Bucket: bucketName(), Key: 'key.pem', VersionId: v2 })).catch((e: unknown) => e);
    const again = await s3.send(new DeleteObjectCommand({ Bucket: bucketName(), Key: 'key.pem', VersionId: v2 }));
    await s3.send(new DeleteObjectCommand({ Bucket: bucketName(), Key: 'key.pem', VersionId: v1 }));
    const none = await s3.send(new GetObjectCommand({ Bucket: bucketName(), Key: 'key.pem' })).catch((e: unknown) => e);

    // Assert
    expect(unmarked).toMatchObject({ VersionId: marker, DeleteMarker: true });
    expect(afterMarker).toBe('two');
    expect(removed).toEqual(expect.objectContaining({ VersionId: v2 }));
    expect(removed.DeleteMarker).toBeUndefined();
    expect(afterV2).toBe('one');
    expect(gone).toMatchObject({ name: 'NoSuchVersion', $metadata: { httpStatusCode: 404 } });
    expect(again).toMatchObject({ VersionId: v2 });
    expect(none).toBeInstanceOf(NoSuchKey);
    expect((await listAllVersions(undefined, 1000)).versions).toEqual([]);
    expect(account.s3.allVersions().filter((v) => v.bucket === bucketName())).toEqual([]);
  });

  test('ListObjectVersions: Prefix, keys in order, newest first per key, pages of MaxKeys through KeyMarker/VersionIdMarker', async () => {
    // Arrange: 3 versions of a/1, a delete marker over a/2, one version of a/3, and b/1 outside the prefix
    const a1 = [await put('a/1', 'x'), await put('a/1', 'y'), await put('a/1', 'z')];
    const a2 = await put('a/2', 'x');
    const a2marker = (await s3.send(new DeleteObjectCommand({ Bucket: bucketName(), Key: 'a/2' }))).VersionId!;
    const a3 = await put('a/3', 'x');
    await put('b/1', 'x');

    // Act
    const whole = await listAllVersions('a/', 1000);
    const paged = await listAllVersions('a/', 2);
    const bad = await s3.send(new ListObjectVersionsCommand({ Bucket: bucketName(), VersionIdMarker: a1[0] })).catch((e: unknown) => e);
    const afterKey = await s3.send(new ListObjectVersionsCommand({ Bucket: bucketName(), Prefix: 'a/', KeyMarker: 'a/1' }));

    // Assert
    const expected = [
      { key: 'a/1', versionId: a1[2], isLatest: true, marker: false },
      { key: 'a/1', versionId: a1[1], isLatest: false, marker: false },
      { key: 'a/1', versionId: a1[0], isLatest: false, marker: false },
      { key: 'a/2', versionId: a2marker, isLatest: true, marker: true },
      { key: 'a/2', versionId: a2, isLatest: false, marker: false },
      { key: 'a/3', versionId: a3, isLatest: true, marker: false },
    ];
    // Versions and markers come back in separate arrays; compare as sets per page order-insensitively, in full order overall.
    expect(whole.pages).toBe(1);
    expect(sortLike(whole.versions, expected)).toEqual(expected);
    expect(paged.pages).toBe(3);
    expect(sortLike(paged.versions, expected)).toEqual(expected);
    expect(bad).toMatchObject({ name: 'InvalidArgument' });
    expect((afterKey.Versions ?? []).map((v) => v.Key)).toEqual(['a/2', 'a/3']);
    expect((afterKey.DeleteMarkers ?? []).map((v) => v.VersionId)).toEqual([a2marker]);
  });

  test('recorded() holds every version of every object, each named by its version id', async () => {
    // Arrange
    const v1 = await put('staged/key.pem', 'first upload');
    const v2 = await put('staged/key.pem', 'second upload');
    await s3.send(new DeleteObjectCommand({ Bucket: bucketName(), Key: 'staged/key.pem' }));

    // Act
    const recorded = account.recorded().filter((r) => r.name.startsWith(`s3://${bucketName()}/`));

    // Assert
    expect(recorded.map((r) => r.name).sort()).toEqual(
      [`s3://${bucketName()}/staged/key.pem?versionId=${v1}`, `s3://${bucketName()}/staged/key.pem?versionId=${v2}`].sort(),
    );
    expect(recorded.map((r) => r.text.split('\n')[1]).sort()).toEqual(['first upload', 'second upload']);
    expect(recorded.every((r) => r.place === 's3 objects')).toBe(true);
  });

  test('recorded() holds every version of an SSM parameter too (an overwritten value stays in its history)', async () => {
    // Arrange
    const ssm = new SSMClient({ maxAttempts: 1 });
    await ssm.send(new PutParameterCommand({ Name: '/scan/param', Value: 'first value', Type: 'String' }));
    await ssm.send(new PutParameterCommand({ Name: '/scan/param', Value: 'second value', Overwrite: true }));

    // Act
    const recorded = account.recorded().filter((r) => r.place === 'ssm parameters' && r.name.startsWith('/scan/param'));

    // Assert
    expect(recorded.map((r) => r.name)).toEqual(['/scan/param (version 1)', '/scan/param (version 2)']);
    expect(recorded.map((r) => r.text.split('\n')[1])).toEqual(['first value', 'second value']);
  });
});

/** Orders `actual` by the position of each entry in `expected` (a page lists versions and markers in two arrays). */
function sortLike<T extends { versionId: string }>(actual: T[], expected: T[]): T[] {
  const at = (v: T) => expected.findIndex((e) => e.versionId === v.versionId);
  return [...actual].sort((a, b) => at(a) - at(b));
}
