/**
 * What lib/node-deployment/deploy-certificate.sh does on a node, emulated for an in-memory node
 * (so 5,000 nodes rehearse quickly): the same parameter checks, the secret fetched from the
 * simulated Secrets Manager, the same checks of it, backup, install, `nginx -t` (failing on a
 * node with the `nginx-config-invalid` fault: the files are restored, nginx not reloaded),
 * reload, the served fingerprint, monit certmd5, the rollback action, idempotent re-runs, and the
 * same exit codes (0 SUCCEEDED, 1 FAILED, 2 REFUSED) and one-line JSON result on stdout, progress
 * on stderr. The real script against a real nginx is what test/integration holds both to.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { md5OfCertificate as md5, sha256OfCertificate as sha256 } from './certinfo';
import type { SimCertificate } from './iam';

/** The state of an in-memory node that the script sees: the files at the configured paths and what nginx serves. */
export interface MemoryNodeState {
  /** What the certificate/key/chain files hold. */
  installed: SimCertificate;
  /** The `.previous` backups, once an install made them. */
  backup?: SimCertificate;
  /** What nginx serves (changes on reload). */
  serving: SimCertificate;
  /** certmd5 (upper-case hex) of each monit file, by path; a file first named is assumed to check the node's first certificate. */
  readonly monit: Map<string, string>;
  /** The first certificate of the node (what its monit files were written for). */
  readonly initial: SimCertificate;
  /** The node's nginx configuration is broken (`nginx -t` fails). */
  configInvalid: boolean;
}

/** What the emulation needs from the account: the node's GetSecretValue (its instance role). */
export interface MemoryDeployDeps {
  /** The SecretString, or throws an AWS error (name = code). */
  getSecret(secretId: string): Promise<string>;
}

const PATH_RE = /^\/[A-Za-z0-9_./-]+$/;
const same = (a: SimCertificate, b: SimCertificate) => a.certPem === b.certPem && a.keyPem === b.keyPem && a.chainPem === b.chainPem;

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function pathProblem(v: string): boolean {
  return !PATH_RE.test(v) || /(^|\/)\.\.?(\/|$)/.test(v);
}

/** Runs the emulated script on `node` with the document's parameters; returns what the agent collects. */
export async function emulateDeployScript(
  node: MemoryNodeState,
  p: Readonly<Record<string, string>>,
  deps: MemoryDeployDeps,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  let stderr = '';
  const log = (line: string) => (stderr += `deploy-certificate: ${line}\n`);
  const action = p.action ?? '';
  const r = {
    action: action === '' ? null : action,
    status: '',
    stage: '',
    message: '',
    expected: null as string | null,
    served: null as string | null,
    previous: null as string | null,
    installed: null as string | null,
    changed: false,
    restored: [] as string[],
    monitUpdated: [] as string[],
    monitReloaded: false,
  };
  let stdout = '';
  const finish = (status: string, code: number, stage: string, message: string): never => {
    Object.assign(r, { status, stage, message, installed: sha256(node.installed.certPem) });
    stdout = `${JSON.stringify(r)}\n`;
    throw new Exit(code);
  };
  const refuse = (stage: string, message: string) => finish('REFUSED', 2, stage, message);
  const certPath = p.certificatePath ?? '';
  const keyPath = p.keyPath ?? '';
  const chainPath = p.chainPath ?? '';
  const host = p.connectHost || '127.0.0.1';
  const port = p.port || '443';
  const monitFiles = (p.monitFiles ?? '').split(/\s+/).filter(Boolean);
  const managed = [certPath, keyPath, ...(chainPath ? [chainPath] : [])];

  try {
    // ---- parameters (read_parameters)
    if (!['install', 'rollback'].includes(action)) refuse('parameters', `action must be install or rollback, not "${action}"`);
    const problems: string[] = [];
    const expectedRaw = (p.expectedSha256 ?? '').replace(/:/g, '').toLowerCase();
    if (p.expectedSha256) {
      if (/^[0-9a-f]{64}$/.test(expectedRaw)) r.expected = expectedRaw;
      else problems.push('expectedSha256 must be 64 hex digits (colons allowed)');
    } else if (action === 'install') problems.push('expectedSha256 is required for install');
    if (action === 'install' && !/^[A-Za-z0-9_/+=.@:-]+$/.test(p.secretId ?? '')) problems.push('secretId must be a secret name or ARN');
    if (pathProblem(certPath)) problems.push('certificatePath must be an absolute path of letters, digits and . _ - /');
    if (pathProblem(keyPath)) problems.push('keyPath must be an absolute path of letters, digits and . _ - /');
    if (chainPath && pathProblem(chainPath)) problems.push('chainPath must be empty or an absolute path');
    if (certPath === keyPath) problems.push('certificatePath and keyPath must differ');
    for (const f of monitFiles) if (pathProblem(f)) problems.push(`monitFiles: "${f}" is not an absolute path`);
    if (!/^[A-Za-z0-9_.-]+$/.test(p.serverName ?? '')) problems.push('serverName must be the DNS name nginx serves (the TLS SNI name)');
    if (!/^[0-9]+$/.test(port) || Number(port) < 1 || Number(port) > 65535) problems.push('port must be 1-65535');
    if (problems.length > 0) refuse('parameters', problems.join('; '));

    const served = () => sha256(node.serving.certPem);
    const nginxTestOutput =
      'nginx: [emerg] unknown directive "this" in /etc/nginx/nginx.conf:23 nginx: configuration file /etc/nginx/nginx.conf test failed';
    /** activate(): test, reload, verify; on a failed test after a change, restore the files and do not reload. */
    const activate = (expected: string, saved: SimCertificate) => {
      if (node.configInvalid) {
        r.served = served();
        if (r.changed) {
          node.installed = saved;
          r.restored = [...managed];
          finish('FAILED', 1, 'nginx-test', `nginx test failed: ${nginxTestOutput}; files restored, nginx was not reloaded`);
        }
        finish('FAILED', 1, 'nginx-test', `nginx test failed: ${nginxTestOutput} (this run changed no file)`);
      }
      node.serving = node.installed;
      r.served = served();
      if (r.served !== expected) finish('FAILED', 1, 'verify', `${host}:${port} (${p.serverName}) serves ${r.served}, not ${expected}`);
    };
    const monitPreflight = (olds: string[], next: string) => {
      for (const f of monitFiles) {
        const value = node.monit.get(f) ?? md5(node.initial.certPem);
        node.monit.set(f, value);
        if (![...olds, next].includes(value)) {
          refuse('monit', `monit file ${f} has no certmd5 of the current (${olds.join(' ')}) or the new certificate`);
        }
      }
    };
    const monitUpdate = (olds: string[], next: string) => {
      for (const f of monitFiles) {
        if (olds.includes(node.monit.get(f) ?? '') && node.monit.get(f) !== next) {
          node.monit.set(f, next);
          r.monitUpdated.push(f);
        }
      }
      r.monitReloaded = r.monitUpdated.length > 0;
    };

    if (action === 'install') {
      log('fetching the certificate from Secrets Manager');
      let text: string;
      try {
        text = await deps.getSecret(p.secretId);
      } catch (e) {
        const err = e as { name?: string; message?: string };
        return refuse(
          'fetch',
          `aws secretsmanager get-secret-value failed: An error occurred (${err.name ?? 'Error'}) when calling the GetSecretValue operation: ${err.message ?? ''} `,
        );
      }
      let secret: { certificate?: unknown; privateKey?: unknown; chain?: unknown; certificateChain?: unknown };
      try {
        secret = JSON.parse(text) as typeof secret;
      } catch {
        return refuse('check', 'the secret is not the JSON {"certificate", "privateKey", "chain"}');
      }
      if (typeof secret.certificate !== 'string' || typeof secret.privateKey !== 'string') {
        refuse('check', 'the secret has no certificate or privateKey field');
      }
      const chainValue = secret.chain ?? secret.certificateChain;
      const chain = typeof chainValue === 'string' ? chainValue : '';
      const next: SimCertificate = { certPem: String(secret.certificate), keyPem: String(secret.privateKey), chainPem: chain };
      let found = '';
      try {
        found = sha256(next.certPem);
      } catch {
        refuse('check', "the secret's certificate does not parse");
      }
      if (found !== r.expected) refuse('check', `the secret holds certificate ${found}, not the expected ${r.expected}`);
      let matches = false;
      try {
        const spki = (k: ReturnType<typeof createPublicKey>) => k.export({ type: 'spki', format: 'der' }).toString('hex');
        matches = spki(createPublicKey(next.certPem)) === spki(createPublicKey(createPrivateKey(next.keyPem)));
      } catch {
        matches = false;
      }
      if (!matches) refuse('check', "the secret's private key does not match its certificate");
      r.previous = sha256(node.installed.certPem);
      const olds = [md5(node.installed.certPem), ...(node.backup ? [md5(node.backup.certPem)] : [])];
      monitPreflight(olds, md5(next.certPem));
      if (same(node.installed, next)) {
        log(`the files already hold ${found}`);
        if (served() !== found) activate(found, node.installed);
        else r.served = served();
      } else {
        const saved = node.installed;
        node.backup = saved;
        log(`installing ${found} (previous ${r.previous})`);
        r.changed = true;
        node.installed = next;
        activate(found, saved);
      }
      monitUpdate(olds, md5(next.certPem));
      finish('SUCCEEDED', 0, 'done', `${found} is served on ${host}:${port}`);
    }

    // rollback
    if (!node.backup) return refuse('backup', `no backup (${certPath}.previous, ${keyPath}.previous) to roll back to`);
    const backup = node.backup;
    const backupSha = sha256(backup.certPem);
    if (r.expected && r.expected !== backupSha) refuse('backup', `the backup holds ${backupSha}, not the expected ${r.expected}`);
    r.expected = backupSha;
    r.previous = sha256(node.installed.certPem);
    const cur = md5(node.installed.certPem);
    monitPreflight([cur], md5(backup.certPem));
    if (same(node.installed, backup)) {
      if (served() !== backupSha) activate(backupSha, node.installed);
      else r.served = served();
    } else {
      const saved = node.installed;
      log(`restoring ${backupSha} (now ${r.previous})`);
      r.changed = true;
      node.installed = backup;
      activate(backupSha, saved);
    }
    monitUpdate([cur], md5(backup.certPem));
    return finish('SUCCEEDED', 0, 'done', `the backup ${backupSha} is served on ${host}:${port}`);
  } catch (e) {
    if (e instanceof Exit) return { exitCode: e.code, stdout, stderr };
    throw e;
  }
}
