/**
 * A gate timed out with `approvals.onTimeout: stop` (lambdas/finish/stopped.ts): nothing is rolled
 * back; the report and the email say where it stopped, what is kept on the new certificate, what
 * still serves the previous one, and how to finish or undo.
 */
import { IAMClient } from '@aws-sdk/client-iam';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { finishRotation, type FinishParams, type FinishState } from '../../../lambdas/finish/domain';
import { ArtifactStore } from '../../../lambdas/shared/artifacts';
import { ChangeLedger } from '../../../lambdas/shared/ledger';
import { silentLogger } from '../../../lambdas/shared/logger';
import { createInMemoryS3 } from '../../support/handler-s3';
import { canaryTarget, distributionTarget, seedLedger, webappTarget } from '../../support/handler-support';

const ARTIFACTS = 'cert-rotation-artifacts-123456789012';
const EXECUTION = 'rotate-2026-11-27';
const REPORT_KEY = `executions/${EXECUTION}/report.json`;
const PREVIOUS_ARN = 'arn:aws:iam::123456789012:server-certificate/cloudfront/gitter-production/STAR.gitter.im_2025-11-15';
const SM = 'arn:aws:states:eu-west-1:123456789012:stateMachine:CertRotation-gitter-im';

const s3 = createInMemoryS3();
const snsMock = mockClient(SNSClient);
const ledger = () => new ChangeLedger(new ArtifactStore(s3.client, ARTIFACTS), EXECUTION);
const at = new Date('2026-11-27T12:00:00.000Z');

function stoppedAt(gate: string, stateName: string): FinishState {
  return {
    current: {
      arn: PREVIOUS_ARN,
      name: 'STAR.gitter.im_2025-11-15',
      sha256: 'a'.repeat(64),
      serial: '01',
      notAfter: '2026-12-10T00:00:00.000Z',
    },
    validation: { summary: { sha256: 'b'.repeat(64), serial: '02', notAfter: '2027-02-25T00:00:00.000Z' } },
    error: { Error: 'States.Timeout', Cause: 'States.Timeout' },
    approvalTimeout: { gateTimedOut: true, gate, stateName, timeoutSeconds: 3600, onTimeout: 'stop', stateMachineArn: SM },
  };
}

function makeParams(overrides: Partial<FinishParams> = {}): FinishParams {
  return {
    sns: new SNSClient({ region: 'eu-west-1' }),
    iam: new IAMClient({ region: 'us-east-1' }),
    // Not called: a stop is no success, so monit's parameter is not written.
    ssm: new SSMClient({ region: 'eu-west-1' }),
    store: new ArtifactStore(s3.client, ARTIFACTS),
    ledger: ledger(),
    logger: silentLogger,
    topicArn: 'arn:aws:sns:eu-west-1:123456789012:cert-rotation',
    domain: 'gitter.im',
    executionName: EXECUTION,
    succeeded: false,
    state: stoppedAt('edge', 'Approval 3: edge rollout OK, continue?'),
    now: () => new Date('2026-11-28T12:30:00.000Z'),
    ...overrides,
  };
}

function published(): { Subject?: string; Message?: string } {
  const calls = snsMock.commandCalls(PublishCommand);
  expect(calls).toHaveLength(1);
  return calls[0].args[0].input;
}

beforeEach(() => {
  s3.reset();
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

describe('finishRotation after a gate timeout with onTimeout: stop', () => {
  test('keeps every change: FAILED with GateTimedOut, the report says what is on the new certificate, notBack is empty', async () => {
    // Arrange: the canary and the edge were switched and verified before Approval 3
    await seedLedger(ledger(), canaryTarget, { at, phase: 'canary' });
    await seedLedger(ledger(), webappTarget, { at });
    await seedLedger(ledger(), distributionTarget, { at });

    // Act
    const result = await finishRotation(makeParams());

    // Assert
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe(
      'GateTimedOut: stopped at "Approval 3: edge rollout OK, continue?" after no answer for 3600 s (approvals.onTimeout: stop); nothing was rolled back: 3 target(s) kept on the new certificate',
    );
    expect(result.stopCause).toContain(
      'Kept on the new certificate: CloudFront E2QWRUHAPOMQZL (cdn.gitter.im), ELB apps-servers-elb-prod:6667, ELB webapp-elb-prod:443;',
    );
    expect(result.stopCause).toContain(`Report: ${REPORT_KEY}.`);
    const report = s3.json<Record<string, unknown>>(ARTIFACTS, REPORT_KEY)!;
    expect(report).toMatchObject({
      status: 'FAILED',
      error: result.error,
      rollback: null,
      notBack: [],
      stopped: {
        gate: 'edge',
        stateName: 'Approval 3: edge rollout OK, continue?',
        timeoutSeconds: 3600,
        changesKept: true,
        keptOnNew: ['cloudfront/E2QWRUHAPOMQZL', 'elb/apps-servers-elb-prod/6667', 'elb/webapp-elb-prod/443'],
        unconfirmed: [],
      },
    });
  });

  test('the email: ACTION NEEDED, where it stopped, what was kept, how to finish (canary back, then a new rotation) and how to undo', async () => {
    // Arrange
    await seedLedger(ledger(), canaryTarget, { at, phase: 'canary' });
    await seedLedger(ledger(), webappTarget, { at });

    // Act
    await finishRotation(makeParams());

    // Assert
    const { Subject, Message } = published();
    expect(Subject).toBe('ACTION NEEDED: [cert-rotation gitter.im] STOPPED at a gate (timeout), 2 target(s) kept on new');
    const text = Message ?? '';
    const flat = text.replace(/\n\s*/g, ' ');
    expect(flat).toContain('Rotation of gitter.im stopped at "Approval 3: edge rollout OK, continue?" after no answer for 3600 s');
    expect(flat).toContain('Nothing was rolled back. Every target serves a valid certificate: the new one or the previous one.');
    expect(text).toContain('gate:\n  ELB apps-servers-elb-prod:6667\n  ELB webapp-elb-prod:443\n');
    expect(flat).toContain('Kept on the NEW certificate (2), each verified by its phase before this gate:');
    expect(flat).toContain('Every other target of the plan still serves the PREVIOUS certificate (expires 2026-12-10T00:00:00.000Z).');
    expect(text).toContain(
      `  aws elb set-load-balancer-listener-ssl-certificate \\\n    --load-balancer-name apps-servers-elb-prod --load-balancer-port 6667 \\\n    --ssl-certificate-id ${PREVIOUS_ARN}`,
    );
    expect(text).toContain(
      `  aws stepfunctions start-execution \\\n    --state-machine-arn ${SM} \\\n    --input '<the input of ${EXECUTION}>'`,
    );
    expect(flat).toContain('To undo: switch each target kept above back to the previous certificate');
    expect(text).toContain(`Report: ${REPORT_KEY}`);
    // Short lines for a phone: prose is wrapped; only a line holding an ARN may be longer.
    expect(text.split('\n').filter((l) => l.length > 80 && !l.includes('arn:aws:'))).toEqual([]);
  });

  test('a timeout at Approval 1 stopped before anything changed: no ACTION NEEDED, start again when someone can approve', async () => {
    // Act
    const result = await finishRotation(makeParams({ state: stoppedAt('start', 'Approval 1: start the rotation?') }));

    // Assert
    expect(result.error).toContain('nothing was rolled back: nothing had changed');
    const { Subject, Message } = published();
    expect(Subject).toBe('[cert-rotation gitter.im] Rotation STOPPED at a gate (timeout): nothing changed');
    expect(Message?.replace(/\n\s*/g, ' ')).toContain('Nothing had changed yet: every target still serves the previous certificate.');
    expect(Message).not.toContain('To undo');
  });

  test('an entry recorded but never confirmed switched is named for checking by hand', async () => {
    // Arrange
    await seedLedger(ledger(), canaryTarget, { at, phase: 'canary' });
    await seedLedger(ledger(), webappTarget, { at, status: 'intended' });

    // Act
    await finishRotation(makeParams());

    // Assert
    expect(published().Message).toContain('Recorded but not confirmed switched (check these by hand):\n  ELB webapp-elb-prod:443');
    expect(s3.json<{ stopped: { unconfirmed: string[] } }>(ARTIFACTS, REPORT_KEY)!.stopped.unconfirmed).toEqual([
      'elb/webapp-elb-prod/443',
    ]);
  });

  test('onTimeout: rollback is not a stop: the ordinary failure report (REJECTED), naming the gate', async () => {
    // Arrange
    const state = stoppedAt('edge', 'Approval 3: edge rollout OK, continue?');

    // Act
    const result = await finishRotation(
      makeParams({ state: { ...state, approvalTimeout: { ...state.approvalTimeout, onTimeout: 'rollback' } } }),
    );

    // Assert
    expect(result.status).toBe('REJECTED');
    expect(result.stopCause).toBeUndefined();
    expect(s3.json<Record<string, unknown>>(ARTIFACTS, REPORT_KEY)!.stopped).toBeUndefined();
  });
});
