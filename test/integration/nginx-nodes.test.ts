/**
 * The simulated account's nginx nodes: SendCommand runs the stack's REAL document script under
 * `sh` on a REAL nginx (its own directory, a port the kernel picks), with the AWS CLI stand-in
 * reading the account's Secrets Manager over loopback. What the node serves is judged by our own
 * TLS handshake through the account's node names, which reach that nginx.
 *
 * nginx comes with `npm run setup` (nginx-light); this suite needs it and fails without it.
 */
import { GetCommandInvocationCommand, SendCommandCommand, SSMClient, type SendCommandCommandInput } from '@aws-sdk/client-ssm';
import { documentContent } from '../../lib/node-deployment';
import { issueWithFreshPki } from '../../local/certs';
import { hasNginx } from '../../local/nginx';
import {
  defaultFleet,
  INVOCATION_DELAY_SECONDS,
  NginxNodeRuntime,
  RUN_SECONDS,
  SimulatedAccount,
  type FaultSpec,
  type SimCertificate,
} from '../../local/sim';
import { exampleConfig } from '../construct/synth-helpers';
import { sha256Of } from '../support/handler-support';
import { handshake, seedCertificates } from '../support/sim-fixtures';

const DOCUMENT = 'CertRotation-gitter-im-DeployCertificate';

let current: SimCertificate;
let other: SimCertificate;
let next: SimCertificate;
let account: SimulatedAccount | undefined;

beforeAll(async () => {
  if (!hasNginx()) throw new Error('nginx is not installed: run `npm run setup` (installs nginx-light); these tests must run, not skip');
  ({ current, other } = await seedCertificates());
  next = await issueWithFreshPki({ names: ['*.gitter.im', 'gitter.im'], keyType: 'rsa-2048' });
});

afterEach(async () => {
  await account?.close();
  account = undefined;
});

async function start(faults: FaultSpec[] = []) {
  account = await SimulatedAccount.create({ fleet: defaultFleet(), faults, current, other, nodeRuntime: 'nginx' });
  account.install();
  const config = exampleConfig();
  account.ssm.registerDocument(DOCUMENT, documentContent(config));
  const secretArn = account.putSecret(
    'cert-rotation/gitter.im/2026-12-01',
    JSON.stringify({ certificate: next.certPem, privateKey: next.keyPem, chain: next.chainPem }),
  );
  const a = account;
  const ssm = new SSMClient({ region: 'us-east-1' });
  const beta = () => a.targets().find((t) => t.key === 'node/i-0beta')!;
  return {
    ssm,
    secretArn,
    served: () => handshake(beta().host, 443, 'gitter.im'),
    run: async (parameters: SendCommandCommandInput['Parameters']) => {
      const out = await ssm.send(new SendCommandCommand({ DocumentName: DOCUMENT, InstanceIds: ['i-0beta'], Parameters: parameters }));
      a.clock.advance(INVOCATION_DELAY_SECONDS + RUN_SECONDS);
      return ssm.send(new GetCommandInvocationCommand({ CommandId: out.Command!.CommandId, InstanceId: 'i-0beta' }));
    },
  };
}

test('SendCommand on an nginx node really changes what a TLS handshake to its nginx sees; the secret came over loopback', async () => {
  // Arrange
  const s = await start();
  const before = await s.served();

  // Act
  const got = await s.run({ action: ['install'], secretId: [s.secretArn], expectedSha256: [sha256Of(next.certPem)] });

  // Assert
  expect(account!.nodeRuntimes()).toMatchObject({ 'i-0beta': 'nginx', 'i-0ws01': 'memory' });
  expect(account!.nodes.localPort('i-0beta')).toBeGreaterThan(0);
  expect(before).toBe(sha256Of(current.certPem));
  expect(got).toMatchObject({ Status: 'Success', ResponseCode: 0 });
  expect(JSON.parse(got.StandardOutputContent!)).toMatchObject({ status: 'SUCCEEDED', served: sha256Of(next.certPem), changed: true });
  await expect(s.served()).resolves.toBe(sha256Of(next.certPem));
  // The node's own GetSecretValue, through the account's dispatcher (over the loopback endpoint).
  expect(account!.apiCallCounts()['secretsmanager:GetSecretValue']).toBe(1);
  expect(got.StandardOutputContent).not.toContain(next.keyPem.split('\n')[1]);
});

test('nginx-config-invalid really breaks the node nginx config: the script restores, exits 1, and nginx still serves the old certificate', async () => {
  // Arrange
  const s = await start([{ instance: 'i-0beta', fault: 'nginx-config-invalid' }]);

  // Act
  const got = await s.run({ action: ['install'], secretId: [s.secretArn], expectedSha256: [sha256Of(next.certPem)] });

  // Assert
  expect(got).toMatchObject({ Status: 'Failed', ResponseCode: 1 });
  expect(JSON.parse(got.StandardOutputContent!)).toMatchObject({
    status: 'FAILED',
    stage: 'nginx-test',
    installed: sha256Of(current.certPem),
  });
  expect(got.StandardErrorContent).toContain('failed to run commands: exit status 1');
  await expect(s.served()).resolves.toBe(sha256Of(current.certPem));
});

test('rollback on an nginx node restores the backup and nginx serves it again', async () => {
  // Arrange
  const s = await start();
  await s.run({ action: ['install'], secretId: [s.secretArn], expectedSha256: [sha256Of(next.certPem)] });

  // Act
  const got = await s.run({ action: ['rollback'] });

  // Assert
  expect(JSON.parse(got.StandardOutputContent!)).toMatchObject({
    action: 'rollback',
    status: 'SUCCEEDED',
    served: sha256Of(current.certPem),
  });
  await expect(s.served()).resolves.toBe(sha256Of(current.certPem));
});

test('the nginx runtime keeps each node in its own directory, with the document paths under fs/', async () => {
  // Arrange
  const runtime = new NginxNodeRuntime({
    certificatePath: '/etc/nginx/ssl/gitter.im.crt',
    keyPath: '/etc/nginx/ssl/gitter.im.key',
    serverName: 'gitter.im',
  });

  // Act
  await runtime.start(
    [
      { instanceId: 'i-1', hosts: [] },
      { instanceId: 'i-2', hosts: [] },
    ],
    current,
  );
  try {
    const one = runtime.nodeDirectory('i-1');
    const two = runtime.nodeDirectory('i-2');

    // Assert
    expect(one.root).not.toBe(two.root);
    expect(runtime.serving('i-1')).toEqual({ label: 'current', sha256: sha256Of(current.certPem) });
    await expect(runtime.fingerprint('i-2')).resolves.toBe(sha256Of(current.certPem));
    expect(runtime.localPort('i-1')).not.toBe(runtime.localPort('i-2'));
  } finally {
    await runtime.stop();
  }
});
