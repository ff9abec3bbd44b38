import { GetServerCertificateCommand, IAMClient } from '@aws-sdk/client-iam';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { describeError, finishRotation, outcomeOf, subjectOf, type FinishParams, type FinishState } from '../../../lambdas/finish/domain';
import { ArtifactStore } from '../../../lambdas/shared/artifacts';
import { ChangeLedger } from '../../../lambdas/shared/ledger';
import { silentLogger } from '../../../lambdas/shared/logger';
import { withNotBack } from '../../../lambdas/shared/not-back';
import { createInMemoryS3 } from '../../support/handler-s3';
import { canaryTarget, distributionTarget, seedLedger, webappTarget } from '../../support/handler-support';

const ARTIFACTS = 'cert-rotation-artifacts-123456789012';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:cert-rotation-approvals';
const EXECUTION = 'rotate-2026-11-27';
const REPORT_KEY = `executions/${EXECUTION}/report.json`;
const NEW_SHA = 'b'.repeat(64);
const OLD_SHA = 'a'.repeat(64);

const s3 = createInMemoryS3();
const snsMock = mockClient(SNSClient);
const ssmMock = mockClient(SSMClient);
const iamMock = mockClient(IAMClient);

const ledger = () => new ChangeLedger(new ArtifactStore(s3.client, ARTIFACTS), EXECUTION);
const at = (minute: number) => new Date(Date.UTC(2026, 10, 27, 12, minute, 0));

/** What the state carries when a rotation got as far as the canary. */
const STATE: FinishState = {
  certificate: { secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cert-rotation/gitter.im/rotate-2026-11-27-AbCdEf' },
  current: { name: 'STAR.gitter.im_2025-11-15', sha256: OLD_SHA, md5: 'ABC', serial: '01', notAfter: '2026-12-10T00:00:00.000Z' },
  validation: {
    summary: { sha256: NEW_SHA, md5: 'DEF', serial: '02', notAfter: '2027-02-25T00:00:00.000Z', names: ['*.gitter.im', 'gitter.im'] },
    warnings: [],
  },
  plan: { planKey: `executions/${EXECUTION}/plan.json`, counts: { canary: 1, elb: 2, elbv2: 0, cloudfront: 1, nodes: {} } },
  uploaded: {
    arn: 'arn:aws:iam::123456789012:server-certificate/cloudfront/gitter-production/STAR.gitter.im_2026-11-27',
    name: 'STAR.gitter.im_2026-11-27',
    reused: false,
  },
  canaryCheck: { matches: true, attempts: 2, servedSha256: NEW_SHA },
};

const lambdaCause = (errorType: string, errorMessage: string) =>
  JSON.stringify({
    errorType,
    errorMessage,
    trace: [`${errorType}: ${errorMessage}`, '    at validateNewCertificate (/var/task/index.js:1:1)'],
  });

beforeEach(() => {
  s3.reset();
  snsMock.reset();
  ssmMock.reset();
  ssmMock.on(PutParameterCommand).resolves({ Version: 1 });
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
  iamMock.reset();
  iamMock.on(GetServerCertificateCommand).rejects(new Error('not stubbed: the success email says the PEM could not be read'));
});

function makeParams(overrides: Partial<FinishParams> = {}): FinishParams {
  return {
    sns: new SNSClient({ region: 'eu-west-1' }),
    iam: new IAMClient({ region: 'us-east-1' }),
    ssm: new SSMClient({ region: 'eu-west-1' }),
    store: new ArtifactStore(s3.client, ARTIFACTS),
    ledger: ledger(),
    logger: silentLogger,
    topicArn: TOPIC,
    domain: 'gitter.im',
    executionName: EXECUTION,
    succeeded: true,
    state: STATE,
    now: () => new Date('2026-11-27T12:30:00.000Z'),
    ...overrides,
  };
}

function published(): { Subject?: string; Message?: string; TopicArn?: string } {
  const calls = snsMock.commandCalls(PublishCommand);
  expect(calls).toHaveLength(1);
  return calls[0].args[0].input;
}

describe('outcomeOf', () => {
  test.each([
    ['succeeded', 'SUCCEEDED', true, undefined, false],
    ['an approver rejected (ApprovalRejected)', 'REJECTED', false, { Error: 'ApprovalRejected', Cause: 'rejected by alice' }, false],
    ['a gate timed out (States.Timeout)', 'REJECTED', false, { Error: 'States.Timeout', Cause: 'gate timed out' }, true],
    ['a Lambda task timed out (States.Timeout, not a gate)', 'FAILED', false, { Error: 'States.Timeout', Cause: 'task timed out' }, false],
    ['a Lambda error', 'FAILED', false, { Error: 'CertificateInvalid', Cause: lambdaCause('CertificateInvalid', 'expired') }, false],
    ['a task failure without cause', 'FAILED', false, { Error: 'States.TaskFailed' }, false],
    ['no error recorded', 'FAILED', false, undefined, false],
  ])('%s -> %s', (_label, outcome, succeeded, error, gateTimedOut) => {
    // Arrange / Act / Assert
    expect(outcomeOf(succeeded, error, gateTimedOut)).toBe(outcome);
  });

  test.each([
    ['a rejection', { Error: 'ApprovalRejected', Cause: 'no' }, false],
    ['a gate timeout', { Error: 'States.Timeout', Cause: 'timed out' }, true],
    ['a failure', { Error: 'VerificationFailed', Cause: 'canary' }, false],
  ])('%s whose rollback is not verified -> ROLLBACK_INCOMPLETE', (_label, error, gateTimedOut) => {
    // Arrange / Act / Assert
    expect(outcomeOf(false, error, gateTimedOut, true)).toBe('ROLLBACK_INCOMPLETE');
    expect(outcomeOf(true, undefined, false, true)).toBe('SUCCEEDED');
  });
});

describe('describeError', () => {
  test('a Lambda error Cause (JSON with errorType, errorMessage, trace) -> "<Error>: <errorMessage>", no trace', () => {
    // Arrange
    const error = { Error: 'CertificateInvalid', Cause: lambdaCause('CertificateInvalid', 'the certificate expired on 2026-01-01') };

    // Act
    const text = describeError(error);

    // Assert
    expect(text).toBe('CertificateInvalid: the certificate expired on 2026-01-01');
  });

  test('a plain-text Cause is kept as is', () => {
    // Arrange / Act / Assert
    expect(describeError({ Error: 'ApprovalRejected', Cause: 'rejected by alice: wrong certificate' })).toBe(
      'ApprovalRejected: rejected by alice: wrong certificate',
    );
  });

  test('JSON without errorMessage is kept as text; a missing Error name reads "Error"; no error -> undefined', () => {
    // Arrange / Act / Assert
    expect(describeError({ Error: 'X', Cause: '{"detail":"y"}' })).toBe('X: {"detail":"y"}');
    expect(describeError({ Cause: 'something broke' })).toBe('Error: something broke');
    expect(describeError({ Error: 'X', Cause: 'null' })).toBe('X: null');
    expect(describeError(undefined)).toBeUndefined();
  });
});

describe('finishRotation', () => {
  test('SUCCEEDED: report at executions/<name>/report.json, subject says SUCCEEDED, message lists what serves the new certificate', async () => {
    // Arrange
    await seedLedger(ledger(), canaryTarget, { at: at(1), phase: 'canary', status: 'applied' });

    // Act
    const result = await finishRotation(makeParams());

    // Assert
    expect(result).toEqual({ status: 'SUCCEEDED', reportKey: REPORT_KEY });
    const report = s3.json<Record<string, unknown>>(ARTIFACTS, REPORT_KEY)!;
    expect(report).toMatchObject({
      status: 'SUCCEEDED',
      domain: 'gitter.im',
      execution: EXECUTION,
      finishedAt: '2026-11-27T12:30:00.000Z',
      certificate: { new: STATE.validation!.summary, previous: STATE.current },
      uploaded: STATE.uploaded,
      canaryCheck: STATE.canaryCheck,
      changes: [{ target: 'ELB apps-servers-elb-prod:6667', phase: 'canary', status: 'applied', note: null }],
      rollbackError: null,
    });
    expect(report).not.toHaveProperty('error');
    const { Subject, Message, TopicArn } = published();
    expect(TopicArn).toBe(TOPIC);
    expect(Subject).toContain('SUCCEEDED');
    expect(Subject).toContain('gitter.im');
    expect(Subject!.length).toBeLessThan(100);
    expect(Message).toContain('Now serving the new certificate:\n  ELB apps-servers-elb-prod:6667');
    expect(Message).toContain(`New certificate: ${NEW_SHA}`);
    expect(Message).toContain(REPORT_KEY);
  });

  test('FAILED after a verified rollback: reason from the Lambda cause, restored targets listed, no ACTION NEEDED', async () => {
    // Arrange
    await seedLedger(ledger(), canaryTarget, { at: at(1), phase: 'canary', status: 'rolled-back' });
    await seedLedger(ledger(), webappTarget, { at: at(2), status: 'rolled-back', note: 'was not switched' });
    const state: FinishState = {
      ...STATE,
      error: {
        Error: 'VerificationFailed',
        Cause: lambdaCause('VerificationFailed', 'irc.gitter.im:6667 still does not serve the new certificate'),
      },
      rollback: { restored: ['ELB apps-servers-elb-prod:6667'] },
    };

    // Act
    const result = await finishRotation(makeParams({ succeeded: false, state }));

    // Assert
    expect(result).toEqual({
      status: 'FAILED',
      reportKey: REPORT_KEY,
      error: 'VerificationFailed: irc.gitter.im:6667 still does not serve the new certificate',
    });
    const { Subject, Message } = published();
    expect(Subject).toBe('[cert-rotation gitter.im] Rotation FAILED');
    expect(Message).toContain('Reason: VerificationFailed: irc.gitter.im:6667 still does not serve the new certificate');
    // What was reverted, apart from what was recorded but never switched (nothing to revert there).
    expect(Message).toContain('Reverted to the previous certificate (1):\n  ELB apps-servers-elb-prod:6667');
    expect(Message).toContain('Recorded but never switched (nothing to revert):\n  ELB webapp-elb-prod:443');
    expect(Message).not.toContain('ACTION NEEDED');
    expect(Message).not.toContain('Now serving the new certificate');
    expect(Message).not.toContain('at validateNewCertificate'); // no stack trace
    const report = s3.json<{
      status: string;
      error: string;
      changes: Array<{ status: string; note: string | null }>;
      rollback: unknown;
      notBack: string[];
    }>(ARTIFACTS, REPORT_KEY)!;
    expect(report.status).toBe('FAILED');
    expect(report.error).toContain('VerificationFailed');
    expect(report.changes.map((c) => c.status).sort()).toEqual(['rolled-back', 'rolled-back']);
    expect(report.rollback).toEqual({ restored: ['ELB apps-servers-elb-prod:6667'] });
    expect(report.notBack).toEqual([]);
  });

  test('a target the rollback left alone -> ROLLBACK_INCOMPLETE: ACTION NEEDED names it, LEFT ALONE says why', async () => {
    // Arrange
    await seedLedger(ledger(), canaryTarget, { at: at(1), phase: 'canary', status: 'rolled-back' });
    await seedLedger(ledger(), distributionTarget, {
      at: at(3),
      status: 'left-alone',
      note: 'serves ASCATHIRD, neither the previous nor the new certificate; left alone',
    });
    const state: FinishState = { ...STATE, error: { Error: 'ApprovalRejected', Cause: 'rejected by alice' } };

    // Act
    const result = await finishRotation(makeParams({ succeeded: false, state }));

    // Assert
    expect(result.status).toBe('ROLLBACK_INCOMPLETE');
    expect(result.error).toBe('ApprovalRejected: rejected by alice');
    expect(result.rollbackCause).toContain(
      '1 target(s) not proven back on the previous certificate: CloudFront E2QWRUHAPOMQZL (cdn.gitter.im)',
    );
    expect(result.rollbackCause).not.toContain('apps-servers-elb-prod');
    const { Subject, Message } = published();
    expect(Subject).toMatch(/^ACTION NEEDED/);
    expect(Message).toMatch(
      /^ACTION NEEDED: the rollback could not be verified. Not proven back on the previous certificate:\n {2}CloudFront E2QWRUHAPOMQZL/,
    );
    expect(Message).toContain('LEFT ALONE (check by hand):\n  CloudFront E2QWRUHAPOMQZL (cdn.gitter.im): serves ASCATHIRD');
    expect(s3.json<{ notBack: string[] }>(ARTIFACTS, REPORT_KEY)!.notBack).toEqual(['cloudfront/E2QWRUHAPOMQZL']);
  });

  test('verify-rollback gave up -> ROLLBACK_INCOMPLETE naming exactly the targets it names; the original error kept apart', async () => {
    // Arrange: two targets rolled back; verify-rollback says the canary is not back.
    await seedLedger(ledger(), canaryTarget, { at: at(1), phase: 'canary', status: 'rolled-back' });
    await seedLedger(ledger(), distributionTarget, { at: at(2), status: 'rolled-back' });
    const message = withNotBack(`rollback not verified yet: 1 of 2 target(s) not back: ELB apps-servers-elb-prod:6667 serves ${NEW_SHA}.`, [
      'elb/apps-servers-elb-prod/6667',
    ]);
    const state: FinishState = {
      ...STATE,
      error: { Error: 'ApprovalRejected', Cause: 'rejected by alice' },
      rollbackError: { Error: 'VerificationFailed', Cause: lambdaCause('VerificationFailed', message) },
    };

    // Act
    const result = await finishRotation(makeParams({ succeeded: false, state }));

    // Assert
    expect(result).toMatchObject({ status: 'ROLLBACK_INCOMPLETE', error: 'ApprovalRejected: rejected by alice' });
    expect(result.rollbackCause).toBe(
      '1 target(s) not proven back on the previous certificate: ELB apps-servers-elb-prod:6667 [elb/apps-servers-elb-prod/6667]. ' +
        `Rollback problem: VerificationFailed: rollback not verified yet: 1 of 2 target(s) not back: ELB apps-servers-elb-prod:6667 serves ${NEW_SHA}. ` +
        'The rollback started because of: ApprovalRejected: rejected by alice.',
    );
    const { Subject, Message } = published();
    expect(Subject).toBe('ACTION NEEDED: [cert-rotation gitter.im] rollback incomplete, 1 target(s) not back');
    expect(Message).toContain(
      'Not proven back on the previous certificate:\n  ELB apps-servers-elb-prod:6667 [elb/apps-servers-elb-prod/6667]\n\n',
    );
    expect(Message).not.toContain('notBack='); // the machine-readable list is for the report, not for people
    const report = s3.json<{ status: string; error: string; rollbackError: string; notBack: string[] }>(ARTIFACTS, REPORT_KEY)!;
    expect(report).toMatchObject({
      status: 'ROLLBACK_INCOMPLETE',
      error: 'ApprovalRejected: rejected by alice',
      rollbackError: expect.stringMatching(/^VerificationFailed: rollback not verified yet/),
      notBack: ['elb/apps-servers-elb-prod/6667'],
    });
  });

  test('the rollback itself failed -> ROLLBACK_INCOMPLETE naming every entry that may be switched (restored ones are unverified)', async () => {
    // Arrange: the canary was restored, the webapp ELB found never switched, then rollback failed before the distribution.
    await seedLedger(ledger(), canaryTarget, { at: at(1), phase: 'canary', status: 'rolled-back' });
    await seedLedger(ledger(), webappTarget, { at: at(2), status: 'rolled-back', note: 'was not switched' });
    await seedLedger(ledger(), distributionTarget, { at: at(3), status: 'applied' });
    const state: FinishState = {
      ...STATE,
      error: { Error: 'ApprovalRejected', Cause: 'no' },
      rollbackError: { Error: 'AccessDenied', Cause: lambdaCause('AccessDenied', 'not authorized to cloudfront:UpdateDistribution') },
    };

    // Act
    const result = await finishRotation(makeParams({ succeeded: false, state }));

    // Assert
    expect(result.status).toBe('ROLLBACK_INCOMPLETE');
    expect(s3.json<{ notBack: string[] }>(ARTIFACTS, REPORT_KEY)!.notBack.sort()).toEqual([
      'cloudfront/E2QWRUHAPOMQZL',
      'elb/apps-servers-elb-prod/6667',
    ]);
    expect(result.rollbackCause).toMatch(/^2 target\(s\) not proven back/);
    expect(result.rollbackCause).not.toContain('webapp-elb-prod');
    expect(result.rollbackCause).toContain('Rollback problem: AccessDenied: not authorized');
  });

  test('a rollback error that names no target is still ROLLBACK_INCOMPLETE, and says it does not know which', async () => {
    // Arrange: empty ledger (nothing readable), rollback failed.
    const state: FinishState = { ...STATE, error: { Error: 'ApprovalRejected', Cause: 'no' }, rollbackError: { Error: 'States.Timeout' } };

    // Act
    const result = await finishRotation(makeParams({ succeeded: false, state }));

    // Assert
    expect(result.status).toBe('ROLLBACK_INCOMPLETE');
    expect(result.rollbackCause).toMatch(/^the rollback failed before it could say which targets are back/);
    expect(published().Subject).toBe('ACTION NEEDED: [cert-rotation gitter.im] rollback incomplete, unknown target(s) not back');
    expect(published().Message).toContain('(unknown: the rollback failed before it could say; check every target of the plan)');
  });

  test('subjectOf: ACTION NEEDED first, never longer than SNS allows (100)', () => {
    // Arrange
    const long = `${'a'.repeat(60)}.example.org`;

    // Act / Assert
    expect(subjectOf('gitter.im', 'ROLLBACK_INCOMPLETE', 3)).toMatch(/^ACTION NEEDED: .*3 target\(s\) not back$/);
    expect(subjectOf(long, 'ROLLBACK_INCOMPLETE', 3)).toMatch(/^ACTION NEEDED: /);
    expect(subjectOf(long, 'ROLLBACK_INCOMPLETE', 3).length).toBeLessThanOrEqual(100);
    expect(subjectOf(`${'b'.repeat(95)}.org`, 'SUCCEEDED', 0).length).toBeLessThanOrEqual(100);
    expect(subjectOf('gitter.im', 'REJECTED', 0)).toBe('[cert-rotation gitter.im] Rotation REJECTED');
  });

  test.each([
    ['ApprovalRejected', 'rejected by alice'],
    ['States.Timeout', 'The task timed out.'],
  ])('%s -> REJECTED in the result, the report and the subject', async (errorName, cause) => {
    // Arrange
    // A gate timeout reaches finish through the "no answer" state, which marks it.
    const state: FinishState = {
      ...STATE,
      error: { Error: errorName, Cause: cause },
      ...(errorName === 'States.Timeout'
        ? {
            approvalTimeout: {
              gateTimedOut: true,
              gate: 'edge',
              stateName: 'Approval 3: edge rollout OK, continue?',
              timeoutSeconds: 3600,
              onTimeout: 'rollback',
            },
          }
        : {}),
    };

    // Act
    const result = await finishRotation(makeParams({ succeeded: false, state }));

    // Assert
    expect(result.status).toBe('REJECTED');
    // A timeout names the gate and how long it waited (the engine's error says only States.Timeout).
    expect(result.error).toBe(
      errorName === 'States.Timeout'
        ? 'States.Timeout: no answer at "Approval 3: edge rollout OK, continue?" within 3600 s (approvals.onTimeout: rollback)'
        : `${errorName}: ${cause}`,
    );
    expect(s3.json<{ status: string }>(ARTIFACTS, REPORT_KEY)!.status).toBe('REJECTED');
    // A timeout is not a rejection by someone: the subject says the gate timed out and it rolled back.
    expect(published().Subject).toBe(
      errorName === 'States.Timeout'
        ? '[cert-rotation gitter.im] Rotation ROLLED BACK: Approval 3 timed out after 3600 s'
        : '[cert-rotation gitter.im] Rotation REJECTED',
    );
  });

  test('a failed rollback is shouted in the message and recorded in the report', async () => {
    // Arrange
    const state: FinishState = {
      ...STATE,
      error: { Error: 'ApprovalRejected', Cause: 'no' },
      rollbackError: {
        Error: 'VerificationFailed',
        Cause: lambdaCause('VerificationFailed', 'rollback not verified yet: ELB x:443 serves y'),
      },
    };

    // Act
    await finishRotation(makeParams({ succeeded: false, state }));

    // Assert
    expect(published().Message).toContain('ROLLBACK DID NOT COMPLETE: VerificationFailed: rollback not verified yet: ELB x:443 serves y');
    expect(s3.json<{ rollbackError: string }>(ARTIFACTS, REPORT_KEY)!.rollbackError).toBe(
      'VerificationFailed: rollback not verified yet: ELB x:443 serves y',
    );
  });

  test('a run that stopped before validation still reports (unknown fields shown as such)', async () => {
    // Arrange
    const state: FinishState = { error: { Error: 'InputInvalid', Cause: lambdaCause('InputInvalid', 'secret x does not exist') } };

    // Act
    const result = await finishRotation(makeParams({ succeeded: false, state }));

    // Assert
    expect(result.status).toBe('FAILED');
    const message = published().Message!;
    expect(message).toContain('New certificate: (not validated)');
    expect(message).toContain('Reason: InputInvalid: secret x does not exist');
    expect(s3.json<Record<string, unknown>>(ARTIFACTS, REPORT_KEY)).toMatchObject({
      certificate: { new: null, previous: null },
      uploaded: null,
      changes: [],
    });
  });

  test('pruning done: the report and the email list what was pruned and what was kept, and why', async () => {
    // Arrange
    const prune = {
      pruned: [{ name: 'STAR.gitter.im_2023-11-01', uploadDate: '2023-11-01T00:00:00.000Z' }],
      kept: [{ name: 'STAR.gitter.im_2025-11-20', reason: 'the previous certificate (kept for rollback)' }],
      recordKey: `executions/${EXECUTION}/prune.json`,
    };

    // Act
    const result = await finishRotation(makeParams({ state: { ...STATE, prune } }));

    // Assert
    expect(result).toEqual({ status: 'SUCCEEDED', reportKey: REPORT_KEY });
    expect(s3.json<Record<string, unknown>>(ARTIFACTS, REPORT_KEY)!.prune).toEqual({ ...prune, pruned: ['STAR.gitter.im_2023-11-01'] });
    const { Subject, Message } = published();
    expect(Subject).toBe('[cert-rotation gitter.im] Rotation SUCCEEDED');
    expect(Message).toContain('Old IAM certificates pruned: STAR.gitter.im_2023-11-01');
    expect(Message).toContain('Kept in IAM:\n  STAR.gitter.im_2025-11-20: the previous certificate (kept for rollback)');
  });

  test('pruning failed after a successful rotation: still SUCCEEDED, with the warning in the subject, the email and the report', async () => {
    // Arrange
    const pruneError = {
      Error: 'AccessDenied',
      Cause: JSON.stringify({ errorType: 'AccessDenied', errorMessage: 'not authorized to perform iam:DeleteServerCertificate' }),
    };

    // Act
    const result = await finishRotation(makeParams({ state: { ...STATE, pruneError } }));

    // Assert
    expect(result).toEqual({
      status: 'SUCCEEDED',
      reportKey: REPORT_KEY,
      pruneWarning: 'AccessDenied: not authorized to perform iam:DeleteServerCertificate',
    });
    const report = s3.json<Record<string, unknown>>(ARTIFACTS, REPORT_KEY)!;
    expect(report.status).toBe('SUCCEEDED');
    expect(report.prune).toEqual({ pruned: [], error: 'AccessDenied: not authorized to perform iam:DeleteServerCertificate' });
    const { Subject, Message } = published();
    expect(Subject).toBe('[cert-rotation gitter.im] Rotation SUCCEEDED (pruning old IAM certificates failed)');
    expect(Message).toContain(
      'WARNING: pruning old IAM certificates failed (the rotation itself succeeded; nothing was rolled back): AccessDenied: not authorized',
    );
  });

  test('a failed rotation never reports a prune warning (pruning runs only after success)', async () => {
    // Arrange
    const state = { ...STATE, error: { Error: 'VerificationFailed', Cause: 'canary' }, pruneError: { Error: 'X', Cause: 'y' } };

    // Act
    const result = await finishRotation(makeParams({ succeeded: false, state }));

    // Assert
    expect(result).not.toHaveProperty('pruneWarning');
    expect(published().Subject).not.toContain('pruning');
  });

  test('the report never carries the secret reference or other state it does not need', async () => {
    // Arrange (defaults: the state holds the secret ARN)

    // Act
    await finishRotation(makeParams());

    // Assert
    expect(s3.text(ARTIFACTS, REPORT_KEY)).not.toContain('secretsmanager');
    expect(published().Message).not.toContain('secretsmanager');
  });
});
