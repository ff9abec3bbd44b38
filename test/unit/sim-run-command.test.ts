/**
 * Simulated SSM Run Command and DescribeInstanceInformation, through real SDK v3 clients, on
 * in-memory nodes (the nginx runtime has its own integration test): shapes, the
 * InvocationDoesNotExist window, Targets by tag, MaxConcurrency / MaxErrors, offline and
 * unmanaged instances, pagination, output truncation, faults and the secret scan's record.
 */
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  InvalidDocument,
  InvalidInstanceId,
  InvalidParameters,
  InvocationDoesNotExist,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
  type DescribeInstanceInformationCommandOutput,
  type ListCommandInvocationsCommandOutput,
  type SendCommandCommandInput,
} from '@aws-sdk/client-ssm';
import { documentContent } from '../../lib/node-deployment';
import { issueWithFreshPki } from '../../local/certs';
import {
  defaultFleet,
  INVOCATION_DELAY_SECONDS,
  RUN_SECONDS,
  SimulatedAccount,
  type FaultSpec,
  type FleetSpec,
  type SimCertificate,
} from '../../local/sim';
import { exampleConfig } from '../construct/synth-helpers';
import { caught, md5Of, sha256Of } from '../support/handler-support';
import { handshake, seedCertificates } from '../support/sim-fixtures';

const DOCUMENT = 'CertRotation-gitter-im-DeployCertificate';

let current: SimCertificate;
let other: SimCertificate;
let next: SimCertificate;

beforeAll(async () => {
  ({ current, other } = await seedCertificates());
  next = await issueWithFreshPki({ names: ['*.gitter.im', 'gitter.im'], keyType: 'ec-p256' });
});

/** The default fleet plus more prod nodes and one that SSM does not manage. */
function fleet(): FleetSpec {
  const base = defaultFleet();
  return {
    ...base,
    instances: [
      ...base.instances.map((i) => ({ ...i, nginx: false })),
      ...Array.from({ length: 4 }, (_, k) => ({ id: `i-0ws1${k}`, tags: { Name: `ws-1${k}`, Env: 'prod' }, nginx: false })),
      { id: 'i-0unmanaged', tags: { Name: 'ws-99', Env: 'prod' }, nginx: false, ssmManaged: false },
    ],
  };
}

interface Setup {
  readonly account: SimulatedAccount;
  readonly ssm: SSMClient;
  readonly secretArn: string;
  send(overrides: Partial<SendCommandCommandInput>): Promise<string>;
  /** Advances simulated time by `seconds`, one second at a time, so that each step is looked at. */
  wait(seconds: number): Promise<void>;
  servedBy(instanceId: string): Promise<string>;
}

let setup: Setup | undefined;

async function start(faults: FaultSpec[] = [], fleetSpec: FleetSpec = fleet()): Promise<Setup> {
  const account = await SimulatedAccount.create({ fleet: fleetSpec, faults, current, other });
  account.install();
  account.ssm.registerDocument(DOCUMENT, documentContent(exampleConfig()));
  const secretArn = account.putSecret(
    'cert-rotation/gitter.im/2026-12-01',
    JSON.stringify({ certificate: next.certPem, privateKey: next.keyPem, chain: next.chainPem }),
  );
  const ssm = new SSMClient({ region: 'us-east-1' });
  const s: Setup = {
    account,
    ssm,
    secretArn,
    send: async (overrides) => {
      const out = await ssm.send(
        new SendCommandCommand({
          DocumentName: DOCUMENT,
          Parameters: { action: ['install'], secretId: [secretArn], expectedSha256: [sha256Of(next.certPem)] },
          ...overrides,
        }),
      );
      return out.Command!.CommandId!;
    },
    wait: async (seconds) => {
      for (let i = 0; i < seconds; i++) {
        account.clock.advance(1);
        await ssm.send(new ListCommandsCommand({}));
      }
    },
    servedBy: (instanceId) => {
      const t = account.targets().find((x) => x.key === `node/${instanceId}`)!;
      return handshake(t.host, 443, 'gitter.im');
    },
  };
  setup = s;
  return s;
}

afterEach(async () => {
  await setup?.account.close();
  setup = undefined;
});

async function invocations(s: Setup, commandId: string) {
  const out = await s.ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId, MaxResults: 50 }));
  return Object.fromEntries((out.CommandInvocations ?? []).map((i) => [i.InstanceId!, `${i.Status}/${i.StatusDetails}`]));
}

describe('SendCommand and GetCommandInvocation', () => {
  test('InvocationDoesNotExist right after SendCommand, then Pending, InProgress, Success with the script result and the new certificate served', async () => {
    // Arrange
    const s = await start();

    // Act
    const id = await s.send({ InstanceIds: ['i-0ws01'] });
    const early = await caught(() => s.ssm.send(new GetCommandInvocationCommand({ CommandId: id, InstanceId: 'i-0ws01' })));
    s.account.clock.advance(INVOCATION_DELAY_SECONDS);
    const running = await s.ssm.send(new GetCommandInvocationCommand({ CommandId: id, InstanceId: 'i-0ws01' }));
    s.account.clock.advance(RUN_SECONDS);
    const done = await s.ssm.send(new GetCommandInvocationCommand({ CommandId: id, InstanceId: 'i-0ws01' }));

    // Assert
    expect(early).toBeInstanceOf(InvocationDoesNotExist);
    expect(running).toMatchObject({ Status: 'InProgress', ResponseCode: -1, StandardOutputContent: '', ExecutionEndDateTime: '' });
    expect(done).toMatchObject({
      CommandId: id,
      InstanceId: 'i-0ws01',
      DocumentName: DOCUMENT,
      PluginName: 'deployCertificate',
      Status: 'Success',
      StatusDetails: 'Success',
      ResponseCode: 0,
    });
    const result = JSON.parse(done.StandardOutputContent!) as Record<string, unknown>;
    expect(result).toMatchObject({
      action: 'install',
      status: 'SUCCEEDED',
      served: sha256Of(next.certPem),
      previous: sha256Of(current.certPem),
    });
    expect(done.StandardErrorContent).toContain('deploy-certificate: installing');
    await expect(s.servedBy('i-0ws01')).resolves.toBe(sha256Of(next.certPem));
    await expect(s.servedBy('i-0ws02')).resolves.toBe(sha256Of(current.certPem));
  });

  test('refuses what SSM refuses: unknown document, bad parameters, an instance SSM does not manage, too many ids or targets', async () => {
    // Arrange
    const s = await start();

    // Act
    const noDoc = await caught(() => s.send({ DocumentName: 'AWS-RunShellScript', InstanceIds: ['i-0ws01'] }));
    const unknownParam = await caught(() => s.send({ InstanceIds: ['i-0ws01'], Parameters: { action: ['install'], bogus: ['x'] } }));
    const badPattern = await caught(() => s.send({ InstanceIds: ['i-0ws01'], Parameters: { action: ['install'], port: ['443; rm'] } }));
    const unmanaged = await caught(() => s.send({ InstanceIds: ['i-0unmanaged'] }));
    const tooMany = await caught(() => s.send({ InstanceIds: Array.from({ length: 51 }, (_, i) => `i-0${i}`) }));
    const tooManyTargets = await caught(() => s.send({ Targets: Array.from({ length: 6 }, () => ({ Key: 'tag:Env', Values: ['prod'] })) }));
    const badConcurrency = await caught(() => s.send({ InstanceIds: ['i-0ws01'], MaxConcurrency: '0' }));

    // Assert
    expect(noDoc).toBeInstanceOf(InvalidDocument);
    expect(unknownParam).toBeInstanceOf(InvalidParameters);
    expect(unknownParam.message).toContain('bogus is not a parameter');
    expect(badPattern).toBeInstanceOf(InvalidParameters);
    expect(unmanaged).toBeInstanceOf(InvalidInstanceId);
    expect(unmanaged.message).toContain('i-0unmanaged');
    expect(tooMany.message).toContain('at most 50');
    expect(tooManyTargets.message).toContain('at most 5');
    expect(badConcurrency.name).toBe('ValidationException');
    expect(s.account.ssm.runCommand.commands).toHaveLength(0);
  });

  test('stdout is cut to 24,000 characters and stderr to 8,000; ListCommandInvocations Output to 2,500 with the ERROR separator', async () => {
    // Arrange
    const s = await start();
    s.account.ssm.runCommand.executor = () => Promise.resolve({ exitCode: 3, stdout: 'o'.repeat(30_000), stderr: 'e'.repeat(9_000) });

    // Act
    const id = await s.send({ InstanceIds: ['i-0ws01'] });
    s.account.clock.advance(INVOCATION_DELAY_SECONDS + RUN_SECONDS);
    const got = await s.ssm.send(new GetCommandInvocationCommand({ CommandId: id, InstanceId: 'i-0ws01' }));
    const listed = await s.ssm.send(new ListCommandInvocationsCommand({ CommandId: id, Details: true }));

    // Assert
    expect(got.StandardOutputContent).toHaveLength(24_000);
    expect(got.StandardErrorContent).toHaveLength(8_000);
    expect(got).toMatchObject({ Status: 'Failed', ResponseCode: 3 });
    const plugin = listed.CommandInvocations![0].CommandPlugins![0];
    expect(plugin.Output).toHaveLength(2_500);
    expect(plugin).toMatchObject({ Name: 'deployCertificate', Status: 'Failed', ResponseCode: 3 });
    const whole = s.account.ssm.runCommand.commands[0].invocations[0];
    expect(whole.stderr.endsWith('failed to run commands: exit status 3')).toBe(true);
  });
});

describe('targets and rate control', () => {
  test('Targets by tag reach only SSM-managed instances with that tag; TargetCount appears with the invocations', async () => {
    // Arrange
    const s = await start();

    // Act
    const id = await s.send({ Targets: [{ Key: 'tag:Env', Values: ['prod'] }], MaxConcurrency: '100%' });
    const before = await s.ssm.send(new ListCommandsCommand({ CommandId: id }));
    await s.wait(INVOCATION_DELAY_SECONDS + RUN_SECONDS);
    const after = await s.ssm.send(new ListCommandsCommand({ CommandId: id }));

    // Assert
    expect(before.Commands![0]).toMatchObject({ Status: 'Pending', TargetCount: 0 });
    expect(Object.keys(await invocations(s, id)).sort()).toEqual(
      ['i-0webapp01', 'i-0ws01', 'i-0ws02', 'i-0ws03', 'i-0ws10', 'i-0ws11', 'i-0ws12', 'i-0ws13'].sort(),
    );
    expect(after.Commands![0]).toMatchObject({ Status: 'Success', TargetCount: 8, CompletedCount: 8, ErrorCount: 0, MaxErrors: '0' });
    await expect(s.servedBy('i-0unmanaged')).resolves.toBe(sha256Of(current.certPem));
    await expect(s.servedBy('i-0beta')).resolves.toBe(sha256Of(current.certPem));
  });

  test('MaxConcurrency 1, MaxErrors 0: the failing node stops the rollout, the rest are never sent (Cancelled/Terminated), the command is Failed', async () => {
    // Arrange
    const s = await start([{ instance: 'i-0ws02', fault: 'nginx-config-invalid' }]);
    const ids = ['i-0ws01', 'i-0ws02', 'i-0ws03', 'i-0ws10'];

    // Act
    const id = await s.send({ InstanceIds: ids, MaxConcurrency: '1', MaxErrors: '0' });
    await s.wait(INVOCATION_DELAY_SECONDS + 4 * RUN_SECONDS);
    const failed = await s.ssm.send(new GetCommandInvocationCommand({ CommandId: id, InstanceId: 'i-0ws02' }));
    const cmd = (await s.ssm.send(new ListCommandsCommand({ CommandId: id }))).Commands![0];

    // Assert
    expect(await invocations(s, id)).toEqual({
      'i-0ws01': 'Success/Success',
      'i-0ws02': 'Failed/Failed',
      'i-0ws03': 'Cancelled/Terminated',
      'i-0ws10': 'Cancelled/Terminated',
    });
    expect(failed.ResponseCode).toBe(1);
    expect(JSON.parse(failed.StandardOutputContent!)).toMatchObject({
      status: 'FAILED',
      stage: 'nginx-test',
      served: sha256Of(current.certPem),
    });
    expect(cmd).toMatchObject({ Status: 'Failed', ErrorCount: 1, CompletedCount: 4 });
    await expect(s.servedBy('i-0ws02')).resolves.toBe(sha256Of(current.certPem));
    await expect(s.servedBy('i-0ws03')).resolves.toBe(sha256Of(current.certPem));
    await expect(s.servedBy('i-0ws01')).resolves.toBe(sha256Of(next.certPem));
  });

  test('MaxConcurrency 2 runs two at a time (simulated time), MaxErrors 1 lets one failure through', async () => {
    // Arrange
    const s = await start([{ instance: 'i-0ws01', fault: 'nginx-config-invalid' }]);

    // Act
    const id = await s.send({ InstanceIds: ['i-0ws01', 'i-0ws02', 'i-0ws03', 'i-0ws10'], MaxConcurrency: '2', MaxErrors: '1' });
    s.account.clock.advance(INVOCATION_DELAY_SECONDS);
    const firstRound = await invocations(s, id);
    s.account.clock.advance(RUN_SECONDS);
    const secondRound = await invocations(s, id);
    s.account.clock.advance(RUN_SECONDS);
    const end = await invocations(s, id);

    // Assert
    expect(firstRound).toEqual({
      'i-0ws01': 'InProgress/InProgress',
      'i-0ws02': 'InProgress/InProgress',
      'i-0ws03': 'Pending/Pending',
      'i-0ws10': 'Pending/Pending',
    });
    expect(secondRound).toMatchObject({ 'i-0ws01': 'Failed/Failed', 'i-0ws02': 'Success/Success', 'i-0ws03': 'InProgress/InProgress' });
    expect(end).toEqual({
      'i-0ws01': 'Failed/Failed',
      'i-0ws02': 'Success/Success',
      'i-0ws03': 'Success/Success',
      'i-0ws10': 'Success/Success',
    });
    expect((await s.ssm.send(new ListCommandsCommand({ CommandId: id }))).Commands![0]).toMatchObject({
      Status: 'Failed',
      StatusDetails: 'Incomplete',
    });
  });

  test('an offline node: ConnectionLost in DescribeInstanceInformation, Undeliverable to SendCommand, not counted against MaxErrors', async () => {
    // Arrange
    const s = await start([{ instance: 'i-0ws02', fault: 'offline' }]);

    // Act
    const info = await s.ssm.send(
      new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: ['i-0ws01', 'i-0ws02'] }] }),
    );
    const id = await s.send({ InstanceIds: ['i-0ws01', 'i-0ws02', 'i-0ws03'], MaxConcurrency: '1', MaxErrors: '0' });
    await s.wait(INVOCATION_DELAY_SECONDS + 3 * RUN_SECONDS);

    // Assert
    expect(info.InstanceInformationList!.map((i) => [i.InstanceId, i.PingStatus])).toEqual([
      ['i-0ws01', 'Online'],
      ['i-0ws02', 'ConnectionLost'],
    ]);
    expect(await invocations(s, id)).toEqual({
      'i-0ws01': 'Success/Success',
      'i-0ws02': 'Failed/Undeliverable',
      'i-0ws03': 'Success/Success',
    });
    await expect(s.servedBy('i-0ws02')).resolves.toBe(sha256Of(current.certPem));
  });

  test('the delivery timeout: one still waiting for a slot when TimeoutSeconds pass is TimedOut / DeliveryTimedOut; a run killed at its timeout is ExecutionTimedOut', async () => {
    // Arrange
    const s = await start();
    s.account.ssm.runCommand.executor = (e) =>
      Promise.resolve(
        e.instanceId === 'i-0ws03'
          ? { exitCode: null, stdout: '', stderr: '' }
          : { exitCode: 0, stdout: '', stderr: '', simulatedSeconds: 60 },
      );

    // Act
    const id = await s.send({ InstanceIds: ['i-0ws01', 'i-0ws02'], MaxConcurrency: '1', TimeoutSeconds: 30 });
    s.account.clock.advance(40);
    const waiting = await invocations(s, id);
    s.account.clock.advance(30);
    const end = await invocations(s, id);
    const killed = await s.send({ InstanceIds: ['i-0ws03'] });
    s.account.clock.advance(INVOCATION_DELAY_SECONDS + RUN_SECONDS);
    const timedOut = await s.ssm.send(new GetCommandInvocationCommand({ CommandId: killed, InstanceId: 'i-0ws03' }));

    // Assert
    expect(waiting).toEqual({ 'i-0ws01': 'InProgress/InProgress', 'i-0ws02': 'TimedOut/DeliveryTimedOut' });
    expect(end).toEqual({ 'i-0ws01': 'Success/Success', 'i-0ws02': 'TimedOut/DeliveryTimedOut' });
    expect((await s.ssm.send(new ListCommandsCommand({ CommandId: id }))).Commands![0]).toMatchObject({
      Status: 'TimedOut',
      DeliveryTimedOutCount: 1,
      ErrorCount: 0,
    });
    expect(timedOut).toMatchObject({ Status: 'TimedOut', StatusDetails: 'ExecutionTimedOut' });
  });
});

describe('pagination, instance information, faults, rollback, the secret scan', () => {
  test('ListCommandInvocations and ListCommands page (default 5, NextToken); DescribeInstanceInformation pages and leaves unmanaged instances out', async () => {
    // Arrange
    const s = await start();
    const id = await s.send({ Targets: [{ Key: 'tag:Env', Values: ['prod'] }] });
    await s.send({ InstanceIds: ['i-0beta'] });
    s.account.clock.advance(INVOCATION_DELAY_SECONDS);

    // Act
    const pages: number[] = [];
    let token: string | undefined;
    do {
      const out: ListCommandInvocationsCommandOutput = await s.ssm.send(
        new ListCommandInvocationsCommand({ CommandId: id, NextToken: token }),
      );
      pages.push(out.CommandInvocations!.length);
      token = out.NextToken;
    } while (token);
    const commands = await s.ssm.send(new ListCommandsCommand({ MaxResults: 1 }));
    const info: string[] = [];
    token = undefined;
    do {
      const out: DescribeInstanceInformationCommandOutput = await s.ssm.send(
        new DescribeInstanceInformationCommand({ MaxResults: 5, NextToken: token }),
      );
      info.push(...out.InstanceInformationList!.map((i) => i.InstanceId!));
      token = out.NextToken;
    } while (token);
    const filtered = await s.ssm.send(
      new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: ['i-0unmanaged'] }] }),
    );

    // Assert
    expect(pages).toEqual([5, 3]);
    expect(commands.Commands).toHaveLength(1);
    expect(commands.NextToken).toBeDefined();
    expect(info).toHaveLength(9);
    expect(info).not.toContain('i-0unmanaged');
    expect(filtered.InstanceInformationList).toEqual([]);
    const first = (await s.ssm.send(new DescribeInstanceInformationCommand({ MaxResults: 5 }))).InstanceInformationList![0];
    expect(first).toMatchObject({ InstanceId: 'i-0beta', PingStatus: 'Online', PlatformType: 'Linux', ResourceType: 'EC2Instance' });
  });

  test('faults of the faults file act on the Run Command operations like on any other (the SDK retries throttling)', async () => {
    // Arrange
    const s = await start([
      { operation: 'ssm:SendCommand', error: 'ThrottlingException', count: 1 },
      { operation: 'ssm:GetCommandInvocation', error: 'InternalServerError', count: 10 },
    ]);

    // Act
    const id = await s.send({ InstanceIds: ['i-0ws01'] });
    const failure = await caught(() => s.ssm.send(new GetCommandInvocationCommand({ CommandId: id, InstanceId: 'i-0ws01' })));

    // Assert
    expect(s.account.apiCallCounts()['ssm:SendCommand']).toBe(2);
    expect(failure.name).toBe('InternalServerError');
  });

  test('the rollback action restores the backup; a second install is harmless; monit files are updated', async () => {
    // Arrange
    const s = await start();
    const monit = { monitFiles: ['/etc/monit/conf.d/nginx'] };
    const install = { action: ['install'], secretId: [s.secretArn], expectedSha256: [sha256Of(next.certPem)], ...monit };

    // Act
    const a = await s.send({ InstanceIds: ['i-0ws01'], Parameters: install });
    await s.wait(INVOCATION_DELAY_SECONDS + RUN_SECONDS);
    const b = await s.send({ InstanceIds: ['i-0ws01'], Parameters: install });
    await s.wait(INVOCATION_DELAY_SECONDS + RUN_SECONDS);
    const servedAfterInstall = await s.servedBy('i-0ws01');
    const c = await s.send({ InstanceIds: ['i-0ws01'], Parameters: { action: ['rollback'], ...monit } });
    await s.wait(INVOCATION_DELAY_SECONDS + RUN_SECONDS);
    const out = async (commandId: string) =>
      JSON.parse(
        (await s.ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: 'i-0ws01' }))).StandardOutputContent!,
      ) as Record<string, unknown>;

    // Assert
    expect(await out(a)).toMatchObject({
      status: 'SUCCEEDED',
      changed: true,
      monitUpdated: ['/etc/monit/conf.d/nginx'],
      monitReloaded: true,
    });
    expect(await out(b)).toMatchObject({ status: 'SUCCEEDED', changed: false, monitUpdated: [] });
    expect(servedAfterInstall).toBe(sha256Of(next.certPem));
    expect(await out(c)).toMatchObject({ action: 'rollback', status: 'SUCCEEDED', served: sha256Of(current.certPem), changed: true });
    await expect(s.servedBy('i-0ws01')).resolves.toBe(sha256Of(current.certPem));
    expect(md5Of(current.certPem)).toMatch(/^[0-9A-F]{32}$/);
  });

  test('a rollback with no backup is REFUSED (exit 2) and changes nothing', async () => {
    // Arrange
    const s = await start();

    // Act
    const id = await s.send({ InstanceIds: ['i-0ws01'], Parameters: { action: ['rollback'] } });
    await s.wait(INVOCATION_DELAY_SECONDS + RUN_SECONDS);
    const got = await s.ssm.send(new GetCommandInvocationCommand({ CommandId: id, InstanceId: 'i-0ws01' }));

    // Assert
    expect(got).toMatchObject({ Status: 'Failed', ResponseCode: 2 });
    expect(JSON.parse(got.StandardOutputContent!)).toMatchObject({ status: 'REFUSED', stage: 'backup' });
    await expect(s.servedBy('i-0ws01')).resolves.toBe(sha256Of(current.certPem));
  });

  test("the secret scan's record holds every command's parameters and every invocation's stdout and stderr, never the key", async () => {
    // Arrange
    const s = await start();

    // Act
    const id = await s.send({ InstanceIds: ['i-0ws01', 'i-0ws02'] });
    await s.wait(INVOCATION_DELAY_SECONDS + RUN_SECONDS);
    const recorded = s.account.recorded().filter((r) => r.place === 'ssm output');

    // Assert
    expect(recorded.map((r) => r.name)).toEqual([
      `command ${id} parameters`,
      `command ${id} on i-0ws01: stdout`,
      `command ${id} on i-0ws01: stderr`,
      `command ${id} on i-0ws02: stdout`,
      `command ${id} on i-0ws02: stderr`,
    ]);
    expect(recorded[0].text).toContain(s.secretArn);
    expect(recorded[1].text).toContain('"status":"SUCCEEDED"');
    const keyBody = next.keyPem.split('\n')[1];
    for (const r of recorded) expect(r.text).not.toContain(keyBody);
    expect(s.account.apiCallCounts()['secretsmanager:GetSecretValue']).toBe(2);
  });
});
