/**
 * The rehearsal's gate timeouts: which gate `timeout:GATE` names, the engine's copy of the
 * definition with that gate's TimeoutSeconds in real seconds, and how a stop at a gate is judged.
 */
import { exitCodeFor } from '../../local/cli';
import { timeoutGateOf } from '../../local/approver';
import { withTimeoutOverrides, type EngineState } from '../../local/local-engine';
import { judgeStop, type TargetReport } from '../../local/report';
import type { AslMachine } from '../../local/walk-states';

const GATES = [
  { gate: 'start', stateName: 'Approval 1: start the rotation?' },
  { gate: 'canary', stateName: 'Approval 2: canary edge OK, continue?' },
  { gate: 'edge', stateName: 'Approval 3: edge rollout OK, continue?' },
  { gate: 'nodesBeta', stateName: 'Approval 4: beta nodes OK, continue?' },
];

describe('timeoutGateOf', () => {
  test.each([
    ['edge', 'Approval 3: edge rollout OK, continue?'],
    ['EDGE', 'Approval 3: edge rollout OK, continue?'],
    ['nodesbeta', 'Approval 4: beta nodes OK, continue?'],
    ['beta', 'Approval 4: beta nodes OK, continue?'],
    ['Approval 2', 'Approval 2: canary edge OK, continue?'],
    ['rollout', 'Approval 3: edge rollout OK, continue?'],
  ])('%s -> %s (a gate name first, else the first state name containing it)', (wanted, stateName) => {
    expect(timeoutGateOf(GATES, wanted)).toBe(stateName);
  });

  test('no match is undefined', () => {
    expect(timeoutGateOf(GATES, 'no-such-gate')).toBeUndefined();
  });
});

describe('withTimeoutOverrides', () => {
  const definition: AslMachine<EngineState> & { TimeoutSeconds?: number } = {
    StartAt: 'G',
    TimeoutSeconds: 518_400,
    States: { G: { Type: 'Task', TimeoutSeconds: 86_400 }, W: { Type: 'Wait', Seconds: 30 } },
  };

  test("sets the named task's TimeoutSeconds for the engine and leaves the definition itself alone", () => {
    const run = withTimeoutOverrides(definition, { G: 1 }) as typeof definition;
    expect(run.States?.G).toEqual({ Type: 'Task', TimeoutSeconds: 1 });
    expect(run.TimeoutSeconds).toBe(518_400);
    expect(definition.States?.G?.TimeoutSeconds).toBe(86_400);
  });

  test('an execution timeout longer than a Node.js timer is left out (the engine would fire it at once)', () => {
    const long = { ...definition, TimeoutSeconds: 5 * 7 * 86_400 + 86_400 };
    expect((withTimeoutOverrides(long, {}) as typeof definition).TimeoutSeconds).toBeUndefined();
  });

  test.each([
    [{ W: 1 }, 'timeout override: "W" is not a top-level Task state'],
    [{ Missing: 1 }, 'timeout override: "Missing" is not a top-level Task state'],
    [{ G: 0.5 }, 'timeout override of "G": 0.5 is not a whole number of seconds >= 1'],
  ])('%j is refused', (overrides, message) => {
    expect(() => withTimeoutOverrides(definition, overrides)).toThrow(message);
  });
});

describe('judgeStop', () => {
  const OLD = 'a'.repeat(64);
  const NEW = 'b'.repeat(64);
  const target = (key: string, before: string, servedAfter: string): TargetReport => ({
    key,
    kind: 'elb',
    id: key,
    port: 443,
    before,
    apiBefore: before,
    after: servedAfter,
    servedAfter,
    changed: before !== servedAfter,
    rolledBack: false,
  });
  const stopped = { status: 'FAILED' as const, error: 'GateTimedOut: Stopped at "Approval 3"...' };
  const workflow = (keptOnNew: string[]) => () =>
    JSON.stringify({ stopped: { gate: 'edge', stateName: 'Approval 3', timeoutSeconds: 3600, keptOnNew } });

  test('every target on what it served before or on the new certificate, as the workflow says: consistent, exit 1', () => {
    const targets = [target('elb/a/443', OLD, NEW), target('elb/b/443', OLD, OLD)];
    const judged = judgeStop(stopped, targets, NEW, workflow(['elb/a/443']));
    expect(judged).toEqual({
      gate: 'edge',
      stateName: 'Approval 3',
      timeoutSeconds: 3600,
      changesKept: true,
      keptOnNew: ['elb/a/443'],
      workflowKeptOnNew: ['elb/a/443'],
      neitherCertificate: [],
      consistent: true,
    });
    expect(exitCodeFor({ status: 'FAILED', stopped: judged, secretScan: { findings: 0 } as never })).toBe(1);
  });

  test('a target that serves neither certificate is named, and the stop is not consistent: exit 4', () => {
    const targets = [target('elb/a/443', OLD, NEW), target('elb/b/443', OLD, 'c'.repeat(64))];
    const judged = judgeStop(stopped, targets, NEW, workflow(['elb/a/443']));
    expect(judged).toMatchObject({ neitherCertificate: ['elb/b/443'], consistent: false });
    expect(exitCodeFor({ status: 'FAILED', stopped: judged, secretScan: { findings: 0 } as never })).toBe(4);
  });

  test('a target on the new certificate that the workflow does not say it kept is not consistent', () => {
    const targets = [target('elb/a/443', OLD, NEW), target('elb/b/443', OLD, NEW)];
    expect(judgeStop(stopped, targets, NEW, workflow(['elb/a/443']))).toMatchObject({ consistent: false });
  });

  test('any other ending is no stop', () => {
    expect(judgeStop({ status: 'FAILED', error: 'VerificationFailed: x' }, [], NEW, workflow([]))).toBeUndefined();
    expect(judgeStop({ status: 'SUCCEEDED' }, [], NEW, workflow([]))).toBeUndefined();
  });
});
