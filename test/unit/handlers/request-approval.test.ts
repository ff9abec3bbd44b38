import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { approvalKey, requestApproval, type ApprovalRequest, type ApprovalRequestParams } from '../../../lambdas/request-approval/domain';
import { ArtifactStore } from '../../../lambdas/shared/artifacts';
import { silentLogger } from '../../../lambdas/shared/logger';
import { createInMemoryS3 } from '../../support/handler-s3';
import { recordingLogger, settle } from '../../support/handler-support';

const ARTIFACTS = 'cert-rotation-artifacts-123456789012';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:cert-rotation-approvals';
const EXECUTION = 'rotate-2026-11-27';
const EXECUTION_ARN = `arn:aws:states:eu-west-1:123456789012:execution:CertRotation-gitter-im:${EXECUTION}`;
// Task tokens are long opaque strings; this one is recognisable in any output.
const TOKEN = `AQCEAAAAKgAAAAMAAAAAAAAAAT0k${'x9Zq'.repeat(60)}TOKENEND`;

const s3 = createInMemoryS3();
const snsMock = mockClient(SNSClient);

beforeEach(() => {
  s3.reset();
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'msg-1' });
});

const DETAILS = {
  newCertificate: { sha256: 'ab'.repeat(32), notAfter: '2027-02-25T00:00:00.000Z', names: ['*.gitter.im', 'gitter.im'] },
  canary: 'apps-servers-elb-prod:6667 (irc.gitter.im:6667)',
  targets: { canary: 1, elb: 2, elbv2: 1, cloudfront: 3, nodes: { beta: 1, prod: 12 } },
  edge: ['ELB webapp-elb-prod:443', 'CloudFront E2QWRUHAPOMQZL (cdn.gitter.im)'],
  warnings: [],
};

function makeParams(overrides: Partial<ApprovalRequestParams> = {}): ApprovalRequestParams {
  return {
    sns: new SNSClient({ region: 'eu-west-1' }),
    store: new ArtifactStore(s3.client, ARTIFACTS),
    logger: silentLogger,
    topicArn: TOPIC,
    bucket: ARTIFACTS,
    domain: 'gitter.im',
    gate: 'start',
    title: 'Approve: start rotation',
    taskToken: TOKEN,
    executionName: EXECUTION,
    executionArn: EXECUTION_ARN,
    details: DETAILS,
    now: () => new Date('2026-11-27T10:05:00.000Z'),
    ...overrides,
  };
}

function published(): { Subject?: string; Message?: string; TopicArn?: string } {
  const calls = snsMock.commandCalls(PublishCommand);
  expect(calls).toHaveLength(1);
  return calls[0].args[0].input;
}

describe('requestApproval', () => {
  test('stores {gate, taskToken, ...} at executions/<name>/approvals/<gate>.json and returns a token-free result', async () => {
    // Arrange
    const key = `executions/${EXECUTION}/approvals/start.json`;

    // Act
    const result = await requestApproval(makeParams());

    // Assert
    expect(approvalKey(EXECUTION, 'start')).toBe(key);
    expect(s3.json<ApprovalRequest>(ARTIFACTS, key)).toEqual({
      gate: 'start',
      title: 'Approve: start rotation',
      executionArn: EXECUTION_ARN,
      requestedAt: '2026-11-27T10:05:00.000Z',
      taskToken: TOKEN,
    });
    expect(result).toEqual({ gate: 'start', requestKey: key, requestedAt: '2026-11-27T10:05:00.000Z' });
    expect(JSON.stringify(result)).not.toContain(TOKEN);
  });

  test('publishes one message to the topic: subject under 100 characters naming the domain and the gate', async () => {
    // Arrange (defaults)

    // Act
    await requestApproval(makeParams());

    // Assert
    const { Subject, TopicArn } = published();
    expect(TopicArn).toBe(TOPIC);
    expect(Subject!.length).toBeLessThan(100);
    expect(Subject).toContain('gitter.im');
    expect(Subject).toContain('Approve: start rotation');
  });

  test('a very long title still gives a subject under 100 characters', async () => {
    // Arrange
    const title = `Canary: approve switching every other ELB listener and CloudFront distribution ${'and more '.repeat(20)}`;

    // Act
    await requestApproval(makeParams({ title, domain: 'a-rather-long-subdomain.of-a-long-domain.example.org' }));

    // Assert
    expect(published().Subject!.length).toBeLessThan(100);
  });

  test('the message never contains the task token', async () => {
    // Arrange (defaults)

    // Act
    await requestApproval(makeParams());

    // Assert
    const { Message, Subject } = published();
    expect(Message).not.toContain(TOKEN);
    expect(Message).not.toContain('TOKENEND');
    expect(Subject).not.toContain(TOKEN);
  });

  test('the message shows the gate, the execution, the details and the approve/reject commands reading the stored token', async () => {
    // Arrange (defaults)

    // Act
    await requestApproval(makeParams());

    // Assert
    const message = published().Message!;
    expect(message).toContain('Gate: Approve: start rotation');
    expect(message).toContain(EXECUTION_ARN);
    // details: nested objects, arrays, empty arrays
    expect(message).toContain(`sha256: ${'ab'.repeat(32)}`);
    expect(message).toContain('names: *.gitter.im, gitter.im');
    expect(message).toContain('canary: apps-servers-elb-prod:6667 (irc.gitter.im:6667)');
    expect(message).toContain('cloudfront: 3');
    expect(message).toContain('prod: 12');
    expect(message).toContain('edge: ELB webapp-elb-prod:443, CloudFront E2QWRUHAPOMQZL (cdn.gitter.im)');
    expect(message).toContain('warnings: (none)');
    // commands: they fetch the token from the approval document for this gate
    expect(message).toContain('aws stepfunctions send-task-success');
    expect(message).toContain('aws stepfunctions send-task-failure');
    expect(message).toContain('--error ApprovalRejected');
    expect(message).toContain(`s3://${ARTIFACTS}/executions/${EXECUTION}/approvals/start.json`);
    expect(message).toContain('.taskToken');
  });

  test('each gate has its own document; a retried request replaces the token of that gate only', async () => {
    // Arrange
    await requestApproval(makeParams({ gate: 'start', taskToken: 'token-start-1' }));
    await requestApproval(makeParams({ gate: 'canary', title: 'Approve: canary', taskToken: 'token-canary' }));

    // Act
    await requestApproval(makeParams({ gate: 'start', taskToken: 'token-start-2' }));

    // Assert
    expect(s3.json<ApprovalRequest>(ARTIFACTS, approvalKey(EXECUTION, 'start'))!.taskToken).toBe('token-start-2');
    expect(s3.json<ApprovalRequest>(ARTIFACTS, approvalKey(EXECUTION, 'canary'))!.taskToken).toBe('token-canary');
  });

  test('the token is stored before the email goes out (an approver never gets a link to a missing token)', async () => {
    // Arrange
    let storedAtPublish: ApprovalRequest | undefined;
    snsMock.on(PublishCommand).callsFake(
      settle(() => {
        storedAtPublish = s3.json<ApprovalRequest>(ARTIFACTS, approvalKey(EXECUTION, 'start'));
        return { MessageId: 'm' };
      }),
    );

    // Act
    await requestApproval(makeParams());

    // Assert
    expect(storedAtPublish?.taskToken).toBe(TOKEN);
  });

  test('the token is never logged', async () => {
    // Arrange
    const log = recordingLogger();

    // Act
    await requestApproval(makeParams({ logger: log.logger }));

    // Assert
    expect(log.entries.length).toBeGreaterThan(0);
    expect(log.text()).not.toContain(TOKEN);
  });
});
