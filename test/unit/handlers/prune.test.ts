import { createHash } from 'node:crypto';
import { DescribeListenerCertificatesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListDistributionsCommand } from '@aws-sdk/client-cloudfront';
import { DescribeLoadBalancersCommand } from '@aws-sdk/client-elastic-load-balancing';
import {
  DeleteConflictException,
  DeleteServerCertificateCommand,
  IAMClient,
  ListServerCertificatesCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { pruneCertificates, pruneRecordKey, type PruneParams } from '../../../lambdas/prune/domain';
import { ArtifactStore } from '../../../lambdas/shared/artifacts';
import { isDomainCertificateName } from '../../../lambdas/shared/iam-prune';
import { silentLogger } from '../../../lambdas/shared/logger';
import { createInMemoryS3 } from '../../support/handler-s3';
import { awsError, caught, settle } from '../../support/handler-support';
import { EdgeFake, edgeClients, type EdgeSpec } from '../../support/iam-housekeeping';

const iamMock = mockClient(IAMClient);
const s3 = createInMemoryS3();

const PATH = '/cloudfront/gitter-production/';
const EXECUTION = 'rotate-2026-11-27';
const BUCKET = 'artifacts';
const NEW = 'STAR.gitter.im_2026-11-27';
const PREVIOUS = 'STAR.gitter.im_2025-11-20';

const arnFor = (name: string, path = PATH) => `arn:aws:iam::123456789012:server-certificate${path}${name}`;
const idFor = (name: string) => `ASCA${createHash('sha256').update(name).digest('hex').slice(0, 17).toUpperCase()}`;

/** IAM server certificates: name -> path and upload day. */
let iam: Map<string, { path: string; day: string }>;

function installIamFake(): void {
  iamMock.on(ListServerCertificatesCommand).callsFake(
    settle((input: { Marker?: string }) => {
      // Two per page, so the listing is paginated.
      const all = [...iam].map(([name, c]) => ({
        Path: c.path,
        ServerCertificateName: name,
        ServerCertificateId: idFor(name),
        Arn: arnFor(name, c.path),
        UploadDate: new Date(`${c.day}T00:00:00Z`),
      }));
      const start = Number(input.Marker ?? '0');
      return {
        ServerCertificateMetadataList: all.slice(start, start + 2),
        IsTruncated: start + 2 < all.length,
        ...(start + 2 < all.length ? { Marker: String(start + 2) } : {}),
      };
    }),
  );
  iamMock.on(DeleteServerCertificateCommand).callsFake(
    settle((input: { ServerCertificateName?: string }) => {
      const name = input.ServerCertificateName ?? '';
      if (!iam.delete(name)) throw new NoSuchEntityException({ message: `${name} cannot be found`, $metadata: {} });
      return {};
    }),
  );
}

/** The domain's history: the new and previous certificates, four older ones, plus other domains and paths. */
function seedAccount(): void {
  iam = new Map([
    ['STAR.gitter.im_2019-05-05', { path: PATH, day: '2019-05-05' }],
    ['STAR.gitter.im_2021-11-01', { path: PATH, day: '2021-11-01' }],
    ['STAR.gitter.im_2022-11-01', { path: PATH, day: '2022-11-01' }],
    ['STAR.gitter.im_2023-11-01', { path: PATH, day: '2023-11-01' }],
    ['STAR.gitter.im_2024-11-01', { path: PATH, day: '2024-11-01' }],
    [PREVIOUS, { path: PATH, day: '2025-11-20' }],
    [NEW, { path: PATH, day: '2026-11-27' }],
    // not this domain's, or not under the configured path: never considered
    ['STAR.gitter.im_2018-01-01', { path: '/cloudfront/staging/', day: '2018-01-01' }],
    ['STAR.gitter.im-old', { path: PATH, day: '2017-01-01' }],
    ['STAR.example.org_2016-01-01', { path: PATH, day: '2016-01-01' }],
  ]);
}

/** Where the older certificates are still in use. */
const inUse: EdgeSpec = {
  elb: { 'apps-servers-elb-prod:6667': arnFor(NEW), 'legacy-elb:443': arnFor('STAR.gitter.im_2021-11-01') },
  // the 2023 certificate is the third certificate of an ALB listener: an SNI one, on the second page of its list
  elbv2: { 'api:443': [arnFor(NEW), 'arn:aws:acm:eu-west-1:123456789012:certificate/x', arnFor('STAR.gitter.im_2023-11-01')] },
  cloudfront: { E2EXAMPLE: idFor(NEW), E3OLD: idFor('STAR.gitter.im_2022-11-01') },
};

beforeEach(() => {
  iamMock.reset();
  s3.reset();
  seedAccount();
  installIamFake();
  EdgeFake.reset(inUse);
});

function makeParams(overrides: Partial<PruneParams> = {}): PruneParams {
  return {
    iam: new IAMClient({ region: 'us-east-1' }),
    clients: edgeClients(),
    store: new ArtifactStore(s3.client, BUCKET),
    logger: silentLogger,
    executionName: EXECUTION,
    iamPath: PATH,
    namePrefix: 'STAR.gitter.im',
    keep: 1,
    previousArn: arnFor(PREVIOUS),
    newName: NEW,
    ...overrides,
  };
}

/** sinon's global call order of a recorded call. */
const callIdOf = (call: unknown) => (call as { callId: number }).callId;

const deletedNames = () => iamMock.commandCalls(DeleteServerCertificateCommand).map((c) => c.args[0].input.ServerCertificateName);

describe('pruneCertificates', () => {
  test('deletes exactly the old unused certificates of the domain; keeps the previous, and every one in use, with the reason', async () => {
    // Act
    const result = await pruneCertificates(makeParams());

    // Assert
    expect(deletedNames().sort()).toEqual(['STAR.gitter.im_2019-05-05', 'STAR.gitter.im_2024-11-01']);
    expect(result.pruned.map((p) => p.name)).toEqual(['STAR.gitter.im_2019-05-05', 'STAR.gitter.im_2024-11-01']);
    expect(result.kept).toEqual(
      expect.arrayContaining([
        { name: NEW, reason: 'the new certificate' },
        { name: PREVIOUS, reason: 'the previous certificate (kept for rollback)' },
        { name: 'STAR.gitter.im_2023-11-01', reason: 'in use by ELBv2 api:443 (SNI)' },
        { name: 'STAR.gitter.im_2022-11-01', reason: 'in use by CloudFront E3OLD' },
        { name: 'STAR.gitter.im_2021-11-01', reason: 'in use by ELB legacy-elb:443' },
      ]),
    );
    expect(result.kept).toHaveLength(5);
    expect(result.checked).toEqual({ elbListeners: 2, elbv2Listeners: 1, distributions: 2 });
    // other paths, undated names and other domains are untouched
    expect([...iam.keys()]).toEqual(
      expect.arrayContaining(['STAR.gitter.im_2018-01-01', 'STAR.gitter.im-old', 'STAR.example.org_2016-01-01', PREVIOUS, NEW]),
    );
    // the decision and outcome are kept in S3
    expect(s3.json(BUCKET, pruneRecordKey(EXECUTION))).toMatchObject({ pruned: result.pruned, kept: result.kept });
    expect(result.recordKey).toBe(`executions/${EXECUTION}/prune.json`);
  });

  test('every listener and distribution is read (both pages of an SNI list) before the first deletion', async () => {
    // Act
    await pruneCertificates(makeParams());

    // Assert
    const firstDelete = Math.min(...iamMock.commandCalls(DeleteServerCertificateCommand).map(callIdOf));
    const reads = [
      ...EdgeFake.mocks.elb.commandCalls(DescribeLoadBalancersCommand),
      ...EdgeFake.mocks.elbv2.commandCalls(DescribeListenerCertificatesCommand),
      ...EdgeFake.mocks.cloudfront.commandCalls(ListDistributionsCommand),
    ];
    expect(EdgeFake.mocks.elbv2.commandCalls(DescribeListenerCertificatesCommand)).toHaveLength(2);
    expect(reads.every((c) => callIdOf(c) < firstDelete)).toBe(true);
  });

  test('a certificate in use only as an ELBv2 SNI certificate is refused, not deleted', async () => {
    // Arrange: only the SNI list holds the 2024 certificate
    EdgeFake.reset({ elbv2: { 'api:443': [arnFor(NEW), arnFor('STAR.gitter.im_2024-11-01')] } });

    // Act
    const result = await pruneCertificates(makeParams());

    // Assert
    expect(deletedNames()).not.toContain('STAR.gitter.im_2024-11-01');
    expect(result.kept).toContainEqual({ name: 'STAR.gitter.im_2024-11-01', reason: 'in use by ELBv2 api:443 (SNI)' });
  });

  test('a certificate in use by a CloudFront distribution (by ServerCertificateId) is refused, not deleted', async () => {
    // Arrange
    EdgeFake.reset({ cloudfront: { E9: idFor('STAR.gitter.im_2019-05-05') } });

    // Act
    const result = await pruneCertificates(makeParams());

    // Assert
    expect(deletedNames()).not.toContain('STAR.gitter.im_2019-05-05');
    expect(result.kept).toContainEqual({ name: 'STAR.gitter.im_2019-05-05', reason: 'in use by CloudFront E9' });
  });

  test('prune.keep = 3 keeps the two newest older certificates too', async () => {
    // Arrange: nothing in use
    EdgeFake.reset();

    // Act
    const result = await pruneCertificates(makeParams({ keep: 3 }));

    // Assert
    expect(result.pruned.map((p) => p.name)).toEqual([
      'STAR.gitter.im_2019-05-05',
      'STAR.gitter.im_2021-11-01',
      'STAR.gitter.im_2022-11-01',
    ]);
    expect(result.kept.filter((k) => k.reason.startsWith('among the 3 newest')).map((k) => k.name)).toEqual([
      'STAR.gitter.im_2024-11-01',
      'STAR.gitter.im_2023-11-01',
    ]);
  });

  test('IAM refusing a deletion as in use (DeleteConflict) keeps it with that reason; the rest is still pruned', async () => {
    // Arrange
    iamMock
      .on(DeleteServerCertificateCommand, { ServerCertificateName: 'STAR.gitter.im_2019-05-05' })
      .rejects(new DeleteConflictException({ message: 'Certificate is currently in use by arn:aws:x', $metadata: {} }));

    // Act
    const result = await pruneCertificates(makeParams());

    // Assert
    expect(result.pruned.map((p) => p.name)).toEqual(['STAR.gitter.im_2024-11-01']);
    expect(result.kept).toContainEqual({
      name: 'STAR.gitter.im_2019-05-05',
      reason: 'IAM refused to delete it: in use (Certificate is currently in use by arn:aws:x)',
    });
  });

  test('a retry after a failure midway reports what the first attempt deleted, and deletes only the rest', async () => {
    // Arrange: the second deletion fails with an error that is not retried by the SDK
    let deletes = 0;
    iamMock.on(DeleteServerCertificateCommand).callsFake(
      settle((input: { ServerCertificateName?: string }) => {
        deletes += 1;
        if (deletes === 2) throw awsError('ServiceFailure', { status: 500 });
        iam.delete(input.ServerCertificateName ?? '');
        return {};
      }),
    );
    const first = await caught(() => pruneCertificates(makeParams()));
    expect(first.name).toBe('ServiceFailure');
    expect(iam.size).toBe(9);
    installIamFake();
    iamMock.resetHistory();

    // Act
    const result = await pruneCertificates(makeParams());

    // Assert
    expect(deletedNames()).toHaveLength(1);
    expect(result.pruned.map((p) => p.name)).toEqual(['STAR.gitter.im_2019-05-05', 'STAR.gitter.im_2024-11-01']);
  });

  test('a re-run after success deletes nothing more and still reports what was pruned', async () => {
    // Arrange
    const first = await pruneCertificates(makeParams());
    iamMock.resetHistory();

    // Act
    const again = await pruneCertificates(makeParams());

    // Assert
    expect(deletedNames()).toHaveLength(0);
    expect(again.pruned).toEqual(first.pruned);
  });

  test('the previous certificate not in IAM -> nothing is pruned (nothing counts as older), each kept with the reason', async () => {
    // Act
    const result = await pruneCertificates(makeParams({ previousArn: arnFor('STAR.gitter.im_1999-01-01') }));

    // Assert
    expect(deletedNames()).toHaveLength(0);
    expect(result.pruned).toEqual([]);
    expect(result.kept[0].reason).toContain('is not in IAM, so nothing counts as older');
  });

  test('nothing older than the previous certificate -> no in-use reads at all', async () => {
    // Arrange
    iam = new Map([
      [PREVIOUS, { path: PATH, day: '2025-11-20' }],
      [NEW, { path: PATH, day: '2026-11-27' }],
    ]);

    // Act
    const result = await pruneCertificates(makeParams());

    // Assert
    expect(result.pruned).toEqual([]);
    expect(EdgeFake.mocks.elb.calls()).toHaveLength(0);
    expect(result).not.toHaveProperty('checked');
  });

  test('an IAM error other than in use fails the task (finish reports it; the rotation stays done)', async () => {
    // Arrange
    iamMock.on(DeleteServerCertificateCommand).rejects(awsError('AccessDenied', { status: 403 }));

    // Act
    const thrown = await caught(() => pruneCertificates(makeParams()));

    // Assert
    expect(thrown.name).toBe('AccessDenied');
  });
});

describe('isDomainCertificateName', () => {
  test.each([
    ['STAR.gitter.im_2017-11-15', true],
    ['STAR.gitter.im_2017-11-15-2', true],
    ['STAR.gitter.im_latest', false],
    ['STAR.gitter.im-2017-11-15', false],
    ['STAR.gitter.im.evil_2017-11-15', false],
    ['xSTAR.gitter.im_2017-11-15', false],
  ])('%s -> %s', (name, expected) => {
    expect(isDomainCertificateName(name, 'STAR.gitter.im')).toBe(expected);
  });
});
