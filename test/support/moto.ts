import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freeLoopbackPort } from '../../local/sim/nginx-process';

/**
 * `moto_server` (an AWS API emulator speaking the real wire protocols) for the request-shape
 * checks in test/integration/moto.test.ts. It is installed on the development machine, not on
 * CI: callers skip their suite when `hasMotoServer()` is false.
 */

/** True when `moto_server` is on PATH and runs (a pyenv shim without moto behind it does not). */
export function hasMotoServer(): boolean {
  const probe = spawnSync('moto_server', ['--help'], { stdio: 'ignore', timeout: 15_000 });
  return probe.error === undefined && probe.status === 0;
}

export interface MotoServer {
  readonly endpoint: string;
  readonly port: number;
  /** The server's stderr/stdout so far (its request log), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts `moto_server -H 127.0.0.1 -p <free port>` and waits until `/moto-api/` answers. */
export async function startMotoServer(options: { readonly timeoutMs?: number } = {}): Promise<MotoServer> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const port = await freeLoopbackPort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: number | string | null | undefined;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = code ?? signal;
      resolve();
    }),
  );

  const stop = async (): Promise<void> => {
    if (exited !== undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exitPromise;
    clearTimeout(timer);
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited !== undefined) throw new Error(`moto_server exited (${String(exited)}) before answering:\n${log}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`moto_server did not answer on ${endpoint}/moto-api/ within ${timeoutMs} ms:\n${log}`);
    }
    await sleep(100);
  }
  return { endpoint, port, output: () => log, stop };
}

/** Client options that point an SDK v3 client at moto (fake credentials, no retries to hide shape errors). */
export function motoClientConfig(endpoint: string) {
  return {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  } as const;
}
