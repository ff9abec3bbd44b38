import {
  CloudFrontClient,
  GetDistributionConfigCommand,
  NoSuchDistribution,
  PreconditionFailed,
  UpdateDistributionCommand,
  type DistributionConfig,
} from '@aws-sdk/client-cloudfront';
import {
  AccessPointNotFoundException,
  CertificateNotFoundException,
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingClient,
  SetLoadBalancerListenerSSLCertificateCommand,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  AddListenerCertificatesCommand,
  CertificateNotFoundException as V2CertificateNotFoundException,
  DescribeListenerCertificatesCommand,
  DescribeListenersCommand,
  ElasticLoadBalancingV2Client,
  ListenerNotFoundException,
  ModifyListenerCommand,
  RemoveListenerCertificatesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { AwsTransient, CertificateNotPropagated, TargetNotFound } from '../../../lambdas/shared/errors';
import type { EdgeClients } from '../../../lambdas/shared/target-ops';
import {
  albDefaultTarget,
  albSniTarget,
  awsError,
  canaryTarget,
  caught,
  distributionTarget,
  NEW_ARN,
  NEW_ID,
  OLD_ARN,
  OLD_ID,
  THIRD_ARN,
  switchTarget,
  targetState,
  THIRD_ID,
} from '../../support/handler-support';

const elbMock = mockClient(ElasticLoadBalancingClient);
const elbv2Mock = mockClient(ElasticLoadBalancingV2Client);
const cloudfrontMock = mockClient(CloudFrontClient);

beforeEach(() => {
  elbMock.reset();
  elbv2Mock.reset();
  cloudfrontMock.reset();
});

function makeClients(overrides: Partial<EdgeClients> = {}): EdgeClients {
  return {
    elb: new ElasticLoadBalancingClient({ region: 'eu-west-1' }),
    elbv2: new ElasticLoadBalancingV2Client({ region: 'eu-west-1' }),
    cloudfront: new CloudFrontClient({ region: 'us-east-1' }),
    ...overrides,
  };
}

function canaryServes(arn: string | undefined): void {
  elbMock.on(DescribeLoadBalancersCommand, { LoadBalancerNames: [canaryTarget.loadBalancerName] }).resolves({
    LoadBalancerDescriptions: [
      {
        LoadBalancerName: canaryTarget.loadBalancerName,
        ListenerDescriptions: [
          {
            Listener: { Protocol: 'HTTPS', LoadBalancerPort: 443, InstanceProtocol: 'HTTP', InstancePort: 80, SSLCertificateId: THIRD_ARN },
          },
          {
            Listener: {
              Protocol: 'SSL',
              LoadBalancerPort: 6667,
              InstanceProtocol: 'TCP',
              InstancePort: 6667,
              ...(arn ? { SSLCertificateId: arn } : {}),
            },
          },
        ],
      },
    ],
  });
}

function distributionConfig(iamCertificateId: string): DistributionConfig {
  return {
    CallerReference: 'gitter-cdn-2015',
    Comment: 'cdn.gitter.im',
    Enabled: true,
    Aliases: { Quantity: 1, Items: ['cdn.gitter.im'] },
    Origins: { Quantity: 1, Items: [{ Id: 'origin', DomainName: 'assets.gitter.im' }] },
    DefaultCacheBehavior: { TargetOriginId: 'origin', ViewerProtocolPolicy: 'redirect-to-https' },
    ViewerCertificate: {
      IAMCertificateId: iamCertificateId,
      Certificate: iamCertificateId,
      CertificateSource: 'iam',
      CloudFrontDefaultCertificate: false,
      SSLSupportMethod: 'sni-only',
      MinimumProtocolVersion: 'TLSv1.2_2021',
    },
  };
}

describe('observe: where a target stands', () => {
  test.each([
    ['the old certificate', OLD_ARN, 'before'],
    ['the new certificate', NEW_ARN, 'after'],
    ['a third certificate', THIRD_ARN, 'other'],
  ])('classic ELB listener serving %s -> %s (reading the right port)', async (_label, served, state) => {
    // Arrange
    canaryServes(served);

    // Act
    const result = await targetState(makeClients(), canaryTarget, OLD_ARN, NEW_ARN);

    // Assert
    expect(result).toEqual({ state, value: served });
  });

  test('classic ELB without a listener on the port -> TargetNotFound naming load balancer and port', async () => {
    // Arrange
    elbMock
      .on(DescribeLoadBalancersCommand)
      .resolves({ LoadBalancerDescriptions: [{ LoadBalancerName: canaryTarget.loadBalancerName, ListenerDescriptions: [] }] });

    // Act
    const thrown = await caught(() => targetState(makeClients(), canaryTarget, OLD_ARN, NEW_ARN));

    // Assert
    expect(thrown).toBeInstanceOf(TargetNotFound);
    expect(thrown.message).toContain('apps-servers-elb-prod');
    expect(thrown.message).toContain('6667');
  });

  test('a deleted classic ELB -> TargetNotFound naming it', async () => {
    // Arrange
    elbMock
      .on(DescribeLoadBalancersCommand)
      .rejects(new AccessPointNotFoundException({ message: 'no such LB', $metadata: { httpStatusCode: 400 } }));

    // Act
    const thrown = await caught(() => targetState(makeClients(), canaryTarget, OLD_ARN, NEW_ARN));

    // Assert
    expect(thrown).toBeInstanceOf(TargetNotFound);
    expect(thrown.message).toContain('apps-servers-elb-prod');
  });

  test('ELBv2 default role: the IsDefault certificate decides, across DescribeListenerCertificates pages', async () => {
    // Arrange
    elbv2Mock
      .on(DescribeListenerCertificatesCommand)
      .resolvesOnce({ Certificates: [{ CertificateArn: THIRD_ARN, IsDefault: false }], NextMarker: 'p2' })
      .resolvesOnce({ Certificates: [{ CertificateArn: NEW_ARN, IsDefault: true }] });

    // Act
    const result = await targetState(makeClients(), albDefaultTarget, OLD_ARN, NEW_ARN);

    // Assert
    expect(result).toEqual({ state: 'after', value: NEW_ARN });
    const calls = elbv2Mock.commandCalls(DescribeListenerCertificatesCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      { ListenerArn: albDefaultTarget.listenerArn, Marker: undefined, PageSize: 400 },
      { ListenerArn: albDefaultTarget.listenerArn, Marker: 'p2', PageSize: 400 },
    ]);
  });

  test('ELBv2 default role: when the certificate list has no default, DescribeListeners gives it', async () => {
    // Arrange
    elbv2Mock.on(DescribeListenerCertificatesCommand).resolves({ Certificates: [{ CertificateArn: THIRD_ARN, IsDefault: false }] });
    elbv2Mock.on(DescribeListenersCommand, { ListenerArns: [albDefaultTarget.listenerArn] }).resolves({
      Listeners: [{ ListenerArn: albDefaultTarget.listenerArn, Certificates: [{ CertificateArn: OLD_ARN }] }],
    });

    // Act
    const result = await targetState(makeClients(), albDefaultTarget, OLD_ARN, NEW_ARN);

    // Assert
    expect(result).toEqual({ state: 'before', value: OLD_ARN });
  });

  test.each([
    ['old + unrelated', [OLD_ARN, THIRD_ARN], 'before'],
    ['unrelated + new', [THIRD_ARN, NEW_ARN], 'after'],
    ['only an unrelated one', [THIRD_ARN], 'other'],
  ])('ELBv2 SNI role with SNI certificates %s -> %s', async (_label, sni, state) => {
    // Arrange
    elbv2Mock.on(DescribeListenerCertificatesCommand).resolves({
      Certificates: [
        { CertificateArn: 'arn:default', IsDefault: true },
        ...sni.map((CertificateArn) => ({ CertificateArn, IsDefault: false })),
      ],
    });

    // Act
    const result = await targetState(makeClients(), albSniTarget, OLD_ARN, NEW_ARN);

    // Assert
    expect(result.state).toBe(state);
  });

  test.each([
    ['the old certificate', OLD_ID, 'before'],
    ['the new certificate', NEW_ID, 'after'],
    ['a third certificate', THIRD_ID, 'other'],
  ])('CloudFront viewer certificate is %s -> %s', async (_label, id, state) => {
    // Arrange
    cloudfrontMock
      .on(GetDistributionConfigCommand, { Id: distributionTarget.distributionId })
      .resolves({ ETag: 'E1', DistributionConfig: distributionConfig(id) });

    // Act
    const result = await targetState(makeClients(), distributionTarget, OLD_ID, NEW_ID);

    // Assert
    expect(result).toEqual({ state, value: id });
  });
});

describe('apply: switching what observe saw', () => {
  test('classic ELB: SetLoadBalancerListenerSSLCertificate on the listener port with the new ARN', async () => {
    // Arrange
    canaryServes(OLD_ARN);
    elbMock.on(SetLoadBalancerListenerSSLCertificateCommand).resolves({});

    // Act
    await switchTarget(makeClients(), canaryTarget, OLD_ARN, NEW_ARN);

    // Assert
    const calls = elbMock.commandCalls(SetLoadBalancerListenerSSLCertificateCommand);
    expect(calls.map((c) => c.args[0].input)).toEqual([
      { LoadBalancerName: 'apps-servers-elb-prod', LoadBalancerPort: 6667, SSLCertificateId: NEW_ARN },
    ]);
  });

  test('classic ELB: CertificateNotFoundException (IAM propagation) -> CertificateNotPropagated naming the listener', async () => {
    // Arrange
    canaryServes(OLD_ARN);
    elbMock
      .on(SetLoadBalancerListenerSSLCertificateCommand)
      .rejects(
        new CertificateNotFoundException({ message: 'Server Certificate not found for the key', $metadata: { httpStatusCode: 400 } }),
      );

    // Act
    const thrown = await caught(() => switchTarget(makeClients(), canaryTarget, OLD_ARN, NEW_ARN));

    // Assert
    expect(thrown).toBeInstanceOf(CertificateNotPropagated);
    expect(thrown.message).toContain('ELB apps-servers-elb-prod:6667');
  });

  test('classic ELB deleted meanwhile -> TargetNotFound', async () => {
    // Arrange
    canaryServes(OLD_ARN);
    elbMock
      .on(SetLoadBalancerListenerSSLCertificateCommand)
      .rejects(new AccessPointNotFoundException({ message: 'gone', $metadata: { httpStatusCode: 400 } }));

    // Act
    const thrown = await caught(() => switchTarget(makeClients(), canaryTarget, OLD_ARN, NEW_ARN));

    // Assert
    expect(thrown).toBeInstanceOf(TargetNotFound);
    expect(thrown.message).toContain('apps-servers-elb-prod');
  });

  test('ELBv2 default: ModifyListener with exactly the new certificate; the SNI list is not touched', async () => {
    // Arrange
    elbv2Mock.on(DescribeListenerCertificatesCommand).resolves({ Certificates: [{ CertificateArn: OLD_ARN, IsDefault: true }] });
    elbv2Mock.on(ModifyListenerCommand).resolves({});

    // Act
    await switchTarget(makeClients(), albDefaultTarget, OLD_ARN, NEW_ARN);

    // Assert
    expect(elbv2Mock.commandCalls(ModifyListenerCommand).map((c) => c.args[0].input)).toEqual([
      { ListenerArn: albDefaultTarget.listenerArn, Certificates: [{ CertificateArn: NEW_ARN }] },
    ]);
    expect(elbv2Mock.commandCalls(AddListenerCertificatesCommand)).toHaveLength(0);
    expect(elbv2Mock.commandCalls(RemoveListenerCertificatesCommand)).toHaveLength(0);
  });

  test('ELBv2 SNI: adds the new certificate first, then removes the old one (never a moment without either)', async () => {
    // Arrange
    elbv2Mock.on(DescribeListenerCertificatesCommand).resolves({
      Certificates: [
        { CertificateArn: 'arn:default', IsDefault: true },
        { CertificateArn: OLD_ARN, IsDefault: false },
      ],
    });
    elbv2Mock.on(AddListenerCertificatesCommand).resolves({});
    elbv2Mock.on(RemoveListenerCertificatesCommand).resolves({});

    // Act
    await switchTarget(makeClients(), albSniTarget, OLD_ARN, NEW_ARN);

    // Assert
    const calls = elbv2Mock
      .calls()
      .map((c) => ({ command: c.args[0].constructor.name, input: (c.args[0] as { input: unknown }).input }))
      .filter((c) => c.command !== 'DescribeListenerCertificatesCommand');
    expect(calls).toEqual([
      {
        command: 'AddListenerCertificatesCommand',
        input: { ListenerArn: albSniTarget.listenerArn, Certificates: [{ CertificateArn: NEW_ARN }] },
      },
      {
        command: 'RemoveListenerCertificatesCommand',
        input: { ListenerArn: albSniTarget.listenerArn, Certificates: [{ CertificateArn: OLD_ARN }] },
      },
    ]);
  });

  test('ELBv2 SNI: a failed add leaves the old certificate in place (no remove)', async () => {
    // Arrange
    elbv2Mock.on(DescribeListenerCertificatesCommand).resolves({
      Certificates: [
        { CertificateArn: 'arn:default', IsDefault: true },
        { CertificateArn: OLD_ARN, IsDefault: false },
      ],
    });
    elbv2Mock
      .on(AddListenerCertificatesCommand)
      .rejects(new V2CertificateNotFoundException({ message: 'not found', $metadata: { httpStatusCode: 400 } }));

    // Act
    const thrown = await caught(() => switchTarget(makeClients(), albSniTarget, OLD_ARN, NEW_ARN));

    // Assert
    expect(thrown).toBeInstanceOf(CertificateNotPropagated);
    expect(elbv2Mock.commandCalls(RemoveListenerCertificatesCommand)).toHaveLength(0);
  });

  test('ELBv2 SNI: a retry after an interrupted switch (both present) only removes the old one', async () => {
    // Arrange
    elbv2Mock.on(DescribeListenerCertificatesCommand).resolves({
      Certificates: [
        { CertificateArn: 'arn:default', IsDefault: true },
        { CertificateArn: OLD_ARN, IsDefault: false },
        { CertificateArn: NEW_ARN, IsDefault: false },
      ],
    });
    elbv2Mock.on(RemoveListenerCertificatesCommand).resolves({});

    // Act
    await switchTarget(makeClients(), albSniTarget, OLD_ARN, NEW_ARN);

    // Assert
    expect(elbv2Mock.commandCalls(AddListenerCertificatesCommand)).toHaveLength(0);
    expect(elbv2Mock.commandCalls(RemoveListenerCertificatesCommand)[0].args[0].input.Certificates).toEqual([{ CertificateArn: OLD_ARN }]);
  });

  test('ELBv2 listener deleted -> TargetNotFound naming it', async () => {
    // Arrange
    elbv2Mock.on(DescribeListenerCertificatesCommand).resolves({ Certificates: [{ CertificateArn: OLD_ARN, IsDefault: true }] });
    elbv2Mock.on(ModifyListenerCommand).rejects(new ListenerNotFoundException({ message: 'gone', $metadata: { httpStatusCode: 400 } }));

    // Act
    const thrown = await caught(() => switchTarget(makeClients(), albDefaultTarget, OLD_ARN, NEW_ARN));

    // Assert
    expect(thrown).toBeInstanceOf(TargetNotFound);
    expect(thrown.message).toContain('ELBv2 api-alb:443');
  });

  test('CloudFront: GetDistributionConfig then UpdateDistribution with IfMatch = ETag and the certificate id switched, the rest unchanged', async () => {
    // Arrange
    cloudfrontMock.on(GetDistributionConfigCommand).resolves({ ETag: 'E2ETAG', DistributionConfig: distributionConfig(OLD_ID) });
    cloudfrontMock.on(UpdateDistributionCommand).resolves({ ETag: 'E3ETAG' });

    // Act
    await switchTarget(makeClients(), distributionTarget, OLD_ID, NEW_ID);

    // Assert
    expect(cloudfrontMock.commandCalls(GetDistributionConfigCommand)[0].args[0].input).toEqual({ Id: distributionTarget.distributionId });
    const updates = cloudfrontMock.commandCalls(UpdateDistributionCommand);
    expect(updates).toHaveLength(1);
    const input = updates[0].args[0].input;
    const expectedConfig = distributionConfig(OLD_ID);
    expect(input).toEqual({
      Id: distributionTarget.distributionId,
      IfMatch: 'E2ETAG',
      DistributionConfig: {
        ...expectedConfig,
        ViewerCertificate: { ...expectedConfig.ViewerCertificate, IAMCertificateId: NEW_ID, Certificate: NEW_ID },
      },
    });
  });

  test('CloudFront: PreconditionFailed (ETag race) on every re-read attempt -> AwsTransient (retried by the state machine)', async () => {
    // Arrange
    cloudfrontMock.on(GetDistributionConfigCommand).resolves({ ETag: 'E2ETAG', DistributionConfig: distributionConfig(OLD_ID) });
    cloudfrontMock.on(UpdateDistributionCommand).rejects(
      new PreconditionFailed({
        message: 'The precondition given in one or more of the request-header fields evaluated to false.',
        $metadata: { httpStatusCode: 412 },
      }),
    );

    // Act
    const thrown = await caught(() => switchTarget(makeClients(), distributionTarget, OLD_ID, NEW_ID));

    // Assert
    expect(thrown).toBeInstanceOf(AwsTransient);
    expect(thrown.message).toContain(distributionTarget.distributionId);
    // Each attempt re-read the config for a fresh ETag first.
    expect(cloudfrontMock.commandCalls(GetDistributionConfigCommand)).toHaveLength(5);
    expect(cloudfrontMock.commandCalls(UpdateDistributionCommand)).toHaveLength(5);
  });

  test('CloudFront: one PreconditionFailed (ETag race) -> re-read and updated with the fresh ETag', async () => {
    // Arrange
    cloudfrontMock
      .on(GetDistributionConfigCommand)
      .resolvesOnce({ ETag: 'E1', DistributionConfig: distributionConfig(OLD_ID) })
      .resolves({ ETag: 'E2', DistributionConfig: distributionConfig(OLD_ID) });
    cloudfrontMock
      .on(UpdateDistributionCommand)
      .rejectsOnce(new PreconditionFailed({ message: 'precondition failed', $metadata: { httpStatusCode: 412 } }))
      .resolves({});

    // Act
    await switchTarget(makeClients(), distributionTarget, OLD_ID, NEW_ID);

    // Assert
    expect(cloudfrontMock.commandCalls(UpdateDistributionCommand).map((c) => c.args[0].input.IfMatch)).toEqual(['E1', 'E2']);
  });

  test('CloudFront distribution deleted -> TargetNotFound', async () => {
    // Arrange
    cloudfrontMock
      .on(GetDistributionConfigCommand)
      .rejects(new NoSuchDistribution({ message: 'The specified distribution does not exist.', $metadata: { httpStatusCode: 404 } }));

    // Act
    const thrown = await caught(() => switchTarget(makeClients(), distributionTarget, OLD_ID, NEW_ID));

    // Assert
    expect(thrown).toBeInstanceOf(TargetNotFound);
    expect(thrown.message).toContain(distributionTarget.distributionId);
    expect(cloudfrontMock.commandCalls(UpdateDistributionCommand)).toHaveLength(0);
  });

  test('CloudFront config without a viewer certificate -> TargetNotFound, nothing updated', async () => {
    // Arrange
    const { ViewerCertificate: _dropped, ...noCert } = distributionConfig(OLD_ID);
    cloudfrontMock.on(GetDistributionConfigCommand).resolves({ ETag: 'E2ETAG', DistributionConfig: noCert });

    // Act
    const thrown = await caught(() => switchTarget(makeClients(), distributionTarget, OLD_ID, NEW_ID));

    // Assert
    expect(thrown).toBeInstanceOf(TargetNotFound);
    expect(cloudfrontMock.commandCalls(UpdateDistributionCommand)).toHaveLength(0);
  });

  test('an unexpected AWS error passes through unchanged', async () => {
    // Arrange
    const error = awsError('InvalidViewerCertificate', { message: 'The specified SSL certificate does not exist' });
    cloudfrontMock.on(GetDistributionConfigCommand).resolves({ ETag: 'E2ETAG', DistributionConfig: distributionConfig(OLD_ID) });
    cloudfrontMock.on(UpdateDistributionCommand).rejects(error);

    // Act
    const thrown = await caught(() => switchTarget(makeClients(), distributionTarget, OLD_ID, NEW_ID));

    // Assert
    expect(thrown).toBe(error);
  });
});
