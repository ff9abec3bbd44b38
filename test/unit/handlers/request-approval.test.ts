import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { APPROVAL_ID_RE, ApprovalStore, hashApprovalId } from '../../../lambdas/approval-page/store';
import { requestApproval, type ApprovalRequestParams } from '../../../lambdas/request-approval/domain';
import { ArtifactStore } from '../../../lambdas/shared/artifacts';
import { silentLogger } from '../../../lambdas/shared/logger';
import { createInMemoryDynamoDb } from '../../support/handler-dynamodb';
import { createInMemoryS3 } from '../../support/handler-s3';
import { recordingLogger, settle } from '../../support/handler-support';

const ARTIFACTS = 'cert-rotation-artifacts-123456789012';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:cert-rotation-approvals';
const EXECUTION = 'rotate-2026-11-27';
const EXECUTION_ARN = `arn:aws:states:eu-west-1:123456789012:execution:CertRotation-gitter-im:${EXECUTION}`;
const PAGE = 'https://abcdefghijklmnop.lambda-url.eu-west-1.on.aws/';
// Task tokens are long opaque strings; this one is recognisable in any output.
const TOKEN = `AQCEAAAAKgAAAAMAAAAAAAAAAT0k${'x9Zq'.repeat(60)}TOKENEND`;
const ID = 'A'.repeat(20) + 'b'.repeat(23);
const NOW = new Date('2026-11-27T10:05:00.000Z');

const s3 = createInMemoryS3();
const db = createInMemoryDynamoDb();
const snsMock = mockClient(SNSClient);

const edge = (i: number) => ({ kind: 'elb' as const, loadBalancerName: `webapp-elb-${i}`, port: 443, certificateArn: 'arn:old' });
const PLAN = {
  createdAt: NOW.toISOString(),
  current: { arn: 'arn:old', id: 'ASCAOLD' },
  canary: { kind: 'elb', loadBalancerName: 'apps-servers-elb-prod', port: 6667, certificateArn: 'arn:old' },
  edge: [
    ...Array.from({ length: 23 }, (_, i) => edge(i)),
    { kind: 'cloudfront', distributionId: 'E2QWRUHAPOMQZL', aliases: ['cdn.gitter.im'], certificateId: 'ASCAOLD' },
  ],
  nodePhases: [{ name: 'beta', nodes: [{ kind: 'node', instanceId: 'i-0beta', name: 'gitter-beta', phase: 'beta' }] }],
};

beforeEach(() => {
  s3.reset();
  db.reset();
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'msg-1' });
  s3.put(ARTIFACTS, `executions/${EXECUTION}/plan.json`, JSON.stringify(PLAN));
});

const CERTS = {
  new: { serial: '0A1B2C', sha256: 'ab'.repeat(32), notAfter: '2027-02-25T00:00:00.000Z', names: ['*.gitter.im'] },
  previous: { serial: '09FFEE', sha256: 'cd'.repeat(32), notAfter: '2026-12-20T00:00:00.000Z', name: 'STAR.gitter.im_2025' },
};

function makeParams(overrides: Partial<ApprovalRequestParams> = {}): ApprovalRequestParams {
  return {
    sns: new SNSClient({ region: 'eu-west-1' }),
    approvals: new ApprovalStore(db.client, db.table),
    artifacts: new ArtifactStore(s3.client, ARTIFACTS),
    logger: silentLogger,
    topicArn: TOPIC,
    domain: 'gitter.im',
    pageUrl: PAGE,
    timeoutSeconds: 3600,
    onTimeout: 'rollback',
    gate: 'canary',
    title: 'Approval 2: canary edge OK, continue?',
    taskToken: TOKEN,
    executionName: EXECUTION,
    executionArn: EXECUTION_ARN,
    details: { canary: 'irc.gitter.im:6667', servedSha256: 'ab'.repeat(32), checks: 2 },
    certificates: CERTS,
    next: { description: 'the edge rollout', touches: { edge: true } },
    now: () => NOW,
    mintId: () => ID,
    ...overrides,
  };
}

function published(): { Subject?: string; Message?: string; TopicArn?: string } {
  const calls = snsMock.commandCalls(PublishCommand);
  expect(calls).toHaveLength(1);
  return calls[0].args[0].input;
}

describe('requestApproval: the approval store', () => {
  test('stores only the SHA-256 of the id, with the token, execution, gate and expiry (TTL, epoch seconds)', async () => {
    // Act
    await requestApproval(makeParams());

    // Assert
    const items = db.items();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      idHash: { S: hashApprovalId(ID) },
      taskToken: { S: TOKEN },
      executionArn: { S: EXECUTION_ARN },
      gate: { S: 'canary' },
      stateName: { S: 'Approval 2: canary edge OK, continue?' },
      expiresAt: { N: String(NOW.getTime() / 1000 + 3600) },
    });
    expect(JSON.stringify(items)).not.toContain(ID);
    expect(db.mock.commandCalls(PutItemCommand)[0].args[0].input.ConditionExpression).toBe('attribute_not_exists(idHash)');
  });

  test('the default id has 256 random bits (43 base64url characters) and differs every time', async () => {
    // Arrange
    const params = makeParams({ mintId: undefined });

    // Act
    await requestApproval(params);
    await requestApproval(params);

    // Assert
    const links = snsMock.commandCalls(PublishCommand).map((c) => /\/a\/(\S+)/.exec(c.args[0].input.Message ?? '')?.[1] ?? '');
    expect(links).toHaveLength(2);
    for (const id of links) expect(id).toMatch(APPROVAL_ID_RE);
    expect(links[0]).not.toBe(links[1]);
  });

  test('the item is stored before the email goes out (a link never points at nothing)', async () => {
    // Arrange
    let storedAtPublish = 0;
    snsMock.on(PublishCommand).callsFake(
      settle(() => {
        storedAtPublish = db.items().length;
        return { MessageId: 'm' };
      }),
    );

    // Act
    await requestApproval(makeParams());

    // Assert
    expect(storedAtPublish).toBe(1);
  });

  test('nothing goes to S3: no token store any more', async () => {
    // Act
    await requestApproval(makeParams());

    // Assert
    expect(s3.keys(ARTIFACTS)).toEqual([`executions/${EXECUTION}/plan.json`]);
  });
});

describe('requestApproval: the email', () => {
  test('subject under 100 characters naming the domain and the gate; the link carries the id only', async () => {
    // Act
    const result = await requestApproval(makeParams());

    // Assert
    const { Subject, TopicArn, Message } = published();
    expect(TopicArn).toBe(TOPIC);
    expect(Subject!.length).toBeLessThan(100);
    expect(Subject).toContain('gitter.im');
    expect(Subject).toContain('Approval 2');
    expect(Message).toContain(`${PAGE}a/${ID}`);
    expect(result).toEqual({
      gate: 'canary',
      requestedAt: NOW.toISOString(),
      expiresAt: '2026-11-27T11:05:00.000Z',
      approvalRef: hashApprovalId(ID).slice(0, 12),
    });
    expect(JSON.stringify(result)).not.toContain(ID);
  });

  test('names both certificates (serial, SHA-256, expiry), what was done, and what the next phase touches: counts, the first 20 names, "and N more"', async () => {
    // Act
    await requestApproval(makeParams());

    // Assert
    const message = published().Message!;
    expect(message).toContain(`serial:  0A1B2C`);
    expect(message).toContain(`SHA-256: ${'ab'.repeat(32)}`);
    expect(message).toContain('expires: 2027-02-25T00:00:00.000Z');
    expect(message).toContain(`SHA-256: ${'cd'.repeat(32)}`);
    expect(message).toContain('serial:  09FFEE');
    expect(message).toContain('canary: irc.gitter.im:6667');
    expect(message).toContain('Next: the edge rollout');
    expect(message).toContain('It will touch: 23 classic ELB listeners, 1 CloudFront distributions');
    expect(message).toContain('  - ELB webapp-elb-0:443');
    expect(message).toContain('  - ELB webapp-elb-19:443');
    expect(message).not.toContain('webapp-elb-20:443');
    expect(message).toContain('  and 4 more');
    expect(message).toContain('everything changed so far is rolled back');
  });

  test('short lines for a phone: nothing but the link and the fingerprints is wider than 72 characters', async () => {
    // Act
    await requestApproval(makeParams());

    // Assert
    const wide = published()
      .Message!.split('\n')
      .filter((l) => l.length > 72 && !l.includes('/a/') && !/[0-9a-f]{64}/.test(l));
    expect(wide).toEqual([]);
  });

  test('node phases and the canary are read from the plan too; a gate without touches lists nothing', async () => {
    // Act
    await requestApproval(makeParams({ next: { description: 'the beta node', touches: { nodePhases: ['beta'], canary: true } } }));
    await requestApproval(makeParams({ next: { description: 'the final report' }, mintId: () => 'c'.repeat(43) }));

    // Assert
    const [withNodes, without] = snsMock.commandCalls(PublishCommand).map((c) => c.args[0].input.Message!);
    expect(withNodes).toContain('It will touch: 1 classic ELB listeners, 1 nodes');
    expect(withNodes).toContain('  - ELB apps-servers-elb-prod:6667');
    expect(withNodes).toContain('  - node gitter-beta (i-0beta)');
    expect(without).toContain('It will touch: nothing');
  });

  test('the onTimeout "stop" wording', async () => {
    // Act
    await requestApproval(makeParams({ onTimeout: 'stop', title: 'Approval 1' }));

    // Assert
    expect(published().Message).toContain('No answer by then: the rotation stops here and keeps what it changed');
  });

  test("the link expires after this gate's own timeout (the state passes it)", async () => {
    // Act
    const result = await requestApproval(makeParams({ timeoutSeconds: 600 }));

    // Assert
    expect(Date.parse(result.expiresAt) - Date.parse(result.requestedAt)).toBe(600_000);
    expect(published().Message).toContain(`The link expires at ${result.expiresAt}.`);
  });

  test('neither the email, the result nor the log holds the task token', async () => {
    // Arrange
    const log = recordingLogger();

    // Act
    const result = await requestApproval(makeParams({ logger: log.logger }));

    // Assert
    const { Message, Subject } = published();
    for (const text of [Message!, Subject!, JSON.stringify(result), log.text()]) {
      expect(text).not.toContain('TOKENEND');
      expect(text).not.toContain(TOKEN.slice(0, 40));
    }
    expect(log.entries.length).toBeGreaterThan(0);
    expect(log.text()).not.toContain(ID);
  });
});
