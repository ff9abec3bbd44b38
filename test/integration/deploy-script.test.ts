/**
 * The node deploy script (the document's, lib/node-deployment: both files joined), the REAL text under `sh`,
 * against a REAL nginx on 127.0.0.1 (its own prefix, a free port), with the AWS CLI stand-in
 * (local/aws-cli) on PATH answering from a secrets file. What nginx serves is judged by our own
 * TLS handshake, not by what the script says.
 *
 * nginx comes with `npm run setup` (nginx-light): where it is absent, the suite fails (it must run, not skip).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deployParameters, type DeployParameters } from '../../lib/node-deployment/parameters';
import { issueWithFreshPki, type IssuedCertificate } from '../../local/certs';
import { hasNginx, startNginx, type NginxServer } from '../../local/nginx';
import { AWS_STANDIN_BIN, deployScriptFile, runDeployScript, type DeployResult, type DeployRun } from '../../local/node-script';
import { scanForKeys } from '../../local/secret-scan';
import { md5Of, sha256Of } from '../support/handler-support';

beforeAll(() => {
  if (!hasNginx()) throw new Error('nginx is not installed: run `npm run setup` (installs nginx-light); these tests must run, not skip');
});

const NAME = 'gitter.im';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:cert-rotation/gitter.im/2026-12-01-AbCdEf';
const OTHER_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:cert-rotation/gitter.im/mismatched-GhIjKl';

let oldCert: IssuedCertificate;
let newCert: IssuedCertificate;
let strayCert: IssuedCertificate;
let oldSha: string;
let newSha: string;

beforeAll(async () => {
  [oldCert, newCert, strayCert] = await Promise.all([
    issueWithFreshPki({ names: ['*.gitter.im', 'gitter.im'], keyType: 'ec-p256' }),
    issueWithFreshPki({ names: ['*.gitter.im', 'gitter.im'], keyType: 'rsa-2048' }),
    issueWithFreshPki({ names: ['*.gitter.im', 'gitter.im'], keyType: 'ec-p256' }),
  ]);
  oldSha = sha256Of(oldCert.certPem);
  newSha = sha256Of(newCert.certPem);
});

/** One node: nginx serving the old certificate, a secrets file, a monit file and a monit reload recorder. */
interface Node {
  readonly nginx: NginxServer;
  readonly dir: string;
  readonly secretsFile: string;
  readonly awsLog: string;
  readonly monitFile: string;
  readonly monitReloads: string;
  run(
    values: Partial<DeployParameters> & Pick<DeployParameters, 'action'>,
    opts?: { trace?: boolean; pathBefore?: string[] },
  ): Promise<DeployRun>;
  monitReloadCount(): number;
}

let node: Node;

async function startNode(): Promise<Node> {
  const nginx = await startNginx({ serverName: NAME, certificatePem: oldCert.certPem + oldCert.chainPem, keyPem: oldCert.keyPem });
  const dir = mkdtempSync(join(tmpdir(), 'cert-rotation-node-'));
  const secretsFile = join(dir, 'secrets.json');
  writeFileSync(
    secretsFile,
    JSON.stringify({
      [SECRET_ARN]: JSON.stringify({ certificate: newCert.certPem, privateKey: newCert.keyPem, chain: newCert.chainPem }),
      [OTHER_ARN]: JSON.stringify({ certificate: newCert.certPem, privateKey: strayCert.keyPem, chain: newCert.chainPem }),
    }),
    { mode: 0o600 },
  );
  const monitFile = join(dir, 'monitrc');
  writeFileSync(
    monitFile,
    `check host ws-01 with address 127.0.0.1\n  if failed port ${nginx.port} protocol https and certmd5 ${md5Of(oldCert.certPem)} then alert\n`,
    { mode: 0o600 },
  );
  const monitReloads = join(dir, 'monit-reloads.log');
  const recorder = join(dir, 'monit-reload.sh');
  writeFileSync(recorder, `#!/bin/sh\necho reloaded >> ${monitReloads}\n`);
  const awsLog = join(dir, 'aws.log');
  const owner = `${execFileSync('id', ['-un']).toString().trim()}:${execFileSync('id', ['-gn']).toString().trim()}`;
  return {
    nginx,
    dir,
    secretsFile,
    awsLog,
    monitFile,
    monitReloads,
    monitReloadCount: () => (existsSync(monitReloads) ? readFileSync(monitReloads, 'utf8').split('\n').filter(Boolean).length : 0),
    run: (values, opts = {}) =>
      runDeployScript({
        parameters: deployParameters({
          secretId: SECRET_ARN,
          certificatePath: nginx.certificatePath,
          keyPath: nginx.keyPath,
          owner,
          nginxTestCommand: nginx.testCommand,
          nginxReloadCommand: nginx.reloadCommand,
          port: String(nginx.port),
          serverName: NAME,
          monitReloadCommand: `sh ${recorder}`,
          verifyIntervalSeconds: '1',
          ...values,
        }),
        env: { CERT_ROTATION_SECRETS_FILE: secretsFile, CERT_ROTATION_AWS_LOG: awsLog },
        ...(opts.trace ? { trace: true } : {}),
        ...(opts.pathBefore ? { pathBefore: opts.pathBefore } : {}),
      }),
  };
}

const read = (path: string) => readFileSync(path, 'utf8');
const mode = (path: string) => statSync(path).mode & 0o777;
/** The failure message a test prints: what the script said and nginx logged. */
const explain = (run: DeployRun) => `exit ${String(run.code)}\nstdout: ${run.stdout}\nstderr: ${run.stderr}\nnginx: ${node.nginx.log()}`;

/** Asserts the result line, printing the script's output and nginx's log when it differs. */
function expectResult(run: DeployRun, expected: Partial<DeployResult>): void {
  if (!run.result) throw new Error(`no JSON result line\n${explain(run)}`);
  try {
    expect(run.result).toMatchObject(expected);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${explain(run)}`, { cause: error });
  }
}

describe('deploy script against a real nginx', () => {
  beforeEach(async () => {
    node = await startNode();
  });
  afterEach(async () => {
    await node.nginx.stop();
    rmSync(node.dir, { recursive: true, force: true });
  });

  test('install: nginx serves the new certificate after the reload; key 0600, backup kept, one JSON line', async () => {
    // Act
    const run = await node.run({ action: 'install', expectedSha256: newSha });

    // Assert
    expectResult(run, { action: 'install', status: 'SUCCEEDED', stage: 'done', changed: true, restored: [] });
    expect(run.code).toBe(0);
    expect(run.result?.served).toBe(newSha);
    expect(run.result?.previous).toBe(oldSha);
    expect(run.result?.installed).toBe(newSha);
    await expect(node.nginx.served()).resolves.toBe(newSha);
    expect(read(node.nginx.certificatePath)).toBe(newCert.certPem + newCert.chainPem);
    expect(read(node.nginx.keyPath)).toBe(newCert.keyPem);
    expect(mode(node.nginx.keyPath)).toBe(0o600);
    expect(mode(node.nginx.certificatePath)).toBe(0o644);
    expect(read(`${node.nginx.certificatePath}.previous`)).toBe(oldCert.certPem + oldCert.chainPem);
    expect(read(`${node.nginx.keyPath}.previous`)).toBe(oldCert.keyPem);
    expect(mode(`${node.nginx.keyPath}.previous`)).toBe(0o600);
    // The script fetched the secret itself, by ARN, in the ARN's region.
    expect(read(node.awsLog)).toContain(
      JSON.stringify({
        argv: [
          'secretsmanager',
          'get-secret-value',
          '--secret-id',
          SECRET_ARN,
          '--region',
          'us-east-1',
          '--query',
          'SecretString',
          '--output',
          'text',
        ],
      }),
    );
    // Nothing of the run is left next to the key but the files and their backups.
    expect(
      execFileSync('ls', ['-A', join(node.nginx.prefix, 'ssl')])
        .toString()
        .split('\n')
        .filter(Boolean)
        .sort(),
    ).toEqual([`${NAME}.crt`, `${NAME}.crt.previous`, `${NAME}.key`, `${NAME}.key.previous`].sort());
  });

  test('a re-run is harmless: nothing changes, the backup still holds the old certificate', async () => {
    // Arrange
    const first = await node.run({ action: 'install', expectedSha256: newSha, monitFiles: node.monitFile });
    expect(first.result?.status).toBe('SUCCEEDED');

    // Act
    const again = await node.run({ action: 'install', expectedSha256: newSha, monitFiles: node.monitFile });

    // Assert
    expectResult(again, { status: 'SUCCEEDED', changed: false, restored: [], monitUpdated: [], monitReloaded: false, served: newSha });
    expect(again.code).toBe(0);
    await expect(node.nginx.served()).resolves.toBe(newSha);
    expect(read(`${node.nginx.certificatePath}.previous`)).toBe(oldCert.certPem + oldCert.chainPem);
    expect(read(`${node.nginx.keyPath}.previous`)).toBe(oldCert.keyPem);
    expect(node.monitReloadCount()).toBe(1);
    expect(mode(node.nginx.keyPath)).toBe(0o600);
  });

  test('an invalid nginx config: the backup is restored, nginx is not reloaded and still serves the old certificate', async () => {
    // Arrange
    node.nginx.breakConfig();

    // Act
    const run = await node.run({ action: 'install', expectedSha256: newSha });

    // Assert
    expectResult(run, { status: 'FAILED', stage: 'nginx-test', changed: true, installed: oldSha, served: oldSha });
    expect(run.code).toBe(1);
    expect(run.result?.restored).toEqual([node.nginx.certificatePath, node.nginx.keyPath]);
    expect(run.result?.message).toContain('nginx test failed');
    expect(read(node.nginx.certificatePath)).toBe(oldCert.certPem + oldCert.chainPem);
    expect(read(node.nginx.keyPath)).toBe(oldCert.keyPem);
    expect(mode(node.nginx.keyPath)).toBe(0o600);
    await expect(node.nginx.served()).resolves.toBe(oldSha);
    // The restored files pass the test once the config is repaired.
    node.nginx.repairConfig();
    expect(() => execFileSync('sh', ['-c', node.nginx.testCommand], { stdio: 'pipe' })).not.toThrow();
  });

  test('a fingerprint mismatch after the reload: restored, reloaded, and the previous certificate verified', async () => {
    // Arrange: a reload that does not reach nginx, so the handshake keeps seeing the old certificate.
    const values = {
      action: 'install',
      expectedSha256: newSha,
      nginxReloadCommand: 'true',
      verifyAttempts: '2',
      verifyIntervalSeconds: '0',
    } as const;

    // Act
    const run = await node.run(values);

    // Assert
    expectResult(run, { status: 'FAILED', stage: 'verify', changed: true, served: oldSha, installed: oldSha });
    expect(run.code).toBe(1);
    expect(run.result?.message).toContain(`serves ${oldSha}, not ${newSha}`);
    expect(run.result?.message).toContain('restored and verified');
    expect(run.result?.restored).toEqual([node.nginx.certificatePath, node.nginx.keyPath]);
    expect(read(node.nginx.certificatePath)).toBe(oldCert.certPem + oldCert.chainPem);
    expect(read(node.nginx.keyPath)).toBe(oldCert.keyPem);
    await expect(node.nginx.served()).resolves.toBe(oldSha);
  });

  test('rollback restores the backup and verifies it is served; a second rollback is harmless', async () => {
    // Arrange
    expect((await node.run({ action: 'install', expectedSha256: newSha })).result?.status).toBe('SUCCEEDED');

    // Act
    const run = await node.run({ action: 'rollback', expectedSha256: oldSha });
    const again = await node.run({ action: 'rollback', expectedSha256: oldSha });

    // Assert
    expectResult(run, { action: 'rollback', status: 'SUCCEEDED', changed: true, previous: newSha, served: oldSha, installed: oldSha });
    expect(run.code).toBe(0);
    expectResult(again, { status: 'SUCCEEDED', changed: false, served: oldSha });
    await expect(node.nginx.served()).resolves.toBe(oldSha);
    expect(read(node.nginx.keyPath)).toBe(oldCert.keyPem);
    expect(mode(node.nginx.keyPath)).toBe(0o600);
  });

  test('rollback refuses a backup that is not the expected certificate, and changes nothing', async () => {
    // Arrange
    expect((await node.run({ action: 'install', expectedSha256: newSha })).result?.status).toBe('SUCCEEDED');

    // Act
    const run = await node.run({ action: 'rollback', expectedSha256: sha256Of(strayCert.certPem) });

    // Assert
    expectResult(run, { status: 'REFUSED', stage: 'backup', changed: false });
    expect(run.code).toBe(2);
    await expect(node.nginx.served()).resolves.toBe(newSha);
  });

  test('monit: the old certmd5 becomes the new one and monit is reloaded; rollback puts it back', async () => {
    // Act
    const run = await node.run({ action: 'install', expectedSha256: newSha, monitFiles: node.monitFile });

    // Assert
    expectResult(run, { status: 'SUCCEEDED', monitUpdated: [node.monitFile], monitReloaded: true });
    expect(read(node.monitFile)).toContain(`certmd5 ${md5Of(newCert.certPem)} then alert`);
    expect(read(node.monitFile)).not.toContain(md5Of(oldCert.certPem));
    expect(mode(node.monitFile)).toBe(0o600);
    expect(node.monitReloadCount()).toBe(1);

    // Act: roll back
    const back = await node.run({ action: 'rollback', monitFiles: node.monitFile });

    // Assert
    expectResult(back, { status: 'SUCCEEDED', monitUpdated: [node.monitFile], monitReloaded: true });
    expect(read(node.monitFile)).toContain(`certmd5 ${md5Of(oldCert.certPem)} then alert`);
    expect(node.monitReloadCount()).toBe(2);
  });

  test('a monit file that checks neither certificate is refused before anything changes', async () => {
    // Arrange
    writeFileSync(
      node.monitFile,
      `check host ws-01 with address 127.0.0.1\n  if failed port 443 protocol https and certmd5 ${md5Of(strayCert.certPem)} then alert\n`,
    );

    // Act
    const run = await node.run({ action: 'install', expectedSha256: newSha, monitFiles: node.monitFile });

    // Assert
    expectResult(run, { status: 'REFUSED', stage: 'monit', changed: false });
    expect(run.code).toBe(2);
    expect(read(node.nginx.certificatePath)).toBe(oldCert.certPem + oldCert.chainPem);
    expect(existsSync(`${node.nginx.certificatePath}.previous`)).toBe(false);
    expect(node.monitReloadCount()).toBe(0);
  });

  test.each([
    [
      'a secret holding another certificate than expected',
      { expectedSha256: () => sha256Of(strayCert.certPem) },
      'check',
      'not the expected',
    ],
    ['a key that does not match the certificate', { secretId: () => OTHER_ARN }, 'check', 'does not match'],
    ['a secret that does not exist', { secretId: () => 'cert-rotation/gitter.im/missing' }, 'fetch', 'ResourceNotFoundException'],
  ])('refuses %s: exit 2, nothing written, nginx untouched', async (_what, lazy, stage, message) => {
    // Arrange (the certificates exist once beforeAll ran)
    const values = Object.fromEntries(Object.entries(lazy).map(([k, f]) => [k, f()]));

    // Act
    const run = await node.run({ action: 'install', expectedSha256: newSha, ...values });

    // Assert
    expectResult(run, { status: 'REFUSED', stage, changed: false, installed: oldSha });
    expect(run.result?.message).toContain(message);
    expect(run.code).toBe(2);
    expect(read(node.nginx.certificatePath)).toBe(oldCert.certPem + oldCert.chainPem);
    expect(existsSync(`${node.nginx.certificatePath}.previous`)).toBe(false);
    await expect(node.nginx.served()).resolves.toBe(oldSha);
  });

  test('the private key appears in no output, no trace and no process argument', async () => {
    // Arrange: every command the script runs is wrapped to record its arguments.
    const spyDir = mkdtempSync(join(node.dir, 'argv-'));
    const argvLog = join(node.dir, 'argv.log');
    const commands = [
      'openssl',
      'awk',
      'sed',
      'tr',
      'cmp',
      'cp',
      'mv',
      'mktemp',
      'cat',
      'tail',
      'grep',
      'chmod',
      'chown',
      'rm',
      'mkdir',
      'dirname',
      'cut',
      'nginx',
      'sleep',
    ];
    for (const command of commands) {
      const real = execFileSync('sh', ['-c', `command -v ${command} || echo /usr/sbin/${command}`])
        .toString()
        .trim();
      writeFileSync(join(spyDir, command), `#!/bin/sh\nprintf '%s\\n' "${command} $*" >> ${argvLog}\nexec ${real} "$@"\n`);
      chmodSync(join(spyDir, command), 0o755);
    }
    writeFileSync(join(spyDir, 'aws'), `#!/bin/sh\nprintf '%s\\n' "aws $*" >> ${argvLog}\nexec ${join(AWS_STANDIN_BIN, 'aws')} "$@"\n`);
    chmodSync(join(spyDir, 'aws'), 0o755);

    // Act: an install, traced with sh -x, that also fails a verification and restores (more paths).
    const ok = await node.run(
      { action: 'install', expectedSha256: newSha, monitFiles: node.monitFile },
      { trace: true, pathBefore: [spyDir] },
    );
    const back = await node.run({ action: 'rollback', monitFiles: node.monitFile }, { trace: true, pathBefore: [spyDir] });
    const failed = await node.run(
      { action: 'install', expectedSha256: newSha, nginxReloadCommand: 'true', verifyAttempts: '1' },
      { trace: true, pathBefore: [spyDir] },
    );

    // Assert
    expect(ok.result?.status).toBe('SUCCEEDED');
    expect(back.result?.status).toBe('SUCCEEDED');
    expect(failed.result?.status).toBe('FAILED');
    const argv = read(argvLog);
    expect(argv).toContain('openssl pkey -in');
    expect(ok.stderr).toContain('+ ');
    const documents = [ok, back, failed].flatMap((r, i) => [
      { place: 'ssm output' as const, name: `run ${i} stdout`, text: r.stdout },
      { place: 'ssm output' as const, name: `run ${i} stderr (sh -x trace)`, text: r.stderr },
    ]);
    documents.push(
      { place: 'ssm output', name: 'process arguments', text: argv },
      { place: 'ssm output', name: 'aws calls', text: read(node.awsLog) },
    );
    const scan = scanForKeys(documents, [newCert.keyPem, oldCert.keyPem]);
    expect(scan.where).toEqual([]);
    expect(scan.searched['ssm output']).toBe(8);
    // The scan does see the key where it is: a check that cannot fail would prove nothing.
    expect(
      scanForKeys(
        [{ place: 'ssm output', name: 'planted', text: `${ok.stderr}${read(`${node.nginx.keyPath}.previous`)}` }],
        [newCert.keyPem, oldCert.keyPem],
      ).findings,
    ).toBe(1);
  });
});

describe('deploy script parameters (no nginx needed)', () => {
  test.each([
    ['an unknown action', { SSM_action: 'upgrade' }, 'action must be install or rollback'],
    ['no parameters from the agent', {}, 'SSM_action'],
    ['a relative key path', { SSM_action: 'install', SSM_keyPath: 'ssl/key.pem' }, 'keyPath must be an absolute path'],
    ['an install without a fingerprint', { SSM_action: 'install' }, 'expectedSha256 is required'],
  ])('refuses %s with one JSON line and exit 2', (_what, env, message) => {
    // Act
    const dir = mkdtempSync(join(tmpdir(), 'cert-rotation-params-'));
    const base = {
      SSM_certificatePath: join(dir, 'c.crt'),
      SSM_keyPath: join(dir, 'c.key'),
      SSM_serverName: NAME,
      SSM_secretId: SECRET_ARN,
    };
    const run = execDeploy({ ...(Object.keys(env).length === 0 ? {} : base), ...env });
    rmSync(dir, { recursive: true, force: true });

    // Assert
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout.trim())).toMatchObject({ status: 'REFUSED', stage: 'parameters' });
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(run.stdout).toContain(message);
  });
});

/** Runs the script with exactly this environment (plus PATH), synchronously. */
function execDeploy(env: Record<string, string>): { code: number; stdout: string } {
  try {
    const stdout = execFileSync('sh', [deployScriptFile()], {
      env: { PATH: `${AWS_STANDIN_BIN}:${process.env.PATH ?? ''}`, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }).toString();
    return { code: 0, stdout };
  } catch (error) {
    const e = error as { status: number; stdout: Buffer };
    return { code: e.status, stdout: e.stdout.toString() };
  }
}
