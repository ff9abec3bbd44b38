/**
 * The AWS CLI stand-in (local/aws-cli): the real `aws` shim, run as a process, answers
 * `secretsmanager get-secret-value` from a secrets file, or over the real Secrets Manager wire
 * protocol from a loopback endpoint (here a tiny HTTP server that records what it was sent),
 * and fails like the CLI (exit 254 with the error code, 252 for usage).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLoopbackUrl, parseArgs } from '../../local/aws-cli/standin';
import { AWS_STANDIN_BIN } from '../../local/node-script';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cert-rotation/gitter.im/2026-12-01-AbCdEf';
const SECRET_STRING = JSON.stringify({ certificate: 'CERT', privateKey: 'not a key', chain: '' });

/** Runs the shim like the deploy script does, with exactly `env` (plus PATH). Async, so an in-process server can answer. */
function aws(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(join(AWS_STANDIN_BIN, 'aws'), args, { env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const GET = [
  'secretsmanager',
  'get-secret-value',
  '--secret-id',
  ARN,
  '--region',
  'eu-west-1',
  '--query',
  'SecretString',
  '--output',
  'text',
];

describe('AWS CLI stand-in', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'aws-standin-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('answers from CERT_ROTATION_SECRETS_FILE as the CLI prints it (--query SecretString --output text) and logs the call', async () => {
    // Arrange
    const file = join(dir, 'secrets.json');
    writeFileSync(file, JSON.stringify({ [ARN]: SECRET_STRING }));
    const log = join(dir, 'aws.log');

    // Act
    const run = await aws(GET, { CERT_ROTATION_SECRETS_FILE: file, CERT_ROTATION_AWS_LOG: log });

    // Assert
    expect(run).toMatchObject({ code: 0, stdout: `${SECRET_STRING}\n` });
    expect(JSON.parse(readFileSync(log, 'utf8'))).toEqual({ argv: GET });
  });

  test('an unknown secret fails as the CLI does: exit 254, the error code on stderr', async () => {
    // Arrange
    const file = join(dir, 'secrets.json');
    writeFileSync(file, '{}');

    // Act
    const run = await aws(GET, { CERT_ROTATION_SECRETS_FILE: file });

    // Assert
    expect(run.code).toBe(254);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('An error occurred (ResourceNotFoundException) when calling the GetSecretValue operation');
  });

  describe('over a loopback endpoint (the real wire protocol)', () => {
    let server: Server;
    let endpoint: string;
    const requests: Array<{ target: string | undefined; body: string; authorization: string | undefined }> = [];
    beforeAll(async () => {
      server = createServer((req: IncomingMessage, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          requests.push({ target: req.headers['x-amz-target'] as string | undefined, body, authorization: req.headers.authorization });
          const id = (JSON.parse(body) as { SecretId: string }).SecretId;
          res.setHeader('content-type', 'application/x-amz-json-1.1');
          if (id !== ARN) {
            res.statusCode = 400;
            res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." }));
            return;
          }
          res.end(
            JSON.stringify({
              ARN,
              Name: 'cert-rotation/gitter.im/2026-12-01',
              VersionId: 'v1',
              SecretString: SECRET_STRING,
              VersionStages: ['AWSCURRENT'],
            }),
          );
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
    beforeEach(() => {
      requests.length = 0;
    });

    test('sends GetSecretValue (JSON 1.1, signed for the ARN region) and prints the SecretString', async () => {
      // Act
      const run = await aws(GET, { AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint });

      // Assert
      expect(run).toMatchObject({ code: 0, stdout: `${SECRET_STRING}\n` });
      expect(requests).toHaveLength(1);
      expect(requests[0].target).toBe('secretsmanager.GetSecretValue');
      expect(JSON.parse(requests[0].body)).toEqual({ SecretId: ARN });
      expect(requests[0].authorization).toContain('/eu-west-1/secretsmanager/aws4_request');
    });

    test('a service error comes back as the CLI shows it', async () => {
      // Act
      const run = await aws(['secretsmanager', 'get-secret-value', '--secret-id', 'nope', '--query', 'SecretString', '--output', 'text'], {
        AWS_ENDPOINT_URL: endpoint,
      });

      // Assert
      expect(run.code).toBe(254);
      expect(run.stderr).toContain('(ResourceNotFoundException)');
    });
  });

  test('refuses to reach anything but loopback, and runs without a backend only to say so', async () => {
    // Act
    const remote = await aws(GET, { AWS_ENDPOINT_URL: 'https://secretsmanager.eu-west-1.amazonaws.com' });
    const none = await aws(GET, {});

    // Assert
    expect(remote.code).not.toBe(0);
    expect(remote.stderr).toContain('only talks to a loopback endpoint');
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('needs CERT_ROTATION_SECRETS_FILE');
    expect(isLoopbackUrl('http://127.0.0.1:4566')).toBe(true);
    expect(isLoopbackUrl('http://[::1]:4566')).toBe(true);
    expect(isLoopbackUrl('http://169.254.169.254/')).toBe(false);
  });

  test.each([
    [['s3', 'cp', 'a', 'b'], 'only answers "secretsmanager get-secret-value"'],
    [['secretsmanager', 'get-secret-value'], '--secret-id'],
    [['secretsmanager', 'get-secret-value', '--secret-id', 'x', '--query', 'SecretString.foo'], 'top-level field name only'],
    [['secretsmanager', 'get-secret-value', '--secret-id', 'x', '--output', 'table'], 'not supported'],
  ])('usage errors: %j', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(message);
    expect(spawnSync(join(AWS_STANDIN_BIN, 'aws'), argv, { env: { PATH: process.env.PATH ?? '' } }).status).toBe(252);
  });
});
