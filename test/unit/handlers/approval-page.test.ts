import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskTimedOut,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { handlePage, type PageParams, type PageRequest } from '../../../lambdas/approval-page/domain';
import { handler, type FunctionUrlEvent } from '../../../lambdas/approval-page/index';
import { ApprovalStore, hashApprovalId, type ApprovalRecord } from '../../../lambdas/approval-page/store';
import { coldStartAll } from '../../../lambdas/shared/env';
import { silentLogger } from '../../../lambdas/shared/logger';
import { createInMemoryDynamoDb } from '../../support/handler-dynamodb';
import { awsError, recordingLogger } from '../../support/handler-support';

const db = createInMemoryDynamoDb();
const sfnMock = mockClient(SFNClient);

const ID = 'Zq9'.repeat(14) + 'x';
const TOKEN = `AQCEAAAAKgAAAAMAAAAAAAAAAT0k${'x9Zq'.repeat(60)}TOKENEND`;
const EXECUTION_ARN = 'arn:aws:states:eu-west-1:123456789012:execution:CertRotation-gitter-im:rotate-2026-11-27';
const GATE = 'Approval 2: canary edge OK, continue?';
const NOW = new Date('2026-11-27T10:30:00.000Z');
const FORM = 'application/x-www-form-urlencoded';

const RECORD: ApprovalRecord = {
  idHash: hashApprovalId(ID),
  taskToken: TOKEN,
  executionArn: EXECUTION_ARN,
  executionName: 'rotate-2026-11-27',
  gate: 'canary',
  stateName: GATE,
  summary: {
    domain: 'gitter.im',
    title: GATE,
    executionName: 'rotate-2026-11-27',
    certificates: {
      new: { serial: '0A1B2C', sha256: 'ab'.repeat(32), notAfter: '2027-02-25T00:00:00.000Z' },
      previous: { serial: '09FFEE', sha256: 'cd'.repeat(32), notAfter: '2026-12-20T00:00:00.000Z' },
    },
    done: ['canary: irc.gitter.im:6667', `servedSha256: ${'ab'.repeat(32)}`],
    next: { description: 'the edge rollout', counts: { 'classic ELB listeners': 25 }, names: ['ELB a:443', 'ELB <b>:443'], more: 23 },
    onTimeout: 'rollback',
  },
  requestedAt: '2026-11-27T10:05:00.000Z',
  expiresAt: Math.floor(NOW.getTime() / 1000) + 3600,
};

const waitingHere: HistoryEvent[] = [
  { id: 3, timestamp: NOW, type: 'TaskSubmitted' },
  { id: 2, timestamp: NOW, type: 'TaskScheduled' },
  { id: 1, timestamp: NOW, type: 'TaskStateEntered', stateEnteredEventDetails: { name: GATE } },
];

beforeEach(async () => {
  db.reset();
  sfnMock.reset();
  sfnMock.on(DescribeExecutionCommand).resolves({ executionArn: EXECUTION_ARN, status: 'RUNNING' });
  sfnMock.on(GetExecutionHistoryCommand).resolves({ events: waitingHere });
  sfnMock.on(SendTaskSuccessCommand).resolves({});
  sfnMock.on(SendTaskFailureCommand).resolves({});
  await new ApprovalStore(db.client, db.table).create(RECORD);
});

function makeParams(overrides: Partial<PageParams> = {}): PageParams {
  return {
    approvals: new ApprovalStore(db.client, db.table),
    sfn: new SFNClient({ region: 'eu-west-1' }),
    logger: silentLogger,
    now: () => NOW,
    ...overrides,
  };
}

function request(method: string, body?: Record<string, string>, overrides: Partial<PageRequest> = {}): PageRequest {
  return {
    method,
    path: `/a/${ID}`,
    requestId: 'req-1234',
    ...(body ? { contentType: FORM, body: new URLSearchParams(body).toString() } : {}),
    ...overrides,
  };
}

const sfnCalls = () => sfnMock.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);
const sent = () => sfnCalls().filter((n) => n.startsWith('SendTask'));

describe('GET and HEAD change nothing', () => {
  test('GET shows the summary and a plain form with two buttons; no script, nothing submits on its own', async () => {
    // Act
    const res = await handlePage(request('GET'), makeParams());

    // Assert
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<form method="post">');
    expect(res.body).toContain('<button type="submit" name="decision" value="approve">Approve</button>');
    expect(res.body).toContain('value="reject"');
    expect(res.body).toContain('<input id="name" name="name" required');
    expect(res.body).toMatch(/<label for="name">/);
    expect(res.body).toContain('0A1B2C');
    expect(res.body).toContain('cd'.repeat(32));
    expect(res.body).toContain('25 classic ELB listeners');
    expect(res.body).toContain('<li>and 23 more</li>');
    // Escaped: a name from the plan cannot inject markup.
    expect(res.body).toContain('ELB &lt;b&gt;:443');
    expect(res.body).not.toMatch(/<script|onload=|onclick=|autofocus|http-equiv="refresh"/i);
    expect(res.body).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(res.body).toContain('<html lang="en">');
  });

  test('the security headers: strict CSP without any script source, no referrer, no framing, no caching', async () => {
    // Act
    const res = await handlePage(request('GET'), makeParams());

    // Assert
    const csp = res.headers['content-security-policy'];
    expect(csp).toMatch(/^default-src 'none'; /);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self'");
    expect(csp).not.toMatch(/script-src|unsafe-inline|unsafe-eval/);
    expect(res.headers).toMatchObject({
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-type': 'text/html; charset=utf-8',
    });
  });

  test('any number of GETs and HEADs: the item is unchanged and Step Functions is never called', async () => {
    // Arrange
    const before = db.items();

    // Act
    const responses = [];
    for (let i = 0; i < 5; i += 1) {
      responses.push(await handlePage(request('GET'), makeParams()));
      responses.push(await handlePage(request('HEAD'), makeParams()));
    }

    // Assert
    expect(db.items()).toEqual(before);
    expect(db.mock.commandCalls(UpdateItemCommand)).toHaveLength(0);
    expect(sfnMock.calls()).toHaveLength(0);
    expect(responses.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
  });

  test('HEAD: the same status and headers as GET, no body', async () => {
    // Act
    const head = await handlePage(request('HEAD'), makeParams());
    const get = await handlePage(request('GET'), makeParams());

    // Assert
    expect(head.body).toBe('');
    expect(head.statusCode).toBe(get.statusCode);
    expect(head.headers).toEqual(get.headers);
  });
});

describe('POST decides, once', () => {
  test('approve: marks the decision first, then checks the execution waits at this gate, then SendTaskSuccess', async () => {
    // Arrange: the DescribeExecution fake sees what the store holds at that moment.
    const order: string[] = [];
    sfnMock.on(DescribeExecutionCommand).callsFake(() => {
      order.push(`DescribeExecution:${db.items()[0].decision?.S}`);
      return { status: 'RUNNING' };
    });
    sfnMock.on(GetExecutionHistoryCommand).callsFake(() => (order.push('GetExecutionHistory'), { events: waitingHere }));
    sfnMock.on(SendTaskSuccessCommand).callsFake(() => (order.push('SendTaskSuccess'), {}));

    // Act
    const res = await handlePage(
      request('POST', { decision: 'approve', name: 'Alice Example', comment: 'canary looks good' }),
      makeParams(),
    );

    // Assert
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Approved by Alice Example at 2026-11-27T10:30:00.000Z');
    expect(order).toEqual(['DescribeExecution:approved', 'GetExecutionHistory', 'SendTaskSuccess']);
    expect(db.items()[0]).toMatchObject({
      decision: { S: 'approved' },
      decidedBy: { S: 'Alice Example' },
      decidedAt: { S: NOW.toISOString() },
      comment: { S: 'canary looks good' },
    });
    const success = sfnMock.commandCalls(SendTaskSuccessCommand)[0].args[0].input;
    expect(success.taskToken).toBe(TOKEN);
    expect(JSON.parse(success.output!)).toEqual({
      decision: 'approved',
      approvedBy: 'Alice Example',
      comment: 'canary looks good',
      at: NOW.toISOString(),
    });
    expect(sfnMock.commandCalls(GetExecutionHistoryCommand)[0].args[0].input).toMatchObject({
      reverseOrder: true,
      includeExecutionData: false,
    });
  });

  test('a replay is refused: "already decided by NAME at TIME", and the task is answered only once', async () => {
    // Arrange
    await handlePage(request('POST', { decision: 'approve', name: 'Alice' }), makeParams());

    // Act
    const replay = await handlePage(request('POST', { decision: 'reject', name: 'Mallory' }), makeParams());
    const get = await handlePage(request('GET'), makeParams());

    // Assert
    expect(replay.statusCode).toBe(409);
    expect(replay.body).toContain('Already approved by Alice at 2026-11-27T10:30:00.000Z.');
    expect(get.body).toContain('Already approved by Alice at');
    expect(get.body).not.toContain('<form');
    expect(sent()).toEqual(['SendTaskSuccessCommand']);
    expect(db.items()[0].decidedBy).toEqual({ S: 'Alice' });
  });

  test('a race lost at the conditional write (decided meanwhile) is refused without calling Step Functions', async () => {
    // Arrange: another POST marks the item between this request's read and its write.
    const params = makeParams();
    const store = params.approvals;
    const original = store.get.bind(store);
    let first = true;
    store.get = async (h) => {
      const r = await original(h);
      if (first) {
        first = false;
        await new ApprovalStore(db.client, db.table).markDecision(h, { decision: 'rejected', by: 'Bob', at: NOW });
      }
      return r;
    };

    // Act
    const res = await handlePage(request('POST', { decision: 'approve', name: 'Alice' }), params);

    // Assert
    expect(res.statusCode).toBe(409);
    expect(res.body).toContain('Already rejected by Bob at');
    expect(sfnMock.calls()).toHaveLength(0);
  });

  test('reject: SendTaskFailure with the named error ApprovalRejected; the cause names who and why', async () => {
    // Act
    const res = await handlePage(request('POST', { decision: 'reject', name: 'Bob', comment: 'wrong chain' }), makeParams());

    // Assert
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Rejected by Bob');
    const failure = sfnMock.commandCalls(SendTaskFailureCommand)[0].args[0].input;
    expect(failure).toEqual({
      taskToken: TOKEN,
      error: 'ApprovalRejected',
      cause: 'rejected by Bob at 2026-11-27T10:30:00.000Z: wrong chain',
    });
    expect(sent()).toEqual(['SendTaskFailureCommand']);
  });

  test.each([
    ['no name', { decision: 'approve', name: '   ' }, 'Your name is required'],
    ['no decision', { name: 'Alice' }, 'Press Approve or Reject'],
    ['an unknown decision', { decision: 'yes', name: 'Alice' }, 'Press Approve or Reject'],
    ['a name too long', { decision: 'approve', name: 'x'.repeat(101) }, 'at most 100'],
    ['a comment too long', { decision: 'approve', name: 'A', comment: 'x'.repeat(1001) }, 'at most 1000'],
  ])('%s: 400, the form again with the message, nothing marked or sent', async (_n, body, message) => {
    // Act
    const res = await handlePage(request('POST', body), makeParams());

    // Assert
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain(message);
    expect(res.body).toContain('<form method="post">');
    expect(db.items()[0].decision).toBeUndefined();
    expect(sfnMock.calls()).toHaveLength(0);
  });

  test('a body that is not the form (JSON, a scanner posting anything): 415, nothing changed', async () => {
    // Act
    const res = await handlePage(
      request('POST', undefined, { contentType: 'application/json', body: '{"decision":"approve","name":"x"}' }),
      makeParams(),
    );

    // Assert
    expect(res.statusCode).toBe(415);
    expect(db.items()[0].decision).toBeUndefined();
    expect(sfnMock.calls()).toHaveLength(0);
  });
});

describe('links that cannot decide', () => {
  test.each([
    ['an unknown id', `/a/${'B'.repeat(43)}`, true],
    ['a malformed id (not even looked up)', '/a/short', false],
    ['another path', '/', false],
  ])('%s: 404 "Unknown approval link" for GET and POST', async (_n, path, lookedUp) => {
    // Act
    const get = await handlePage(request('GET', undefined, { path }), makeParams());
    const post = await handlePage(request('POST', { decision: 'approve', name: 'A' }, { path }), makeParams());

    // Assert
    expect([get.statusCode, post.statusCode]).toEqual([404, 404]);
    expect(get.body).toContain('Unknown approval link');
    expect(db.mock.commandCalls(GetItemCommand).length > 0).toBe(lookedUp);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  test('expired (the item may outlive its TTL: DynamoDB deletes late): 410 for GET and POST, nothing marked or sent', async () => {
    // Arrange
    const later = () => new Date(NOW.getTime() + 3601 * 1000);

    // Act
    const get = await handlePage(request('GET'), makeParams({ now: later }));
    const post = await handlePage(request('POST', { decision: 'approve', name: 'A' }), makeParams({ now: later }));

    // Assert
    expect([get.statusCode, post.statusCode]).toEqual([410, 410]);
    expect(post.body).toContain('This approval request has expired');
    expect(post.body).toContain('The rotation rolls back what it changed.');
    expect(db.items()[0].decision).toBeUndefined();
    expect(sfnMock.calls()).toHaveLength(0);
  });

  test('the execution is no longer running: a clear page, the task is not answered', async () => {
    // Arrange
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'ABORTED' });

    // Act
    const res = await handlePage(request('POST', { decision: 'approve', name: 'A' }), makeParams());

    // Assert
    expect(res.statusCode).toBe(409);
    expect(res.body).toContain('The rotation is no longer waiting here');
    expect(res.body).toContain('The execution is ABORTED.');
    expect(sent()).toEqual([]);
  });

  test('the execution runs but has moved on from this gate (e.g. it timed out and rolls back): not answered', async () => {
    // Arrange
    sfnMock.on(GetExecutionHistoryCommand).resolves({
      events: [
        { id: 9, timestamp: NOW, type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'Roll back: restore every changed target' } },
        { id: 8, timestamp: NOW, type: 'PassStateExited', stateExitedEventDetails: { name: 'No answer before the approval timeout' } },
      ],
    });

    // Act
    const res = await handlePage(request('POST', { decision: 'approve', name: 'A' }), makeParams());

    // Assert
    expect(res.statusCode).toBe(409);
    expect(res.body).toContain('moved on from this gate');
    expect(sent()).toEqual([]);
  });

  test('the task closed just before SendTaskSuccess (TaskTimedOut): a clear page, not an error', async () => {
    // Arrange
    sfnMock.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));

    // Act
    const res = await handlePage(request('POST', { decision: 'approve', name: 'A' }), makeParams());

    // Assert
    expect(res.statusCode).toBe(409);
    expect(res.body).toContain('The gate closed before your decision arrived');
  });

  test('other methods: 405 with Allow', async () => {
    // Act
    const res = await handlePage(request('PUT'), makeParams());

    // Assert
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD, POST');
    expect(sfnMock.calls()).toHaveLength(0);
  });
});

describe('the function URL handler', () => {
  const event = (method: string, body?: string, base64 = false): FunctionUrlEvent => ({
    rawPath: `/a/${ID}`,
    headers: { 'content-type': FORM },
    ...(body !== undefined ? { body: base64 ? Buffer.from(body).toString('base64') : body, isBase64Encoded: base64 } : {}),
    requestContext: { requestId: 'corr-5678', http: { method } },
  });
  const env = { APPROVAL_TABLE: db.table, AWS_REGION: 'eu-west-1' };
  beforeEach(async () => {
    coldStartAll();
    Object.assign(process.env, env);
    // The handler reads the system clock: a request that expires an hour from now.
    db.reset();
    await new ApprovalStore(db.client, db.table).create({ ...RECORD, expiresAt: Math.floor(Date.now() / 1000) + 3600 });
  });
  afterEach(() => {
    for (const k of Object.keys(env)) delete process.env[k];
  });

  test('decodes a base64 form body (function URLs encode non-text bodies)', async () => {
    // Act
    const res = await handler(event('POST', new URLSearchParams({ decision: 'approve', name: 'Carol' }).toString(), true));

    // Assert
    expect(res.statusCode).toBe(200);
    expect(res.isBase64Encoded).toBe(false);
    expect(db.items()[0].decidedBy).toEqual({ S: 'Carol' });
  });

  test('an unexpected error: 500 with a short message and the correlation id, never the exception text; logged without token or id', async () => {
    // Arrange
    db.mock.on(GetItemCommand).rejects(awsError('InternalServerError', { message: 'secret internal detail at line 42', status: 500 }));
    const writes: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (writes.push(String(chunk)), true));
    const errSpy = jest
      .spyOn(process.stderr, 'write')
      .mockImplementation((chunk: string | Uint8Array) => (writes.push(String(chunk)), true));

    // Act
    const res = await handler(event('GET'));
    spy.mockRestore();
    errSpy.mockRestore();

    // Assert
    expect(res.statusCode).toBe(500);
    expect(res.body).toContain('Something went wrong');
    expect(res.body).toContain('corr-5678');
    expect(res.body).not.toContain('secret internal detail');
    expect(res.body).not.toContain('InternalServerError');
    expect(res.headers['cache-control']).toBe('no-store');
    const logged = writes.join('\n');
    expect(logged).toContain('corr-5678');
    expect(logged).not.toContain(ID);
    expect(logged).not.toContain('TOKENEND');
  });
});

test('no response ever holds the task token (every page this suite renders)', async () => {
  // Arrange
  const log = recordingLogger();
  const p = makeParams({ logger: log.logger });

  // Act
  const bodies = [
    await handlePage(request('GET'), p),
    await handlePage(request('POST', { decision: 'approve', name: '' }), p),
    await handlePage(request('POST', { decision: 'approve', name: 'A' }), p),
    await handlePage(request('POST', { decision: 'approve', name: 'A' }), p),
    await handlePage(request('GET'), p),
  ].map((r) => `${JSON.stringify(r.headers)}\n${r.body}`);

  // Assert
  for (const b of [...bodies, log.text()]) {
    expect(b).not.toContain('TOKENEND');
    expect(b).not.toContain(TOKEN.slice(0, 40));
  }
  expect(log.text()).not.toContain(ID);
});
