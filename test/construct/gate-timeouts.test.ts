/**
 * Gate timeouts (issue 9 item 4): each gate's TimeoutSeconds is its own (`approvals.gates`) or the
 * default; its timeout is recorded with the gate's name before the timeout path; with
 * `onTimeout: stop` that path reports and fails as GateTimedOut without touching the rollback; and
 * the execution's own timeout still covers every gate waiting its full timeout.
 */
import { gateNamesOf, resolveConfig } from '../../lib/config';
import { nodeGateName } from '../../lib/phases/node-approval';
import { ERR, STATE, STOP_STATE, gateTimedOutName } from '../../lib/workflow';
import { definitionOf, exampleRawConfig, stateNamed, successors, synthesize, allStates, type AslDefinition } from './synth-helpers';

const GATES: Array<[string, string]> = [
  [STATE.gateStart, 'start'],
  [STATE.gateCanary, 'canary'],
  [STATE.gateEdge, 'edge'],
  [nodeGateName(4, 'beta'), 'nodesBeta'],
  [nodeGateName(5, 'prod-canary'), 'nodesProdCanary'],
];

function synthesizeWith(approvals: Record<string, unknown>): AslDefinition {
  const raw = exampleRawConfig();
  return definitionOf(synthesize(resolveConfig({ ...raw, approvals })).json);
}

/** Every state reachable from `start`, by name. */
function reachable(definition: AslDefinition, start: string): Set<string> {
  const seen = new Set<string>();
  const todo = [start];
  while (todo.length > 0) {
    const name = todo.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    todo.push(...successors(stateNamed(definition, name)));
  }
  return seen;
}

describe('per-gate timeouts, onTimeout: stop', () => {
  let definition: AslDefinition;
  beforeAll(() => {
    definition = synthesizeWith({
      timeoutSeconds: 7200,
      onTimeout: 'stop',
      gates: { edge: { timeoutSeconds: 600_000 }, nodesBeta: { timeoutSeconds: 900 } },
    });
  });

  test('the gates the workflow builds are exactly the ones the config knows by name (approvals.gates refuses others)', () => {
    const built = allStates(definition)
      .filter(({ state }) => state.Resource?.endsWith(':states:::lambda:invoke.waitForTaskToken'))
      .map(({ state }) => (state.Parameters?.Payload as { gate: string }).gate)
      .sort();
    expect(built).toEqual(gateNamesOf(resolveConfig(exampleRawConfig()).nodePhases.map((p) => p.name)).sort());
    expect(built).toEqual(GATES.map(([, g]) => g).sort());
  });

  test.each(GATES)('"%s" (%s) waits its own timeout, passes it to its email, and records it when it fires', (gate, name) => {
    const seconds = name === 'edge' ? 600_000 : name === 'nodesBeta' ? 900 : 7200;
    const st = stateNamed(definition, gate);
    expect(st.TimeoutSeconds).toBe(seconds);
    expect((st.Parameters?.Payload as { timeoutSeconds: number }).timeoutSeconds).toBe(seconds);
    expect(st.Catch?.[0]).toEqual({ ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: gateTimedOutName(gate) });
    expect(stateNamed(definition, gateTimedOutName(gate))).toEqual({
      Type: 'Pass',
      Parameters: {
        gateTimedOut: true,
        gate: name,
        stateName: gate,
        timeoutSeconds: seconds,
        onTimeout: 'stop',
        'stateMachineArn.$': '$$.StateMachine.Id',
      },
      ResultPath: '$.approvalTimeout',
      Next: STOP_STATE.finishStopped,
    });
  });

  test("the stop path reports (finish), then fails as GateTimedOut with the report's cause; it never reaches a rollback state", () => {
    const report = stateNamed(definition, STOP_STATE.finishStopped);
    expect(report.Parameters?.FunctionName).toEqual(stateNamed(definition, STATE.finishSuccess).Parameters?.FunctionName);
    expect(report.Next).toBe(STOP_STATE.stoppedAtGate);
    expect(stateNamed(definition, STOP_STATE.stoppedAtGate)).toEqual({
      Type: 'Fail',
      Error: ERR.gateTimedOut,
      CausePath: '$.report.stopCause',
    });
    expect(report.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.reportError', Next: STOP_STATE.stoppedAtGateUnreported }]);
    expect(stateNamed(definition, STOP_STATE.stoppedAtGateUnreported)).toMatchObject({ Type: 'Fail', Error: ERR.gateTimedOut });
    const after = reachable(definition, gateTimedOutName(STATE.gateEdge));
    expect([...after].filter((n) => n.startsWith('Roll back') || n === STATE.failed)).toEqual([]);
  });

  test('a rejection still rolls back', () => {
    expect(stateNamed(definition, STATE.gateEdge).Catch?.[1]).toEqual({
      ErrorEquals: ['States.ALL'],
      ResultPath: '$.error',
      Next: STATE.rollback,
    });
  });

  test('the execution timeout covers every gate waiting its own full timeout, plus a day', () => {
    expect(definition.TimeoutSeconds).toBe(7200 + 7200 + 600_000 + 900 + 7200 + 86_400);
  });
});

describe('the default: one timeout for every gate, onTimeout: rollback', () => {
  test('every gate waits approvals.timeoutSeconds, and its timeout goes to the rollback; no stop path exists', () => {
    const definition = synthesizeWith({ timeoutSeconds: 3600 });
    for (const [gate] of GATES) {
      expect(stateNamed(definition, gate).TimeoutSeconds).toBe(3600);
      expect(stateNamed(definition, gateTimedOutName(gate)).Next).toBe(STATE.rollback);
    }
    const names = allStates(definition).map(({ name }) => name);
    expect(names.filter((n) => (Object.values(STOP_STATE) as string[]).includes(n))).toEqual([]);
    expect(definition.TimeoutSeconds).toBe(5 * 3600 + 86_400);
  });
});
