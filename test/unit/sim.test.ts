/**
 * The simulated AWS account, driven through real SDK v3 clients (created after install()) and real
 * TLS handshakes through the patched tls.connect.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { Readable } from 'node:stream';
import * as tls from 'node:tls';
import {
  CloudFrontClient,
  GetDistributionCommand,
  GetDistributionConfigCommand,
  InvalidIfMatchVersion,
  InvalidViewerCertificate,
  ListDistributionsCommand,
  PreconditionFailed,
  UpdateDistributionCommand,
  type DistributionSummary,
} from '@aws-sdk/client-cloudfront';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  AccessPointNotFoundException,
  CertificateNotFoundException,
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingClient,
  ListenerNotFoundException,
  SetLoadBalancerListenerSSLCertificateCommand,
  type LoadBalancerDescription,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  DescribeListenerCertificatesCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand as DescribeV2LoadBalancersCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  DeleteServerCertificateCommand,
  DeleteConflictException,
  EntityAlreadyExistsException,
  GetAccountSummaryCommand,
  GetServerCertificateCommand,
  IAMClient,
  KeyPairMismatchException,
  LimitExceededException,
  ListRolesCommand,
  ListServerCertificatesCommand,
  MalformedCertificateException,
  UploadServerCertificateCommand,
  type ServerCertificateMetadata,
} from '@aws-sdk/client-iam';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ListExecutionsCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { issueWithFreshPki } from '../../local/certs';
import { defaultFleet, SIM_MIDDLEWARE_NAME, SimulatedAccount, type SimCertificate } from '../../local/sim';
import { handshake } from '../support/sim-fixtures';

const DAY = 86_400_000;

function sha256(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

/** Every place the private key could show up: PEM body and DER base64. */
function keyFingerprints(keyPem: string): string[] {
  const body = keyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return [body, body.slice(20, 84)];
}

async function listAllCertificates(iam: IAMClient, pathPrefix?: string): Promise<{ items: ServerCertificateMetadata[]; pages: number }> {
  const items: ServerCertificateMetadata[] = [];
  let marker: string | undefined;
  let pages = 0;
  do {
    const out = await iam.send(new ListServerCertificatesCommand({ PathPrefix: pathPrefix, Marker: marker }));
    items.push(...(out.ServerCertificateMetadataList ?? []));
    marker = out.IsTruncated ? out.Marker : undefined;
    pages += 1;
  } while (marker);
  return { items, pages };
}

let current: SimCertificate & { rootPem: string };
let other: SimCertificate;
let next: SimCertificate;

beforeAll(async () => {
  const now = Date.now();
  [current, other, next] = await Promise.all([
    issueWithFreshPki({ names: ['*.gitter.im', 'gitter.im'], notBefore: new Date(now - 70 * DAY), notAfter: new Date(now + 20 * DAY) }),
    issueWithFreshPki({ names: ['*.example.org'], keyType: 'ec-p256' }),
    issueWithFreshPki({ names: ['*.gitter.im', 'gitter.im'] }),
  ]);
});

describe('simulated account through real SDK clients', () => {
  let account: SimulatedAccount;
  let nextArn = '';
  let nextId = '';

  beforeAll(async () => {
    // IAM propagates at once in this suite; iam propagation has its own test.
    account = await SimulatedAccount.create({ fleet: { ...defaultFleet(), iamPropagationSeconds: 0 }, current, other });
    account.install();
  });

  afterAll(async () => {
    await account.close();
  });

  test('seeds IAM with the current certificate under the rehearsal path and a dated name', () => {
    // Arrange
    const notBefore = new X509Certificate(current.certPem).validFrom;
    // Assert
    expect(account.currentCertificate.path).toBe('/cloudfront/rehearsal/');
    expect(account.currentCertificate.name).toBe(`STAR.gitter.im_${new Date(notBefore).toISOString().slice(0, 10)}`);
    expect(account.currentCertificate.sha256).toBe(sha256(current.certPem));
    expect(account.otherCertificate.path).toBe('/cloudfront/other/');
  });

  test('upload -> read back -> paginated list; errors are the SDK classes', async () => {
    // Arrange
    const iam = new IAMClient({});
    // Act
    const up = await iam.send(
      new UploadServerCertificateCommand({
        ServerCertificateName: 'STAR.gitter.im_next',
        Path: '/cloudfront/rehearsal/',
        CertificateBody: next.certPem,
        PrivateKey: next.keyPem,
        CertificateChain: next.chainPem,
      }),
    );
    nextArn = up.ServerCertificateMetadata!.Arn!;
    nextId = up.ServerCertificateMetadata!.ServerCertificateId!;
    const got = await iam.send(new GetServerCertificateCommand({ ServerCertificateName: 'STAR.gitter.im_next' }));
    const all = await listAllCertificates(iam);
    const underRehearsal = await listAllCertificates(iam, '/cloudfront/rehearsal/');
    // Assert
    expect(up.$metadata.httpStatusCode).toBe(200);
    expect(nextArn).toBe(`arn:aws:iam::123456789012:server-certificate/cloudfront/rehearsal/STAR.gitter.im_next`);
    expect(nextId).toMatch(/^ASCA[A-Z0-9]{17}$/);
    expect(up.ServerCertificateMetadata!.Expiration!.getTime()).toBe(new Date(new X509Certificate(next.certPem).validTo).getTime());
    expect(got.ServerCertificate!.CertificateBody).toBe(next.certPem);
    expect(got.ServerCertificate!.CertificateChain).toBe(next.chainPem);
    // current, other, the fleet's older ones (on the current one's path) and the new one
    const older = account.fleet.iamCertificates.map((c) => c.name);
    expect(all.items.map((m) => m.ServerCertificateName)).toHaveLength(3 + older.length);
    expect(underRehearsal.items.map((m) => m.ServerCertificateName).sort()).toEqual(
      [account.currentCertificate.name, ...older, 'STAR.gitter.im_next'].sort(),
    );
    const paged = await iam.send(new ListServerCertificatesCommand({ MaxItems: 2 }));
    expect(paged.IsTruncated).toBe(true);
    expect(paged.ServerCertificateMetadataList).toHaveLength(2);

    await expect(
      iam.send(
        new UploadServerCertificateCommand({
          ServerCertificateName: 'STAR.gitter.im_next',
          CertificateBody: next.certPem,
          PrivateKey: next.keyPem,
        }),
      ),
    ).rejects.toBeInstanceOf(EntityAlreadyExistsException);
    await expect(
      iam.send(
        new UploadServerCertificateCommand({ ServerCertificateName: 'mismatch', CertificateBody: next.certPem, PrivateKey: other.keyPem }),
      ),
    ).rejects.toBeInstanceOf(KeyPairMismatchException);
    await expect(
      iam.send(
        new UploadServerCertificateCommand({ ServerCertificateName: 'garbage', CertificateBody: 'not a pem', PrivateKey: next.keyPem }),
      ),
    ).rejects.toBeInstanceOf(MalformedCertificateException);
    const wrongChain = iam.send(
      new UploadServerCertificateCommand({
        ServerCertificateName: 'wrong-chain',
        CertificateBody: next.certPem,
        PrivateKey: next.keyPem,
        CertificateChain: other.chainPem,
      }),
    );
    await expect(wrongChain).rejects.toThrow(/Unable to validate certificate chain.*index.*0/);
  });

  test('no private key in GetServerCertificate outputs nor in the call log', async () => {
    // Arrange
    const iam = new IAMClient({});
    // Act
    const outputs = await Promise.all(
      [account.currentCertificate.name, 'STAR.gitter.im_next'].map((n) =>
        iam.send(new GetServerCertificateCommand({ ServerCertificateName: n })),
      ),
    );
    const list = await iam.send(new ListServerCertificatesCommand({ MaxItems: 100 }));
    const text = JSON.stringify([outputs, list, account.calls, account.recorded(), account.iam.list(), account.targets()]);
    // Assert
    for (const key of [current.keyPem, next.keyPem, other.keyPem]) {
      for (const needle of keyFingerprints(key)) expect(text).not.toContain(needle);
    }
    expect(account.calls.every((c) => Object.keys(c).every((k) => ['operation', 'error', 'injected', 'at'].includes(k)))).toBe(true);
  });

  test('the IRC canary: describe (paginated), switch the 6667 listener, a real handshake serves the new certificate', async () => {
    // Arrange
    const elb = new ElasticLoadBalancingClient({});
    const lbs: LoadBalancerDescription[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const out = await elb.send(new DescribeLoadBalancersCommand({ Marker: marker }));
      lbs.push(...(out.LoadBalancerDescriptions ?? []));
      marker = out.NextMarker;
      pages += 1;
    } while (marker);
    const irc = lbs.find((lb) => lb.LoadBalancerName === 'apps-servers-elb-prod')!;
    const listener = irc.ListenerDescriptions!.find((d) => d.Listener!.LoadBalancerPort === 6667)!.Listener!;
    account.addDnsAlias('irc.gitter.im', { host: irc.DNSName! });
    const before = await handshake('irc.gitter.im', 6667);

    // Act
    await elb.send(
      new SetLoadBalancerListenerSSLCertificateCommand({
        LoadBalancerName: 'apps-servers-elb-prod',
        LoadBalancerPort: 6667,
        SSLCertificateId: nextArn,
      }),
    );
    const after = await handshake('irc.gitter.im', 6667);
    const viaDnsName = await handshake(irc.DNSName!, 6667);
    const otherPort = await handshake(irc.DNSName!, 443);

    // Assert
    expect(pages).toBe(2);
    expect(lbs.map((lb) => lb.LoadBalancerName)).toEqual(['apps-servers-elb-prod', 'webapp-elb-prod', 'ws-elb-prod', 'legacy-elb']);
    expect(irc.DNSName).toMatch(/^apps-servers-elb-prod-\d{10}\.us-east-1\.elb\.amazonaws\.com$/);
    expect(listener).toMatchObject({ Protocol: 'SSL', InstanceProtocol: 'TCP', SSLCertificateId: account.currentCertificate.arn });
    expect(before).toBe(sha256(current.certPem));
    expect(after).toBe(sha256(next.certPem));
    expect(viaDnsName).toBe(sha256(next.certPem));
    expect(otherPort).toBe(sha256(current.certPem));
    const target = account.targets().find((t) => t.kind === 'elb' && t.id === 'apps-servers-elb-prod' && t.port === 6667)!;
    expect(target.certificate).toBe(nextArn);
    expect(target.servedSha256()).toBe(after);
    expect(account.handshakes(target)).toBeGreaterThanOrEqual(3);
  });

  test('ELB errors are the SDK exception classes with the HTTP status', async () => {
    // Arrange
    const elb = new ElasticLoadBalancingClient({});
    const bogus = 'arn:aws:iam::123456789012:server-certificate/cloudfront/rehearsal/nope';
    // Act
    const notFound = await elb
      .send(
        new SetLoadBalancerListenerSSLCertificateCommand({
          LoadBalancerName: 'webapp-elb-prod',
          LoadBalancerPort: 443,
          SSLCertificateId: bogus,
        }),
      )
      .catch((e: unknown) => e);
    // Assert
    expect(notFound).toBeInstanceOf(CertificateNotFoundException);
    expect(notFound).toMatchObject({ name: 'CertificateNotFoundException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    expect((notFound as Error).message).toContain(bogus);
    await expect(
      elb.send(
        new SetLoadBalancerListenerSSLCertificateCommand({
          LoadBalancerName: 'webapp-elb-prod',
          LoadBalancerPort: 8443,
          SSLCertificateId: nextArn,
        }),
      ),
    ).rejects.toBeInstanceOf(ListenerNotFoundException);
    await expect(elb.send(new DescribeLoadBalancersCommand({ LoadBalancerNames: ['nope'] }))).rejects.toBeInstanceOf(
      AccessPointNotFoundException,
    );
    expect(account.calls.filter((c) => c.operation === 'elb:SetLoadBalancerListenerSSLCertificate' && c.error)).toHaveLength(2);
  });

  test('IAM refuses to delete a certificate in use (DeleteConflict)', async () => {
    // Arrange
    const iam = new IAMClient({});
    // Act
    const err = await iam
      .send(new DeleteServerCertificateCommand({ ServerCertificateName: 'STAR.gitter.im_next' }))
      .catch((e: unknown) => e);
    // Assert
    expect(err).toBeInstanceOf(DeleteConflictException);
    expect((err as Error).message).toContain('loadbalancer/apps-servers-elb-prod');
  });

  test('CloudFront: paginated list, ETag race, InProgress until deploySeconds of simulated time, then served over TLS', async () => {
    // Arrange
    const cf = new CloudFrontClient({});
    const summaries: DistributionSummary[] = [];
    let marker: string | undefined;
    do {
      const out = await cf.send(new ListDistributionsCommand({ Marker: marker }));
      summaries.push(...(out.DistributionList!.Items ?? []));
      marker = out.DistributionList!.IsTruncated ? out.DistributionList!.NextMarker : undefined;
    } while (marker);
    const cdn = summaries.find((s) => s.Id === 'E1GITTERCDN')!;
    const { DistributionConfig: config, ETag: etag } = await cf.send(new GetDistributionConfigCommand({ Id: 'E1GITTERCDN' }));
    const updated = { ...config!, ViewerCertificate: { ...config!.ViewerCertificate, IAMCertificateId: nextId } };

    // Act
    const stale = await cf
      .send(new UpdateDistributionCommand({ Id: 'E1GITTERCDN', IfMatch: 'E0STALE', DistributionConfig: updated }))
      .catch((e: unknown) => e);
    const missing = await cf
      .send(new UpdateDistributionCommand({ Id: 'E1GITTERCDN', IfMatch: '', DistributionConfig: updated }))
      .catch((e: unknown) => e);
    const result = await cf.send(new UpdateDistributionCommand({ Id: 'E1GITTERCDN', IfMatch: etag, DistributionConfig: updated }));
    const replay = await cf
      .send(new UpdateDistributionCommand({ Id: 'E1GITTERCDN', IfMatch: etag, DistributionConfig: updated }))
      .catch((e: unknown) => e);
    const servedWhileInProgress = await handshake('cdn.gitter.im', 443);
    account.clock.advance(119);
    const stillInProgress = await cf.send(new GetDistributionCommand({ Id: 'E1GITTERCDN' }));
    account.clock.advance(1);
    const deployed = await cf.send(new GetDistributionCommand({ Id: 'E1GITTERCDN' }));
    const servedAfter = await handshake('cdn.gitter.im', 443);

    // Assert
    expect(summaries.map((s) => s.Id)).toEqual(['E1GITTERCDN', 'E2GITTERAVATARS', 'E3OTHER']);
    expect(cdn).toMatchObject({
      DomainName: 'e1gittercdn.cloudfront.net',
      Status: 'Deployed',
      Aliases: { Quantity: 1, Items: ['cdn.gitter.im'] },
      ViewerCertificate: {
        IAMCertificateId: account.currentCertificate.id,
        SSLSupportMethod: 'sni-only',
        MinimumProtocolVersion: 'TLSv1.2_2021',
        CertificateSource: 'iam',
        Certificate: account.currentCertificate.id,
      },
    });
    expect(stale).toBeInstanceOf(PreconditionFailed);
    expect(stale).toMatchObject({ $metadata: { httpStatusCode: 412 } });
    expect(missing).toBeInstanceOf(InvalidIfMatchVersion);
    expect(result.Distribution!.Status).toBe('InProgress');
    expect(result.ETag).not.toBe(etag);
    expect(replay).toBeInstanceOf(PreconditionFailed);
    expect(servedWhileInProgress).toBe(sha256(current.certPem));
    expect(stillInProgress.Distribution!.Status).toBe('InProgress');
    expect(deployed.Distribution!.Status).toBe('Deployed');
    expect(deployed.Distribution!.DistributionConfig!.ViewerCertificate!.IAMCertificateId).toBe(nextId);
    expect(servedAfter).toBe(sha256(next.certPem));
    expect(account.targets().find((t) => t.id === 'E1GITTERCDN')!.certificate).toBe(nextId);
  });

  test('CloudFront refuses an IAM certificate outside /cloudfront/ or one that does not cover the aliases', async () => {
    // Arrange
    const iam = new IAMClient({});
    const cf = new CloudFrontClient({});
    const rootPath = await iam.send(
      new UploadServerCertificateCommand({ ServerCertificateName: 'root-path', CertificateBody: next.certPem, PrivateKey: next.keyPem }),
    );
    const otherId = account.otherCertificate.id;
    const { DistributionConfig: config, ETag: etag } = await cf.send(new GetDistributionConfigCommand({ Id: 'E2GITTERAVATARS' }));
    const withCert = (id: string) => ({ ...config!, ViewerCertificate: { ...config!.ViewerCertificate, IAMCertificateId: id } });
    // Act
    const invisible = await cf
      .send(
        new UpdateDistributionCommand({
          Id: 'E2GITTERAVATARS',
          IfMatch: etag,
          DistributionConfig: withCert(rootPath.ServerCertificateMetadata!.ServerCertificateId!),
        }),
      )
      .catch((e: unknown) => e);
    const notCovering = await cf
      .send(new UpdateDistributionCommand({ Id: 'E2GITTERAVATARS', IfMatch: etag, DistributionConfig: withCert(otherId) }))
      .catch((e: unknown) => e);
    // Assert
    expect(invisible).toBeInstanceOf(InvalidViewerCertificate);
    expect((invisible as Error).message).toContain('/cloudfront/');
    expect(notCovering).toBeInstanceOf(InvalidViewerCertificate);
    expect((notCovering as Error).message).toContain('avatars.gitter.im');
    const after = await cf.send(new GetDistributionConfigCommand({ Id: 'E2GITTERAVATARS' }));
    expect(after.ETag).toBe(etag);
  });

  test('ELBv2: default in DescribeListeners, SNI list in DescribeListenerCertificates, SNI handshakes, ModifyListener', async () => {
    // Arrange
    const v2 = new ElasticLoadBalancingV2Client({});
    const { LoadBalancers } = await v2.send(new DescribeV2LoadBalancersCommand({ Names: ['api-alb-prod'] }));
    const lb = LoadBalancers![0];
    const { Listeners } = await v2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }));
    const listener = Listeners![0];
    const certs = await v2.send(new DescribeListenerCertificatesCommand({ ListenerArn: listener.ListenerArn }));
    const apiBefore = await handshake(lb.DNSName!, 443, 'api.gitter.im');
    const otherName = await handshake(lb.DNSName!, 443, 'www.example.org');
    // Act
    const twoDefaults = await v2
      .send(
        new ModifyListenerCommand({
          ListenerArn: listener.ListenerArn,
          Certificates: [{ CertificateArn: nextArn }, { CertificateArn: nextArn }],
        }),
      )
      .catch((e: unknown) => e);
    await v2.send(new ModifyListenerCommand({ ListenerArn: listener.ListenerArn, Certificates: [{ CertificateArn: nextArn }] }));
    const apiAfter = await handshake(lb.DNSName!, 443, 'api.gitter.im');
    const noSni = await handshake(lb.DNSName!, 443);
    // Assert
    expect(lb).toMatchObject({ LoadBalancerName: 'api-alb-prod', Type: 'application', State: { Code: 'active' } });
    expect(listener.Certificates).toEqual([{ CertificateArn: account.currentCertificate.arn }]);
    expect(certs.Certificates).toEqual([
      { CertificateArn: account.currentCertificate.arn, IsDefault: true },
      { CertificateArn: account.otherCertificate.arn, IsDefault: false },
    ]);
    expect(apiBefore).toBe(sha256(current.certPem));
    expect(otherName).toBe(sha256(other.certPem));
    expect(twoDefaults).toMatchObject({ name: 'ValidationError', $metadata: { httpStatusCode: 400 } });
    expect(apiAfter).toBe(sha256(next.certPem));
    expect(noSni).toBe(sha256(next.certPem));
  });

  test('EC2: tag filters the node phases use, paging with MaxResults', async () => {
    // Arrange
    const ec2 = new EC2Client({});
    const ids = (out: { Reservations?: Array<{ Instances?: Array<{ InstanceId?: string }> }> }) =>
      (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId);
    // Act
    const prod = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'tag:Env', Values: ['prod'] },
          { Name: 'instance-state-name', Values: ['running'] },
        ],
      }),
    );
    const canary = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:Name', Values: ['ws-01'] }] }));
    const wildcard = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:Name', Values: ['ws-*'] }] }));
    const page1 = await ec2.send(new DescribeInstancesCommand({ MaxResults: 5, Filters: [{ Name: 'tag-key', Values: ['Env'] }] }));
    const small = await ec2.send(new DescribeInstancesCommand({ MaxResults: 5 })).then((o) => o.NextToken);
    const bad = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0nope'] })).catch((e: unknown) => e);
    // Assert
    expect(ids(prod)).toEqual(['i-0ws01', 'i-0ws02', 'i-0ws03', 'i-0webapp01']);
    expect(ids(canary)).toEqual(['i-0ws01']);
    expect(ids(wildcard)).toEqual(['i-0ws01', 'i-0ws02', 'i-0ws03']);
    expect(ids(page1)).toHaveLength(5);
    expect(small).toBeUndefined();
    const instance = prod.Reservations![0].Instances![0];
    expect(instance.State).toEqual({ Code: 16, Name: 'running' });
    expect(instance.PrivateIpAddress).toMatch(/^10\.0\.\d+\.\d+$/);
    expect(bad).toMatchObject({ name: 'InvalidInstanceID.NotFound' });
  });

  test('nodes serve the current certificate on their private name and IP', async () => {
    // Arrange
    const node = account.targets().find((t) => t.kind === 'node' && t.id === 'i-0ws01')!;
    // Act
    const byName = await handshake(node.host, 443);
    const byIp = await handshake(node.hosts[1], 443);
    // Assert
    expect(node).toMatchObject({ name: 'ws-01', certificate: 'current', port: 443 });
    expect(byName).toBe(sha256(current.certPem));
    expect(byIp).toBe(sha256(current.certPem));
    account.setNodeCertificate('i-0ws01', next, 'new');
    expect(await handshake(node.hosts[1], 443)).toBe(sha256(next.certPem));
  });

  test('tls.connect never reaches the real network: unknown hosts fail with ENOTFOUND, unserved ports with ECONNREFUSED', async () => {
    // Arrange
    const elbDns = account.targets().find((t) => t.kind === 'elb')!.host;
    // Act
    const unknown = await handshake('example.com', 443).catch((e: NodeJS.ErrnoException) => e);
    const ip = await handshake('10.9.9.9', 443).catch((e: NodeJS.ErrnoException) => e);
    const closed = await handshake(elbDns, 9999).catch((e: NodeJS.ErrnoException) => e);
    // Assert
    expect(unknown).toMatchObject({ code: 'ENOTFOUND' });
    expect(ip).toMatchObject({ code: 'ENOTFOUND' });
    expect(closed).toMatchObject({ code: 'ECONNREFUSED' });
  });

  test('Secrets Manager, S3, SNS, SSM and Step Functions answer with SDK shapes', async () => {
    // Arrange
    const sm = new SecretsManagerClient({});
    const s3 = new S3Client({});
    const sns = new SNSClient({});
    const ssm = new SSMClient({});
    const sfn = new SFNClient({});
    account.s3.createBucket('rotation-ledger');
    const stagedArn = account.putSecret('cert-rotation/staged', JSON.stringify({ certPem: next.certPem }));
    // Act: Secrets Manager
    const created = await sm.send(new CreateSecretCommand({ Name: 'cert-rotation/new', SecretString: 'v1', Description: 'test' }));
    const byArn = await sm.send(new GetSecretValueCommand({ SecretId: created.ARN }));
    const staged = await sm.send(new GetSecretValueCommand({ SecretId: stagedArn }));
    const dup = await sm.send(new CreateSecretCommand({ Name: 'cert-rotation/new', SecretString: 'v2' })).catch((e: unknown) => e);
    const missing = await sm.send(new GetSecretValueCommand({ SecretId: 'nope' })).catch((e: unknown) => e);
    // Act: S3
    for (const k of ['ledger/a.json', 'ledger/b.json', 'ledger/c.json', 'other/x']) {
      await s3.send(new PutObjectCommand({ Bucket: 'rotation-ledger', Key: k, Body: `{"k":"${k}"}` }));
    }
    const obj = await s3.send(new GetObjectCommand({ Bucket: 'rotation-ledger', Key: 'ledger/b.json' }));
    const objText = await obj.Body!.transformToString();
    const listed: string[] = [];
    let token: string | undefined;
    do {
      const out = await s3.send(
        new ListObjectsV2Command({ Bucket: 'rotation-ledger', Prefix: 'ledger/', MaxKeys: 2, ContinuationToken: token }),
      );
      listed.push(...(out.Contents ?? []).map((c) => c.Key!));
      token = out.NextContinuationToken;
    } while (token);
    const noKey = await s3.send(new GetObjectCommand({ Bucket: 'rotation-ledger', Key: 'nope' })).catch((e: unknown) => e);
    const noHead = await s3.send(new HeadObjectCommand({ Bucket: 'rotation-ledger', Key: 'nope' })).catch((e: unknown) => e);
    const noBucket = await s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' })).catch((e: unknown) => e);
    // Act: SNS, SSM
    const topic = 'arn:aws:sns:us-east-1:123456789012:cert-rotation';
    const published = await sns.send(new PublishCommand({ TopicArn: topic, Subject: 'Approve canary?', Message: 'Plan: 5 listeners' }));
    const badSubject = await sns
      .send(new PublishCommand({ TopicArn: topic, Subject: 'two\nlines', Message: 'x' }))
      .catch((e: unknown) => e);
    await ssm.send(new PutParameterCommand({ Name: '/monit/cert-md5', Value: 'ABCDEF', Type: 'String' }));
    const param = await ssm.send(new GetParameterCommand({ Name: '/monit/cert-md5' }));
    // Act: Step Functions
    const sm1 = 'arn:aws:states:us-east-1:123456789012:stateMachine:cert-rotation';
    account.sfn.registerExecution({
      executionArn: `${sm1.replace(':stateMachine:', ':execution:')}:run-1`,
      stateMachineArn: sm1,
      name: 'run-1',
      status: 'RUNNING',
    });
    const running = await sfn.send(new ListExecutionsCommand({ stateMachineArn: sm1, statusFilter: 'RUNNING' }));
    account.sfn.expectTaskToken('token-1');
    const decision = account.sfn.waitForTaskToken('token-1');
    await sfn.send(new SendTaskSuccessCommand({ taskToken: 'token-1', output: '{"approved":true}' }));
    const twice = await sfn.send(new SendTaskSuccessCommand({ taskToken: 'token-1', output: '{}' })).catch((e: unknown) => e);
    const unknownToken = await sfn.send(new SendTaskSuccessCommand({ taskToken: 'token-x', output: '{}' })).catch((e: unknown) => e);

    // Assert
    expect(created.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:123456789012:secret:cert-rotation\/new-[A-Za-z0-9]{6}$/);
    expect(byArn.SecretString).toBe('v1');
    expect(JSON.parse(staged.SecretString!)).toEqual({ certPem: next.certPem });
    expect(dup).toBeInstanceOf(ResourceExistsException);
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect(JSON.parse(objText)).toEqual({ k: 'ledger/b.json' });
    expect(listed).toEqual(['ledger/a.json', 'ledger/b.json', 'ledger/c.json']);
    expect(noKey).toBeInstanceOf(NoSuchKey);
    expect(noHead).toMatchObject({ name: 'NotFound', $metadata: { httpStatusCode: 404 } });
    expect(noBucket).toMatchObject({ name: 'NoSuchBucket' });
    expect(published.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(badSubject).toMatchObject({ name: 'InvalidParameterException' });
    expect(account.sns.messages).toEqual([
      expect.objectContaining({ topicArn: topic, subject: 'Approve canary?', message: 'Plan: 5 listeners' }),
    ]);
    expect(param.Parameter).toMatchObject({ Name: '/monit/cert-md5', Value: 'ABCDEF', Version: 1 });
    expect(running.executions!.map((e) => e.name)).toEqual(['run-1']);
    await expect(decision).resolves.toEqual({ output: '{"approved":true}' });
    expect(twice).toMatchObject({ name: 'TaskTimedOut' });
    expect(unknownToken).toMatchObject({ name: 'TaskDoesNotExist' });
    const places = account.recorded().map((r) => r.place);
    expect(places).toEqual(expect.arrayContaining(['notifications', 'ssm parameters', 's3 objects', 'secrets']));
    expect(JSON.stringify(account.recorded())).not.toContain(JSON.stringify({ certPem: next.certPem }));
  });

  test('an operation that is not simulated fails loudly', async () => {
    // Arrange
    const iam = new IAMClient({});
    // Act
    const err = await iam.send(new ListRolesCommand({})).catch((e: unknown) => e);
    // Assert
    expect(err).toMatchObject({ name: 'NotSimulated' });
    expect((err as Error).message).toContain('iam:ListRoles is not simulated');
    expect(account.apiCallCounts()['iam:ListRoles']).toBe(1);
  });

  test('the middleware sits inside retry and signing, outside the deserializer', async () => {
    // Arrange
    const iam = new IAMClient({});
    await iam.send(new ListServerCertificatesCommand({}));
    // Act
    const stack = iam.middlewareStack.identify();
    // Assert
    const at = (name: string) => stack.findIndex((s) => s.startsWith(name));
    expect(at(SIM_MIDDLEWARE_NAME)).toBeGreaterThan(at('retryMiddleware'));
    expect(at(SIM_MIDDLEWARE_NAME)).toBeGreaterThan(at('httpSigningMiddleware'));
    expect(stack[at(SIM_MIDDLEWARE_NAME)]).toBe(`${SIM_MIDDLEWARE_NAME} - deserialize`);
  });
});

describe('IAM quota and S3 bodies', () => {
  let account: SimulatedAccount;

  beforeAll(async () => {
    account = await SimulatedAccount.create({ fleet: defaultFleet(), current, other });
    account.install();
  });

  afterAll(async () => {
    await account.close();
  });

  test('the 21st server certificate is LimitExceeded (which the SDK classifies as throttling)', async () => {
    // Arrange: the account holds 4 (current, other, the default fleet's two older ones); fill up to the quota of 20
    const iam = new IAMClient({ maxAttempts: 1 });
    for (let i = account.iam.list().length; i < 20; i++) {
      await iam.send(
        new UploadServerCertificateCommand({ ServerCertificateName: `q${i}`, CertificateBody: next.certPem, PrivateKey: next.keyPem }),
      );
    }
    // Act
    const err = await iam
      .send(
        new UploadServerCertificateCommand({
          ServerCertificateName: 'one-too-many',
          CertificateBody: next.certPem,
          PrivateKey: next.keyPem,
        }),
      )
      .catch((e: unknown) => e);
    const all = await listAllCertificates(iam);
    const before = account.apiCallCounts()['iam:UploadServerCertificate'];
    const retried = await new IAMClient({})
      .send(
        new UploadServerCertificateCommand({
          ServerCertificateName: 'one-too-many',
          CertificateBody: next.certPem,
          PrivateKey: next.keyPem,
        }),
      )
      .catch((e: { $metadata?: { attempts?: number } }) => e);
    // Assert
    expect(account.apiCallCounts()['iam:UploadServerCertificate'] - before).toBe(3);
    expect(retried.$metadata?.attempts).toBe(3);
    expect(err).toBeInstanceOf(LimitExceededException);
    expect((err as Error).message).toContain('ServerCertificatesPerAccount: 20');
    expect(all.items).toHaveLength(20);
    expect(all.pages).toBe(7);
  });

  test('GetAccountSummary counts the server certificates the account holds, against the default quota of 20', async () => {
    // Act
    const out = await new IAMClient({}).send(new GetAccountSummaryCommand({}));

    // Assert
    expect(out.SummaryMap).toEqual({ ServerCertificates: account.iam.list().length, ServerCertificatesQuota: 20 });
  });

  test('PutObject takes strings, Buffers, Uint8Arrays and streams', async () => {
    // Arrange
    const s3 = new S3Client({});
    account.s3.createBucket('bodies');
    const bodies: Array<[string, string | Buffer | Uint8Array | Readable]> = [
      ['string', 'hello'],
      ['buffer', Buffer.from('hello')],
      ['bytes', new TextEncoder().encode('hello')],
      ['stream', Readable.from([Buffer.from('hel'), Buffer.from('lo')])],
    ];
    // Act
    for (const [key, Body] of bodies) {
      await s3.send(new PutObjectCommand({ Bucket: 'bodies', Key: key, Body, ContentLength: 5 }));
    }
    const texts = await Promise.all(
      bodies.map(async ([key]) => (await s3.send(new GetObjectCommand({ Bucket: 'bodies', Key: key }))).Body!.transformToString()),
    );
    // Assert
    expect(texts).toEqual(['hello', 'hello', 'hello', 'hello']);
  });
});

describe("IAM: the fleet's older certificates and quota", () => {
  const fleet = {
    ...defaultFleet(),
    iamCertificates: [
      { name: 'STAR.gitter.im_2023-11-15', uploadedDaysAgo: 1110 },
      { name: 'STAR.gitter.im_2022-11-15', uploadedDaysAgo: 1475, path: '/cloudfront/staging/' },
    ],
    iamServerCertificateQuota: 4,
    distributions: [{ id: 'E5OLD', aliases: ['old.gitter.im'], deploySeconds: 1, certificate: 'STAR.gitter.im_2023-11-15' }],
  };
  let account: SimulatedAccount;
  beforeAll(async () => {
    account = await SimulatedAccount.create({ fleet, current, other, iamCertificates: { 'STAR.gitter.im_2023-11-15': next } });
    account.install();
  });
  afterAll(async () => {
    await account.close();
  });

  test("seeded with their upload dates and paths (default: the current one's path), served with their own material", async () => {
    // Act
    const old = account.iam.byName('STAR.gitter.im_2023-11-15')!;
    const staging = account.iam.byName('STAR.gitter.im_2022-11-15')!;
    const d = (await new CloudFrontClient({}).send(new ListDistributionsCommand({}))).DistributionList?.Items?.[0];
    const served = await handshake('old.gitter.im', 443, 'old.gitter.im');

    // Assert
    expect(old.path).toBe(account.currentCertificate.path);
    expect(staging.path).toBe('/cloudfront/staging/');
    expect(Math.round((account.clock.nowMs() - old.uploadDate.getTime()) / DAY)).toBe(1110);
    expect(old.uploadDate.getTime()).toBeLessThan(account.currentCertificate.uploadDate.getTime());
    expect(d?.ViewerCertificate?.IAMCertificateId).toBe(old.id);
    expect(served).toBe(sha256(next.certPem));
    // a name without material gets the other certificate's
    expect(staging.sha256).toBe(account.otherCertificate.sha256);
  });

  test("GetAccountSummary gives the fleet's quota; an upload beyond it is LimitExceeded", async () => {
    // Arrange
    const iam = new IAMClient({ maxAttempts: 1 });

    // Act
    const summary = await iam.send(new GetAccountSummaryCommand({}));
    const err = await iam
      .send(new UploadServerCertificateCommand({ ServerCertificateName: 'full', CertificateBody: next.certPem, PrivateKey: next.keyPem }))
      .catch((e: unknown) => e);

    // Assert
    expect(summary.SummaryMap).toEqual({ ServerCertificates: 4, ServerCertificatesQuota: 4 });
    expect(err).toBeInstanceOf(LimitExceededException);
    expect((err as Error).message).toContain('ServerCertificatesPerAccount: 4');
  });
});

describe('install / uninstall', () => {
  test('restores send, tls.connect and the environment; a client built while installed never reaches AWS afterwards', async () => {
    // Arrange
    const savedEnv = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY, region: process.env.AWS_REGION };
    const originalConnect = tls.connect;
    const account = await SimulatedAccount.create({ fleet: defaultFleet(), current, other });
    account.install();
    const iam = new IAMClient({});
    const installedConnect = tls.connect;
    const ownSendWhileInstalled = Object.prototype.hasOwnProperty.call(IAMClient.prototype, 'send');
    const envWhileInstalled = process.env.AWS_ACCESS_KEY_ID;
    await iam.send(new ListServerCertificatesCommand({}));
    // Act
    await account.close();
    const after = await iam.send(new ListServerCertificatesCommand({})).catch((e: unknown) => e);
    // Assert
    expect(installedConnect).not.toBe(originalConnect);
    expect(ownSendWhileInstalled).toBe(true);
    expect(envWhileInstalled).toBe(savedEnv.id ?? 'AKIASIMULATED0000000');
    expect(tls.connect).toBe(originalConnect);
    expect(Object.prototype.hasOwnProperty.call(IAMClient.prototype, 'send')).toBe(false);
    expect(process.env.AWS_ACCESS_KEY_ID).toBe(savedEnv.id);
    expect(process.env.AWS_SECRET_ACCESS_KEY).toBe(savedEnv.secret);
    expect(process.env.AWS_REGION).toBe(savedEnv.region);
    expect(after).toMatchObject({ name: 'SimulatedAccountNotInstalled' });
  });

  test('only one account can be installed at a time', async () => {
    // Arrange
    const a = await SimulatedAccount.create({ fleet: defaultFleet(), current, other });
    const b = await SimulatedAccount.create({ fleet: defaultFleet(), current, other });
    try {
      // Act
      a.install();
      // Assert
      expect(() => b.install()).toThrow(/already installed/);
      expect(a.installed).toBe(true);
      expect(b.installed).toBe(false);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
