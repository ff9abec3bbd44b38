import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { notifyStart, type StartNoticeParams } from '../../../lambdas/notify-start/domain';
import { ArtifactStore } from '../../../lambdas/shared/artifacts';
import { silentLogger } from '../../../lambdas/shared/logger';
import { createInMemoryS3 } from '../../support/handler-s3';

const ARTIFACTS = 'cert-rotation-artifacts-123456789012';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:cert-rotation';
const EXECUTION = 'rotate-2026-11-27';
const NOW = new Date('2026-11-27T10:05:00.000Z');

const s3 = createInMemoryS3();
const snsMock = mockClient(SNSClient);

const edge = (i: number) => ({ kind: 'elb' as const, loadBalancerName: `webapp-elb-${i}`, port: 443, certificateArn: 'arn:old' });
const node = (i: number, phase: string) => ({ kind: 'node' as const, instanceId: `i-0${phase}${i}`, name: `${phase}-${i}`, phase });
const PLAN = {
  createdAt: NOW.toISOString(),
  current: { arn: 'arn:old', id: 'ASCAOLD' },
  canary: { kind: 'elb', loadBalancerName: 'apps-servers-elb-prod', port: 6667, certificateArn: 'arn:old' },
  edge: [
    ...Array.from({ length: 23 }, (_, i) => edge(i)),
    { kind: 'cloudfront', distributionId: 'E2QWRUHAPOMQZL', aliases: ['cdn.gitter.im'], certificateId: 'ASCAOLD' },
  ],
  nodePhases: [
    { name: 'beta', nodes: [node(1, 'beta')], skipped: [] },
    {
      name: 'prod',
      nodes: Array.from({ length: 3 }, (_, i) => node(i, 'prod')),
      skipped: [{ instanceId: 'i-0prod9', name: 'prod-9', phase: 'prod', reason: 'SSM ping status ConnectionLost' }],
    },
  ],
};
const KEY_MARKER = '-----BEGIN PRIVATE KEY-----';

beforeEach(() => {
  s3.reset();
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'msg-1' });
  s3.put(ARTIFACTS, `executions/${EXECUTION}/plan.json`, JSON.stringify(PLAN));
});

function makeParams(overrides: Partial<StartNoticeParams> = {}): StartNoticeParams {
  return {
    sns: new SNSClient({ region: 'eu-west-1' }),
    artifacts: new ArtifactStore(s3.client, ARTIFACTS),
    logger: silentLogger,
    topicArn: TOPIC,
    domain: 'gitter.im',
    executionName: EXECUTION,
    certificates: {
      new: { serial: '0A1B2C', sha256: 'ab'.repeat(32), notAfter: '2027-02-25T00:00:00.000Z' },
      previous: { serial: '09FFEE', sha256: 'cd'.repeat(32), notAfter: '2026-12-20T00:00:00.000Z' },
    },
    approvalFollows: 'Approval 1: start the rotation?',
    warnings: [],
    now: () => NOW,
    ...overrides,
  };
}

function published(): { Subject?: string; Message?: string; TopicArn?: string } {
  const calls = snsMock.commandCalls(PublishCommand);
  expect(calls).toHaveLength(1);
  return calls[0].args[0].input;
}

describe('notifyStart: the start email', () => {
  test('names the rotation, both certificates and that Approval 1 follows, on the topic', async () => {
    // Act
    await notifyStart(makeParams());

    // Assert
    const { Subject, Message, TopicArn } = published();
    expect(TopicArn).toBe(TOPIC);
    expect(Subject).toBe('[cert-rotation gitter.im] Rotation started: the plan');
    expect(Message).toContain('A rotation of gitter.im started and made its plan.');
    expect(Message?.replace(/\n\s*/g, ' ')).toContain(
      'Next: "Approval 1: start the rotation?" (a separate email with the link). Nothing changes until someone approves it.',
    );
    expect(Message).toContain(
      'New certificate\n  serial:  0A1B2C\n  SHA-256: ' + 'ab'.repeat(32) + '\n  expires: 2027-02-25T00:00:00.000Z',
    );
    expect(Message).toContain('Previous certificate (in use now)\n  serial:  09FFEE');
    expect(Message).toContain(`Execution: ${EXECUTION}`);
  });

  test('per phase: the counts and the first 20 names, then "and N more"; skipped nodes named', async () => {
    // Act
    const result = await notifyStart(makeParams());

    // Assert
    const text = published().Message ?? '';
    expect(text).toContain('The plan: 29 target(s)');
    expect(text).toContain('Canary: 1 classic ELB listeners\n  - ELB apps-servers-elb-prod:6667');
    expect(text).toContain('Edge: 23 classic ELB listeners, 1 CloudFront distributions\n  - ELB webapp-elb-0:443');
    expect(text).toContain('  - ELB webapp-elb-19:443\n  and 4 more');
    expect(text).not.toContain('webapp-elb-20');
    expect(text).toContain('Nodes beta: 1 nodes\n  - node beta-1 (i-0beta1)');
    expect(text).toContain('Nodes prod: 3 nodes');
    expect(text).toContain(
      'Skipped nodes (SSM cannot run the command there): 1\n  - prod-9 (i-0prod9, prod): SSM ping status ConnectionLost',
    );
    expect(result).toEqual({ notifiedAt: NOW.toISOString(), counts: { Canary: 1, Edge: 24, 'Nodes beta': 1, 'Nodes prod': 3 } });
  });

  test('without an approval gate it says the rotation goes on now', async () => {
    // Act
    await notifyStart(makeParams({ approvalFollows: undefined }));

    // Assert
    expect(published().Message?.replace(/\n\s*/g, ' ')).toContain(
      'There is no approval gate before the first change: the rotation goes on now.',
    );
  });

  test('phone-readable: short lines; validation warnings shown; no key material, no link', async () => {
    // Act
    await notifyStart(makeParams({ warnings: ['the chain is longer than usual (3 intermediates); CloudFront accepts it'] }));

    // Assert
    const text = published().Message ?? '';
    expect(text.split('\n').filter((l) => l.length > 80)).toEqual([]);
    expect(text).toContain('Validation warnings:\n  the chain is longer than usual');
    expect(text).not.toContain(KEY_MARKER);
    expect(text).not.toMatch(/https?:\/\//);
  });

  test('a missing plan is an error naming the execution (the state retries or fails, nothing changed)', async () => {
    // Arrange
    s3.reset();

    // Act / Assert
    await expect(notifyStart(makeParams())).rejects.toThrow(`the plan of ${EXECUTION} is missing from the artifacts bucket`);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
  });
});
