/**
 * The result emails of a large fleet (lambdas/finish/message.ts): SNS refuses a message over
 * 256 KB, so every list is cut at its first names with "and N more" and the report names them all.
 */
import { GetServerCertificateCommand, IAMClient } from '@aws-sdk/client-iam';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { finishRotation, type FinishParams, type FinishState } from '../../../lambdas/finish/domain';
import { EMAIL_MAX_BYTES, fitForSns, LISTED } from '../../../lambdas/finish/message';
import { ArtifactStore } from '../../../lambdas/shared/artifacts';
import { ChangeLedger } from '../../../lambdas/shared/ledger';
import { silentLogger } from '../../../lambdas/shared/logger';
import type { ElbListenerTarget } from '../../../lambdas/shared/targets';
import { createInMemoryS3 } from '../../support/handler-s3';
import { seedLedger } from '../../support/handler-support';

const ARTIFACTS = 'cert-rotation-artifacts-123456789012';
const EXECUTION = 'rotate-2026-11-27';
const NODES = 5_000;

const s3 = createInMemoryS3();
const snsMock = mockClient(SNSClient);
const iamMock = mockClient(IAMClient);
const at = (second: number) => new Date(Date.UTC(2026, 10, 27, 12, 0, second));
const ledger = () => new ChangeLedger(new ArtifactStore(s3.client, ARTIFACTS), EXECUTION);
const listener = (i: number): ElbListenerTarget => ({
  kind: 'elb',
  loadBalancerName: `webapp-elb-${String(i).padStart(5, '0')}-with-a-rather-long-name`,
  port: 443,
  dnsName: `webapp-elb-${i}.eu-west-1.elb.amazonaws.com`,
});
const state: FinishState = {
  current: { sha256: 'a'.repeat(64), md5: 'OLDMD5', serial: '01', notAfter: '2026-12-10T00:00:00.000Z' },
  validation: { summary: { sha256: 'b'.repeat(64), md5: 'NEWMD5', serial: '02', notAfter: '2027-02-25T00:00:00.000Z' } },
};

function params(overrides: Partial<FinishParams>): FinishParams {
  return {
    sns: new SNSClient({ region: 'eu-west-1' }),
    iam: new IAMClient({ region: 'us-east-1' }),
    // Not called: no monit parameter in these tests.
    ssm: new SSMClient({ region: 'eu-west-1' }),
    store: new ArtifactStore(s3.client, ARTIFACTS),
    ledger: ledger(),
    logger: silentLogger,
    topicArn: 'arn:aws:sns:eu-west-1:123456789012:cert-rotation',
    domain: 'gitter.im',
    executionName: EXECUTION,
    succeeded: true,
    state,
    now: () => at(59),
    ...overrides,
  };
}

const published = (): string => String(snsMock.commandCalls(PublishCommand)[0].args[0].input.Message);

beforeEach(() => {
  s3.reset();
  snsMock.reset();
  iamMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
  iamMock.on(GetServerCertificateCommand).rejects(Object.assign(new Error('not found'), { name: 'NoSuchEntity' }));
});

describe(`a fleet of ${NODES} targets`, () => {
  test('the success email names the first ones and counts the rest, well below the SNS limit', async () => {
    // Arrange
    for (let i = 0; i < NODES; i += 1) await seedLedger(ledger(), listener(i), { at: at(i % 50), status: 'applied' });

    // Act
    await finishRotation(params({}));

    // Assert
    const text = published();
    expect(Buffer.byteLength(text, 'utf8')).toBeLessThan(EMAIL_MAX_BYTES / 4);
    expect(text).toContain(`  and ${NODES - LISTED} more (the report names them all)`);
    const report = s3.json<{ changes: unknown[] }>(ARTIFACTS, `executions/${EXECUTION}/report.json`)!;
    expect(report.changes).toHaveLength(NODES);
  });

  test('the failure email: reverted, verified and not-back lists are each cut', async () => {
    // Arrange
    for (let i = 0; i < NODES; i += 1) {
      await seedLedger(ledger(), listener(i), { at: at(i % 50), status: i < 10 ? 'left-alone' : 'rolled-back', note: 'x'.repeat(40) });
    }
    const verified = Array.from({ length: NODES }, (_, i) => ({ target: `ELB webapp-elb-${i}:443`, servedSha256: 'a'.repeat(64) }));

    // Act
    await finishRotation(
      params({
        succeeded: false,
        state: { ...state, error: { Error: 'VerificationFailed', Cause: 'x' }, rollbackVerification: { verified } },
      }),
    );

    // Assert
    const text = published();
    expect(Buffer.byteLength(text, 'utf8')).toBeLessThan(EMAIL_MAX_BYTES);
    expect(text.split('\n')[0]).toContain('ACTION NEEDED');
    expect(text.match(/and \d+ more \(the report names them all\)/g)?.length).toBeGreaterThanOrEqual(2);
    expect(text).toContain(`Verified serving the previous certificate over TLS (${NODES}):`);
  });

  test('a text over the limit is cut at a line end, saying where the rest is', () => {
    // Arrange
    const lines = Array.from({ length: 10_000 }, (_, i) => `line ${i} ${'é'.repeat(40)}`);

    // Act
    const text = fitForSns(lines, 'executions/x/report.json');

    // Assert
    expect(Buffer.byteLength(text, 'utf8')).toBeLessThanOrEqual(EMAIL_MAX_BYTES);
    expect(text.endsWith('... (cut: the whole account is in the report executions/x/report.json)')).toBe(true);
    expect(
      text
        .split('\n')
        .slice(0, -1)
        .every((l) => /^line \d+ é{40}$/.test(l)),
    ).toBe(true);
  });
});
