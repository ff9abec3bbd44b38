import { Console } from 'node:console';
import { createPrivateKey } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { issueWithFreshPki } from '../../local/certs';
import { exitCodeFor, main } from '../../local/cli';
import type { RehearsalOptions } from '../../local/rehearsal';
import type { SimulatedAccount } from '../../local/sim';
import { certificateDir, rehearse } from '../support/rehearsal';

/**
 * The secret scan through the real rehearsal (issue 5, finding 4): key material that a handler
 * leaks anywhere the scan reads makes the rehearsal exit 5, with `where` naming the place; a clean
 * run reads every place and finds nothing.
 */

/** The staged key, read the way a handler holding the secret ARN reads it. */
async function stagedKey(event: unknown): Promise<string> {
  const secretArn = (event as { secretArn: string }).secretArn;
  const secret = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretArn }));
  return (JSON.parse(secret.SecretString ?? '{}') as { privateKey: string }).privateKey;
}

const derHex = (pem: string) => createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' }).toString('hex');

/** Runs the validate handler, then leaks the key it validated with `leak`. */
function leakAfterValidate(leak: (key: string, event: unknown) => unknown): RehearsalOptions['aroundHandlerForTests'] {
  return async (call, invoke) => {
    const out = await invoke();
    if (call.handler === 'validate') {
      const extra = await leak(await stagedKey(call.event), call.event);
      if (extra !== undefined) return { ...(out as object), ...(extra as object) };
    }
    return out;
  };
}

describe('secret scan through the rehearsal', () => {
  test('a clean run: 0 findings, exit 0, and every place listed was really read (searched > 0)', async () => {
    // Act
    const report = await rehearse();

    // Assert
    expect(report.status).toBe('SUCCEEDED');
    expect(report.secretScan.findings).toBe(0);
    expect(report.secretScan.where).toEqual([]);
    expect(exitCodeFor(report)).toBe(0);
    expect(report.secretScan.places).toEqual(
      expect.arrayContaining(['execution history', 'logs', 'notifications', 's3 objects', 'lambda environments', 'secrets', 'report']),
    );
    // places is what was read, not a constant: exactly the places with documents, each with some.
    expect(Object.keys(report.secretScan.searched).sort()).toEqual([...report.secretScan.places].sort());
    for (const place of report.secretScan.places)
      expect({ place, n: report.secretScan.searched[place] }).toEqual({ place, n: expect.any(Number) });
    for (const place of report.secretScan.places) expect(report.secretScan.searched[place]).toBeGreaterThan(0);
    // One document per function environment.
    expect(report.secretScan.searched['lambda environments']).toBeGreaterThanOrEqual(10);
  });

  test.each<[string, (key: string) => unknown]>([
    // Node's own console (jest replaces the global one with its own, which writes elsewhere).
    ['console.error', (key) => new Console({ stdout: process.stdout, stderr: process.stderr }).error(`validation detail: ${key}`)],
    ['a Powertools warn', (key) => new Logger({ serviceName: 'leaky' }).warn('validated', { detail: key })],
    ['a Powertools error', (key) => new Logger({ serviceName: 'leaky' }).error('validated', { detail: derHex(key) })],
    ['process.stderr.write of the DER in hex', (key) => void process.stderr.write(`${derHex(key)}\n`)],
  ])('key material a handler writes to stderr with %s: exit 5, where names logs / stderr', async (_how, leak) => {
    // Act
    const report = await rehearse({ aroundHandlerForTests: leakAfterValidate(leak) });

    // Assert
    expect(report.secretScan.findings).toBeGreaterThan(0);
    expect(report.secretScan.where).toEqual(
      expect.arrayContaining([expect.objectContaining({ place: 'logs', name: expect.stringMatching(/^stderr write \d+$/) })]),
    );
    expect(exitCodeFor(report)).toBe(5);
    // The rotation itself succeeded: 5 wins over 0.
    expect(report.status).toBe('SUCCEEDED');
  });

  test('the key in hex in an old version of an S3 object (overwritten since): exit 5, where names the version', async () => {
    // Arrange: a handler writes the key as hex into the artifacts bucket, then overwrites it
    let bucket = '';
    const leak = async (key: string) => {
      const s3 = new S3Client({});
      const Key = 'executions/leak/debug.json';
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: JSON.stringify({ der: derHex(key) }) }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: '{}' }));
    };

    // Act
    const report = await rehearse({
      beforeStart: (sim) => {
        bucket = [...sim.s3.buckets.keys()].find((b) => b.includes('artifacts'))!;
      },
      aroundHandlerForTests: leakAfterValidate(leak),
    });

    // Assert
    expect(report.secretScan.where).toEqual([
      {
        place: 's3 objects',
        name: expect.stringMatching(/^s3:\/\/.*artifacts.*\/executions\/leak\/debug\.json\?versionId=\w+$/),
        form: expect.stringMatching(/as hex$/),
      },
    ]);
    expect(exitCodeFor(report)).toBe(5);
  });

  test('the key in HEX in a notification: exit 5, where names notifications', async () => {
    // Act
    const report = await rehearse({
      aroundHandlerForTests: leakAfterValidate(async (key) => {
        await new SNSClient({}).send(
          new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:123456789012:leak', Subject: 'debug', Message: derHex(key).toUpperCase() }),
        );
      }),
    });

    // Assert
    expect(report.secretScan.where).toEqual([expect.objectContaining({ place: 'notifications' })]);
    expect(exitCodeFor(report)).toBe(5);
  });

  test('the private JWK d in a handler result: found in the execution history (and the report), exit 5', async () => {
    // Act
    const report = await rehearse({
      aroundHandlerForTests: leakAfterValidate((key) => ({ debug: (createPrivateKey(key).export({ format: 'jwk' }) as { d: string }).d })),
    });

    // Assert
    // (Which needle matches first varies: a PEM line of the key can lie inside d, base64url and base64 agreeing there.)
    expect(report.secretScan.where).toEqual(expect.arrayContaining([expect.objectContaining({ place: 'execution history' })]));
    expect(exitCodeFor(report)).toBe(5);
  });

  test('key.pem staged in S3 twice: after the run no version or delete marker of it is left, and the scan finds nothing', async () => {
    // Arrange: the operator uploads key.pem a second time (two versions)
    let sim: SimulatedAccount | undefined;
    const report = await rehearse({
      stageVia: 's3',
      beforeStart: async (s) => {
        sim = s;
        const [bucket, keys] = [...s.s3.buckets].find(([, objects]) => [...objects.keys()].some((k) => k.endsWith('key.pem')))!;
        const key = [...keys.keys()].find((k) => k.endsWith('key.pem'))!;
        await s.handle('s3:PutObject', { Bucket: bucket, Key: key, Body: keys.get(key)!.body });
      },
    });

    // Assert
    expect(report.status).toBe('SUCCEEDED');
    const keyVersions = sim!.s3.allVersions().filter((v) => v.entry.key.endsWith('key.pem'));
    expect(keyVersions).toEqual([]);
    expect(report.apiCalls['s3:DeleteObject']).toBe(2);
    expect(report.apiCalls['s3:ListObjectVersions']).toBeGreaterThanOrEqual(1);
    // cert.pem and chain.pem stay, and were searched.
    expect(sim!.s3.allVersions().filter((v) => v.bucket.includes('staging'))).toHaveLength(2);
    expect(report.secretScan.findings).toBe(0);
    expect(exitCodeFor(report)).toBe(0);
  });
});

describe('secret scan through the command line', () => {
  test('a handler logging the key (hex, to stderr) makes `npm start` exit 5 and say where, even with --quiet', async () => {
    // Arrange: the operator's own certificate (so the test knows the key); every handler's info log also writes the key to stderr
    const pki = await issueWithFreshPki({ names: ['*.gitter.im', 'gitter.im'] });
    const dir = certificateDir({ 'cert.pem': pki.certPem, 'key.pem': pki.keyPem, 'chain.pem': pki.chainPem, 'root.pem': pki.rootPem });
    const stderr: string[] = [];
    const stderrSpy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr.push(String(chunk));
      return true;
    });
    const info = Logger.prototype.info;
    const leakSpy = jest.spyOn(Logger.prototype, 'info').mockImplementation(function (this: Logger, ...args: Parameters<Logger['info']>) {
      process.stderr.write(`${derHex(pki.keyPem)}\n`);
      info.apply(this, args);
    });

    // Act
    let code: number;
    let leaks: number;
    try {
      code = await main(['--certificate', dir, '--quiet']);
    } finally {
      leaks = leakSpy.mock.calls.length;
      leakSpy.mockRestore();
      stderrSpy.mockRestore();
    }

    // Assert
    expect(leaks).toBeGreaterThan(0);
    expect(code).toBe(5);
    expect(stderr.join('')).toMatch(/secret scan: key material found in logs: stderr write \d+ \(DER \(PKCS#8\) as hex\)/);
  });
});

describe('exitCodeFor', () => {
  const scan = (findings: number) => ({ places: [], findings, searched: {}, where: [] });

  test.each([
    ['SUCCEEDED', 0, 0],
    ['FAILED', 0, 1],
    ['REJECTED', 0, 1],
    ['SUCCEEDED', 1, 5],
    ['FAILED', 2, 5],
    ['REJECTED', 1, 5],
  ] as const)('status %s with %i findings -> %i', (status, findings, code) => {
    expect(exitCodeFor({ status, secretScan: scan(findings) })).toBe(code);
  });
});
