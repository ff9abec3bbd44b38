/**
 * Nodes that run a real nginx (the fleet's `nginx: true` instances in the rehearsal): each node is
 * a directory of its own (mktemp) holding
 *  - `fs/`: the node's file system as the deploy document sees it. The document's paths
 *    (`/etc/nginx/ssl/gitter.im.crt`...) are taken under it; nginx reads its certificate and key there;
 *  - `nginx/`: nginx's prefix (nginx.conf, pid, error log), nginx itself serving TLS on a port of
 *    127.0.0.1 the kernel picks: the node's TLS endpoint (the account routes the node's names there);
 *  - `bin/`: what the node's commands find first on PATH: `nginx` (this node's nginx: `-p -c -e`
 *    added), `systemctl` / `service` (reload or restart of nginx, reload of monit), `monit`
 *    (records reloads), `sudo`;
 *  - `ssm/<command id>/_script.sh`: the document's script as the SSM Agent writes it, run under `sh`
 *    with the parameters as `SSM_<name>` (local/node-script.ts) and the AWS CLI stand-in on PATH,
 *    which reads the account's Secrets Manager over loopback (secrets-endpoint.ts).
 * The parameters are the command's own, except what a node on 127.0.0.1 must differ in: paths go
 * under `fs/`, `port` is the node's nginx port, `owner` the current user when not root.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { spawn } from 'node:child_process';
import { hasNginx, startNginx, type NginxServer } from './nginx-process';
import { md5OfCertificate, sha256OfCertificate } from './certinfo';
import type { SimCertificate } from './iam';
import type { SimInstance } from './ec2';
import type { NodeFile, NodeRuntime, NodeRuntimeName, NodeServices, NodeServing, NodeSpec } from './nodes';
import { nodeTargetKey } from './target-keys';
import type { CommandExecution, ExecutionResult } from './ssm-run-command';

/** Where nginx reads its files on a node (the config's `nginx.certificatePath` / `keyPath`), and its server name. */
export interface NginxNodeLayout {
  readonly certificatePath: string;
  readonly keyPath: string;
  readonly serverName: string;
}

interface NginxNode {
  readonly root: string;
  readonly fs: string;
  readonly bin: string;
  readonly server: NginxServer;
  readonly initial: SimCertificate;
  readonly certificateFile: string;
}

/** The AWS CLI stand-in (local/aws-cli/bin/aws), first on a node's PATH after its own commands. */
const AWS_STANDIN_BIN = join(__dirname, '..', 'aws-cli', 'bin');

/**
 * Runs a script under `sh` as the SSM Agent runs a step: only the given environment (the
 * parameters as `SSM_<name>`, interpolationType ENV_VAR), killed at the timeout (exit code null).
 */
function runScript(script: string, env: Record<string, string>, timeoutMs: number): Promise<ExecutionResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code, stdout, stderr });
    });
  });
}

const WRAPPED = new Set(['nginx', 'systemctl', 'service', 'monit', 'sudo']);
const PATH_PARAMETERS = ['certificatePath', 'keyPath', 'chainPath'];

function writeExecutable(path: string, text: string): void {
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}

/** The node's commands (see the module comment). */
function writeWrappers(node: { bin: string; root: string; server: NginxServer }): void {
  mkdirSync(node.bin, { recursive: true });
  const nginx = join(node.bin, 'nginx');
  const monit = join(node.bin, 'monit');
  writeExecutable(nginx, `#!/bin/sh\nexec ${node.server.base} "$@"\n`);
  writeExecutable(
    monit,
    `#!/bin/sh\ncase "$1" in\n  reload) echo reloaded >> ${join(node.root, 'monit-reloads.log')} ;;\n  *) echo "monit (rehearsal node): only reload" >&2; exit 1 ;;\nesac\n`,
  );
  const service = (args: string) =>
    `case ${args} in\n  "reload nginx"|"restart nginx"|"reload nginx.service"|"restart nginx.service") exec ${nginx} -s reload ;;\n  "reload monit"|"restart monit") exec ${monit} reload ;;\n  *) echo "rehearsal node: only reload|restart of nginx or monit" >&2; exit 1 ;;\nesac\n`;
  writeExecutable(join(node.bin, 'systemctl'), `#!/bin/sh\n${service('"$1 $2"')}`);
  writeExecutable(join(node.bin, 'service'), `#!/bin/sh\n${service('"$2 $1"')}`);
  writeExecutable(join(node.bin, 'sudo'), '#!/bin/sh\nexec "$@"\n');
}

/** `/usr/sbin/nginx -t` -> `nginx -t`: the node's own commands, found on its PATH. */
function nodeCommand(command: string): string {
  const [first, ...rest] = command.trim().split(/\s+/);
  return WRAPPED.has(basename(first ?? '')) ? [basename(first), ...rest].join(' ') : command;
}

/** A real nginx per node (see the module comment). */
export class NginxNodeRuntime implements NodeRuntime {
  readonly name = 'nginx' as const;
  private readonly nodes = new Map<string, NginxNode>();
  private readonly running = new Set<Promise<unknown>>();

  constructor(private readonly layout: NginxNodeLayout) {}

  async start(nodes: readonly NodeSpec[], initial: SimCertificate): Promise<void> {
    for (const n of nodes) {
      const root = mkdtempSync(join(tmpdir(), 'cert-rotation-node-'));
      const fs = join(root, 'fs');
      try {
        const server = await startNginx({
          serverName: this.layout.serverName,
          certificatePem: initial.certPem + initial.chainPem,
          keyPem: initial.keyPem,
          prefix: join(root, 'nginx'),
          certificatePath: join(fs, this.layout.certificatePath),
          keyPath: join(fs, this.layout.keyPath),
        });
        const node: NginxNode = { root, fs, bin: join(root, 'bin'), server, initial, certificateFile: server.certificatePath };
        writeWrappers(node);
        this.nodes.set(n.instanceId, node);
      } catch (e) {
        rmSync(root, { recursive: true, force: true });
        await this.stop();
        throw e;
      }
    }
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.running]);
    const all = [...this.nodes.values()];
    this.nodes.clear();
    await Promise.all(
      all.map(async (n) => {
        await n.server.stop();
        rmSync(n.root, { recursive: true, force: true });
      }),
    );
  }

  runtimeOf(): NodeRuntimeName {
    return 'nginx';
  }

  /** The document's script under `sh` on this node (see the module comment). */
  execute(execution: CommandExecution, services: NodeServices): Promise<ExecutionResult> {
    const run = this.run(execution, services);
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
    return run;
  }

  private async run(execution: CommandExecution, services: NodeServices): Promise<ExecutionResult> {
    const node = this.node(execution.instanceId);
    const dir = join(node.root, 'ssm', execution.commandId);
    mkdirSync(dir, { recursive: true });
    const script = join(dir, '_script.sh');
    writeFileSync(script, `${execution.script}\n`, { mode: 0o700 });
    const p: Record<string, string> = { ...execution.parameters };
    for (const name of PATH_PARAMETERS) {
      if (p[name]) {
        p[name] = join(node.fs, p[name]);
        mkdirSync(dirname(p[name]), { recursive: true });
      }
    }
    if (p.monitFiles) {
      p.monitFiles = p.monitFiles
        .split(/\s+/)
        .filter(Boolean)
        .map((f) => {
          const path = join(node.fs, f);
          // The node as provisioned: a monit check of the certificate it served first.
          if (!existsSync(path)) {
            mkdirSync(dirname(path), { recursive: true });
            writeFileSync(
              path,
              `check host ${execution.instanceId} with address 127.0.0.1\n  if failed port 443 protocol https and certmd5 ${md5OfCertificate(node.initial.certPem)} then alert\n`,
            );
          }
          return path;
        })
        .join(' ');
    }
    p.port = String(node.server.port);
    if (process.getuid?.() !== 0 && p.owner)
      p.owner = `${execFileSync('id', ['-un']).toString().trim()}:${execFileSync('id', ['-gn']).toString().trim()}`;
    for (const name of ['nginxTestCommand', 'nginxReloadCommand', 'monitReloadCommand']) if (p[name]) p[name] = nodeCommand(p[name]);
    return runScript(
      script,
      {
        PATH: [node.bin, AWS_STANDIN_BIN, process.env.PATH ?? '/usr/bin:/bin'].join(':'),
        HOME: process.env.HOME ?? '/root',
        LANG: 'C',
        ...Object.fromEntries(Object.entries(p).map(([name, value]) => [`SSM_${name}`, value])),
        ...(services.secretsEndpoint ? { AWS_ENDPOINT_URL_SECRETS_MANAGER: services.secretsEndpoint } : {}),
        AWS_REGION: services.region,
      },
      execution.timeoutSeconds * 1000,
    );
  }

  breakConfig(instanceId: string): void {
    this.node(instanceId).server.breakConfig();
  }

  async deployFiles(instanceId: string, files: readonly NodeFile[]): Promise<void> {
    const node = this.node(instanceId);
    for (const f of files) {
      const path = join(node.fs, f.path);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, f.content, { mode: f.mode ?? 0o644 });
    }
    return Promise.resolve();
  }

  async installCertificate(instanceId: string, cert: SimCertificate): Promise<void> {
    const node = this.node(instanceId);
    writeFileSync(node.server.certificatePath, cert.certPem + cert.chainPem);
    writeFileSync(node.server.keyPath, cert.keyPem, { mode: 0o600 });
    execFileSync('sh', ['-c', `${node.server.base} -s reload`]);
    for (let i = 0; i < 100 && (await node.server.served()) !== sha256OfCertificate(cert.certPem); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** What the certificate file holds now (nginx serves it once reloaded). */
  serving(instanceId: string): NodeServing {
    const node = this.node(instanceId);
    let sha256: string;
    try {
      sha256 = sha256OfCertificate(readFileSync(node.certificateFile, 'utf8'));
    } catch {
      sha256 = '';
    }
    const label = sha256 === sha256OfCertificate(node.initial.certPem) ? 'current' : `sha256:${sha256.slice(0, 16)}`;
    return { label, sha256 };
  }

  material(): undefined {
    return undefined;
  }

  localPort(instanceId: string): number {
    return this.node(instanceId).server.port;
  }

  /** From a TLS handshake to the node's nginx. */
  fingerprint(instanceId: string): Promise<string> {
    return this.node(instanceId).server.served();
  }

  /** The node's directory (tests: what the script wrote, nginx's log). */
  nodeDirectory(instanceId: string): { readonly root: string; readonly fs: string; readonly log: () => string } {
    const n = this.node(instanceId);
    return { root: n.root, fs: n.fs, log: () => n.server.log() };
  }

  private node(instanceId: string): NginxNode {
    const node = this.nodes.get(instanceId);
    if (!node) throw new Error(`no nginx node ${instanceId}`);
    return node;
  }
}

/**
 * Starts a real nginx for each `nginx: true` instance, except where that cannot be honoured, which
 * runs in memory with one line in `warnings`: nginx not installed (every such node), a node with a
 * target fault (it acts on the account's own endpoint, which a real nginx replaces). Undefined when
 * none runs on nginx.
 */
export async function startNginxNodes(params: {
  readonly instances: readonly SimInstance[];
  readonly hasTargetFault: (instanceId: string) => boolean;
  readonly layout: NginxNodeLayout;
  readonly initial: SimCertificate;
  readonly warnings: string[];
}): Promise<{ runtime: NginxNodeRuntime; instanceIds: ReadonlySet<string> } | undefined> {
  const wanted = params.instances.filter((i) => i.nginx);
  if (wanted.length === 0) return undefined;
  if (!hasNginx()) {
    params.warnings.push(
      `nginx is not installed (npm run setup installs nginx-light): the ${wanted.length} nginx node(s) (${wanted.map((i) => i.id).join(', ')}) run in memory`,
    );
    return undefined;
  }
  const faulted = wanted.filter((i) => params.hasTargetFault(i.id));
  for (const i of faulted)
    params.warnings.push(`${nodeTargetKey(i.id)} has a target fault: it runs in memory (a real nginx cannot honour it)`);
  const onNginx = wanted.filter((i) => !faulted.includes(i));
  if (onNginx.length === 0) return undefined;
  const runtime = new NginxNodeRuntime(params.layout);
  await runtime.start(
    onNginx.map((i) => ({ instanceId: i.id, hosts: [i.privateDnsName, i.privateIp], nginx: true })),
    params.initial,
  );
  return { runtime, instanceIds: new Set(onNginx.map((i) => i.id)) };
}
