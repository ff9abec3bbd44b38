import { X509Certificate } from 'node:crypto';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeLoadBalancersCommand, ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { GetServerCertificateCommand, IAMClient, ListServerCertificatesCommand } from '@aws-sdk/client-iam';
import { ListExecutionsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { checkExpiry, scheduledExecutionName, type ExpiryCheckParams } from '../../../lambdas/expiry-check/domain';
import type { ProbeResult, TlsProbe } from '../../../lambdas/shared/tls-probe';
import { issueWithFreshPki } from '../../../local/certs';
import { awsError, caught, OLD_ARN, OLD_ID, recordingLogger, sha256Of } from '../../support/handler-support';

const elbMock = mockClient(ElasticLoadBalancingClient);
const iamMock = mockClient(IAMClient);
const sfnMock = mockClient(SFNClient);
const snsMock = mockClient(SNSClient);
const cwMock = mockClient(CloudWatchClient);

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:CertRotation-gitter-im';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:rotation';
const NOW = new Date('2026-12-01T09:00:00.000Z');
const DAY = 86_400_000;
const CANARY = { loadBalancerName: 'apps-servers-elb-prod', port: 6667 };

let certPem: string;
let probeResult: ProbeResult;

/** A certificate expiring `days` after NOW, served by the canary listener (IAM) and its endpoint (TLS). */
async function inUse(days: number): Promise<void> {
  ({ certPem } = await issueWithFreshPki({
    names: ['*.gitter.im', 'gitter.im'],
    notBefore: new Date(NOW.getTime() - 300 * DAY),
    notAfter: new Date(NOW.getTime() + days * DAY - 60_000),
  }));
  const x = new X509Certificate(certPem);
  probeResult = {
    endpoint: 'irc.gitter.im:6667',
    sha256: sha256Of(certPem),
    serial: x.serialNumber.toUpperCase(),
    notAfter: new Date(x.validTo).toISOString(),
    subject: '*.gitter.im',
  };
  elbMock.on(DescribeLoadBalancersCommand).resolves({
    LoadBalancerDescriptions: [
      {
        LoadBalancerName: CANARY.loadBalancerName,
        ListenerDescriptions: [{ Listener: { Protocol: 'SSL', LoadBalancerPort: 6667, InstancePort: 6667, SSLCertificateId: OLD_ARN } }],
      },
    ],
  });
  const metadata = {
    Path: '/cloudfront/gitter-production/',
    ServerCertificateName: 'STAR.gitter.im_2025-11-15',
    ServerCertificateId: OLD_ID,
    Arn: OLD_ARN,
  };
  iamMock.on(ListServerCertificatesCommand).resolves({ ServerCertificateMetadataList: [metadata] });
  iamMock
    .on(GetServerCertificateCommand)
    .resolves({ ServerCertificate: { CertificateBody: certPem, ServerCertificateMetadata: metadata } });
}

const probe: TlsProbe = () => Promise.resolve(probeResult);

function makeParams(overrides: Partial<ExpiryCheckParams> = {}): ExpiryCheckParams {
  return {
    elb: new ElasticLoadBalancingClient({ region: 'eu-west-1' }),
    iam: new IAMClient({ region: 'us-east-1' }),
    sfn: new SFNClient({ region: 'eu-west-1' }),
    sns: new SNSClient({ region: 'eu-west-1' }),
    cloudwatch: new CloudWatchClient({ region: 'eu-west-1' }),
    probe,
    logger: recordingLogger().logger,
    now: () => NOW,
    domain: 'gitter.im',
    canary: CANARY,
    endpoint: { host: 'irc.gitter.im', port: 6667 },
    stateMachineArn: STATE_MACHINE,
    topicArn: TOPIC,
    daysBeforeExpiry: 30,
    staging: { secretPrefix: 'cert-rotation/gitter.im/', stagingBucket: 'staging-bucket', stateMachineArn: STATE_MACHINE },
    ...overrides,
  };
}

const ACME = { kind: 'acme', input: { acme: {} } } as const;

beforeEach(() => {
  elbMock.reset();
  iamMock.reset();
  sfnMock.reset();
  snsMock.reset();
  cwMock.reset();
  sfnMock.on(ListExecutionsCommand).resolves({ executions: [] });
  sfnMock.on(StartExecutionCommand).resolves({ executionArn: `${STATE_MACHINE}:scheduled-2026-12-01`, startDate: NOW });
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
  cwMock.on(PutMetricDataCommand).resolves({});
});

describe('checkExpiry', () => {
  test('not due (60 days left, threshold 30): publishes DaysToExpiry for the domain, starts nothing, emails nothing', async () => {
    // Arrange
    await inUse(60);

    // Act
    const result = await checkExpiry(makeParams({ automaticSource: ACME }));

    // Assert
    expect(result).toMatchObject({ daysLeft: 60, due: false, started: false, decision: 'not-due' });
    const metric = cwMock.commandCalls(PutMetricDataCommand)[0].args[0].input;
    expect(metric.Namespace).toBe('CertRotation');
    expect(metric.MetricData).toEqual([
      expect.objectContaining({ MetricName: 'DaysToExpiry', Dimensions: [{ Name: 'Domain', Value: 'gitter.im' }], Value: 60 }),
    ]);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
  });

  test('due with an automatic source: starts exactly one rotation named scheduled-<date> with the source as its only input field', async () => {
    // Arrange
    await inUse(20);

    // Act
    const result = await checkExpiry(makeParams({ automaticSource: ACME, scheduledAt: '2026-12-01T09:00:03Z' }));

    // Assert
    expect(result).toMatchObject({ daysLeft: 20, due: true, started: true, decision: 'started', execution: 'scheduled-2026-12-01' });
    const starts = sfnMock.commandCalls(StartExecutionCommand);
    expect(starts).toHaveLength(1);
    expect(starts[0].args[0].input).toEqual({
      stateMachineArn: STATE_MACHINE,
      name: 'scheduled-2026-12-01',
      input: '{"source":{"acme":{}}}',
    });
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
  });

  test('due while a rotation runs: does nothing, and says so in its log', async () => {
    // Arrange
    await inUse(20);
    sfnMock
      .on(ListExecutionsCommand, { statusFilter: 'RUNNING' })
      .resolves({ executions: [{ name: 'rotate-by-hand', status: 'RUNNING' } as never] });
    const log = recordingLogger();

    // Act
    const result = await checkExpiry(makeParams({ automaticSource: ACME, logger: log.logger }));

    // Assert
    expect(result).toMatchObject({ due: true, started: false, decision: 'already-running', execution: 'rotate-by-hand' });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
    expect(log.text()).toContain('a rotation is already running (rotate-by-hand); the expiry check does nothing');
  });

  test('due without an automatic source: emails "renewal due in N days" with the exact steps, starts nothing', async () => {
    // Arrange
    await inUse(20);

    // Act
    const result = await checkExpiry(makeParams());

    // Assert
    expect(result).toMatchObject({ due: true, started: false, decision: 'renewal-due-email' });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
    const published = snsMock.commandCalls(PublishCommand)[0].args[0].input;
    expect(published.TopicArn).toBe(TOPIC);
    expect(published.Subject).toBe('Certificate renewal due in 20 days: gitter.im');
    expect(published.Message).toContain('expires in 20 days: stage the certificate and start the rotation');
    expect(published.Message).toContain('aws secretsmanager create-secret --name cert-rotation/gitter.im/2026-12-01');
    expect(published.Message).toContain('aws s3 cp key.pem   s3://staging-bucket/2026-12-01/key.pem');
    expect(published.Message).toContain(`aws stepfunctions start-execution --state-machine-arn ${STATE_MACHINE}`);
    expect(published.Message).toContain('{"source":{"secretId":"cert-rotation/gitter.im/2026-12-01"}}');
    expect(published.Message).toContain(probeResult.sha256);
  });

  test("a second start the same day (ExecutionAlreadyExists: today's rotation ran) starts nothing again", async () => {
    // Arrange
    await inUse(20);
    sfnMock.on(StartExecutionCommand).rejects(awsError('ExecutionAlreadyExists'));

    // Act
    const result = await checkExpiry(makeParams({ automaticSource: ACME }));

    // Assert
    expect(result).toMatchObject({ started: false, decision: 'already-started', execution: 'scheduled-2026-12-01' });
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
  });

  test('a start that fails is emailed as ACTION NEEDED and rethrown (never silent)', async () => {
    // Arrange
    await inUse(20);
    sfnMock.on(StartExecutionCommand).rejects(awsError('AccessDeniedException', { message: 'not authorized to StartExecution' }));

    // Act
    const thrown = await caught(() => checkExpiry(makeParams({ automaticSource: ACME })));

    // Assert
    expect(thrown.name).toBe('AccessDeniedException');
    const published = snsMock.commandCalls(PublishCommand)[0].args[0].input;
    expect(published.Subject).toBe('ACTION NEEDED: scheduled rotation not started: gitter.im, 20 days left');
    expect(published.Message).toContain('scheduled-2026-12-01 did not start: AccessDeniedException: not authorized to StartExecution');
    // The steps: nothing changed, fix the cause, the exact start command (today's name, the source input), approve.
    expect(published.Message).toContain('Nothing was started and nothing changed. The check fails (its errors alarm fires)');
    expect(published.Message).toContain(`aws stepfunctions start-execution --state-machine-arn ${STATE_MACHINE}`);
    expect(published.Message).toContain(`--name scheduled-2026-12-01 --input '${JSON.stringify({ source: ACME.input })}'`);
    expect(published.Message).toContain('3. Approve each gate from its email');
  });

  test('due after a failed rotation: not retried unattended, the operator is told', async () => {
    // Arrange
    await inUse(20);
    sfnMock
      .on(ListExecutionsCommand, { maxResults: 1 })
      .resolves({ executions: [{ name: 'scheduled-2026-11-30', status: 'FAILED' } as never] });

    // Act
    const result = await checkExpiry(makeParams({ automaticSource: ACME }));

    // Assert
    expect(result).toMatchObject({ started: false, decision: 'last-rotation-failed', execution: 'scheduled-2026-11-30' });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(snsMock.commandCalls(PublishCommand)[0].args[0].input.Message).toContain(
      'the last rotation, scheduled-2026-11-30, ended FAILED',
    );
  });

  test('the TLS handshake failing: goes on with IAM and logs why; both failing is an error', async () => {
    // Arrange
    await inUse(20);
    const down: TlsProbe = () => Promise.reject(new Error('TLS handshake with irc.gitter.im:6667 failed: ECONNREFUSED'));
    const log = recordingLogger();

    // Act
    const result = await checkExpiry(makeParams({ probe: down, logger: log.logger }));
    elbMock.on(DescribeLoadBalancersCommand).rejects(awsError('AccessPointNotFound'));
    const thrown = await caught(() => checkExpiry(makeParams({ probe: down })));

    // Assert
    expect(result).toMatchObject({ daysLeft: 20, due: true });
    expect(result.certificate.tlsError).toContain('ECONNREFUSED');
    expect(log.text()).toContain('TLS handshake to the canary endpoint failed');
    expect(thrown.name).toBe('CertificateInUseUnknown');
  });

  test('the served certificate wins when it expires sooner than what IAM says the listener holds', async () => {
    // Arrange
    await inUse(60);
    const stale: TlsProbe = () =>
      Promise.resolve({ ...probeResult, sha256: 'ab'.repeat(32), notAfter: new Date(NOW.getTime() + 5 * DAY).toISOString() });

    // Act
    const result = await checkExpiry(makeParams({ probe: stale }));

    // Assert
    expect(result).toMatchObject({ daysLeft: 5, due: true });
  });
});

describe('scheduledExecutionName', () => {
  test('is the UTC date of the scheduled event', () => {
    expect(scheduledExecutionName(new Date('2026-12-01T23:59:59Z'))).toBe('scheduled-2026-12-01');
  });
});
