/**
 * Runs the real node deploy script (the document's, lib/node-deployment: `deployScript()`) under `sh`, as the
 * SSM Agent would: the document parameters as `SSM_<name>` environment variables, and the AWS
 * CLI stand-in (local/aws-cli) first on PATH, so `aws secretsmanager get-secret-value` is
 * answered locally (from `CERT_ROTATION_SECRETS_FILE`, or a loopback Secrets Manager endpoint).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deployScript, scriptEnvironment, type DeployParameters } from '../lib/node-deployment/parameters';

/** The directory holding the `aws` stand-in; put it first on PATH. */
export const AWS_STANDIN_BIN = join(__dirname, 'aws-cli', 'bin');

/**
 * The document's script, exactly, as a file to run with `sh` (the document joins two files; a
 * node runs their joined text). Written once per content, atomically, in the temp directory.
 */
export function deployScriptFile(): string {
  const text = deployScript();
  const file = join(tmpdir(), `cert-rotation-deploy-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.sh`);
  if (!existsSync(file)) {
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, text, { mode: 0o644 });
    renameSync(temp, file);
  }
  return file;
}

/** The one JSON line the script prints. */
export interface DeployResult {
  readonly action: 'install' | 'rollback' | null;
  readonly status: 'SUCCEEDED' | 'FAILED' | 'REFUSED' | 'RESTORE_INCOMPLETE';
  readonly stage: string;
  readonly message: string;
  readonly expected: string | null;
  /** What the script's last TLS handshake saw. */
  readonly served: string | null;
  /** What the certificate file held before this run. */
  readonly previous: string | null;
  /** What it holds at the end. */
  readonly installed: string | null;
  readonly changed: boolean;
  readonly restored: readonly string[];
  readonly monitUpdated: readonly string[];
  readonly monitReloaded: boolean;
}

export interface DeployRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The parsed result line; undefined when stdout is not exactly one JSON line. */
  readonly result?: DeployResult;
}

export interface RunDeployOptions {
  readonly parameters: DeployParameters;
  /** Extra environment (CERT_ROTATION_SECRETS_FILE, CERT_ROTATION_AWS_LOG, AWS_ENDPOINT_URL...). */
  readonly env?: Readonly<Record<string, string>>;
  /** Directories put on PATH before the stand-in's (for wrappers that observe commands). */
  readonly pathBefore?: readonly string[];
  /** Run with `sh -x` (a trace on stderr). */
  readonly trace?: boolean;
  /** @default 120000 */
  readonly timeoutMs?: number;
}

/** Parses stdout: exactly one line, a JSON object with a status. */
export function parseDeployResult(stdout: string): DeployResult | undefined {
  const lines = stdout.split('\n').filter((l) => l !== '');
  if (lines.length !== 1 || !stdout.endsWith('\n')) return undefined;
  try {
    const parsed = JSON.parse(lines[0]) as DeployResult;
    return typeof parsed === 'object' && parsed !== null && typeof parsed.status === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Runs the script once and collects its exit code, output and result. */
export function runDeployScript(options: RunDeployOptions): Promise<DeployRun> {
  const path = [...(options.pathBefore ?? []), AWS_STANDIN_BIN, process.env.PATH ?? '/usr/bin:/bin'].join(':');
  // Only what a node's agent would give it: no AWS credentials or endpoints of this process leak in.
  const base: Record<string, string> = { PATH: path, HOME: process.env.HOME ?? '/root', LANG: 'C' };
  const env = { ...base, ...scriptEnvironment(options.parameters), ...(options.env ?? {}) };
  const script = deployScriptFile();
  const args = options.trace ? ['-x', script] : [script];
  return new Promise((resolve, reject) => {
    const child = spawn('sh', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const result = parseDeployResult(stdout);
      resolve({ code, stdout, stderr, ...(result ? { result } : {}) });
    });
  });
}
