/**
 * Request-shape checks over the real AWS wire protocols: the REAL domain functions drive real SDK
 * v3 clients against `moto_server` (an AWS API emulator on 127.0.0.1), and the assertions read
 * back what moto stored. Every request must serialize, reach a real protocol parser (IAM/ELB/EC2
 * query, S3 REST-XML, CloudFront REST-XML, Secrets Manager/SFN JSON, SNS query) and every
 * response must deserialize into what our code reads. moto is lenient (no PEM or key checks, one
 * ServerCertificateId for every IAM certificate, no IAM server-certificate tags, any ETag): the
 * simulated account in local/ stays the behavioural reference; this is the protocol check.
 *
 * moto_server is installed on the development machine, not on CI: there the suite skips, loudly.
 */
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import {
  CreateDistributionCommand,
  CloudFrontClient,
  GetDistributionConfigCommand,
  type DistributionConfig,
} from '@aws-sdk/client-cloudfront';
import { CreateSubnetCommand, CreateVpcCommand, EC2Client, RunInstancesCommand, StopInstancesCommand } from '@aws-sdk/client-ec2';
import {
  CreateLoadBalancerCommand,
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingClient,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  AddListenerCertificatesCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand as CreateV2LoadBalancerCommand,
  DescribeListenerCertificatesCommand,
  DescribeListenersCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetServerCertificateCommand, IAMClient, ListServerCertificatesCommand, UploadServerCertificateCommand } from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateStateMachineCommand, SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { findCurrentCertificate } from '../../lambdas/current/domain';
import { guardAgainstConcurrentRotation } from '../../lambdas/guard/domain';
import { obtainCertificate } from '../../lambdas/obtain/domain';
import { findClassicListeners, findDistributions, findInstances, findV2Listeners } from '../../lambdas/plan/discovery';
import { ApprovalStore, hashApprovalId } from '../../lambdas/approval-page/store';
import { requestApproval } from '../../lambdas/request-approval/domain';
import { rollBack } from '../../lambdas/rollback/domain';
import { ArtifactStore } from '../../lambdas/shared/artifacts';
import { summarizeCertificate } from '../../lambdas/shared/certificate';
import { ConcurrentRotation, TargetNotFound } from '../../lambdas/shared/errors';
import { EXECUTION_TAG, findServerCertificate, getCertificateBody } from '../../lambdas/shared/iam-certs';
import { ChangeLedger } from '../../lambdas/shared/ledger';
import { silentLogger } from '../../lambdas/shared/logger';
import type { EdgeClients } from '../../lambdas/shared/target-ops';
import { switchTarget, targetState } from '../support/handler-support';
import { type DistributionTarget } from '../../lambdas/shared/targets';
import { switchCanary } from '../../lambdas/switch-canary/domain';
import { certificateName, uploadCertificate, type UploadResult } from '../../lambdas/upload/domain';
import { issueWithFreshPki, type IssuedCertificate } from '../../local/certs';
import { caught, expectNoKeyMaterial, sha256Of } from '../support/handler-support';
import { hasMotoServer, motoClientConfig, startMotoServer, type MotoServer } from '../support/moto';

const hasMoto = hasMotoServer();
if (!hasMoto) {
  // eslint-disable-next-line no-console
  console.warn('moto_server not found: skipping the wire-protocol checks (test/integration/moto.test.ts)');
}
const runIt = hasMoto ? describe : describe.skip;

const DOMAIN = 'gitter.im';
const IAM_PATH = '/cloudfront/gitter-production/';
const NAME_PREFIX = 'STAR.gitter.im';
const SECRET_PREFIX = 'cert-rotation/gitter.im/';
const ARTIFACTS_BUCKET = 'cert-rotation-artifacts';
const STAGING_BUCKET = 'cert-rotation-staging';
const CANARY = { loadBalancerName: 'apps-servers-elb-prod', port: 6667 } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

interface Clients {
  readonly iam: IAMClient;
  readonly secrets: SecretsManagerClient;
  readonly s3: S3Client;
  readonly elb: ElasticLoadBalancingClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly cloudfront: CloudFrontClient;
  readonly ec2: EC2Client;
  readonly sns: SNSClient;
  readonly sfn: SFNClient;
}

/** The command names a client sent, in order, with the serialized request (what went on the wire). */
interface WireRequest {
  readonly command: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}
interface WireLog {
  readonly requests: WireRequest[];
}

/** The part of an SDK client's middleware stack used here: a finalizeRequest step sees the signed HTTP request. */
interface FinalizeStack {
  add(
    middleware: (
      next: (args: { request: unknown }) => Promise<unknown>,
      context: { commandName?: string },
    ) => (args: { request: unknown }) => Promise<unknown>,
    options: { step: 'finalizeRequest'; name: string },
  ): void;
}

function recordWire(client: IAMClient | CloudFrontClient): WireLog {
  const requests: WireRequest[] = [];
  // The clients' overloaded `add` types differ per service; this step is the same for all of them.
  const stack = client.middlewareStack as unknown as FinalizeStack;
  stack.add(
    (next, context) => (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown };
      requests.push({
        command: context.commandName ?? '',
        headers: { ...request.headers },
        body: typeof request.body === 'string' ? request.body : '',
      });
      return next(args);
    },
    { step: 'finalizeRequest', name: 'motoWireLog' },
  );
  return { requests };
}

runIt('wire-protocol checks against moto_server', () => {
  let moto: MotoServer;
  let c: Clients;
  let iamWire: WireLog;
  let cloudfrontWire: WireLog;
  let edge: EdgeClients;
  let store: ArtifactStore;
  /** The certificate the estate serves now: in IAM and on the canary ELB before any test runs. */
  let current: IssuedCertificate;
  /** The certificate a rotation brings in. */
  let next: IssuedCertificate;
  /** A certificate only the upload test uploads. */
  let fresh: IssuedCertificate;
  let currentUpload: UploadResult;

  const secretFor = async (name: string, cert: IssuedCertificate): Promise<string> => {
    const out = await c.secrets.send(
      new CreateSecretCommand({
        Name: `${SECRET_PREFIX}${name}`,
        SecretString: JSON.stringify({ certificate: cert.certPem, privateKey: cert.keyPem, chain: cert.chainPem }),
      }),
    );
    return out.ARN ?? '';
  };

  const upload = async (cert: IssuedCertificate, secretArn: string, executionName: string) => {
    const summary = summarizeCertificate(cert.certPem);
    return uploadCertificate({
      iam: c.iam,
      secrets: c.secrets,
      logger: silentLogger,
      secretArn,
      iamPath: IAM_PATH,
      namePrefix: NAME_PREFIX,
      domain: DOMAIN,
      executionName,
      expected: { sha256: summary.sha256, notBefore: summary.notBefore },
      edge,
      currentArn: currentUpload?.arn ?? 'arn:aws:iam::123456789012:server-certificate/none',
      pruneKeep: 1,
    });
  };

  const canaryListenerCertificate = async (): Promise<string | undefined> => {
    const out = await c.elb.send(new DescribeLoadBalancersCommand({ LoadBalancerNames: [CANARY.loadBalancerName] }));
    return out.LoadBalancerDescriptions?.[0]?.ListenerDescriptions?.find((d) => d.Listener?.LoadBalancerPort === CANARY.port)?.Listener
      ?.SSLCertificateId;
  };

  beforeAll(async () => {
    [moto, current, next, fresh] = await Promise.all([
      startMotoServer(),
      // Dated names come from notBefore: the three certificates get different IAM names.
      issueWithFreshPki({ names: ['*.gitter.im', 'gitter.im'], notBefore: new Date(Date.now() - 60 * DAY_MS) }),
      issueWithFreshPki({ names: ['*.gitter.im', 'gitter.im'] }),
      issueWithFreshPki({ names: ['*.gitter.im', 'gitter.im'], notBefore: new Date(Date.now() - 30 * DAY_MS) }),
    ]);
    const config = motoClientConfig(moto.endpoint);
    c = {
      iam: new IAMClient(config),
      secrets: new SecretsManagerClient(config),
      s3: new S3Client({ ...config, forcePathStyle: true }),
      elb: new ElasticLoadBalancingClient(config),
      elbv2: new ElasticLoadBalancingV2Client(config),
      cloudfront: new CloudFrontClient(config),
      ec2: new EC2Client(config),
      sns: new SNSClient(config),
      sfn: new SFNClient(config),
    };
    iamWire = recordWire(c.iam);
    cloudfrontWire = recordWire(c.cloudfront);
    edge = { elb: c.elb, elbv2: c.elbv2, cloudfront: c.cloudfront };
    store = new ArtifactStore(c.s3, ARTIFACTS_BUCKET);
    await c.s3.send(new CreateBucketCommand({ Bucket: ARTIFACTS_BUCKET }));
    await c.s3.send(new CreateBucketCommand({ Bucket: STAGING_BUCKET }));
    await c.s3.send(new PutBucketVersioningCommand({ Bucket: STAGING_BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
    // The estate as an earlier rotation left it: the current certificate in IAM, served by the canary ELB.
    currentUpload = await upload(current, await secretFor('current', current), 'rotate-moto-previous');
    await c.elb.send(
      new CreateLoadBalancerCommand({
        LoadBalancerName: CANARY.loadBalancerName,
        AvailabilityZones: ['us-east-1a'],
        Listeners: [
          { Protocol: 'SSL', LoadBalancerPort: 6667, InstanceProtocol: 'TCP', InstancePort: 6667, SSLCertificateId: currentUpload.arn },
          { Protocol: 'HTTPS', LoadBalancerPort: 443, InstanceProtocol: 'HTTP', InstancePort: 80, SSLCertificateId: currentUpload.arn },
          { Protocol: 'TCP', LoadBalancerPort: 80, InstanceProtocol: 'TCP', InstancePort: 80 },
        ],
      }),
    );
  });

  afterAll(async () => {
    for (const client of Object.values(c ?? {}) as Array<{ destroy(): void }>) client.destroy();
    await moto?.stop();
  });

  describe('upload (IAM UploadServerCertificate)', () => {
    test('uploads under the /cloudfront/ path with the dated name, the chain and the tags; a re-run does not upload again', async () => {
      // Arrange
      const secretArn = await secretFor('fresh', fresh);
      const expectedName = certificateName(NAME_PREFIX, summarizeCertificate(fresh.certPem).notBefore);
      const uploadsOnTheWire = () =>
        iamWire.requests.filter((r) => r.command === 'UploadServerCertificateCommand' && r.body.includes(encodeURIComponent(expectedName)));

      // Act
      const first = await upload(fresh, secretArn, 'rotate-moto-upload');
      const again = await upload(fresh, secretArn, 'rotate-moto-rerun');

      // Assert: what IAM (moto) stored, read back through the SDK
      expect(first).toMatchObject({
        name: expectedName,
        path: IAM_PATH,
        arn: `arn:aws:iam::123456789012:server-certificate${IAM_PATH}${expectedName}`,
      });
      expect(first.id).toMatch(/^ASCA/);
      const stored = await c.iam.send(new GetServerCertificateCommand({ ServerCertificateName: expectedName }));
      expect(sha256Of(stored.ServerCertificate?.CertificateBody ?? '')).toBe(sha256Of(fresh.certPem));
      expect(stored.ServerCertificate?.CertificateChain?.trim()).toBe(fresh.chainPem.trim());
      expect(stored.ServerCertificate?.ServerCertificateMetadata?.Path).toBe(IAM_PATH);
      // Idempotent: one certificate under the name, one UploadServerCertificate on the wire.
      const listed = await c.iam.send(new ListServerCertificatesCommand({}));
      expect(listed.ServerCertificateMetadataList?.filter((m) => m.ServerCertificateName === expectedName)).toHaveLength(1);
      expect(uploadsOnTheWire()).toHaveLength(1);
      expect(again).toMatchObject({ name: expectedName, arn: first.arn, reused: true });
      // moto drops server-certificate tags, so they are checked as serialized on the wire (IAM query protocol).
      const form = new URLSearchParams(uploadsOnTheWire()[0]?.body ?? '');
      expect(form.get('Action')).toBe('UploadServerCertificate');
      expect(form.get('Path')).toBe(IAM_PATH);
      expect(form.get('ServerCertificateName')).toBe(expectedName);
      expect(form.get('Tags.member.1.Key')).toBe('cert-rotation:domain');
      expect(form.get('Tags.member.1.Value')).toBe(DOMAIN);
      expect(form.get('Tags.member.2.Key')).toBe('cert-rotation:execution');
      expect(form.get('Tags.member.2.Value')).toBe('rotate-moto-upload');
      expect(form.get('PrivateKey')?.trim()).toBe(fresh.keyPem.trim());
      expect(form.get('CertificateChain')?.trim()).toBe(fresh.chainPem.trim());
    });

    test('findServerCertificate / getCertificateBody: by ARN and by id; a missing name is undefined (NoSuchEntity deserializes)', async () => {
      // Act
      const byArn = await findServerCertificate(c.iam, { arn: currentUpload.arn });
      const byId = await findServerCertificate(c.iam, { id: currentUpload.id });
      const unknownArn = await findServerCertificate(c.iam, { arn: `${currentUpload.arn}-nope` });
      const body = await getCertificateBody(c.iam, currentUpload.name);
      const missing = await getCertificateBody(c.iam, 'STAR.gitter.im_1999-01-01');

      // Assert
      expect(byArn).toMatchObject({ Arn: currentUpload.arn, ServerCertificateName: currentUpload.name, Path: IAM_PATH });
      expect(byId?.ServerCertificateId).toBe(currentUpload.id);
      expect(unknownArn).toBeUndefined();
      expect(body && sha256Of(body.body)).toBe(sha256Of(current.certPem));
      expect(body?.chain?.trim()).toBe(current.chainPem.trim());
      expect(missing).toBeUndefined();
    });
  });

  describe('canary ELB: current -> switch -> roll back (classic ELB query protocol, ledger in S3)', () => {
    let nextUpload: UploadResult;

    beforeAll(async () => {
      nextUpload = await upload(next, await secretFor('next', next), 'rotate-moto-elb');
    });

    test('findCurrentCertificate reads the canary listener and the IAM certificate behind it', async () => {
      // Act
      const found = await findCurrentCertificate({ elb: c.elb, iam: c.iam, logger: silentLogger, canary: CANARY });

      // Assert
      const summary = summarizeCertificate(current.certPem);
      expect(found).toMatchObject({
        arn: currentUpload.arn,
        id: currentUpload.id,
        name: currentUpload.name,
        path: IAM_PATH,
        sha256: summary.sha256,
        md5: summary.md5,
        notAfter: summary.notAfter,
      });
      expect(found.names).toEqual(expect.arrayContaining(['*.gitter.im', 'gitter.im']));
    });

    test('findCurrentCertificate names a missing load balancer (AccessPointNotFound deserializes) and a port without listener', async () => {
      // Act
      const noElb = await caught(() =>
        findCurrentCertificate({ elb: c.elb, iam: c.iam, logger: silentLogger, canary: { loadBalancerName: 'no-such-elb', port: 6667 } }),
      );
      const noPort = await caught(() =>
        findCurrentCertificate({ elb: c.elb, iam: c.iam, logger: silentLogger, canary: { ...CANARY, port: 6697 } }),
      );
      const plainTcp = await caught(() =>
        findCurrentCertificate({ elb: c.elb, iam: c.iam, logger: silentLogger, canary: { ...CANARY, port: 80 } }),
      );

      // Assert
      expect(noElb).toBeInstanceOf(TargetNotFound);
      expect(noElb.message).toContain('no-such-elb does not exist');
      expect(noPort).toBeInstanceOf(TargetNotFound);
      expect(noPort.message).toContain('no listener on port 6697');
      expect(plainTcp).toBeInstanceOf(TargetNotFound);
      expect(plainTcp.message).toContain('has no certificate');
    });

    test('switchCanary switches only the canary listener and records it; rollBack restores it and deletes the upload', async () => {
      // Arrange
      const ledger = new ChangeLedger(store, 'rotate-moto-elb');
      const now = () => new Date();
      const currentSummary = summarizeCertificate(current.certPem);
      const nextSummary = summarizeCertificate(next.certPem);
      const switchParams = {
        clients: edge,
        ledger,
        logger: silentLogger,
        canary: CANARY,
        current: { arn: currentUpload.arn, sha256: currentSummary.sha256 },
        uploaded: { arn: nextUpload.arn },
        newSha256: nextSummary.sha256,
        now,
      };

      // Act: switch, then a retry of the same task
      const switched = await switchCanary(switchParams);
      const retried = await switchCanary(switchParams);

      // Assert: moto serves the new ARN on 6667 only; the ledger document is in S3
      expect(switched).toEqual({ target: `elb/${CANARY.loadBalancerName}/${CANARY.port}`, changed: true });
      expect(retried.changed).toBe(false);
      expect(await canaryListenerCertificate()).toBe(nextUpload.arn);
      expect(await findClassicListeners(c.elb, currentUpload.arn)).toEqual([
        expect.objectContaining({ loadBalancerName: CANARY.loadBalancerName, port: 443 }),
      ]);
      const [entry] = await ledger.entries();
      expect(entry).toMatchObject({
        key: `elb/${CANARY.loadBalancerName}/${CANARY.port}`,
        phase: 'canary',
        before: currentUpload.arn,
        after: nextUpload.arn,
        status: 'applied',
        beforeSha256: currentSummary.sha256,
        afterSha256: nextSummary.sha256,
      });
      expect(await store.listKeys('executions/rotate-moto-elb/ledger/')).toEqual([
        `executions/rotate-moto-elb/ledger/elb/${CANARY.loadBalancerName}/${CANARY.port}.json`,
      ]);

      // Arrange: the plan this execution wrote (rollback honours only planned targets). moto drops
      // server-certificate tags, which IAM returns as sent at upload (checked on the wire in the
      // upload test): put this execution's tag back on the wire response, as IAM would show it.
      await store.putJson(ArtifactStore.planKey('rotate-moto-elb'), {
        createdAt: now().toISOString(),
        current: { arn: currentUpload.arn, id: currentUpload.id },
        canary: entry?.target,
        edge: [],
        nodePhases: [],
      });
      c.iam.middlewareStack.add(
        (next, context) => async (args) => {
          const out = await next(args);
          if (context.commandName !== 'GetServerCertificateCommand') return out;
          const sc = (
            out.output as { ServerCertificate?: { ServerCertificateMetadata?: { ServerCertificateName?: string }; Tags?: unknown } }
          ).ServerCertificate;
          if (
            context.commandName === 'GetServerCertificateCommand' &&
            sc?.ServerCertificateMetadata?.ServerCertificateName === nextUpload.name
          ) {
            sc.Tags = [{ Key: EXECUTION_TAG, Value: 'rotate-moto-elb' }];
          }
          return out;
        },
        { step: 'initialize', name: 'motoDropsServerCertificateTags' },
      );
      const rollbackParams = {
        clients: edge,
        iam: c.iam,
        ledger,
        store,
        executionName: 'rotate-moto-elb',
        logger: silentLogger,
        uploadedName: nextUpload.name,
        now,
      };

      // Act: roll back
      const result = await rollBack(rollbackParams);

      // Assert: the listener serves the old ARN again, the upload is gone, the ledger says so
      expect(result).toMatchObject({
        entries: 1,
        restored: [`ELB ${CANARY.loadBalancerName}:${CANARY.port}`],
        neverSwitched: [],
        leftAlone: [],
        uploadDeleted: true,
      });
      expect(await canaryListenerCertificate()).toBe(currentUpload.arn);
      expect(await getCertificateBody(c.iam, nextUpload.name)).toBeUndefined();
      expect((await ledger.entries()).map((e) => e.status)).toEqual(['rolled-back']);

      // Act: Step Functions retries the rollback task; the certificate is already gone (IAM NoSuchEntity on the wire)
      const retriedRollback = await rollBack(rollbackParams).finally(() => c.iam.middlewareStack.remove('motoDropsServerCertificateTags'));

      // Assert
      expect(retriedRollback).toMatchObject({ entries: 0, restored: [], leftAlone: [], uploadDeleted: true });
      expect(await canaryListenerCertificate()).toBe(currentUpload.arn);
    });
  });

  describe('plan discovery', () => {
    test('findClassicListeners: every classic listener serving the ARN, none for an unknown ARN', async () => {
      // Act
      const found = await findClassicListeners(c.elb, currentUpload.arn);
      const none = await findClassicListeners(c.elb, 'arn:aws:iam::123456789012:server-certificate/cloudfront/x/unknown');

      // Assert
      expect(found.map((t) => `${t.loadBalancerName}:${t.port}`).sort()).toEqual([
        `${CANARY.loadBalancerName}:443`,
        `${CANARY.loadBalancerName}:6667`,
      ]);
      expect(found[0].dnsName).not.toBe('');
      expect(none).toEqual([]);
    });

    test('findV2Listeners finds the current certificate as default, then as SNI; switchTarget (observe, apply) switches each (ModifyListener, Add/RemoveListenerCertificates)', async () => {
      // Arrange: VPC, two subnets, an ALB with an HTTPS listener (default = current) and a plain HTTP one
      const vpc = await c.ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }));
      const vpcId = vpc.Vpc?.VpcId ?? '';
      const subnets = await Promise.all(
        ['us-east-1a', 'us-east-1b'].map((az, i) =>
          c.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.20.${i}.0/24`, AvailabilityZone: az })),
        ),
      );
      const subnetIds = subnets.map((s) => s.Subnet?.SubnetId ?? '');
      const alb = await c.elbv2.send(new CreateV2LoadBalancerCommand({ Name: 'webapp-alb', Subnets: subnetIds, Type: 'application' }));
      const albArn = alb.LoadBalancers?.[0]?.LoadBalancerArn ?? '';
      const https = await c.elbv2.send(
        new CreateListenerCommand({
          LoadBalancerArn: albArn,
          Protocol: 'HTTPS',
          Port: 443,
          Certificates: [{ CertificateArn: currentUpload.arn }],
          DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '200' } }],
        }),
      );
      await c.elbv2.send(
        new CreateListenerCommand({
          LoadBalancerArn: albArn,
          Protocol: 'HTTP',
          Port: 80,
          DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '200' } }],
        }),
      );
      const defaultArn = https.Listeners?.[0]?.ListenerArn ?? '';

      // Act
      const found = await findV2Listeners(c.elbv2, currentUpload.arn);

      // Assert
      expect(found).toEqual([
        {
          kind: 'elbv2',
          loadBalancerName: 'webapp-alb',
          listenerArn: defaultArn,
          port: 443,
          dnsName: expect.stringContaining('webapp-alb'),
          role: 'default',
        },
      ]);
      expect(await findV2Listeners(c.elbv2, 'arn:aws:iam::123456789012:server-certificate/x/unknown')).toEqual([]);

      // Act: the default-certificate switch (ModifyListener) and its read-back
      const other = await upload(next, await secretFor('next-v2', next), 'rotate-moto-v2');
      await switchTarget(edge, found[0], currentUpload.arn, other.arn);

      // Assert
      expect(await targetState(edge, found[0], currentUpload.arn, other.arn)).toEqual({ state: 'after', value: other.arn });
      const listeners = await c.elbv2.send(new DescribeListenersCommand({ ListenerArns: [defaultArn] }));
      expect(listeners.Listeners?.[0]?.Certificates?.[0]?.CertificateArn).toBe(other.arn);

      // Arrange: the current certificate as an SNI certificate of that listener
      await c.elbv2.send(
        new AddListenerCertificatesCommand({ ListenerArn: defaultArn, Certificates: [{ CertificateArn: currentUpload.arn }] }),
      );
      const replacement = await c.iam.send(
        new UploadServerCertificateCommand({
          ServerCertificateName: 'STAR.gitter.im_sni-replacement',
          Path: IAM_PATH,
          CertificateBody: fresh.certPem,
          PrivateKey: fresh.keyPem,
        }),
      );
      const replacementArn = replacement.ServerCertificateMetadata?.Arn ?? '';

      // Act
      const [sni] = await findV2Listeners(c.elbv2, currentUpload.arn);
      await switchTarget(edge, sni, currentUpload.arn, replacementArn);

      // Assert: found as SNI; after the switch (Add then Remove) only the replacement is in the SNI list
      expect(sni).toMatchObject({ listenerArn: defaultArn, port: 443, role: 'sni' });
      expect(await targetState(edge, sni, currentUpload.arn, replacementArn)).toEqual({ state: 'after', value: replacementArn });
      const certs = await c.elbv2.send(new DescribeListenerCertificatesCommand({ ListenerArn: defaultArn }));
      expect(certs.Certificates?.map((x) => x.CertificateArn)).toEqual([other.arn, replacementArn]);
      expect(await findV2Listeners(c.elbv2, currentUpload.arn)).toEqual([]);
    });

    test('CloudFront: ListDistributions parses; switching the viewer certificate round-trips the whole config with IfMatch', async () => {
      // Arrange
      const config: DistributionConfig = {
        CallerReference: 'moto-wire-check',
        Comment: 'gitter production',
        Enabled: true,
        Aliases: { Quantity: 2, Items: ['gitter.im', 'www.gitter.im'] },
        Origins: {
          Quantity: 1,
          Items: [
            {
              Id: 'webapp',
              DomainName: 'webapp.gitter.im',
              CustomOriginConfig: { HTTPPort: 80, HTTPSPort: 443, OriginProtocolPolicy: 'https-only' },
            },
          ],
        },
        DefaultCacheBehavior: {
          TargetOriginId: 'webapp',
          ViewerProtocolPolicy: 'redirect-to-https',
          ForwardedValues: { QueryString: true, Cookies: { Forward: 'all' } },
          TrustedSigners: { Enabled: false, Quantity: 0 },
          MinTTL: 0,
        },
        ViewerCertificate: {
          IAMCertificateId: currentUpload.id,
          SSLSupportMethod: 'sni-only',
          MinimumProtocolVersion: 'TLSv1.2_2021',
          CloudFrontDefaultCertificate: false,
        },
      };
      const created = await c.cloudfront.send(new CreateDistributionCommand({ DistributionConfig: config }));
      const etag = (await c.cloudfront.send(new GetDistributionConfigCommand({ Id: created.Distribution?.Id }))).ETag;
      const distributionId = created.Distribution?.Id ?? '';

      const target: DistributionTarget = {
        kind: 'cloudfront',
        distributionId,
        domainName: created.Distribution?.DomainName ?? '',
        aliases: ['gitter.im', 'www.gitter.im'],
      };

      // Act
      const found = await findDistributions(c.cloudfront, currentUpload.id);

      // Assert: the request serializes and the DistributionList deserializes. moto 5.2.1 leaves
      // ViewerCertificate and Aliases out of its DistributionSummary, so it cannot show the match
      // itself (the unit tests and the simulated account do); whatever it finds must be this one.
      for (const d of found) expect(d).toMatchObject({ kind: 'cloudfront', distributionId });
      expect(await findDistributions(c.cloudfront, 'ASCANOTTHEONEWEUSE')).toEqual([]);
      expect(await targetState(edge, target, currentUpload.id, 'ASCANEWCERTIFICATEID')).toEqual({
        state: 'before',
        value: currentUpload.id,
      });

      // Act: moto gives every IAM certificate the same id, so switch to a made-up id to see the change land.
      await switchTarget(edge, target, currentUpload.id, 'ASCANEWCERTIFICATEID');

      // Assert: the whole config went back (GetDistributionConfig -> UpdateDistribution with If-Match: the ETag read)
      const updates = cloudfrontWire.requests.filter((r) => r.command === 'UpdateDistributionCommand');
      expect(updates).toHaveLength(1);
      expect(etag).toBeTruthy();
      expect(updates[0].headers['if-match']).toBe(etag);
      expect(updates[0].body).toContain('<IAMCertificateId>ASCANEWCERTIFICATEID</IAMCertificateId>');
      const after = await c.cloudfront.send(new GetDistributionConfigCommand({ Id: distributionId }));
      expect(after.DistributionConfig?.ViewerCertificate).toMatchObject({
        IAMCertificateId: 'ASCANEWCERTIFICATEID',
        SSLSupportMethod: 'sni-only',
      });
      expect(after.DistributionConfig?.Aliases?.Items).toEqual(expect.arrayContaining(['gitter.im', 'www.gitter.im']));
      expect(after.DistributionConfig?.Origins?.Items?.[0]?.DomainName).toBe('webapp.gitter.im');
      expect(await targetState(edge, target, currentUpload.id, 'ASCANEWCERTIFICATEID')).toEqual({
        state: 'after',
        value: 'ASCANEWCERTIFICATEID',
      });
    });

    test('findInstances: running instances by tags (ANDed) and by id, sorted by Name; stopped ones left out', async () => {
      // Arrange
      const run = async (name: string, role: string) => {
        const out = await c.ec2.send(
          new RunInstancesCommand({
            ImageId: 'ami-12c6146b',
            MinCount: 1,
            MaxCount: 1,
            InstanceType: 't3.micro',
            TagSpecifications: [
              {
                ResourceType: 'instance',
                Tags: [
                  { Key: 'Name', Value: name },
                  { Key: 'Role', Value: role },
                  { Key: 'Env', Value: 'prod' },
                ],
              },
            ],
          }),
        );
        return out.Instances?.[0]?.InstanceId ?? '';
      };
      const ws02 = await run('ws-02', 'ws');
      const ws01 = await run('ws-01', 'ws');
      const ws03 = await run('ws-03', 'ws');
      const beta = await run('beta-01', 'beta');
      await c.ec2.send(new StopInstancesCommand({ InstanceIds: [ws03] }));

      // Act
      const byTags = await findInstances(c.ec2, { tags: { Role: ['ws'], Env: ['prod'] } });
      const byId = await findInstances(c.ec2, { instanceIds: [beta, ws03] });

      // Assert
      // Each with its private DNS name (where a TLS check from inside the VPC reaches its nginx).
      const host = expect.stringMatching(/^ip-[0-9-]+\.ec2\.internal$/) as unknown as string;
      expect(byTags).toEqual([
        { instanceId: ws01, name: 'ws-01', host },
        { instanceId: ws02, name: 'ws-02', host },
      ]);
      expect(byId).toEqual([{ instanceId: beta, name: 'beta-01', host }]);
    });
  });

  describe('obtain (S3 staging -> Secrets Manager)', () => {
    test('imports cert, key and chain staged in the versioned bucket into a secret, and deletes every key version for good', async () => {
      // Arrange: key.pem was uploaded twice (the older version must go too)
      const prefix = 'staged/2026-11-27/';
      await c.s3.send(new PutObjectCommand({ Bucket: STAGING_BUCKET, Key: `${prefix}key.pem`, Body: 'an earlier upload' }));
      const staged = await Promise.all(
        [
          ['cert.pem', next.certPem],
          ['key.pem', next.keyPem],
          ['chain.pem', next.chainPem],
        ].map(([file, body]) => c.s3.send(new PutObjectCommand({ Bucket: STAGING_BUCKET, Key: `${prefix}${file}`, Body: body }))),
      );
      expect(staged[1].VersionId).toBeTruthy();
      const params = {
        s3: c.s3,
        secrets: c.secrets,
        logger: silentLogger,
        source: { s3: { prefix: 'staged/2026-11-27' } },
        executionName: 'rotate-moto-obtain',
        stagingBucket: STAGING_BUCKET,
        secretPrefix: SECRET_PREFIX,
        domain: DOMAIN,
      };

      // Act
      const result = await obtainCertificate(params);
      const rerun = await obtainCertificate(params);

      // Assert: the secret holds the bundle; the key object has no version and no delete marker left
      expect(result).toMatchObject({ origin: 's3', stagedAt: `s3://${STAGING_BUCKET}/${prefix}` });
      expect(result.secretArn).toContain(`:secret:${SECRET_PREFIX}rotate-moto-obtain`);
      expect(rerun.secretArn).toBe(result.secretArn);
      const secret = await c.secrets.send(new GetSecretValueCommand({ SecretId: result.secretArn }));
      expect(JSON.parse(secret.SecretString ?? '{}')).toEqual({ certificate: next.certPem, privateKey: next.keyPem, chain: next.chainPem });
      const versions = await c.s3.send(new ListObjectVersionsCommand({ Bucket: STAGING_BUCKET, Prefix: prefix }));
      const keys = (versions.Versions ?? []).map((v) => v.Key).sort();
      expect(keys).toEqual([`${prefix}cert.pem`, `${prefix}chain.pem`]);
      expect(versions.DeleteMarkers ?? []).toEqual([]);
      const gone = await caught(() => c.s3.send(new GetObjectCommand({ Bucket: STAGING_BUCKET, Key: `${prefix}key.pem` })));
      expect(gone.name).toBe('NoSuchKey');
    });

    test('a secret source under the prefix resolves to its ARN after reading it once', async () => {
      // Arrange
      const arn = await secretFor('operator-staged', next);

      // Act
      const result = await obtainCertificate({
        s3: c.s3,
        secrets: c.secrets,
        logger: silentLogger,
        source: { secretId: `${SECRET_PREFIX}operator-staged` },
        executionName: 'rotate-moto-secret',
        stagingBucket: STAGING_BUCKET,
        secretPrefix: SECRET_PREFIX,
        domain: DOMAIN,
      });

      // Assert
      expect(result).toEqual({ secretArn: arn, origin: 'secret' });
    });
  });

  describe('request-approval and the approval store (SNS Publish, DynamoDB condition expressions)', () => {
    let receiver: Server;
    const delivered: Array<Record<string, unknown>> = [];
    let approvals: ApprovalStore;

    beforeAll(async () => {
      receiver = createServer((req, res) => {
        let text = '';
        req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        req.on('end', () => {
          delivered.push(JSON.parse(text) as Record<string, unknown>);
          res.end('ok');
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      const ddb = new DynamoDBClient(motoClientConfig(moto.endpoint));
      await ddb.send(
        new CreateTableCommand({
          TableName: 'cert-rotation-approvals',
          AttributeDefinitions: [{ AttributeName: 'idHash', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'idHash', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      approvals = new ApprovalStore(ddb, 'cert-rotation-approvals');
    });

    afterAll(async () => {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    });

    test("publishes the link (delivered to an HTTP subscriber); the token is only in the table, under the id's hash; the decision is marked once", async () => {
      // Arrange
      const topic = await c.sns.send(new CreateTopicCommand({ Name: 'cert-rotation-approvals' }));
      const topicArn = topic.TopicArn ?? '';
      const port = (receiver.address() as AddressInfo).port;
      await c.sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: `http://127.0.0.1:${port}/sns` }));
      const taskToken = `AQCEAAAAKgAAAAMAAAAA${'x'.repeat(200)}`;
      const executionArn = 'arn:aws:states:us-east-1:123456789012:execution:CertRotation-gitter-im:rotate-moto-approval';
      const id = 'M'.repeat(43);
      const now = new Date();

      // Act
      await requestApproval({
        sns: c.sns,
        approvals,
        artifacts: store,
        logger: silentLogger,
        topicArn,
        domain: DOMAIN,
        pageUrl: 'https://example.lambda-url.us-east-1.on.aws/',
        timeoutSeconds: 3600,
        onTimeout: 'rollback',
        gate: 'start',
        title: 'Start rotation?',
        taskToken,
        executionName: 'rotate-moto-approval',
        executionArn,
        details: { listeners: ['ELB apps-servers-elb-prod:6667'], distributions: 1 },
        now: () => now,
        mintId: () => id,
      });
      const first = await approvals.markDecision(hashApprovalId(id), { decision: 'approved', by: 'Alice', at: now, comment: 'ok' });
      const replay = await approvals.markDecision(hashApprovalId(id), { decision: 'rejected', by: 'Mallory', at: now });
      const unknown = await approvals.markDecision(hashApprovalId('N'.repeat(43)), { decision: 'approved', by: 'Eve', at: now });

      // Assert
      expect(delivered).toHaveLength(1);
      const notification = delivered[0];
      expect(notification).toMatchObject({ Type: 'Notification', TopicArn: topicArn });
      expect(notification.Subject).toBe('[cert-rotation gitter.im] Approval needed: Start rotation?');
      expect(notification.Message).toContain(`https://example.lambda-url.us-east-1.on.aws/a/${id}`);
      expect(notification.Message).toContain('ELB apps-servers-elb-prod:6667');
      expect(notification.Message).not.toContain(taskToken);
      expectNoKeyMaterial(String(notification.Message), next.keyPem);
      expect([first, replay, unknown]).toEqual([true, false, false]);
      const stored = await approvals.get(hashApprovalId(id));
      expect(stored).toMatchObject({ taskToken, executionArn, gate: 'start', decision: 'approved', decidedBy: 'Alice', comment: 'ok' });
      expect(await approvals.get(hashApprovalId('N'.repeat(43)))).toBeUndefined();
    });
  });

  describe('guard (Step Functions ListExecutions)', () => {
    test('of two running executions the later one is refused; once the first stops, it goes on', async () => {
      // Arrange
      const machine = await c.sfn.send(
        new CreateStateMachineCommand({
          name: 'CertRotation-gitter-im',
          roleArn: 'arn:aws:iam::123456789012:role/cert-rotation',
          definition: JSON.stringify({ StartAt: 'Hold', States: { Hold: { Type: 'Wait', Seconds: 3600, End: true } } }),
        }),
      );
      const stateMachineArn = machine.stateMachineArn ?? '';
      const first = await c.sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'rotate-a-first', input: '{}' }));
      const second = await c.sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'rotate-b-second', input: '{}' }));
      const guard = (executionArn: string) =>
        guardAgainstConcurrentRotation({ sfn: c.sfn, logger: silentLogger, domain: DOMAIN, stateMachineArn, executionArn });

      // Act
      const refused = await caught(() => guard(second.executionArn ?? ''));
      const firstGoesOn = await guard(first.executionArn ?? '');
      await c.sfn.send(new StopExecutionCommand({ executionArn: first.executionArn }));
      const secondGoesOn = await guard(second.executionArn ?? '');

      // Assert
      expect(refused).toBeInstanceOf(ConcurrentRotation);
      expect(refused.message).toContain('rotate-a-first');
      expect(firstGoesOn).toEqual({ domain: DOMAIN, otherRunning: 1 });
      expect(secondGoesOn).toEqual({ domain: DOMAIN, otherRunning: 0 });
    });
  });
});
