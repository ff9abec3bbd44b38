import { DeleteObjectCommand, GetObjectCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ACMClient } from '@aws-sdk/client-acm';
import { Route53Client } from '@aws-sdk/client-route-53';
import { mockClient } from 'aws-sdk-client-mock';
import { obtainCertificate, parseSource, type ObtainParams } from '../../../lambdas/obtain/domain';
import { InputInvalid } from '../../../lambdas/shared/errors';
import { silentLogger } from '../../../lambdas/shared/logger';
import { issueWithFreshPki } from '../../../local/certs';
import { createInMemoryS3 } from '../../support/handler-s3';
import { caught, expectNoKeyMaterial, recordingLogger, settle } from '../../support/handler-support';

const BUCKET = 'cert-rotation-staging-123456789012';
const PREFIX = 'cert-rotation/gitter.im/';
const EXECUTION = 'rotate-2026-11-27';
const IMPORTED_NAME = `${PREFIX}${EXECUTION}`;
const STAGED = 'staged/2026-11-27/';

const s3 = createInMemoryS3();
const secretsMock = mockClient(SecretsManagerClient);

/** Secrets Manager as a map from name to ARN and SecretString. */
const secrets = new Map<string, { arn: string; secretString: string }>();
const arnOf = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbCdEf`;
const lookup = (id: string | undefined) => [...secrets.entries()].find(([name, s]) => name === id || s.arn === id);
const notFound = (id: string | undefined) =>
  new ResourceNotFoundException({
    message: `Secrets Manager can't find the specified secret. (${id})`,
    $metadata: { httpStatusCode: 400 },
  });

function installSecretsFake(): void {
  secretsMock.on(DescribeSecretCommand).callsFake(
    settle((input: { SecretId?: string }) => {
      const hit = lookup(input.SecretId);
      if (!hit) throw notFound(input.SecretId);
      return { ARN: hit[1].arn, Name: hit[0] };
    }),
  );
  secretsMock.on(GetSecretValueCommand).callsFake(
    settle((input: { SecretId?: string }) => {
      const hit = lookup(input.SecretId);
      if (!hit) throw notFound(input.SecretId);
      return { ARN: hit[1].arn, Name: hit[0], SecretString: hit[1].secretString };
    }),
  );
  secretsMock.on(CreateSecretCommand).callsFake(
    settle((input: { Name?: string; SecretString?: string }) => {
      const name = input.Name ?? '';
      if (secrets.has(name)) {
        throw new ResourceExistsException({
          message: `The operation failed because the secret ${name} already exists.`,
          $metadata: { httpStatusCode: 400 },
        });
      }
      secrets.set(name, { arn: arnOf(name), secretString: input.SecretString ?? '' });
      return { ARN: arnOf(name), Name: name };
    }),
  );
}

function putSecret(name: string, secretString: string): string {
  secrets.set(name, { arn: arnOf(name), secretString });
  return arnOf(name);
}

let cert: { certPem: string; keyPem: string; chainPem: string };
let otherCertPem: string;

beforeAll(async () => {
  cert = await issueWithFreshPki({ names: ['*.gitter.im', 'gitter.im'] });
  otherCertPem = (await issueWithFreshPki({ names: ['*.gitter.im', 'gitter.im'], keyType: 'ec-p256' })).certPem;
});

beforeEach(() => {
  s3.reset();
  secretsMock.reset();
  secrets.clear();
  installSecretsFake();
});

function makeParams(overrides: Partial<ObtainParams> = {}): ObtainParams {
  return {
    s3: s3.client,
    secrets: new SecretsManagerClient({ region: 'eu-west-1' }),
    logger: silentLogger,
    source: { s3: { prefix: STAGED } },
    executionName: EXECUTION,
    stagingBucket: BUCKET,
    secretPrefix: PREFIX,
    domain: 'gitter.im',
    ...overrides,
  };
}

function stage(files: { cert?: boolean; key?: boolean; chain?: boolean } = {}, prefix = STAGED): void {
  if (files.cert ?? true) s3.put(BUCKET, `${prefix}cert.pem`, cert.certPem);
  if (files.key ?? true) s3.put(BUCKET, `${prefix}key.pem`, cert.keyPem);
  if (files.chain ?? true) s3.put(BUCKET, `${prefix}chain.pem`, cert.chainPem);
}

const bundleJson = () => JSON.stringify({ certificate: cert.certPem, privateKey: cert.keyPem, chain: cert.chainPem });

describe('parseSource', () => {
  test.each([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'cert-rotation/gitter.im/new'],
    ['an array', [{ secretId: 'x' }]],
  ])('%s -> InputInvalid explaining both accepted forms', (_label, source) => {
    // Arrange / Act
    const act = () => parseSource(source);

    // Assert
    expect(act).toThrow(InputInvalid);
    expect(act).toThrow(/"source": \{"secretId": .*\{"s3": \{"prefix"/);
  });

  test('an empty object -> InputInvalid asking for exactly one of secretId, s3, acme', () => {
    // Arrange / Act
    const act = () => parseSource({});

    // Assert
    expect(act).toThrow(InputInvalid);
    expect(act).toThrow(/exactly one of secretId, s3, acme/);
  });

  test('two keys -> InputInvalid asking for exactly one', () => {
    // Arrange / Act
    const act = () => parseSource({ secretId: `${PREFIX}new`, s3: { prefix: STAGED } });

    // Assert
    expect(act).toThrow(InputInvalid);
    expect(act).toThrow(/exactly one of secretId, s3, acme/);
  });

  test.each([
    ['an empty secretId', { secretId: '' }],
    ['a numeric secretId', { secretId: 42 }],
    ['an unknown key', { bucketName: 'x' }],
  ])('%s -> InputInvalid with the help text', (_label, source) => {
    // Arrange / Act
    const act = () => parseSource(source);

    // Assert
    expect(act).toThrow(InputInvalid);
    expect(act).toThrow(/secretId/);
  });

  test('s3 without a prefix -> InputInvalid naming source.s3.prefix', () => {
    // Arrange / Act
    const act = () => parseSource({ s3: {} });

    // Assert
    expect(act).toThrow(InputInvalid);
    expect(act).toThrow(/"source\.s3\.prefix" is required/);
  });

  test('s3 with a non-string bucket -> InputInvalid naming source.s3.bucket', () => {
    // Arrange / Act
    const act = () => parseSource({ s3: { prefix: STAGED, bucket: 7 } });

    // Assert
    expect(act).toThrow(/"source\.s3\.bucket" must be a string/);
  });

  test('accepted forms are returned normalised', () => {
    // Arrange / Act / Assert
    expect(parseSource({ secretId: `${PREFIX}new` })).toEqual({ secretId: `${PREFIX}new` });
    expect(parseSource({ s3: { prefix: STAGED } })).toEqual({ s3: { prefix: STAGED } });
    expect(parseSource({ s3: { prefix: STAGED, bucket: BUCKET } })).toEqual({ s3: { prefix: STAGED, bucket: BUCKET } });
    expect(parseSource({ acme: { directory: 'x' } })).toEqual({ acme: {} });
  });
});

describe('obtainCertificate: secretId source', () => {
  test('a well-formed secret under the prefix -> its ARN, origin "secret", nothing created or deleted', async () => {
    // Arrange
    const arn = putSecret(`${PREFIX}manual-2026-11`, bundleJson());

    // Act
    const result = await obtainCertificate(makeParams({ source: { secretId: `${PREFIX}manual-2026-11` } }));

    // Assert
    expect(result).toEqual({ secretArn: arn, origin: 'secret' });
    expect(secretsMock.commandCalls(CreateSecretCommand)).toHaveLength(0);
    expect(s3.mock.calls()).toHaveLength(0);
  });

  test('an ARN whose name is under the prefix is accepted', async () => {
    // Arrange
    const arn = putSecret(`${PREFIX}manual-2026-11`, bundleJson());

    // Act
    const result = await obtainCertificate(makeParams({ source: { secretId: arn } }));

    // Assert
    expect(result.secretArn).toBe(arn);
  });

  test.each([
    ['a name', 'prod/database-password'],
    ['an ARN', arnOf('prod/database-password')],
    ['a name that only contains the prefix later', `other/${PREFIX}x`],
  ])('%s outside the prefix -> InputInvalid naming secret and prefix, and the secret is never read', async (_label, secretId) => {
    // Arrange
    putSecret('prod/database-password', bundleJson());

    // Act
    const thrown = await caught(() => obtainCertificate(makeParams({ source: { secretId } })));

    // Assert
    expect(thrown).toBeInstanceOf(InputInvalid);
    expect(thrown.message).toContain(secretId);
    expect(thrown.message).toContain(PREFIX);
    expect(secretsMock.calls()).toHaveLength(0);
  });

  test('a missing secret -> InputInvalid "does not exist"', async () => {
    // Arrange
    const secretId = `${PREFIX}typo`;

    // Act
    const thrown = await caught(() => obtainCertificate(makeParams({ source: { secretId } })));

    // Assert
    expect(thrown).toBeInstanceOf(InputInvalid);
    expect(thrown.message).toBe(`secret ${secretId} does not exist`);
  });

  test('a secret that is not JSON -> InputInvalid with the expected format, never echoing the secret', async () => {
    // Arrange: an operator pasted the raw PEMs instead of JSON
    putSecret(`${PREFIX}raw`, `${cert.certPem}\n${cert.keyPem}`);

    // Act
    const thrown = await caught(() => obtainCertificate(makeParams({ source: { secretId: `${PREFIX}raw` } })));

    // Assert
    expect(thrown).toBeInstanceOf(InputInvalid);
    expect(thrown.message).toMatch(/is not JSON/);
    expect(thrown.message).toContain('"privateKey"');
    expectNoKeyMaterial(thrown.message, cert.keyPem);
  });

  test('JSON without a privateKey -> InputInvalid naming the missing field', async () => {
    // Arrange
    putSecret(`${PREFIX}no-key`, JSON.stringify({ certificate: cert.certPem, chain: cert.chainPem }));

    // Act
    const thrown = await caught(() => obtainCertificate(makeParams({ source: { secretId: `${PREFIX}no-key` } })));

    // Assert
    expect(thrown).toBeInstanceOf(InputInvalid);
    expect(thrown.message).toMatch(/has no privateKey/);
  });

  test('a JSON string (not an object) -> InputInvalid with the format hint', async () => {
    // Arrange
    putSecret(`${PREFIX}string`, JSON.stringify('hello'));

    // Act
    const thrown = await caught(() => obtainCertificate(makeParams({ source: { secretId: `${PREFIX}string` } })));

    // Assert
    expect(thrown).toBeInstanceOf(InputInvalid);
    expect(thrown.message).toMatch(/the secret must be JSON/);
  });
});

describe('obtainCertificate: s3 source', () => {
  test('key.pem uploaded twice, then hidden by a delete marker: every version and the marker are deleted, by VersionId', async () => {
    // Arrange: the operator uploaded key.pem twice and deleted it once (finding 5: deleting only the version read leaves the older one)
    const versioned = createInMemoryS3({ versioned: true });
    versioned.put(BUCKET, `${STAGED}cert.pem`, cert.certPem);
    const older = versioned.put(BUCKET, `${STAGED}key.pem`, 'an older key');
    const marker = versioned.deleteMarker(BUCKET, `${STAGED}key.pem`);
    const current = versioned.put(BUCKET, `${STAGED}key.pem`, cert.keyPem);
    versioned.put(BUCKET, `${STAGED}key.pem.bak`, 'not the staged key');

    // Act
    await obtainCertificate(makeParams({ s3: versioned.client }));

    // Assert
    const deletes = versioned.mock.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input);
    expect(deletes.map((d) => d.VersionId).sort()).toEqual([current, marker, older].sort());
    expect(deletes.every((d) => d.Bucket === BUCKET && d.Key === `${STAGED}key.pem`)).toBe(true);
    expect(versioned.versions(BUCKET, `${STAGED}key.pem`)).toEqual([]);
    expect(versioned.versions(BUCKET, `${STAGED}key.pem.bak`)).toHaveLength(1);
    expect(versioned.text(BUCKET, `${STAGED}cert.pem`)).toBe(cert.certPem);
    // Listed by the exact key, and listed again to see none left.
    const lists = versioned.mock.commandCalls(ListObjectVersionsCommand).map((c) => c.args[0].input);
    expect(lists.length).toBeGreaterThanOrEqual(2);
    for (const l of lists) expect(l).toMatchObject({ Bucket: BUCKET, Prefix: `${STAGED}key.pem` });
    versioned.mock.restore();
  });

  test('many versions: every page of ListObjectVersions is followed (KeyMarker / VersionIdMarker)', async () => {
    // Arrange: 5 versions, listed 2 per page
    const versioned = createInMemoryS3({ versioned: true, pageSize: 2 });
    versioned.put(BUCKET, `${STAGED}cert.pem`, cert.certPem);
    const ids = [1, 2, 3, 4].map((i) => versioned.put(BUCKET, `${STAGED}key.pem`, `key ${i}`));
    ids.push(versioned.put(BUCKET, `${STAGED}key.pem`, cert.keyPem));

    // Act
    await obtainCertificate(makeParams({ s3: versioned.client }));

    // Assert
    expect(versioned.versions(BUCKET, `${STAGED}key.pem`)).toEqual([]);
    const deleted = versioned.mock.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input.VersionId);
    expect(deleted.sort()).toEqual([...ids].sort());
    expect(versioned.mock.commandCalls(ListObjectVersionsCommand).some((c) => c.args[0].input.VersionIdMarker !== undefined)).toBe(true);
    versioned.mock.restore();
  });

  test('a retry after a partial deletion (the task crashed mid-way) deletes what is left; a further retry deletes nothing', async () => {
    // Arrange: the import happened and the newest version was deleted; an older version and a marker are left
    const versioned = createInMemoryS3({ versioned: true });
    versioned.put(BUCKET, `${STAGED}cert.pem`, cert.certPem);
    const older = versioned.put(BUCKET, `${STAGED}key.pem`, 'first upload');
    const marker = versioned.deleteMarker(BUCKET, `${STAGED}key.pem`);
    putSecret(IMPORTED_NAME, bundleJson());
    // ...and the first DeleteObject of this retry fails too (throttled past the SDK's retries)
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'SlowDown' });
    versioned.failNext('DeleteObject', throttled);

    // Act
    const retried = await caught(() => obtainCertificate(makeParams({ s3: versioned.client })));
    const leftAfterFailure = versioned.versions(BUCKET, `${STAGED}key.pem`).map((v) => v.versionId);
    const second = await obtainCertificate(makeParams({ s3: versioned.client }));
    versioned.mock.resetHistory();
    const third = await obtainCertificate(makeParams({ s3: versioned.client }));

    // Assert
    expect(retried).toBe(throttled);
    expect(leftAfterFailure.sort()).toEqual([older, marker].sort());
    expect(second.secretArn).toBe(arnOf(IMPORTED_NAME));
    expect(versioned.versions(BUCKET, `${STAGED}key.pem`)).toEqual([]);
    expect(third).toEqual(second);
    expect(versioned.mock.commandCalls(DeleteObjectCommand)).toHaveLength(0);
    expect(secretsMock.commandCalls(CreateSecretCommand)).toHaveLength(0);
    versioned.mock.restore();
  });

  test('imports cert, key and chain into <prefix><executionName>, then deletes ONLY key.pem', async () => {
    // Arrange
    stage();

    // Act
    const result = await obtainCertificate(makeParams());

    // Assert
    expect(result).toEqual({ secretArn: arnOf(IMPORTED_NAME), origin: 's3', stagedAt: `s3://${BUCKET}/${STAGED}` });
    const creates = secretsMock.commandCalls(CreateSecretCommand);
    expect(creates).toHaveLength(1);
    expect(creates[0].args[0].input.Name).toBe(IMPORTED_NAME);
    expect(JSON.parse(creates[0].args[0].input.SecretString!)).toEqual({
      certificate: cert.certPem,
      privateKey: cert.keyPem,
      chain: cert.chainPem,
    });
    const deletes = s3.mock.commandCalls(DeleteObjectCommand);
    expect(deletes).toHaveLength(1);
    expect(deletes[0].args[0].input).toEqual({ Bucket: BUCKET, Key: `${STAGED}key.pem`, VersionId: 'null' });
    expect(s3.keys(BUCKET)).toEqual([`${STAGED}cert.pem`, `${STAGED}chain.pem`]);
  });

  test('a prefix given without the trailing slash (or with a leading one) reads the same folder', async () => {
    // Arrange
    stage();

    // Act
    await obtainCertificate(makeParams({ source: { s3: { prefix: '/staged/2026-11-27' } } }));

    // Assert
    const gets = s3.mock
      .commandCalls(GetObjectCommand)
      .map((c) => c.args[0].input.Key)
      .sort();
    expect(gets).toEqual([`${STAGED}cert.pem`, `${STAGED}chain.pem`, `${STAGED}key.pem`]);
    expect(s3.text(BUCKET, `${STAGED}key.pem`)).toBeUndefined();
  });

  test('chain.pem is optional: the secret then has no chain', async () => {
    // Arrange
    stage({ chain: false });

    // Act
    await obtainCertificate(makeParams());

    // Assert
    const stored = JSON.parse(secrets.get(IMPORTED_NAME)!.secretString) as Record<string, unknown>;
    expect(Object.keys(stored).sort()).toEqual(['certificate', 'privateKey']);
  });

  test('a re-run after the import (secret exists, key.pem gone) succeeds without re-creating or deleting', async () => {
    // Arrange
    stage();
    const first = await obtainCertificate(makeParams());
    secretsMock.resetHistory();
    s3.mock.resetHistory();

    // Act
    const second = await obtainCertificate(makeParams());

    // Assert
    expect(second).toEqual(first);
    expect(secretsMock.commandCalls(CreateSecretCommand)).toHaveLength(0);
    expect(s3.mock.commandCalls(DeleteObjectCommand)).toHaveLength(0);
  });

  test('a retry after a crash between import and delete (secret exists, key.pem still staged) deletes the key without re-creating', async () => {
    // Arrange
    stage();
    putSecret(IMPORTED_NAME, bundleJson());

    // Act
    const result = await obtainCertificate(makeParams());

    // Assert
    expect(result.secretArn).toBe(arnOf(IMPORTED_NAME));
    expect(secretsMock.commandCalls(CreateSecretCommand)).toHaveLength(0);
    expect(s3.mock.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input.Key)).toEqual([`${STAGED}key.pem`]);
  });

  test('CreateSecret losing a race (ResourceExistsException) uses the secret that is there', async () => {
    // Arrange: the describe before the create does not see it; the create finds it exists
    stage();
    secretsMock
      .on(DescribeSecretCommand)
      .rejectsOnce(notFound(IMPORTED_NAME))
      .resolves({ ARN: arnOf(IMPORTED_NAME), Name: IMPORTED_NAME });
    secretsMock
      .on(CreateSecretCommand)
      .rejects(new ResourceExistsException({ message: 'already exists', $metadata: { httpStatusCode: 400 } }));

    // Act
    const result = await obtainCertificate(makeParams());

    // Assert
    expect(result.secretArn).toBe(arnOf(IMPORTED_NAME));
    expect(s3.mock.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input.Key)).toEqual([`${STAGED}key.pem`]);
  });

  test('a staged cert.pem that differs from the one already imported -> InputInvalid, nothing created or deleted', async () => {
    // Arrange: this execution imported a certificate, then someone re-staged another one
    putSecret(IMPORTED_NAME, bundleJson());
    s3.put(BUCKET, `${STAGED}cert.pem`, otherCertPem);
    s3.put(BUCKET, `${STAGED}key.pem`, cert.keyPem);

    // Act
    const thrown = await caught(() => obtainCertificate(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(InputInvalid);
    expect(thrown.message).toContain(`s3://${BUCKET}/${STAGED}cert.pem differs`);
    expect(thrown.message).toContain('start a new execution');
    expect(secretsMock.commandCalls(CreateSecretCommand)).toHaveLength(0);
    expect(s3.mock.commandCalls(DeleteObjectCommand)).toHaveLength(0);
  });

  test.each([
    ['cert.pem', { cert: false }],
    ['key.pem', { key: false }],
  ])('a missing %s -> InputInvalid naming the object; nothing created or deleted', async (file, staged) => {
    // Arrange
    stage(staged);

    // Act
    const thrown = await caught(() => obtainCertificate(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(InputInvalid);
    expect(thrown.message).toContain(`s3://${BUCKET}/${STAGED}${file} does not exist`);
    expect(secretsMock.commandCalls(CreateSecretCommand)).toHaveLength(0);
    expect(s3.mock.commandCalls(DeleteObjectCommand)).toHaveLength(0);
  });

  test('a bucket other than the staging bucket -> InputInvalid naming both, and S3 is never called', async () => {
    // Arrange
    const source = { s3: { prefix: STAGED, bucket: 'someone-elses-bucket' } };

    // Act
    const thrown = await caught(() => obtainCertificate(makeParams({ source })));

    // Assert
    expect(thrown).toBeInstanceOf(InputInvalid);
    expect(thrown.message).toContain(BUCKET);
    expect(thrown.message).toContain('someone-elses-bucket');
    expect(s3.mock.calls()).toHaveLength(0);
    expect(secretsMock.calls()).toHaveLength(0);
  });

  test('naming the staging bucket explicitly is accepted', async () => {
    // Arrange
    stage();

    // Act
    const result = await obtainCertificate(makeParams({ source: { s3: { prefix: STAGED, bucket: BUCKET } } }));

    // Assert
    expect(result.origin).toBe('s3');
  });

  test('an S3 error other than NoSuchKey passes through (the handler classifies it)', async () => {
    // Arrange
    stage();
    const denied = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    s3.failNext('GetObject', denied, `${STAGED}cert.pem`);

    // Act
    const thrown = await caught(() => obtainCertificate(makeParams()));

    // Assert
    expect(thrown).toBe(denied);
    expect(secretsMock.commandCalls(CreateSecretCommand)).toHaveLength(0);
  });

  test('the private key appears only in the SecretString: not in the name, description, tags, logs, result or errors', async () => {
    // Arrange
    stage();
    const log = recordingLogger();

    // Act
    const result = await obtainCertificate(makeParams({ logger: log.logger }));
    putSecret(`${PREFIX}broken`, `{"privateKey": ${JSON.stringify(cert.keyPem)}, `); // malformed JSON holding a key
    const error = await caught(() => obtainCertificate(makeParams({ logger: log.logger, source: { secretId: `${PREFIX}broken` } })));

    // Assert
    const create = secretsMock.commandCalls(CreateSecretCommand)[0].args[0].input;
    const { SecretString, ...rest } = create;
    expect(SecretString).toContain(JSON.stringify(cert.keyPem).slice(1, -1));
    expectNoKeyMaterial(JSON.stringify(rest), cert.keyPem);
    expect(rest.Description).toContain(`s3://${BUCKET}/${STAGED}`);
    expect(rest.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'cert-rotation:domain', Value: 'gitter.im' },
        { Key: 'cert-rotation:execution', Value: EXECUTION },
      ]),
    );
    expect(log.entries.length).toBeGreaterThan(0);
    expectNoKeyMaterial(log.text(), cert.keyPem);
    expectNoKeyMaterial(JSON.stringify(result), cert.keyPem);
    expect(error).toBeInstanceOf(InputInvalid);
    expectNoKeyMaterial(error.message, cert.keyPem);
  });
});

describe('obtainCertificate: automatic sources not configured', () => {
  test.each(['acme', 'acm'])(
    '%s in a deployment without certificateSource.%s -> InputInvalid naming the config key; nothing obtained',
    async (kind) => {
      // Arrange: the secret of this rotation does not exist yet
      const automatic = {
        route53: new Route53Client({ region: 'eu-west-1' }),
        acm: new ACMClient({ region: 'eu-west-1' }),
        sources: {},
        names: ['*.gitter.im', 'gitter.im'],
        now: () => new Date(),
        sleep: () => Promise.resolve(),
      };

      // Act
      const thrown = await caught(() => obtainCertificate(makeParams({ source: { [kind]: {} }, ...automatic })));

      // Assert
      expect(thrown).toBeInstanceOf(InputInvalid);
      expect(thrown.message).toBe(`the "${kind}" source is not configured in this deployment (config certificateSource.${kind})`);
      expect(secretsMock.commandCalls(CreateSecretCommand)).toHaveLength(0);
      expect(s3.mock.calls()).toHaveLength(0);
    },
  );
});
