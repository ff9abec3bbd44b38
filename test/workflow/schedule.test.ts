import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitCodeFor, main } from '../../local/cli';
import { defaultFleet } from '../../local/sim';
import { rehearse } from '../support/rehearsal';

/**
 * `--trigger schedule` (REHEARSAL.md): the real expiry-check handler runs first against the
 * simulated account and decides; the rehearsal runs only what the simulated Step Functions shows
 * it started. The staged source needs an operator, so these tests give the check a stand-in
 * automatic source made of the staged certificate (what `--source acme|acm` gives it for real).
 */
const standIn = (source: Readonly<Record<string, unknown>>) => ({ kind: 'stand-in (the staged certificate)', input: source });
const today = () => `scheduled-${new Date().toISOString().slice(0, 10)}`;

describe('--trigger schedule', () => {
  test('20 days left, threshold 30, automatic source: starts exactly one rotation, named scheduled-<date>, which succeeds', async () => {
    // Act
    const report = await rehearse({ fleet: { ...defaultFleet(), currentCertDaysLeft: 20 }, trigger: 'schedule', automaticSource: standIn });

    // Assert
    expect(report.trigger).toMatchObject({
      kind: 'schedule',
      daysLeft: 20,
      daysBeforeExpiry: 30,
      due: true,
      started: true,
      decision: 'started',
    });
    expect(report.apiCalls['sfn:StartExecution']).toBe(1);
    expect(report.trigger.kind === 'schedule' && report.trigger.executions).toEqual([today()]);
    expect(report.execution).toBe(today());
    expect(report.status).toBe('SUCCEEDED');
    expect(report.apiCalls['cloudwatch:PutMetricData']).toBe(1);
    expect(report.secretScan.findings).toBe(0);
  });

  test('60 days left: starts none, NOT_STARTED with trigger.due false, exit code 0, every target unchanged', async () => {
    // Act
    const report = await rehearse({ fleet: { ...defaultFleet(), currentCertDaysLeft: 60 }, trigger: 'schedule', automaticSource: standIn });

    // Assert
    expect(report.trigger).toMatchObject({
      kind: 'schedule',
      daysLeft: 60,
      due: false,
      started: false,
      decision: 'not-due',
      executions: [],
    });
    expect(report.apiCalls['sfn:StartExecution']).toBeUndefined();
    expect(report.status).toBe('NOT_STARTED');
    expect(report.stateTransitions).toBe(0);
    expect(report.targets.filter((t) => t.changed)).toEqual([]);
    expect(exitCodeFor(report)).toBe(0);
  });

  test('due with the staged source (no automatic source): the operator is emailed the steps, nothing is started', async () => {
    // Act
    const report = await rehearse({ fleet: { ...defaultFleet(), currentCertDaysLeft: 20 }, trigger: 'schedule' });

    // Assert
    expect(report.trigger).toMatchObject({ due: true, started: false, decision: 'renewal-due-email' });
    expect(report.notifications).toEqual([{ subject: 'Certificate renewal due in 20 days: gitter.im' }]);
    expect(report.apiCalls['sfn:StartExecution']).toBeUndefined();
    expect(report.status).toBe('NOT_STARTED');
  });

  test('due while a rotation runs: the check does nothing', async () => {
    // Act
    const report = await rehearse({
      fleet: { ...defaultFleet(), currentCertDaysLeft: 20 },
      trigger: 'schedule',
      automaticSource: standIn,
      beforeStart: (sim, { stateMachineArn }) =>
        sim.sfn.registerExecution({
          executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:rotate-by-hand`,
          stateMachineArn,
          name: 'rotate-by-hand',
          status: 'RUNNING',
        }),
    });

    // Assert
    expect(report.trigger).toMatchObject({ due: true, started: false, decision: 'already-running' });
    expect(report.apiCalls['sfn:StartExecution']).toBeUndefined();
    expect(report.status).toBe('NOT_STARTED');
  });

  test('the CLI: --trigger schedule with 60 days exits 0 and reports trigger; a bad --trigger is a usage error', async () => {
    // Arrange
    const dir = mkdtempSync(join(tmpdir(), 'rehearsal-schedule-'));
    const fleet = join(dir, 'fleet.json');
    writeFileSync(fleet, JSON.stringify({ ...defaultFleet(), currentCertDaysLeft: 60 }));
    const reportFile = join(dir, 'report.json');
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);

    // Act
    const code = await main(['--trigger', 'schedule', '--fleet', fleet, '--report', reportFile, '--quiet']);
    const bad = await main(['--trigger', 'cron', '--quiet']);
    spy.mockRestore();

    // Assert
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as { trigger: unknown; status: string };
    expect(report.trigger).toMatchObject({ kind: 'schedule', daysLeft: 60, due: false, started: false });
    expect(report.status).toBe('NOT_STARTED');
    expect(bad).toBe(2);
  });
});
