import {
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
  type SendCommandCommandInput,
} from '@aws-sdk/client-ssm';
import { GetServerCertificateCommand, IAMClient } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { rollBackNodes, type NodeRollbackParams } from '../../../lambdas/node-rollback/domain';
import { verifyNodes } from '../../../lambdas/verify-rollback/nodes';
import type { TlsProbe } from '../../../lambdas/shared/tls-probe';
import { sendNodePhase, tagTargets, type NodeSendParams } from '../../../lambdas/node-send/domain';
import { pollNodes, type NodePollParams, type NodeResultsDocument } from '../../../lambdas/node-poll/domain';
import type { PlanDocument } from '../../../lambdas/plan/domain';
import { ArtifactStore } from '../../../lambdas/shared/artifacts';
import { NodeDeploymentFailed } from '../../../lambdas/shared/errors';
import { ChangeLedger, type LedgerEntry } from '../../../lambdas/shared/ledger';
import { silentLogger } from '../../../lambdas/shared/logger';
import { nodeDocumentKeys, parseScriptOutput } from '../../../lambdas/shared/node-command';
import type { NodeTarget } from '../../../lambdas/shared/targets';
import { createInMemoryS3 } from '../../support/handler-s3';
import { awsError, caught, canaryTarget, NEW_ARN, OLD_ARN, settle } from '../../support/handler-support';

const ARTIFACTS = 'cert-rotation-artifacts-123456789012';
const EXECUTION = 'rotate-2026-11-27';
const OLD_SHA = 'a'.repeat(64);
const NEW_SHA = 'b'.repeat(64);
const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cert-rotation/gitter.im/staged-abc';
const DOCUMENT = 'CertRotation-gitter-im-DeployCertificate';

const s3 = createInMemoryS3();
const ssmMock = mockClient(SSMClient);
const iamMock = mockClient(IAMClient);

// ------------------------------------------------------------------------------------------------
// A small Run Command: each SendCommand's invocations, answered as AWS answers them.
// ------------------------------------------------------------------------------------------------
interface FakeInvocation {
  status: string;
  details: string;
  stdout: string;
}
interface FakeCommand {
  readonly id: string;
  readonly input: SendCommandCommandInput;
  readonly invocations: Map<string, FakeInvocation>;
  status: string;
}
let commands: FakeCommand[];
/** Instances a tag target resolves to (by `tag:Key=Value`). */
let byTag: Map<string, string[]>;

const scriptLine = (o: Record<string, unknown>) => JSON.stringify({ action: 'install', changed: true, ...o });
const succeeded = (served = NEW_SHA) => ({
  status: 'Success',
  details: 'Success',
  stdout: scriptLine({ status: 'SUCCEEDED', served, previous: OLD_SHA }),
});
const failedNginx = () => ({
  status: 'Failed',
  details: 'Failed',
  stdout: `${scriptLine({ status: 'FAILED', stage: 'nginx-test', message: 'nginx -t failed', served: OLD_SHA, previous: OLD_SHA })}\ndeploy-certificate: restored`,
});

function installSsm(): void {
  ssmMock.on(SendCommandCommand).callsFake(
    settle((input: SendCommandCommandInput) => {
      const id = `cmd-${commands.length + 1}`.padEnd(36, '0');
      const ids = input.InstanceIds ?? (input.Targets ?? []).flatMap((t) => byTag.get(`${t.Key}=${t.Values?.[0]}`) ?? []);
      const invocations = new Map(ids.map((i) => [i, { status: 'Pending', details: 'Pending', stdout: '' }]));
      commands.push({ id, input, invocations, status: 'InProgress' });
      return { Command: { CommandId: id, Comment: input.Comment, RequestedDateTime: new Date() } };
    }),
  );
  ssmMock.on(GetCommandInvocationCommand).callsFake(
    settle((input: { CommandId: string; InstanceId: string }) => {
      const inv = commands.find((c) => c.id === input.CommandId)?.invocations.get(input.InstanceId);
      if (!inv || inv.status === 'absent') throw awsError('InvocationDoesNotExist');
      return {
        CommandId: input.CommandId,
        InstanceId: input.InstanceId,
        Status: inv.status,
        StatusDetails: inv.details,
        StandardOutputContent: inv.stdout,
      };
    }),
  );
  ssmMock.on(ListCommandInvocationsCommand).callsFake(
    settle((input: { CommandId: string; NextToken?: string; MaxResults?: number; Details?: boolean }) => {
      const all = [...(commands.find((c) => c.id === input.CommandId)?.invocations ?? [])].filter(([, i]) => i.status !== 'absent');
      const start = Number(input.NextToken ?? 0);
      const size = input.MaxResults ?? 50;
      const page = all.slice(start, start + size).map(([InstanceId, i]) => ({
        CommandId: input.CommandId,
        InstanceId,
        Status: i.status,
        StatusDetails: i.details,
        ...(input.Details ? { CommandPlugins: [{ Name: 'deployCertificate', Output: i.stdout.slice(0, 2500) }] } : {}),
      }));
      return { CommandInvocations: page, ...(start + size < all.length ? { NextToken: String(start + size) } : {}) };
    }),
  );
  // One command per page: a search for a command sent before reads every page.
  ssmMock.on(ListCommandsCommand).callsFake(
    settle((input: { CommandId?: string; NextToken?: string }) => {
      const all = commands.filter((c) => !input.CommandId || c.id === input.CommandId);
      const at = Number(input.NextToken ?? '0');
      return {
        Commands: all
          .slice(at, at + 1)
          .map((c) => ({ CommandId: c.id, Comment: c.input.Comment, Status: c.status, RequestedDateTime: new Date() })),
        ...(at + 1 < all.length ? { NextToken: String(at + 1) } : {}),
      };
    }),
  );
}

const node = (i: number, phase = 'prod'): NodeTarget => ({
  kind: 'node',
  instanceId: `i-0${String(i).padStart(7, '0')}`,
  name: `ws-${i}`,
  phase,
});

function writePlan(phases: Array<{ name: string; nodes: NodeTarget[] }>): void {
  const plan: PlanDocument = {
    createdAt: '2026-11-27T09:00:00.000Z',
    current: { arn: OLD_ARN, id: 'ASCAOLD' },
    canary: canaryTarget,
    edge: [],
    nodePhases: phases.map((p) => ({ ...p, skipped: [] })),
  };
  s3.put(ARTIFACTS, ArtifactStore.planKey(EXECUTION), JSON.stringify(plan));
}

const store = () => new ArtifactStore(s3.client, ARTIFACTS);
const ledger = () => new ChangeLedger(store(), EXECUTION);
const clock = () => new Date('2026-11-27T10:00:00.000Z');

function sendParams(overrides: Partial<NodeSendParams> = {}): NodeSendParams {
  return {
    ssm: new SSMClient({ region: 'eu-west-1' }),
    store: store(),
    ledger: ledger(),
    logger: silentLogger,
    executionName: EXECUTION,
    phase: { name: 'prod', targets: { tags: { Env: ['prod'] } }, maxConcurrency: '25%', maxErrors: '0' },
    documentName: DOCUMENT,
    deliveryTimeoutSeconds: 3600,
    secretArn: SECRET,
    current: { arn: OLD_ARN, sha256: OLD_SHA },
    uploaded: { arn: NEW_ARN },
    newSha256: NEW_SHA,
    now: clock,
    ...overrides,
  };
}

function pollParams(overrides: Partial<NodePollParams> = {}): NodePollParams {
  return {
    ssm: new SSMClient({ region: 'eu-west-1' }),
    store: store(),
    ledger: ledger(),
    logger: silentLogger,
    executionName: EXECUTION,
    purpose: 'install',
    phase: 'prod',
    newSha256: NEW_SHA,
    rounds: 0,
    maxRounds: 10,
    now: clock,
    ...overrides,
  };
}

const results = (purpose = 'install-prod') => s3.json<NodeResultsDocument>(ARTIFACTS, nodeDocumentKeys(EXECUTION, purpose).results)!;
const setAll = (inv: () => FakeInvocation, c = commands[0]) => {
  for (const id of c.invocations.keys()) c.invocations.set(id, inv());
  c.status = 'Success';
};

beforeEach(() => {
  s3.reset();
  ssmMock.reset();
  iamMock.reset();
  // IAM shows the uploaded certificate tagged with this execution (rollback's proof).
  iamMock.on(GetServerCertificateCommand).resolves({
    ServerCertificate: {
      CertificateBody: 'PUBLIC',
      ServerCertificateMetadata: {
        Arn: NEW_ARN,
        ServerCertificateId: 'ASCANEW',
        ServerCertificateName: 'STAR.gitter.im_2026-11-14',
        Path: '/cloudfront/gitter-production/',
      },
      Tags: [{ Key: 'cert-rotation:execution', Value: EXECUTION }],
    },
  });
  commands = [];
  byTag = new Map();
  installSsm();
});

describe('node send: ledger first, then SendCommand with references only', () => {
  test('up to 50 nodes: one SendCommand by InstanceIds with the phase rate control, action install, the secret ARN and the expected SHA-256', async () => {
    // Arrange
    const nodes = [node(1), node(2), node(3)];
    writePlan([{ name: 'prod', nodes }]);

    // Act
    const result = await sendNodePhase(sendParams());

    // Assert
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(1);
    expect(commands[0].input).toEqual({
      DocumentName: DOCUMENT,
      DocumentVersion: '$LATEST',
      Comment: `cert-rotation install-prod ${EXECUTION}`,
      Parameters: { action: ['install'], secretId: [SECRET], expectedSha256: [NEW_SHA] },
      MaxConcurrency: '25%',
      MaxErrors: '0',
      TimeoutSeconds: 3600,
      InstanceIds: nodes.map((n) => n.instanceId),
    });
    expect(result).toMatchObject({ phase: 'prod', nodes: 3, commands: 1, addressing: 'instance-ids', done: false });
    // One intended ledger entry per node, what it served and what it will serve.
    const entries = await ledger().entries();
    expect(entries.map((e) => [e.key, e.status, e.before, e.after, e.beforeSha256, e.afterSha256])).toEqual(
      nodes.map((n) => [`node/prod/${n.instanceId}`, 'intended', OLD_ARN, NEW_ARN, OLD_SHA, NEW_SHA]),
    );
  });

  test('the ledger entries are written before SendCommand: a failing SendCommand leaves them, and no command record', async () => {
    // Arrange
    writePlan([{ name: 'prod', nodes: [node(1)] }]);
    ssmMock.on(SendCommandCommand).rejects(awsError('InvalidInstanceId', { message: 'not registered' }));

    // Act
    const error = await caught(() => sendNodePhase(sendParams()));

    // Assert
    expect(error.name).toBe('InvalidInstanceId');
    expect((await ledger().entries()).map((e) => e.status)).toEqual(['intended']);
  });

  test('beyond 50 nodes: one SendCommand by the phase tags (Targets), so one MaxConcurrency/MaxErrors covers the phase', async () => {
    // Arrange
    writePlan([{ name: 'prod', nodes: Array.from({ length: 51 }, (_, i) => node(i)) }]);

    // Act
    const result = await sendNodePhase(sendParams());

    // Assert
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(1);
    expect(commands[0].input.InstanceIds).toBeUndefined();
    expect(commands[0].input.Targets).toEqual([{ Key: 'tag:Env', Values: ['prod'] }]);
    expect(commands[0].input).toMatchObject({ MaxConcurrency: '25%', MaxErrors: '0' });
    expect(result.addressing).toBe('tags');
    expect(tagTargets({ Env: ['prod'], Role: ['ws', 'webapp'] })).toEqual([
      { Key: 'tag:Env', Values: ['prod'] },
      { Key: 'tag:Role', Values: ['ws', 'webapp'] },
    ]);
  });

  test('a phase without nodes sends nothing and is done', async () => {
    writePlan([{ name: 'prod', nodes: [] }]);
    const result = await sendNodePhase(sendParams());
    expect(result).toMatchObject({ nodes: 0, commands: 0, done: true });
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(0);
  });

  test('a retry sends nothing again: after the record is written it is reused; after a crash before it, ListCommands finds the command by its comment', async () => {
    // Arrange
    writePlan([
      { name: 'beta', nodes: [node(9, 'beta')] },
      { name: 'prod', nodes: [node(1)] },
    ]);
    // The beta phase's command comes first in ListCommands: prod's is on a later page.
    await sendNodePhase(sendParams({ phase: { name: 'beta', targets: { tags: { Env: ['beta'] } }, maxConcurrency: '1', maxErrors: '0' } }));
    await sendNodePhase(sendParams());
    // ...then as if the record had been lost right after SendCommand (crash between the two writes).
    const key = nodeDocumentKeys(EXECUTION, 'install-prod').commands;
    const record = s3.json<{ commands: unknown[] }>(ARTIFACTS, key)!;
    s3.put(ARTIFACTS, key, JSON.stringify({ ...record, commands: [] }));

    // Act
    const again = await sendNodePhase(sendParams());

    // Assert
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(2);
    expect(again.commands).toBe(1);
    expect(s3.json<{ commands: Array<{ commandId: string }> }>(ARTIFACTS, key)!.commands[0].commandId).toBe(commands[1].id);
    expect(ssmMock.commandCalls(ListCommandsCommand).some((c) => c.args[0].input.NextToken !== undefined)).toBe(true);
  });
});

describe('node poll: a Wait/Choice round reads every node back', () => {
  test('right after SendCommand InvocationDoesNotExist is "not yet": pending, no error', async () => {
    // Arrange
    writePlan([{ name: 'prod', nodes: [node(1), node(2)] }]);
    await sendNodePhase(sendParams());
    commands[0].invocations.set(node(1).instanceId, { status: 'absent', details: '', stdout: '' });

    // Act
    const round = await pollNodes(pollParams());

    // Assert
    expect(round).toMatchObject({ rounds: 1, done: false, counts: { pending: 2, succeeded: 0, failed: 0 } });
    expect(ssmMock.commandCalls(GetCommandInvocationCommand).length).toBe(2);
  });

  test('every node serving the new certificate by its own report: done, applied in the ledger with the report, results in S3', async () => {
    // Arrange
    writePlan([{ name: 'prod', nodes: [node(1), node(2)] }]);
    await sendNodePhase(sendParams());
    setAll(() => succeeded());

    // Act
    const round = await pollNodes(pollParams({ rounds: 3 }));

    // Assert
    expect(round).toMatchObject({ rounds: 4, done: true, counts: { succeeded: 2, pending: 0 }, failures: [] });
    expect(results().nodes.map((n) => [n.name, n.outcome, n.servedSha256])).toEqual([
      ['ws-1', 'succeeded', NEW_SHA],
      ['ws-2', 'succeeded', NEW_SHA],
    ]);
    const entries = await ledger().entries();
    expect(entries.map((e) => e.status)).toEqual(['applied', 'applied']);
    expect(entries[0].reported).toMatchObject({
      action: 'install',
      ran: true,
      scriptStatus: 'SUCCEEDED',
      servedSha256: NEW_SHA,
      previousSha256: OLD_SHA,
    });
  });

  test('a failed node (nginx -t), the rest terminated by MaxErrors: NodeDeploymentFailed naming it, with counts; the node is not applied', async () => {
    // Arrange
    writePlan([{ name: 'prod', nodes: [node(1), node(2), node(3)] }]);
    await sendNodePhase(sendParams());
    const [a, b, c] = [...commands[0].invocations.keys()];
    commands[0].invocations.set(a, succeeded());
    commands[0].invocations.set(b, failedNginx());
    commands[0].invocations.set(c, { status: 'Cancelled', details: 'Terminated', stdout: '' });

    // Act
    const error = await caught(() => pollNodes(pollParams()));

    // Assert
    expect(error).toBeInstanceOf(NodeDeploymentFailed);
    expect(error.message).toContain('1 of 3 node(s) serve the new certificate; 1 failed, 1 not run');
    expect(error.message).toContain('ws-2 (i-00000002): failed FAILED [SSM Failed]: nginx -t failed');
    const byKey = new Map((await ledger().entries()).map((e: LedgerEntry) => [e.key, e]));
    expect(byKey.get(`node/prod/${a}`)?.status).toBe('applied');
    expect(byKey.get(`node/prod/${b}`)).toMatchObject({ status: 'intended', reported: { scriptStatus: 'FAILED', servedSha256: OLD_SHA } });
    expect(byKey.get(`node/prod/${c}`)).toMatchObject({ status: 'intended', reported: { ran: false } });
    expect(results().counts).toMatchObject({ succeeded: 1, failed: 1, 'not-run': 1 });
  });

  test('Success but the node reports another fingerprint: failed, not applied', async () => {
    writePlan([{ name: 'prod', nodes: [node(1)] }]);
    await sendNodePhase(sendParams());
    setAll(() => succeeded('c'.repeat(64)));
    const error = await caught(() => pollNodes(pollParams()));
    expect(error.message).toContain(`serves ${'c'.repeat(64)}, expected ${NEW_SHA}`);
    expect((await ledger().entries())[0].status).toBe('intended');
  });

  test('still running at the deadline: NodeDeploymentFailed naming the nodes that have not finished', async () => {
    writePlan([{ name: 'prod', nodes: [node(1)] }]);
    await sendNodePhase(sendParams());
    commands[0].invocations.set(node(1).instanceId, { status: 'InProgress', details: 'InProgress', stdout: '' });
    const error = await caught(() => pollNodes(pollParams({ rounds: 9, maxRounds: 10 })));
    expect(error).toBeInstanceOf(NodeDeploymentFailed);
    expect(error.message).toContain('has not finished after 10 polls');
    expect(error.message).toContain('ws-1 (i-00000001)');
  });

  test('by tag: one ListCommandInvocations pass (Details, 50 a page); an earlier phase node reached again is fine, an instance the plan never listed fails the phase and is recorded as left alone', async () => {
    // Arrange: 60 prod nodes + the canary of an earlier phase + one stranger, all tagged Env=prod
    const prod = Array.from({ length: 60 }, (_, i) => node(i + 1));
    const canary = node(99, 'prod-canary');
    writePlan([
      { name: 'prod-canary', nodes: [canary] },
      { name: 'prod', nodes: prod },
    ]);
    byTag.set('tag:Env=prod', [...prod.map((n) => n.instanceId), canary.instanceId, 'i-0stranger']);
    await sendNodePhase(sendParams());
    setAll(() => succeeded());

    // Act
    const error = await caught(() => pollNodes(pollParams()));

    // Assert
    const listed = ssmMock.commandCalls(ListCommandInvocationsCommand).map((c) => c.args[0].input);
    expect(listed.length).toBe(2);
    expect(listed.every((i) => i.Details === true && i.MaxResults === 50)).toBe(true);
    expect(ssmMock.commandCalls(GetCommandInvocationCommand)).toHaveLength(0);
    expect(error.message).toContain('60 of 60 node(s) serve the new certificate');
    expect(error.message).toContain('1 not in the plan');
    expect(error.message).toContain('i-0stranger');
    expect(error.message).not.toContain(canary.instanceId);
    const stranger = (await ledger().entries()).find((e) => e.key === 'node/prod/i-0stranger');
    expect(stranger).toMatchObject({ status: 'left-alone' });
  });

  test('parseScriptOutput takes the result line among stderr lines, and nothing from a cut-off line', () => {
    expect(parseScriptOutput(`${scriptLine({ status: 'SUCCEEDED', served: NEW_SHA })}\ndeploy-certificate: done`)).toMatchObject({
      status: 'SUCCEEDED',
    });
    expect(parseScriptOutput('{"action":"install","status":"SUCC')).toBeUndefined();
    expect(parseScriptOutput(undefined)).toBeUndefined();
  });
});

function rollbackParams(overrides: Partial<NodeRollbackParams> = {}): NodeRollbackParams {
  return {
    ssm: new SSMClient({ region: 'eu-west-1' }),
    iam: new IAMClient({ region: 'us-east-1' }),
    store: store(),
    ledger: ledger(),
    logger: silentLogger,
    executionName: EXECUTION,
    documentName: DOCUMENT,
    deliveryTimeoutSeconds: 3600,
    maxConcurrency: { prod: '25%', beta: '1' },
    now: clock,
    ...overrides,
  };
}

describe('node rollback: exactly the nodes the ledger proves changed, by id', () => {
  /** Three prod nodes after a failed phase: ws-1 changed, ws-2 failed and restored itself, ws-3 never ran. */
  async function afterFailedPhase(): Promise<string[]> {
    writePlan([{ name: 'prod', nodes: [node(1), node(2), node(3)] }]);
    await sendNodePhase(sendParams());
    const ids = [...commands[0].invocations.keys()];
    commands[0].invocations.set(ids[0], succeeded());
    commands[0].invocations.set(ids[1], failedNginx());
    commands[0].invocations.set(ids[2], { status: 'Cancelled', details: 'Terminated', stdout: '' });
    await caught(() => pollNodes(pollParams()));
    return ids;
  }

  test('sends action rollback with the previous SHA-256 by InstanceIds to the changed node only; the others need nothing', async () => {
    // Arrange
    const ids = await afterFailedPhase();

    // Act
    const result = await rollBackNodes(rollbackParams());

    // Assert
    expect(commands).toHaveLength(2);
    expect(commands[1].input).toMatchObject({
      DocumentName: DOCUMENT,
      Parameters: { action: ['rollback'], expectedSha256: [OLD_SHA] },
      InstanceIds: [ids[0]],
      MaxConcurrency: '25%',
      MaxErrors: '100%',
    });
    expect(commands[1].input.Targets).toBeUndefined();
    expect(result).toMatchObject({ nodes: 1, commands: 1, notSwitched: 1, restoredByNode: 1, done: false });
    const byKey = new Map((await ledger().entries()).map((e) => [e.key, e]));
    expect(byKey.get(`node/prod/${ids[1]}`)).toMatchObject({ status: 'rolled-back', note: 'the node restored it itself' });
    expect(byKey.get(`node/prod/${ids[2]}`)).toMatchObject({ status: 'rolled-back', note: 'was not switched' });
  });

  test('its poll marks a node rolled-back only when it reports the previous certificate again, else left alone with why', async () => {
    // Arrange
    const ids = await afterFailedPhase();
    writePlan([{ name: 'prod', nodes: [node(1), node(2), node(3), node(4)] }]);
    await rollBackNodes(rollbackParams());
    setAll(
      () => ({ status: 'Success', details: 'Success', stdout: scriptLine({ action: 'rollback', status: 'SUCCEEDED', served: OLD_SHA }) }),
      commands[1],
    );

    // Act
    const round = await pollNodes(pollParams({ purpose: 'rollback', phase: undefined, newSha256: undefined }));

    // Assert
    expect(round).toMatchObject({ done: true, counts: { succeeded: 1 } });
    const entry = (await ledger().entries()).find((e) => e.key === `node/prod/${ids[0]}`);
    expect(entry).toMatchObject({ status: 'rolled-back', reported: { action: 'rollback', servedSha256: OLD_SHA } });
  });

  test('a rollback the node reports as REFUSED leaves it alone with the reason (not proven back)', async () => {
    const ids = await afterFailedPhase();
    await rollBackNodes(rollbackParams());
    setAll(
      () => ({ status: 'Failed', details: 'Failed', stdout: scriptLine({ action: 'rollback', status: 'REFUSED', message: 'no backup' }) }),
      commands[1],
    );
    await pollNodes(pollParams({ purpose: 'rollback', phase: undefined, newSha256: undefined }));
    const entry = (await ledger().entries()).find((e) => e.key === `node/prod/${ids[0]}`);
    expect(entry).toMatchObject({ status: 'left-alone', note: 'node rollback: no backup' });
  });

  test('an entry whose node is not in the plan, or whose after IAM does not show as ours, is left alone and sent nothing', async () => {
    // Arrange
    await afterFailedPhase();
    const forged = { kind: 'node' as const, instanceId: 'i-0forged0', name: 'forged', phase: 'prod' };
    await ledger().recordIntent(forged, 'nodes-prod', OLD_ARN, NEW_ARN, clock(), { beforeSha256: OLD_SHA, afterSha256: NEW_SHA });
    iamMock.on(GetServerCertificateCommand).resolves({
      ServerCertificate: {
        CertificateBody: 'PUBLIC',
        ServerCertificateMetadata: { Arn: NEW_ARN, ServerCertificateId: 'X', ServerCertificateName: 'n', Path: '/' },
        Tags: [],
      },
    });

    // Act
    const result = await rollBackNodes(rollbackParams());

    // Assert
    expect(commands).toHaveLength(1);
    expect(result.leftAlone.some((l) => l.startsWith('node/prod/i-0forged0: node/prod/i-0forged0 is not a node of this execution'))).toBe(
      true,
    );
    expect(result.leftAlone.some((l) => l.includes('is not the certificate this execution uploaded'))).toBe(true);
  });

  test('a retried node rollback sends nothing twice', async () => {
    await afterFailedPhase();
    await rollBackNodes(rollbackParams());
    await rollBackNodes(rollbackParams());
    expect(commands).toHaveLength(2);
  });
});

describe('verify-rollback: nodes by their own report, and TLS where reachable', () => {
  const entry = (o: Partial<LedgerEntry>): LedgerEntry => ({
    key: `node/prod/${node(1).instanceId}`,
    target: { ...node(1), host: '10.0.0.1' },
    phase: 'nodes-prod',
    before: OLD_ARN,
    after: NEW_ARN,
    beforeSha256: OLD_SHA,
    afterSha256: NEW_SHA,
    status: 'rolled-back',
    updatedAt: clock().toISOString(),
    reported: {
      action: 'rollback',
      ran: true,
      ssmStatus: 'Success',
      scriptStatus: 'SUCCEEDED',
      servedSha256: OLD_SHA,
      at: clock().toISOString(),
    },
    ...o,
  });
  const probeSeeing =
    (sha256: string): TlsProbe =>
    () =>
      Promise.resolve({ endpoint: 'x', sha256, serial: '', notAfter: '', subject: '' });

  test('reported and handshaken previous certificate: verified over TLS', async () => {
    expect(await verifyNodes([entry({})], probeSeeing(OLD_SHA), 'gitter.im', 4)).toEqual([{ served: OLD_SHA, via: 'tls' }]);
  });

  test('a handshake that sees the new certificate fails, whatever the node reported', async () => {
    const [r] = await verifyNodes([entry({})], probeSeeing(NEW_SHA), 'gitter.im', 4);
    expect(r.problem).toContain(`serves ${NEW_SHA} over TLS`);
  });

  test('a node reporting another certificate fails without a handshake', async () => {
    const [r] = await verifyNodes(
      [entry({ reported: { action: 'rollback', ran: true, ssmStatus: 'Success', servedSha256: NEW_SHA, at: '' } })],
      probeSeeing(OLD_SHA),
      'gitter.im',
      4,
    );
    expect(r.problem).toContain(`reports it serves ${NEW_SHA}`);
  });

  test('unreachable from the verifier (outside the VPC): every node by its own report, saying so', async () => {
    const unreachable: TlsProbe = () => Promise.reject(new Error('TLS handshake with 10.0.0.1:443 (SNI gitter.im) failed: timed out'));
    const out = await verifyNodes([entry({}), entry({ key: 'node/prod/i-2' })], unreachable, 'gitter.im', 4);
    expect(out).toEqual([
      { served: OLD_SHA, via: 'node report' },
      { served: OLD_SHA, via: 'node report' },
    ]);
  });
});
