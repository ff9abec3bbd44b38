/**
 * A stand-in for the AWS CLI, for nodes that run the real deploy script outside AWS (the nginx
 * integration tests, and the rehearsal's nginx nodes). It understands the one call the script
 * makes, `aws secretsmanager get-secret-value --secret-id ID [--region R] [--query FIELD]
 * [--output text|json]`, prints what the real CLI prints, and fails as it fails (exit 254 with
 * `An error occurred (Code) when calling the GetSecretValue operation: ...`; 252 for a usage error).
 *
 * Where the secret comes from is pluggable ({@link SecretLookup}), chosen by environment:
 * - `CERT_ROTATION_SECRETS_FILE`: a JSON file `{ "<secret id>": "<SecretString>" }`
 *   ({@link fileLookup}), what a test prepares;
 * - otherwise the SDK's Secrets Manager client against `AWS_ENDPOINT_URL_SECRETS_MANAGER` or
 *   `AWS_ENDPOINT_URL`, which must be a loopback address ({@link endpointLookup}): the real wire
 *   protocol to a local server (the rehearsal's simulated account, moto_server). It refuses to
 *   run without one: a stand-in never reaches AWS.
 *
 * `CERT_ROTATION_AWS_LOG`, when set, gets one JSON line per call: `{ "argv": [...] }` (ids and
 * options only; the CLI takes no secret in its arguments).
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** What GetSecretValue returns, as far as the stand-in renders it. */
export interface SecretValue {
  readonly ARN: string;
  readonly Name: string;
  readonly VersionId: string;
  readonly SecretString: string;
  readonly VersionStages: readonly string[];
  readonly CreatedDate?: string;
}

/** An AWS service error, rendered the way the CLI renders it. */
export class ServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

/** Finds a secret by id (name or ARN); throws {@link ServiceError} as Secrets Manager would. */
export type SecretLookup = (secretId: string) => Promise<SecretValue>;

const NOT_FOUND = "Secrets Manager can't find the specified secret.";

/** Secrets from a JSON file `{ id: SecretString }`, read on every call (a test may rewrite it between runs). */
export function fileLookup(file: string): SecretLookup {
  return (secretId) => {
    const secrets = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const value = secrets[secretId];
    if (typeof value !== 'string') return Promise.reject(new ServiceError('ResourceNotFoundException', NOT_FOUND));
    const name = /^arn:[^:]+:secretsmanager:[^:]*:\d*:secret:(.+)$/.exec(secretId)?.[1] ?? secretId;
    const arn = secretId.startsWith('arn:') ? secretId : `arn:aws:secretsmanager:us-east-1:123456789012:secret:${secretId}-AbCdEf`;
    return Promise.resolve({ ARN: arn, Name: name, VersionId: 'local-standin', SecretString: value, VersionStages: ['AWSCURRENT'] });
  };
}

/** True for http(s) URLs on 127.0.0.0/8, ::1 or localhost. */
export function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

/** Secrets from a Secrets Manager endpoint on loopback, over the real wire protocol (SDK v3). */
export function endpointLookup(endpoint: string, region: string): SecretLookup {
  if (!isLoopbackUrl(endpoint)) throw new Error(`the AWS CLI stand-in only talks to a loopback endpoint, not ${endpoint}`);
  const client = new SecretsManagerClient({
    endpoint,
    region,
    maxAttempts: 3,
    // A local endpoint; credentials from the environment when set, placeholders otherwise.
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'standin',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'standin',
    },
  });
  return async (secretId) => {
    try {
      const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
      return {
        ARN: out.ARN ?? '',
        Name: out.Name ?? '',
        VersionId: out.VersionId ?? '',
        SecretString: out.SecretString ?? '',
        VersionStages: out.VersionStages ?? [],
        ...(out.CreatedDate ? { CreatedDate: out.CreatedDate.toISOString() } : {}),
      };
    } catch (error) {
      const e = error as { name?: string; message?: string };
      throw new ServiceError(e.name ?? 'InternalServiceError', e.message ?? String(error));
    }
  };
}

/** The lookup the environment selects (see the module comment). */
export function lookupFromEnvironment(env: NodeJS.ProcessEnv, region: string | undefined): SecretLookup {
  if (env.CERT_ROTATION_SECRETS_FILE) return fileLookup(env.CERT_ROTATION_SECRETS_FILE);
  const endpoint = env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? env.AWS_ENDPOINT_URL;
  if (!endpoint) {
    throw new Error(
      'the AWS CLI stand-in needs CERT_ROTATION_SECRETS_FILE or a loopback AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL',
    );
  }
  return endpointLookup(endpoint, region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1');
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The parsed `get-secret-value` call. */
export interface GetSecretValueCall {
  readonly secretId: string;
  readonly region?: string;
  readonly query?: string;
  readonly output: 'text' | 'json';
}

/** Parses the CLI arguments; only `secretsmanager get-secret-value` is understood. */
export function parseArgs(argv: readonly string[]): GetSecretValueCall {
  const [service, operation, ...rest] = argv;
  if (service !== 'secretsmanager' || operation !== 'get-secret-value') {
    throw new UsageError(`the AWS CLI stand-in only answers "secretsmanager get-secret-value", not "${argv.slice(0, 2).join(' ')}"`);
  }
  const options: Record<string, string> = {};
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i];
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new UsageError(`unexpected argument "${arg}"`);
    const value = m[2] ?? rest[++i];
    if (value === undefined) throw new UsageError(`--${m[1]} needs a value`);
    options[m[1]] = value;
  }
  const known = ['secret-id', 'region', 'query', 'output', 'version-stage'];
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new UsageError(`unknown option --${unknown[0]}`);
  if (!options['secret-id']) throw new UsageError('the following arguments are required: --secret-id');
  const output = options.output ?? 'json';
  if (output !== 'text' && output !== 'json') throw new UsageError(`--output ${output} is not supported by the stand-in (text, json)`);
  if (options['version-stage'] !== undefined && options['version-stage'] !== 'AWSCURRENT') {
    throw new UsageError('the stand-in serves AWSCURRENT only');
  }
  if (options.query !== undefined && !/^[A-Za-z]+$/.test(options.query)) {
    throw new UsageError(`--query "${options.query}": the stand-in supports a top-level field name only`);
  }
  return {
    secretId: options['secret-id'],
    output,
    ...(options.region ? { region: options.region } : {}),
    ...(options.query ? { query: options.query } : {}),
  };
}

/** What the CLI prints for this call and value. */
export function render(call: GetSecretValueCall, value: SecretValue): string {
  const selected: unknown = call.query === undefined ? value : (value as unknown as Record<string, unknown>)[call.query];
  if (call.output === 'json') return `${JSON.stringify(selected ?? null, null, 4)}\n`;
  if (selected === undefined || selected === null) return 'None\n';
  if (typeof selected === 'string' || typeof selected === 'number' || typeof selected === 'boolean') return `${selected}\n`;
  throw new UsageError('--output text of a whole response is not supported by the stand-in: add --query FIELD');
}

/** Runs one CLI call: returns the exit code after writing stdout/stderr as the CLI would. */
export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: { out(s: string): void; err(s: string): void },
): Promise<number> {
  if (env.CERT_ROTATION_AWS_LOG) appendFileSync(env.CERT_ROTATION_AWS_LOG, `${JSON.stringify({ argv })}\n`);
  let call: GetSecretValueCall;
  try {
    call = parseArgs(argv);
  } catch (error) {
    io.err(`aws: error: ${(error as Error).message}\n`);
    return 252;
  }
  try {
    const value = await lookupFromEnvironment(env, call.region)(call.secretId);
    io.out(render(call, value));
    return 0;
  } catch (error) {
    if (error instanceof ServiceError) {
      io.err(`\nAn error occurred (${error.code}) when calling the GetSecretValue operation: ${error.message}\n`);
      return 254;
    }
    io.err(`aws: error: ${(error as Error).message}\n`);
    return error instanceof UsageError ? 252 : 255;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2), process.env, {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
  }).then((code) => {
    process.exitCode = code;
  });
}
