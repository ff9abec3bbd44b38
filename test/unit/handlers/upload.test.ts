import { createHash } from 'node:crypto';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  DeleteServerCertificateCommand,
  EntityAlreadyExistsException,
  GetAccountSummaryCommand,
  GetServerCertificateCommand,
  IAMClient,
  KeyPairMismatchException,
  LimitExceededException,
  ListServerCertificatesCommand,
  ListServerCertificateTagsCommand,
  MalformedCertificateException,
  NoSuchEntityException,
  UploadServerCertificateCommand,
} from '@aws-sdk/client-iam';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { rollBack } from '../../../lambdas/rollback/domain';
import { ArtifactStore } from '../../../lambdas/shared/artifacts';
import { summarizeCertificate, normalizeBundle } from '../../../lambdas/shared/certificate';
import { ChangeLedger } from '../../../lambdas/shared/ledger';
import {
  CertificateInvalid,
  CertificateNameConflict,
  CertificateNotPropagated,
  ServerCertificateQuotaExceeded,
} from '../../../lambdas/shared/errors';
import { silentLogger } from '../../../lambdas/shared/logger';
import { certificateName, uploadCertificate, type UploadParams } from '../../../lambdas/upload/domain';
import { issueCertificate, issueWithFreshPki } from '../../../local/certs';
import { createInMemoryS3 } from '../../support/handler-s3';
import { EdgeFake, edgeClients } from '../../support/iam-housekeeping';
import { DescribeListenerCertificatesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { caught, expectNoKeyMaterial, recordingLogger, sha256Of, settle } from '../../support/handler-support';

const iamMock = mockClient(IAMClient);
const secretsMock = mockClient(SecretsManagerClient);

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cert-rotation/gitter.im/rotate-2026-11-27-AbCdEf';
const IAM_PATH = '/cloudfront/gitter-production/';
const EXECUTION = 'rotate-2026-11-27';
/** The certificate the estate serves now (the one this rotation replaces). */
const CURRENT = 'STAR.gitter.im_2025-11-20';

/** IAM server certificates by name (insertion order = upload order). */
const iam = new Map<
  string,
  { body: string; chain?: string; path: string; tags?: Array<{ Key: string; Value: string }>; uploaded?: Date }
>();
/** What GetAccountSummary answers as ServerCertificatesQuota. */
let quota = 20;
const arnFor = (name: string, path: string) => `arn:aws:iam::123456789012:server-certificate${path}${name}`;
const idFor = (name: string) => `ASCA${createHash('sha256').update(name).digest('hex').slice(0, 17).toUpperCase()}`;
const noSuchEntity = (name: string) =>
  new NoSuchEntityException({ message: `The Server Certificate with name ${name} cannot be found.`, $metadata: { httpStatusCode: 404 } });

function installIamFake(): void {
  iamMock.on(GetServerCertificateCommand).callsFake(
    settle((input: { ServerCertificateName?: string }) => {
      const name = input.ServerCertificateName ?? '';
      const c = iam.get(name);
      if (!c) throw noSuchEntity(name);
      return {
        ServerCertificate: {
          ServerCertificateMetadata: {
            Path: c.path,
            ServerCertificateName: name,
            ServerCertificateId: idFor(name),
            Arn: arnFor(name, c.path),
          },
          CertificateBody: c.body,
          ...(c.chain ? { CertificateChain: c.chain } : {}),
          ...(c.tags ? { Tags: c.tags } : {}),
        },
      };
    }),
  );
  iamMock
    .on(GetAccountSummaryCommand)
    .callsFake(settle(() => ({ SummaryMap: { ServerCertificates: iam.size, ServerCertificatesQuota: quota } })));
  iamMock.on(ListServerCertificatesCommand).callsFake(
    settle(() => ({
      ServerCertificateMetadataList: [...iam].map(([n, c]) => ({
        Path: c.path,
        ServerCertificateName: n,
        ServerCertificateId: idFor(n),
        Arn: arnFor(n, c.path),
        UploadDate: c.uploaded ?? new Date('2026-11-27T00:00:00Z'),
      })),
      IsTruncated: false,
    })),
  );
  iamMock.on(ListServerCertificateTagsCommand).callsFake(
    settle((input: { ServerCertificateName?: string }) => {
      const c = iam.get(input.ServerCertificateName ?? '');
      if (!c) throw noSuchEntity(input.ServerCertificateName ?? '');
      return { Tags: c.tags ?? [], IsTruncated: false };
    }),
  );
  iamMock.on(DeleteServerCertificateCommand).callsFake(
    settle((input: { ServerCertificateName?: string }) => {
      if (!iam.delete(input.ServerCertificateName ?? '')) throw noSuchEntity(input.ServerCertificateName ?? '');
      return {};
    }),
  );
  iamMock.on(UploadServerCertificateCommand).callsFake(
    settle(
      (input: {
        ServerCertificateName?: string;
        Path?: string;
        CertificateBody?: string;
        CertificateChain?: string;
        Tags?: Array<{ Key?: string; Value?: string }>;
      }) => {
        const name = input.ServerCertificateName ?? '';
        if (iam.has(name))
          throw new EntityAlreadyExistsException({
            message: `The Server Certificate with name ${name} already exists.`,
            $metadata: { httpStatusCode: 409 },
          });
        iam.set(name, {
          body: input.CertificateBody ?? '',
          path: input.Path ?? '/',
          ...(input.CertificateChain ? { chain: input.CertificateChain } : {}),
          tags: (input.Tags ?? []).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' })),
        });
        return {
          ServerCertificateMetadata: {
            Path: input.Path,
            ServerCertificateName: name,
            ServerCertificateId: idFor(name),
            Arn: arnFor(name, input.Path ?? '/'),
          },
        };
      },
    ),
  );
}

let cert: { certPem: string; keyPem: string; chainPem: string };
let other: { certPem: string; keyPem: string };
let expected: UploadParams['expected'];
let name: string;

beforeAll(async () => {
  const pki = await issueWithFreshPki({ names: ['*.gitter.im', 'gitter.im'] });
  cert = pki;
  other = await issueCertificate({ names: ['*.gitter.im', 'gitter.im'], issuer: pki.intermediate, keyType: 'ec-p256' });
  const summary = summarizeCertificate(cert.certPem);
  expected = { sha256: summary.sha256, notBefore: summary.notBefore };
  name = `STAR.gitter.im_${summary.notBefore.slice(0, 10)}`;
});

function storeSecret(bundle: Record<string, string>): void {
  secretsMock.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ ARN: SECRET_ARN, SecretString: JSON.stringify(bundle) });
}

beforeEach(() => {
  iamMock.reset();
  secretsMock.reset();
  iam.clear();
  quota = 20;
  EdgeFake.reset();
  installIamFake();
  storeSecret({ certificate: cert.certPem, privateKey: cert.keyPem, chain: cert.chainPem });
});

function makeParams(overrides: Partial<UploadParams> = {}): UploadParams {
  return {
    iam: new IAMClient({ region: 'us-east-1' }),
    secrets: new SecretsManagerClient({ region: 'eu-west-1' }),
    logger: silentLogger,
    secretArn: SECRET_ARN,
    iamPath: IAM_PATH,
    namePrefix: 'STAR.gitter.im',
    domain: 'gitter.im',
    executionName: EXECUTION,
    expected,
    edge: edgeClients(),
    currentArn: arnFor(CURRENT, IAM_PATH),
    pruneKeep: 1,
    ...overrides,
  };
}

describe('certificateName', () => {
  test('is <prefix>_<yyyy-mm-dd of notBefore (UTC)>', () => {
    // Arrange / Act / Assert
    expect(certificateName('STAR.gitter.im', '2017-11-15T12:00:00.000Z')).toBe('STAR.gitter.im_2017-11-15');
    expect(certificateName('STAR.gitter.im', '2026-11-27T23:59:59.000Z')).toBe('STAR.gitter.im_2026-11-27');
  });
});

describe('uploadCertificate', () => {
  test('a fresh upload: dated name, configured path, certificate + key + chain, tags; verified by read-back', async () => {
    // Arrange (IAM empty)
    const normalized = normalizeBundle({ certificate: cert.certPem, privateKey: cert.keyPem, chain: cert.chainPem });

    // Act
    const result = await uploadCertificate(makeParams());

    // Assert
    expect(result).toEqual({ arn: arnFor(name, IAM_PATH), id: idFor(name), name, path: IAM_PATH, reused: false });
    const uploads = iamMock.commandCalls(UploadServerCertificateCommand);
    expect(uploads).toHaveLength(1);
    const input = uploads[0].args[0].input;
    expect(input).toMatchObject({
      ServerCertificateName: name,
      Path: IAM_PATH,
      CertificateBody: normalized.certificate,
      PrivateKey: normalized.privateKey,
      CertificateChain: normalized.chain,
    });
    expect(sha256Of(input.CertificateBody!)).toBe(expected.sha256);
    expect(input.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'cert-rotation:domain', Value: 'gitter.im' },
        { Key: 'cert-rotation:execution', Value: EXECUTION },
      ]),
    );
    // read-back after the upload
    expect(iamMock.commandCalls(GetServerCertificateCommand)).toHaveLength(2);
  });

  test('a bundle without a chain uploads no CertificateChain', async () => {
    // Arrange
    storeSecret({ certificate: cert.certPem, privateKey: cert.keyPem });

    // Act
    await uploadCertificate(makeParams());

    // Assert
    expect(iamMock.commandCalls(UploadServerCertificateCommand)[0].args[0].input).not.toHaveProperty('CertificateChain');
  });

  test('IAM already holds the same certificate, uploaded by another execution -> reused: true and no upload', async () => {
    // Arrange
    await uploadCertificate(makeParams({ executionName: 'an-earlier-rotation' }));
    iamMock.resetHistory();

    // Act
    const again = await uploadCertificate(makeParams());

    // Assert
    expect(again).toEqual({ arn: arnFor(name, IAM_PATH), id: idFor(name), name, path: IAM_PATH, reused: true });
    expect(iamMock.commandCalls(UploadServerCertificateCommand)).toHaveLength(0);
  });

  test('a retry of this execution finds its own upload -> no second upload, and still reused: false (ours to roll back)', async () => {
    // Arrange
    await uploadCertificate(makeParams());
    iamMock.resetHistory();

    // Act
    const again = await uploadCertificate(makeParams());

    // Assert
    expect(again).toEqual({ arn: arnFor(name, IAM_PATH), id: idFor(name), name, path: IAM_PATH, reused: false });
    expect(iamMock.commandCalls(UploadServerCertificateCommand)).toHaveLength(0);
  });

  test('the same name with a different body -> CertificateNameConflict naming it; nothing uploaded', async () => {
    // Arrange
    iam.set(name, { body: other.certPem, path: IAM_PATH });

    // Act
    const thrown = await caught(() => uploadCertificate(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(CertificateNameConflict);
    expect(thrown.name).toBe('CertificateNameConflict');
    expect(thrown.message).toContain(name);
    expect(thrown.message).toContain(sha256Of(other.certPem));
    expect(iamMock.commandCalls(UploadServerCertificateCommand)).toHaveLength(0);
  });

  test('EntityAlreadyExistsException (a racing retry uploaded it) is resolved by the read-back', async () => {
    // Arrange: the first read misses, the upload finds the name taken by the same certificate
    iamMock
      .on(GetServerCertificateCommand)
      .rejectsOnce(noSuchEntity(name))
      .resolves({
        ServerCertificate: {
          ServerCertificateMetadata: {
            Path: IAM_PATH,
            ServerCertificateName: name,
            ServerCertificateId: idFor(name),
            Arn: arnFor(name, IAM_PATH),
          },
          CertificateBody: cert.certPem,
        },
      });
    iamMock
      .on(UploadServerCertificateCommand)
      .rejects(new EntityAlreadyExistsException({ message: 'exists', $metadata: { httpStatusCode: 409 } }));

    // Act
    const result = await uploadCertificate(makeParams());

    // Assert
    expect(result).toMatchObject({ name, arn: arnFor(name, IAM_PATH), path: IAM_PATH });
  });

  test('EntityAlreadyExistsException where the race winner is a different certificate -> CertificateNameConflict', async () => {
    // Arrange
    iamMock
      .on(GetServerCertificateCommand)
      .rejectsOnce(noSuchEntity(name))
      .resolves({
        ServerCertificate: {
          ServerCertificateMetadata: { Path: IAM_PATH, ServerCertificateName: name, ServerCertificateId: 'X', Arn: 'arn:x' },
          CertificateBody: other.certPem,
        },
      });
    iamMock
      .on(UploadServerCertificateCommand)
      .rejects(new EntityAlreadyExistsException({ message: 'exists', $metadata: { httpStatusCode: 409 } }));

    // Act
    const thrown = await caught(() => uploadCertificate(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(CertificateNameConflict);
  });

  test.each([
    [
      'MalformedCertificateException',
      new MalformedCertificateException({ message: 'Unable to parse certificate.', $metadata: { httpStatusCode: 400 } }),
    ],
    [
      'KeyPairMismatchException',
      new KeyPairMismatchException({ message: 'Public key does not match', $metadata: { httpStatusCode: 400 } }),
    ],
  ])('%s -> CertificateInvalid iam-refused naming the IAM error, without key material', async (code, error) => {
    // Arrange
    iamMock.on(UploadServerCertificateCommand).rejects(error);

    // Act
    const thrown = await caught(() => uploadCertificate(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(CertificateInvalid);
    expect(thrown).toMatchObject({ name: 'CertificateInvalid', problem: 'iam-refused' });
    expect(thrown.message).toContain(code);
    expectNoKeyMaterial(thrown.message, cert.keyPem);
  });

  test('the account fills up between the quota check and the upload (LimitExceeded) -> ServerCertificateQuotaExceeded, not a throttle', async () => {
    // Arrange: the check sees room; a concurrent upload takes the last slot before ours
    quota = 2;
    iam.set(CURRENT, { body: other.certPem, path: IAM_PATH, uploaded: new Date('2025-11-20T00:00:00Z') });
    iamMock.on(UploadServerCertificateCommand).callsFake(() => {
      iam.set('STAR.example.org_2026-11-27', { body: other.certPem, path: '/' });
      throw new LimitExceededException({
        message: 'Cannot exceed quota for ServerCertificatesPerAccount: 2',
        $metadata: { httpStatusCode: 409 },
      });
    });

    // Act
    const thrown = await caught(() => uploadCertificate(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(ServerCertificateQuotaExceeded);
    expect(thrown.message).toContain('IAM holds 2 server certificates, its quota (ServerCertificatesQuota) is 2');
    expect(thrown.message).toContain(`no room to upload ${name}; nothing was uploaded`);
    expect(iam.has(name)).toBe(false);
  });

  test('another IAM error passes through unchanged', async () => {
    // Arrange
    const refused = new Error('Request is not valid');
    refused.name = 'InvalidInputException';
    iamMock.on(UploadServerCertificateCommand).rejects(refused);

    // Act
    const thrown = await caught(() => uploadCertificate(makeParams()));

    // Assert
    expect(thrown).toBe(refused);
  });

  test('the read-back does not find the certificate yet (NoSuchEntity) -> CertificateNotPropagated (retried)', async () => {
    // Arrange
    iamMock.on(GetServerCertificateCommand).rejects(noSuchEntity(name));
    iamMock.on(UploadServerCertificateCommand).resolves({});

    // Act
    const thrown = await caught(() => uploadCertificate(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(CertificateNotPropagated);
    expect(thrown.name).toBe('CertificateNotPropagated');
    expect(thrown.message).toContain(name);
  });

  test('a certificate with the name on another path (invisible to CloudFront) -> CertificateNameConflict naming both paths', async () => {
    // Arrange
    iam.set(name, { body: cert.certPem, path: '/' });

    // Act
    const thrown = await caught(() => uploadCertificate(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(CertificateNameConflict);
    expect(thrown.message).toContain('on path /,');
    expect(thrown.message).toContain(IAM_PATH);
  });

  test('a secret that no longer holds the validated certificate -> CertificateInvalid changed-after-validation; IAM untouched', async () => {
    // Arrange
    storeSecret({ certificate: other.certPem, privateKey: other.keyPem });

    // Act
    const thrown = await caught(() => uploadCertificate(makeParams()));

    // Assert
    expect(thrown).toMatchObject({ name: 'CertificateInvalid', problem: 'changed-after-validation' });
    expect(thrown.message).toContain(expected.sha256);
    expect(iamMock.calls()).toHaveLength(0);
  });

  test('the private key goes only into UploadServerCertificate: not in logs, result or other calls', async () => {
    // Arrange
    const log = recordingLogger();

    // Act
    const result = await uploadCertificate(makeParams({ logger: log.logger }));

    // Assert
    expect(log.entries.length).toBeGreaterThan(0);
    expectNoKeyMaterial(log.text(), cert.keyPem);
    expectNoKeyMaterial(JSON.stringify(result), cert.keyPem);
    const others = iamMock.calls().filter((c) => !(c.args[0] instanceof UploadServerCertificateCommand));
    expectNoKeyMaterial(JSON.stringify(others.map((c) => (c.args[0] as { input: unknown }).input)), cert.keyPem);
  });
});

describe('uploadCertificate: the server-certificate quota (GetAccountSummary) before uploading', () => {
  const day = (d: string) => new Date(`${d}T00:00:00Z`);
  /** Fills IAM to the quota: the current certificate, three older ones of the domain, and others. */
  function fillAccount(): void {
    quota = 8;
    iam.set('STAR.gitter.im_2022-11-01', { body: other.certPem, path: IAM_PATH, uploaded: day('2022-11-01') });
    iam.set('STAR.gitter.im_2023-11-01', { body: other.certPem, path: IAM_PATH, uploaded: day('2023-11-01') });
    iam.set('STAR.gitter.im_2024-11-01', { body: other.certPem, path: IAM_PATH, uploaded: day('2024-11-01') });
    iam.set('STAR.gitter.im_2024-06-01', { body: other.certPem, path: IAM_PATH, uploaded: day('2024-06-01') });
    iam.set(CURRENT, { body: other.certPem, path: IAM_PATH, uploaded: day('2025-11-20') });
    iam.set('STAR.gitter.im_2021-01-01', { body: other.certPem, path: '/cloudfront/staging/', uploaded: day('2021-01-01') });
    iam.set('STAR.example.org_2020-01-01', { body: other.certPem, path: IAM_PATH, uploaded: day('2020-01-01') });
    iam.set('STAR.gitter.im_2019-05-05', { body: other.certPem, path: IAM_PATH, uploaded: day('2019-05-05') });
    EdgeFake.reset({
      elb: { 'apps-servers-elb-prod:6667': arnFor(CURRENT, IAM_PATH) },
      // the 2023 certificate is the third SNI certificate of an ALB listener (the second page of its list)
      elbv2: {
        'api:443': [
          arnFor(CURRENT, IAM_PATH),
          'arn:aws:acm:eu-west-1:123456789012:certificate/x',
          arnFor('STAR.gitter.im_2023-11-01', IAM_PATH),
        ],
      },
      cloudfront: { E2EXAMPLE: idFor('STAR.gitter.im_2024-06-01') },
    });
  }

  test('room left -> the upload goes ahead after one GetAccountSummary', async () => {
    // Arrange
    quota = 2;
    iam.set(CURRENT, { body: other.certPem, path: IAM_PATH });

    // Act
    await uploadCertificate(makeParams());

    // Assert
    expect(iamMock.commandCalls(GetAccountSummaryCommand)).toHaveLength(1);
    expect(iamMock.commandCalls(UploadServerCertificateCommand)).toHaveLength(1);
  });

  test('full -> ServerCertificateQuotaExceeded naming exactly the prunable ones (old, unused, this domain, this path); nothing uploaded', async () => {
    // Arrange
    fillAccount();

    // Act
    const thrown = await caught(() => uploadCertificate(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(ServerCertificateQuotaExceeded);
    expect(thrown.name).toBe('ServerCertificateQuotaExceeded');
    expect(thrown.message).toContain('IAM holds 8 server certificates, its quota (ServerCertificatesQuota) is 8');
    expect(thrown.message).toContain(`no room to upload ${name}; nothing was uploaded`);
    const named = /could be pruned: ([^.]*(?:\.[^ ][^.]*)*)\. Delete/.exec(thrown.message)?.[1].split(', ');
    expect(named).toEqual(['STAR.gitter.im_2024-11-01', 'STAR.gitter.im_2022-11-01', 'STAR.gitter.im_2019-05-05']);
    expect(iamMock.commandCalls(UploadServerCertificateCommand)).toHaveLength(0);
    expect(iamMock.commandCalls(DeleteServerCertificateCommand)).toHaveLength(0);
    // every ELBv2 certificate list was read in full (DescribeListenerCertificates, both pages)
    expect(EdgeFake.mocks.elbv2.commandCalls(DescribeListenerCertificatesCommand)).toHaveLength(2);
  });

  test('full, with prune.keep = 3 -> the two newest older ones are kept too, and not named', async () => {
    // Arrange
    fillAccount();

    // Act
    const thrown = await caught(() => uploadCertificate(makeParams({ pruneKeep: 3 })));

    // Assert
    expect(thrown).toBeInstanceOf(ServerCertificateQuotaExceeded);
    expect(thrown.message).toContain('could be pruned: STAR.gitter.im_2022-11-01, STAR.gitter.im_2019-05-05.');
  });

  test('full and nothing prunable -> the message says so, and why each is kept', async () => {
    // Arrange
    quota = 1;
    iam.set(CURRENT, { body: other.certPem, path: IAM_PATH, uploaded: day('2025-11-20') });

    // Act
    const thrown = await caught(() => uploadCertificate(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(ServerCertificateQuotaExceeded);
    expect(thrown.message).toContain(`No certificate of gitter.im under ${IAM_PATH} can be pruned`);
    expect(thrown.message).toContain(`${CURRENT}: the previous certificate (kept for rollback)`);
    expect(iamMock.commandCalls(UploadServerCertificateCommand)).toHaveLength(0);
  });

  test('full, but this execution already uploaded it (a retry) -> no quota refusal, no second upload', async () => {
    // Arrange: attempt 1 uploaded with one place left; now the account is full
    quota = 1;
    await uploadCertificate(makeParams());
    iamMock.resetHistory();

    // Act
    const again = await uploadCertificate(makeParams());

    // Assert
    expect(again).toMatchObject({ name, reused: false });
    expect(iamMock.commandCalls(UploadServerCertificateCommand)).toHaveLength(0);
  });

  test('full, GetServerCertificate does not see our earlier upload yet but the listing does -> no refusal; the read-back decides', async () => {
    // Arrange: attempt 1 uploaded; IAM's GetServerCertificate lags behind once
    quota = 1;
    await uploadCertificate(makeParams());
    let lagging = true;
    iamMock.on(GetServerCertificateCommand).callsFake(
      settle(() => {
        if (lagging) {
          lagging = false;
          throw noSuchEntity(name);
        }
        return {
          ServerCertificate: {
            ServerCertificateMetadata: {
              Path: IAM_PATH,
              ServerCertificateName: name,
              ServerCertificateId: idFor(name),
              Arn: arnFor(name, IAM_PATH),
            },
            CertificateBody: cert.certPem,
            Tags: [{ Key: 'cert-rotation:execution', Value: EXECUTION }],
          },
        };
      }),
    );
    iamMock.resetHistory();

    // Act
    const again = await uploadCertificate(makeParams());

    // Assert
    expect(again).toMatchObject({ name, reused: false });
    expect(iamMock.commandCalls(ListServerCertificatesCommand)).toHaveLength(1);
  });
});

describe('upload then rollback: who owns the uploaded certificate', () => {
  const s3 = createInMemoryS3();
  beforeEach(() => s3.reset());

  const rollbackWith = (uploaded: { name: string; reused: boolean }) =>
    rollBack({
      clients: {
        elb: new ElasticLoadBalancingClient({ region: 'eu-west-1' }),
        elbv2: new ElasticLoadBalancingV2Client({ region: 'eu-west-1' }),
        cloudfront: new CloudFrontClient({ region: 'us-east-1' }),
      },
      iam: new IAMClient({ region: 'us-east-1' }),
      ledger: new ChangeLedger(new ArtifactStore(s3.client, 'artifacts'), EXECUTION), // empty: the canary switch failed first
      store: new ArtifactStore(s3.client, 'artifacts'),
      executionName: EXECUTION,
      logger: silentLogger,
      uploadedName: uploaded.name,
      now: () => new Date(),
    });

  test('a certificate that existed before this execution is kept by the rollback', async () => {
    // Arrange: uploaded by an earlier (manual) run
    iam.set(name, { body: cert.certPem, path: IAM_PATH, tags: [] });
    const uploaded = await uploadCertificate(makeParams());

    // Act
    await rollbackWith(uploaded);

    // Assert
    expect(uploaded.reused).toBe(true);
    expect(iam.has(name)).toBe(true);
  });

  test('a certificate uploaded by this execution in one attempt is deleted by the rollback', async () => {
    // Arrange
    const uploaded = await uploadCertificate(makeParams());

    // Act
    await rollbackWith(uploaded);

    // Assert
    expect(iam.has(name)).toBe(false);
  });

  // PRODUCT BUG (lambdas/upload/domain.ts:49-59 with lambdas/rollback/domain.ts:64): `reused` is set
  // whenever IAM already holds the certificate, including when THIS execution uploaded it in an
  // earlier attempt. The Upload state is retried on CertificateNotPropagated (read-back before IAM
  // propagation) and on AwsTransient, so the retry reports reused: true and the rollback then never
  // deletes the certificate this execution uploaded (it "existed before this execution"): every
  // such rolled-back run leaks one IAM server certificate (default quota: 20 per account).
  test('a certificate uploaded by an earlier attempt of this execution (propagation retry) is still deleted by the rollback', async () => {
    // Arrange: attempt 1 uploads, but the read-back does not see it yet
    iamMock.on(GetServerCertificateCommand).rejectsOnce(noSuchEntity(name)).rejectsOnce(noSuchEntity(name));
    const first = await caught(() => uploadCertificate(makeParams()));
    expect(first).toBeInstanceOf(CertificateNotPropagated);
    installIamFake();
    const uploaded = await uploadCertificate(makeParams()); // attempt 2 (Retry on CertificateNotPropagated)

    // Act: the canary switch fails, the workflow rolls back
    await rollbackWith(uploaded);

    // Assert
    expect(iam.has(name)).toBe(false);
  });
});
