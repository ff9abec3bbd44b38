/**
 * A real ACME CA on 127.0.0.1 for the rehearsal and the tests: Debian's `pebble` with its DNS test
 * server `pebble-challtestsrv` as pebble's only resolver, so pebble really validates DNS-01 against
 * the TXT records the simulated Route53 pushes into challtestsrv (its management API: `/set-txt`,
 * `/clear-txt`).
 *
 * - Ports: chosen free by the kernel (bind to port 0, read the port, close) just before each
 *   process starts; a start that loses the race for a port is retried with new ones.
 * - TLS: pebble's own HTTPS listener (directory and management) gets a certificate from a CA made
 *   for this instance ({@link PebbleServer.directoryCaPem}): only an ACME client given that CA
 *   trusts it. The root that signs issued certificates is pebble's own, fetched from its
 *   management interface ({@link PebbleServer.issuingRootPem}); trust it for this rehearsal/test only.
 * - `eab`: pebble requires External Account Binding with these key ids and base64url HMAC keys.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRootCa, issueCertificate } from './certs';
import { freeLoopbackPort } from './sim/nginx-process';

export const PEBBLE_BIN = '/usr/bin/pebble';
export const CHALLTESTSRV_BIN = '/usr/bin/pebble-challtestsrv';

/** Whether the Debian packages are installed (`npm run setup`). */
export function pebbleInstalled(): boolean {
  return existsSync(PEBBLE_BIN) && existsSync(CHALLTESTSRV_BIN);
}

export interface PebbleOptions {
  /** Require External Account Binding: key id -> base64url HMAC key. @default none (EAB not required) */
  readonly eab?: Readonly<Record<string, string>>;
  /** Seconds to wait for both processes to answer. @default 20 */
  readonly startTimeoutSeconds?: number;
}

export interface PebbleServer {
  /** `https://127.0.0.1:<port>/dir` */
  readonly directoryUrl: string;
  /** The CA of pebble's HTTPS listener (give it to the ACME client, nothing else). */
  readonly directoryCaPem: string;
  /** Pebble's issuing root (changes on every start). */
  readonly issuingRootPem: string;
  /** challtestsrv's management API, `http://127.0.0.1:<port>`. */
  readonly challtestsrvUrl: string;
  /** Stops both processes and removes the temp directory. */
  close(): Promise<void>;
}

/** A port free on both UDP and TCP (a DNS server listens on both). */
async function freeDnsPort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const socket = createSocket('udp4');
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        const p = socket.address().port;
        socket.close(() => resolve(p));
      });
    });
    const tcpFree = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (tcpFree) return port;
  }
  throw new Error('no port free on both UDP and TCP on 127.0.0.1');
}

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** POSTs JSON to challtestsrv's management API. */
export async function challtestsrvPost(baseUrl: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${baseUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`pebble-challtestsrv ${path}: HTTP ${res.status} ${await res.text()}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface Started {
  readonly child: ChildProcess;
  readonly output: () => string;
}

function startProcess(bin: string, args: string[], env: NodeJS.ProcessEnv): Started {
  const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (c: Buffer) => {
    output = (output + c.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('error', (e) => keep(Buffer.from(`\n${e.message}`)));
  return { child, output: () => output };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Polls `ready` until it resolves true, the process exits, or the deadline passes. */
async function waitReady(what: string, started: Started, ready: () => Promise<boolean>, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (started.child.exitCode !== null) throw new Error(`${what} exited (${started.child.exitCode}): ${started.output()}`);
    if (await ready().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`${what} did not answer in time: ${started.output()}`);
}

/** Starts challtestsrv and pebble (see the module comment). Throws a clear error when they are not installed. */
export async function startPebble(options: PebbleOptions = {}): Promise<PebbleServer> {
  if (!pebbleInstalled()) {
    throw new Error(`pebble is not installed (${PEBBLE_BIN}, ${CHALLTESTSRV_BIN}): run \`npm run setup\` (Debian package "pebble")`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'pebble-'));
  const processes: ChildProcess[] = [];
  const close = async () => {
    await Promise.all(processes.map(stop));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ca = await createRootCa({ name: `Pebble listener CA ${randomBytes(4).toString('hex')}`, keyType: 'ec-p256' });
    const listener = await issueCertificate({ names: ['localhost'], ips: ['127.0.0.1'], issuer: ca, keyType: 'ec-p256' });
    writeFileSync(join(dir, 'cert.pem'), listener.certPem);
    writeFileSync(join(dir, 'key.pem'), listener.keyPem, { mode: 0o600 });
    const deadline = Date.now() + (options.startTimeoutSeconds ?? 20) * 1000;

    // challtestsrv: DNS only (the other challenge servers off), answering A queries with 127.0.0.1.
    let challtestsrvUrl = '';
    let dnsPort = 0;
    for (let attempt = 0; ; attempt++) {
      dnsPort = await freeDnsPort();
      const mgmtPort = await freeLoopbackPort();
      const started = startProcess(
        CHALLTESTSRV_BIN,
        [
          '-dns01',
          `127.0.0.1:${dnsPort}`,
          '-management',
          `127.0.0.1:${mgmtPort}`,
          '-http01',
          '',
          '-https01',
          '',
          '-tlsalpn01',
          '',
          '-defaultIPv6',
          '',
        ],
        process.env,
      );
      processes.push(started.child);
      challtestsrvUrl = `http://127.0.0.1:${mgmtPort}`;
      try {
        // Any answer (even 404) means the management server is up.
        await waitReady('pebble-challtestsrv', started, async () => (await fetch(`${challtestsrvUrl}/`)).status > 0, deadline);
        break;
      } catch (e) {
        await stop(started.child);
        if (attempt >= 2) throw e;
      }
    }

    let directoryUrl = '';
    let managementUrl = '';
    for (let attempt = 0; ; attempt++) {
      const [acmePort, mgmtPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
      const config = {
        pebble: {
          listenAddress: `127.0.0.1:${acmePort}`,
          managementListenAddress: `127.0.0.1:${mgmtPort}`,
          certificate: join(dir, 'cert.pem'),
          privateKey: join(dir, 'key.pem'),
          // Ports pebble would connect to for HTTP-01 / TLS-ALPN-01 (unused: DNS-01 only).
          httpPort: 5002,
          tlsPort: 5001,
          ocspResponderURL: '',
          externalAccountBindingRequired: options.eab !== undefined,
          ...(options.eab ? { externalAccountMACKeys: options.eab } : {}),
        },
      };
      const configFile = join(dir, `pebble-${attempt}.json`);
      writeFileSync(configFile, JSON.stringify(config));
      const started = startProcess(PEBBLE_BIN, ['-config', configFile, '-dnsserver', `127.0.0.1:${dnsPort}`], {
        ...process.env,
        // Validate at once, never reject nonces at random, never reuse an earlier authorization:
        // every order really validates its DNS-01 challenges.
        PEBBLE_VA_NOSLEEP: '1',
        PEBBLE_WFE_NONCEREJECT: '0',
        PEBBLE_AUTHZREUSE: '0',
        PEBBLE_VA_ALWAYS_VALID: '0',
      });
      processes.push(started.child);
      directoryUrl = `https://127.0.0.1:${acmePort}/dir`;
      managementUrl = `https://127.0.0.1:${mgmtPort}`;
      try {
        await waitReady('pebble', started, async () => (await httpsGet(directoryUrl, ca.certPem)).status === 200, deadline);
        break;
      } catch (e) {
        await stop(started.child);
        if (attempt >= 2) throw e;
      }
    }
    const root = await httpsGet(`${managementUrl}/roots/0`, ca.certPem);
    if (root.status !== 200 || !root.body.includes('BEGIN CERTIFICATE')) {
      throw new Error(`pebble management ${managementUrl}/roots/0 answered ${root.status}`);
    }
    return { directoryUrl, directoryCaPem: ca.certPem, issuingRootPem: root.body, challtestsrvUrl, close };
  } catch (e) {
    await close();
    throw e;
  }
}
