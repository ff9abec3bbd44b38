/**
 * A real nginx serving TLS on 127.0.0.1, run as our own process in its own prefix directory
 * (`nginx -p <prefix> -c <conf> -e <log>`, `daemon off`, master process on so `nginx -s reload`
 * works). The nginx integration tests use it to run the node deploy script against; the
 * rehearsal's nginx nodes can use it the same way.
 *
 * Layout of the prefix (a fresh mktemp directory): `nginx.conf`, `ssl/<name>.crt` (leaf and
 * chain) and `ssl/<name>.key` (mode 0600), `nginx.pid`, `error.log`, `tmp/`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import * as tls from 'node:tls';
import { createHash } from 'node:crypto';

/**
 * The nginx binary, as an absolute path: on PATH, or in /usr/sbin (not on a non-root user's PATH
 * on Debian); undefined when absent. Absolute, so that a node's own `nginx` wrapper (nginx-nodes.ts)
 * never finds itself.
 */
export function nginxBinary(): string | undefined {
  const onPath = (process.env.PATH ?? '')
    .split(':')
    .filter(Boolean)
    .map((dir) => join(dir, 'nginx'));
  for (const candidate of [...onPath, '/usr/sbin/nginx', '/sbin/nginx']) {
    if (!isAbsolute(candidate) || !existsSync(candidate)) continue;
    const probe = spawnSync(candidate, ['-v'], { stdio: 'ignore', timeout: 10_000 });
    if (probe.error === undefined && probe.status === 0) return candidate;
  }
  return undefined;
}

/** True when nginx is installed (`npm run setup` installs nginx-light). */
export function hasNginx(): boolean {
  return nginxBinary() !== undefined;
}

/** A port nobody listens on right now on 127.0.0.1 (the kernel picks it). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/** The SHA-256 (lower-case hex) of the leaf a TLS handshake to host:port with SNI `servername` sees. */
export function servedSha256(host: string, port: number, servername: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, servername, rejectUnauthorized: false });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`TLS handshake to ${host}:${port} timed out`));
    });
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      resolve(createHash('sha256').update(raw).digest('hex'));
    });
  });
}

export interface NginxOptions {
  /** The server_name, and the file names under `ssl/`. */
  readonly serverName: string;
  /** What `ssl/<name>.crt` starts with (leaf, then chain). */
  readonly certificatePem: string;
  readonly keyPem: string;
  /** @default a free port */
  readonly port?: number;
  /** The prefix directory (created when absent). @default a fresh mktemp directory */
  readonly prefix?: string;
  /** Absolute paths of the certificate and key files nginx reads (directories created). @default `<prefix>/ssl/<serverName>.crt|.key` */
  readonly certificatePath?: string;
  readonly keyPath?: string;
  /** @default 15000 */
  readonly startTimeoutMs?: number;
}

export interface NginxServer {
  readonly prefix: string;
  readonly port: number;
  readonly serverName: string;
  readonly confPath: string;
  readonly certificatePath: string;
  readonly keyPath: string;
  /** The command lines that test and reload this nginx (what the deploy script runs). */
  readonly testCommand: string;
  readonly reloadCommand: string;
  /** The nginx binary and the options that point it at this prefix (`<binary> -p ... -c ... -e ...`). */
  readonly base: string;
  /** What a TLS handshake to it serves now (SHA-256, lower-case hex). */
  served(): Promise<string>;
  /** Appends a line nginx cannot parse to nginx.conf (a typo on the node); `repairConfig` undoes it. */
  breakConfig(): void;
  repairConfig(): void;
  /** The error log so far, for failure messages. */
  log(): string;
  /** Stops nginx (its whole process group) and removes the prefix. */
  stop(): Promise<void>;
}

function configText(prefix: string, port: number, serverName: string, certificatePath: string, keyPath: string): string {
  return [
    'daemon off;',
    'master_process on;',
    'worker_processes 1;',
    `pid ${prefix}/nginx.pid;`,
    `error_log ${prefix}/error.log notice;`,
    'events { worker_connections 64; }',
    'http {',
    '  access_log off;',
    `  client_body_temp_path ${prefix}/tmp/body;`,
    `  proxy_temp_path ${prefix}/tmp/proxy;`,
    `  fastcgi_temp_path ${prefix}/tmp/fastcgi;`,
    `  uwsgi_temp_path ${prefix}/tmp/uwsgi;`,
    `  scgi_temp_path ${prefix}/tmp/scgi;`,
    '  server {',
    `    listen 127.0.0.1:${port} ssl;`,
    `    server_name ${serverName};`,
    `    ssl_certificate ${certificatePath};`,
    `    ssl_certificate_key ${keyPath};`,
    '    location / { return 200 "ok\\n"; }',
    '  }',
    '}',
    '',
  ].join('\n');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts nginx in a fresh prefix and waits until it answers a TLS handshake. */
export async function startNginx(options: NginxOptions): Promise<NginxServer> {
  const prefix = options.prefix ?? mkdtempSync(join(tmpdir(), 'cert-rotation-nginx-'));
  const port = options.port ?? (await freeLoopbackPort());
  const { serverName } = options;
  mkdirSync(join(prefix, 'tmp'), { recursive: true });
  const confPath = join(prefix, 'nginx.conf');
  const certificatePath = options.certificatePath ?? join(prefix, 'ssl', `${serverName}.crt`);
  const keyPath = options.keyPath ?? join(prefix, 'ssl', `${serverName}.key`);
  mkdirSync(dirname(certificatePath), { recursive: true });
  mkdirSync(dirname(keyPath), { recursive: true });
  const errorLog = join(prefix, 'error.log');
  const conf = configText(prefix, port, serverName, certificatePath, keyPath);
  writeFileSync(confPath, conf);
  writeFileSync(certificatePath, options.certificatePem, { mode: 0o644 });
  writeFileSync(keyPath, options.keyPem, { mode: 0o600 });
  chmodSync(keyPath, 0o600);
  const binary = nginxBinary();
  if (binary === undefined) throw new Error('nginx is not installed (npm run setup installs nginx-light)');
  const base = `${binary} -p ${prefix} -c ${confPath} -e ${errorLog}`;

  // Its own process group, so stopping it stops the workers too.
  const child: ChildProcess = spawn(binary, ['-p', prefix, '-c', confPath, '-e', errorLog], { stdio: 'ignore', detached: true });
  let exited: number | string | null | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = code ?? signal;
      resolve();
    }),
  );
  const log = () => {
    try {
      return readFileSync(errorLog, 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async (): Promise<void> => {
    if (exited === undefined && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5_000);
      await exit;
      clearTimeout(timer);
    }
    rmSync(prefix, { recursive: true, force: true });
  };
  const served = () => servedSha256('127.0.0.1', port, serverName);

  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  for (;;) {
    if (exited !== undefined) {
      const text = log();
      await stop();
      throw new Error(`nginx exited (${String(exited)}) before serving:\n${text}`);
    }
    try {
      await served();
      break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      const text = log();
      await stop();
      throw new Error(`nginx did not serve TLS on 127.0.0.1:${port} in time:\n${text}`);
    }
    await sleep(50);
  }

  return {
    prefix,
    port,
    serverName,
    confPath,
    certificatePath,
    keyPath,
    testCommand: `${base} -t -q`,
    reloadCommand: `${base} -s reload`,
    base,
    served,
    breakConfig: () => writeFileSync(confPath, `${conf}this is not nginx syntax;\n`),
    repairConfig: () => writeFileSync(confPath, conf),
    log,
    stop,
  };
}
