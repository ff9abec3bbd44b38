/**
 * The rehearsal's approval gates: which gate `--approve timeout:GATE` lets time out, and how the
 * engine times it out. The engine raises `States.Timeout` from the callback task's own
 * `TimeoutSeconds`, with a real timer: that gate runs with `TimeoutSeconds` = {@link TIMEOUT_REAL_SECONDS}
 * (as Waits and retry pauses run shortened), and the simulated clock is advanced by the gate's
 * configured timeout when it fires (phase-accounting.ts), so the link expires in simulated time
 * too. Every other gate keeps its configured timeout.
 */
import { gateMatches, timeoutGateOf, type ApproveMode } from './approver';
import type { EngineState } from './local-engine';
import type { Outcome } from './report';
import { UsageError } from './sim';

/** Real seconds the gate `timeout:GATE` names waits before the engine times it out (the engine wants whole seconds). */
export const TIMEOUT_REAL_SECONDS = 1;

export interface RehearsalGates {
  /** The state name of the gate `timeout:GATE` lets time out. */
  readonly timeoutGate?: string;
  /** For the engine: that gate's TimeoutSeconds in real seconds. */
  readonly timeoutOverrides: Readonly<Record<string, number>>;
}

/** The gate name (`start`, `canary`, `edge`, `nodesBeta`...) a callback state passes to request-approval. */
function gateNameOf(state: EngineState): string {
  const payload = (state as { Parameters?: { Payload?: { gate?: unknown } } }).Parameters?.Payload;
  return typeof payload?.gate === 'string' ? payload.gate : '';
}

/**
 * Checks that `reject:GATE` / `timeout:GATE` name a gate of this workflow (a usage error listing
 * the gates otherwise), and picks the gate that times out.
 */
export function rehearsalGates(
  approve: ApproveMode,
  states: ReadonlyMap<string, EngineState>,
  gateNames: readonly string[],
): RehearsalGates {
  const list = () => gateNames.map((g) => `"${g}" (${gateNameOf(states.get(g)!)})`).join(', ');
  if (approve.mode === 'reject' && !gateNames.some((g) => gateMatches(g, approve.gate))) {
    throw new UsageError(`--approve reject:${approve.gate} matches no approval gate; gates: ${list()}`);
  }
  if (approve.mode !== 'timeout') return { timeoutOverrides: {} };
  const timeoutGate = timeoutGateOf(
    gateNames.map((stateName) => ({ stateName, gate: gateNameOf(states.get(stateName)!) })),
    approve.gate,
  );
  if (!timeoutGate) throw new UsageError(`--approve timeout:${approve.gate} matches no approval gate; gates: ${list()}`);
  return { timeoutGate, timeoutOverrides: { [timeoutGate]: TIMEOUT_REAL_SECONDS } };
}

/**
 * A gate timeout ends the execution with the engine's own `States.Timeout` (no gate named); the
 * workflow's report (report.json, written by the failure path) names the gate and how long it
 * waited: the report's `error` takes that, the status stays what the execution's error gives.
 */
export function namedGateTimeout(outcome: Outcome, gateTimedOut: boolean, workflowReportText: () => string | undefined): Outcome {
  if (!gateTimedOut || !outcome.error?.startsWith('States.Timeout')) return outcome;
  const named = (JSON.parse(workflowReportText() ?? '{}') as { error?: string }).error;
  return named?.startsWith('States.Timeout: no answer at ') ? { ...outcome, error: named } : outcome;
}
