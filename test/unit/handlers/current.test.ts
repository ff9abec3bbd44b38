import { X509Certificate } from 'node:crypto';
import {
  AccessPointNotFoundException,
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingClient,
  type ListenerDescription,
} from '@aws-sdk/client-elastic-load-balancing';
import { GetServerCertificateCommand, IAMClient, ListServerCertificatesCommand, type ServerCertificateMetadata } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { findCurrentCertificate, type CurrentParams } from '../../../lambdas/current/domain';
import { TargetNotFound } from '../../../lambdas/shared/errors';
import { silentLogger } from '../../../lambdas/shared/logger';
import { issueWithFreshPki } from '../../../local/certs';
import { caught, md5Of, OLD_ARN, OLD_ID, sha256Of } from '../../support/handler-support';

const elbMock = mockClient(ElasticLoadBalancingClient);
const iamMock = mockClient(IAMClient);

const CANARY = { loadBalancerName: 'apps-servers-elb-prod', port: 6667 };
const CURRENT_META: ServerCertificateMetadata = {
  Path: '/cloudfront/gitter-production/',
  ServerCertificateName: 'STAR.gitter.im_2025-11-15',
  ServerCertificateId: OLD_ID,
  Arn: OLD_ARN,
};
const meta = (name: string): ServerCertificateMetadata => ({
  Path: '/',
  ServerCertificateName: name,
  ServerCertificateId: `ASCA${name.toUpperCase().replace(/[^A-Z0-9]/g, '')}`,
  Arn: `arn:aws:iam::123456789012:server-certificate/${name}`,
});

let certPem: string;
let chainPem: string;

beforeAll(async () => {
  ({ certPem, chainPem } = await issueWithFreshPki({ names: ['*.gitter.im', 'gitter.im'] }));
});

beforeEach(() => {
  elbMock.reset();
  iamMock.reset();
});

function makeParams(overrides: Partial<CurrentParams> = {}): CurrentParams {
  return {
    elb: new ElasticLoadBalancingClient({ region: 'eu-west-1' }),
    iam: new IAMClient({ region: 'us-east-1' }),
    logger: silentLogger,
    canary: CANARY,
    ...overrides,
  };
}

function canaryElb(listeners: ListenerDescription[]): void {
  elbMock.on(DescribeLoadBalancersCommand, { LoadBalancerNames: [CANARY.loadBalancerName] }).resolves({
    LoadBalancerDescriptions: [
      { LoadBalancerName: CANARY.loadBalancerName, DNSName: 'apps.elb.amazonaws.com', ListenerDescriptions: listeners },
    ],
  });
}

const ircListener = (sslCertificateId?: string): ListenerDescription => ({
  Listener: {
    Protocol: 'SSL',
    LoadBalancerPort: 6667,
    InstanceProtocol: 'TCP',
    InstancePort: 6667,
    ...(sslCertificateId ? { SSLCertificateId: sslCertificateId } : {}),
  },
});
const httpListener: ListenerDescription = {
  Listener: { Protocol: 'HTTP', LoadBalancerPort: 80, InstanceProtocol: 'HTTP', InstancePort: 80 },
};

describe('findCurrentCertificate', () => {
  test('reads the certificate on the canary listener: IAM listing paginated by Marker, body fingerprints and names', async () => {
    // Arrange
    canaryElb([httpListener, ircListener(OLD_ARN)]);
    iamMock
      .on(ListServerCertificatesCommand)
      .resolvesOnce({ ServerCertificateMetadataList: [meta('old-2023'), meta('other')], IsTruncated: true, Marker: 'page-2' })
      .resolvesOnce({ ServerCertificateMetadataList: [meta('unrelated'), CURRENT_META], IsTruncated: false });
    iamMock.on(GetServerCertificateCommand, { ServerCertificateName: CURRENT_META.ServerCertificateName }).resolves({
      ServerCertificate: { ServerCertificateMetadata: CURRENT_META, CertificateBody: certPem, CertificateChain: chainPem },
    });
    const x509 = new X509Certificate(certPem);

    // Act
    const current = await findCurrentCertificate(makeParams());

    // Assert
    expect(current).toEqual({
      arn: OLD_ARN,
      id: OLD_ID,
      name: 'STAR.gitter.im_2025-11-15',
      path: '/cloudfront/gitter-production/',
      sha256: sha256Of(certPem),
      md5: md5Of(certPem),
      serial: x509.serialNumber.toUpperCase(),
      notAfter: new Date(x509.validTo).toISOString(),
      names: ['*.gitter.im', 'gitter.im'],
    });
    const lists = iamMock.commandCalls(ListServerCertificatesCommand);
    expect(lists).toHaveLength(2);
    expect(lists[0].args[0].input.Marker).toBeUndefined();
    expect(lists[1].args[0].input.Marker).toBe('page-2');
    expect(elbMock.commandCalls(DescribeLoadBalancersCommand)[0].args[0].input).toEqual({ LoadBalancerNames: [CANARY.loadBalancerName] });
  });

  test('stops paginating once the certificate is found', async () => {
    // Arrange
    canaryElb([ircListener(OLD_ARN)]);
    iamMock
      .on(ListServerCertificatesCommand)
      .resolvesOnce({ ServerCertificateMetadataList: [CURRENT_META], IsTruncated: true, Marker: 'page-2' });
    iamMock
      .on(GetServerCertificateCommand)
      .resolves({ ServerCertificate: { ServerCertificateMetadata: CURRENT_META, CertificateBody: certPem } });

    // Act
    await findCurrentCertificate(makeParams());

    // Assert
    expect(iamMock.commandCalls(ListServerCertificatesCommand)).toHaveLength(1);
  });

  test('an unknown load balancer (AccessPointNotFoundException) -> TargetNotFound naming it', async () => {
    // Arrange
    elbMock.on(DescribeLoadBalancersCommand).rejects(
      new AccessPointNotFoundException({
        message: 'There is no ACTIVE Load Balancer named apps-servers-elb-prod',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    // Act
    const thrown = await caught(() => findCurrentCertificate(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(TargetNotFound);
    expect(thrown.name).toBe('TargetNotFound');
    expect(thrown.message).toContain('apps-servers-elb-prod');
    expect(iamMock.calls()).toHaveLength(0);
  });

  test('no listener on the canary port -> TargetNotFound naming load balancer and port', async () => {
    // Arrange
    canaryElb([httpListener]);

    // Act
    const thrown = await caught(() => findCurrentCertificate(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(TargetNotFound);
    expect(thrown.message).toContain('apps-servers-elb-prod');
    expect(thrown.message).toContain('6667');
  });

  test('a canary listener without a certificate (plain TCP) -> TargetNotFound naming name:port', async () => {
    // Arrange
    canaryElb([{ Listener: { Protocol: 'TCP', LoadBalancerPort: 6667, InstanceProtocol: 'TCP', InstancePort: 6667 } }]);

    // Act
    const thrown = await caught(() => findCurrentCertificate(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(TargetNotFound);
    expect(thrown.message).toContain('apps-servers-elb-prod:6667');
    expect(thrown.message).toContain('has no certificate');
  });

  test('an ACM certificate on the canary -> TargetNotFound naming the listener and the ARN', async () => {
    // Arrange
    const acm = 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012';
    canaryElb([ircListener(acm)]);

    // Act
    const thrown = await caught(() => findCurrentCertificate(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(TargetNotFound);
    expect(thrown.message).toContain('apps-servers-elb-prod:6667');
    expect(thrown.message).toContain(acm);
    expect(thrown.message).toContain('not an IAM server certificate');
    expect(iamMock.calls()).toHaveLength(0);
  });

  test('an IAM ARN that IAM does not list -> TargetNotFound naming listener and ARN', async () => {
    // Arrange
    canaryElb([ircListener(OLD_ARN)]);
    iamMock.on(ListServerCertificatesCommand).resolves({ ServerCertificateMetadataList: [meta('other')], IsTruncated: false });

    // Act
    const thrown = await caught(() => findCurrentCertificate(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(TargetNotFound);
    expect(thrown.message).toContain('apps-servers-elb-prod:6667');
    expect(thrown.message).toContain(OLD_ARN);
  });
});
