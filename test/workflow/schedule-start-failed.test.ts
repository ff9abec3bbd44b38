/**
 * The schedule's failed start (issue 9 items 7 and 8): when the expiry check's StartExecution is
 * refused (a fault on the simulated Step Functions, `{"operation": "sfn:StartExecution", ...}` in
 * the faults file), the check emails ACTION NEEDED with the error and the steps and fails (its
 * errors alarm), and the rehearsal reports it in `trigger` and exits 1 (FAILED, nothing changed)
 * instead of crashing (3).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitCodeFor, main } from '../../local/cli';
import { defaultFleet, type SimulatedAccount } from '../../local/sim';
import { rehearse } from '../support/rehearsal';

jest.setTimeout(180_000);

const standIn = (source: Readonly<Record<string, unknown>>) => ({ kind: 'stand-in (the staged certificate)', input: source });
const today = () => `scheduled-${new Date().toISOString().slice(0, 10)}`;

describe('--trigger schedule when StartExecution fails', () => {
  test('AccessDeniedException: FAILED, trigger.started false with the error, the ACTION NEEDED email with the steps, exit 1, nothing changed', async () => {
    // Arrange
    let sim: SimulatedAccount | undefined;

    // Act
    const report = await rehearse({
      fleet: { ...defaultFleet(), currentCertDaysLeft: 20 },
      trigger: 'schedule',
      automaticSource: standIn,
      faults: [{ operation: 'sfn:StartExecution', error: 'AccessDeniedException', count: 1 }],
      beforeStart: (s) => {
        sim = s;
      },
    });

    // Assert
    expect(report.trigger).toEqual({
      kind: 'schedule',
      daysLeft: 20,
      daysBeforeExpiry: 30,
      due: true,
      started: false,
      decision: 'check-failed',
      executions: [],
      notified: ['ACTION NEEDED: scheduled rotation not started: gitter.im, 20 days left'],
      automaticSource: 'stand-in (the staged certificate)',
      error: 'AccessDeniedException: AccessDeniedException (injected by the faults file for sfn:StartExecution)',
    });
    expect(report.status).toBe('FAILED');
    expect(report.error).toBe(
      'ScheduledStartFailed: the expiry check failed, no rotation started: AccessDeniedException: AccessDeniedException (injected by the faults file for sfn:StartExecution)',
    );
    expect(report.execution).toBe('');
    expect(report.stateTransitions).toBe(0);
    expect(report.apiCalls['sfn:StartExecution']).toBe(1);
    expect(report.apiCalls['cloudwatch:PutMetricData']).toBe(1);
    expect(report.targets.filter((t) => t.changed)).toEqual([]);
    expect(exitCodeFor(report)).toBe(1);
    const email = sim!.sns.messages.at(-1)!.message;
    expect(email).toContain(`the scheduled rotation ${today()} did not start: AccessDeniedException`);
    expect(email).toContain('Nothing was started and nothing changed.');
    expect(email).toContain(`--name ${today()} --input '{"source":`);
    expect(report.secretScan.findings).toBe(0);
  });

  test('ExecutionAlreadyExists is "already started today", not a failure: NOT_STARTED, exit 0', async () => {
    const report = await rehearse({
      fleet: { ...defaultFleet(), currentCertDaysLeft: 20 },
      trigger: 'schedule',
      automaticSource: standIn,
      faults: [{ operation: 'sfn:StartExecution', error: 'ExecutionAlreadyExists', count: 1 }],
    });

    expect(report.trigger).toMatchObject({ started: false, decision: 'already-started' });
    expect(report.trigger.kind === 'schedule' && report.trigger.error).toBeUndefined();
    expect(report.status).toBe('NOT_STARTED');
    expect(exitCodeFor(report)).toBe(0);
  });

  test('the CLI: --trigger schedule --source acme with a StartExecution fault exits 1 (not 3) and writes the report', async () => {
    // Arrange
    const dir = mkdtempSync(join(tmpdir(), 'schedule-start-failed-'));
    const faults = join(dir, 'faults.json');
    writeFileSync(faults, JSON.stringify([{ operation: 'sfn:StartExecution', error: 'StateMachineDeleting', count: 1 }]));
    const fleet = join(dir, 'fleet.json');
    writeFileSync(fleet, JSON.stringify({ ...defaultFleet(), currentCertDaysLeft: 20 }));
    const reportFile = join(dir, 'r.json');
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);

    // Act
    let code: number;
    try {
      code = await main([
        '--trigger',
        'schedule',
        '--source',
        'acme',
        '--fleet',
        fleet,
        '--faults',
        faults,
        '--report',
        reportFile,
        '--quiet',
      ]);
    } finally {
      stderr.mockRestore();
    }

    // Assert
    expect(code).toBe(1);
    const r = JSON.parse(readFileSync(reportFile, 'utf8')) as { status: string; trigger: { started: boolean; error?: string } };
    expect(r.status).toBe('FAILED');
    expect(r.trigger.started).toBe(false);
    expect(r.trigger.error).toMatch(/^StateMachineDeleting: /);
  });
});
