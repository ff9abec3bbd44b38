import type { SimClock } from './sim';
import type { SynthesizedWorkflow } from './template';
import { walkStates, type AslMachine } from './walk-states';
import type { EngineState } from './local-engine';

/** The report phases in flow order, each with the state names its phases declare (`CertRotation.phases`). */
export type DeclaredPhases = SynthesizedWorkflow['phases'];

/** A report phase: FAILED when any state of the phase failed (a Catch taking over included); retries = the engine's StateRetried events. */
export interface PhaseReport {
  readonly name: string;
  readonly status: string;
  readonly retries: number;
  readonly simulatedSeconds: number;
}

/**
 * The report phase of every state of the definition, nested ones included, from what the phases
 * declare. A state that no phase declares (or that two phases claim) stops the rehearsal before it
 * starts, naming it: it would otherwise drop out of the report unseen.
 */
export function phasesOfStates(definition: AslMachine, declared: DeclaredPhases): Map<string, string> {
  const phaseOf = new Map<string, string>();
  const problems: string[] = [];
  for (const { name, states } of declared) {
    for (const state of states) {
      const other = phaseOf.get(state);
      if (other !== undefined && other !== name) problems.push(`state "${state}" is declared by phases "${other}" and "${name}"`);
      else phaseOf.set(state, name);
    }
  }
  const phases = new Map<string, string>();
  for (const { name, path } of walkStates(definition)) {
    const phase = phaseOf.get(name);
    if (phase === undefined) problems.push(`state "${name}" (${path.join('.')}) belongs to no report phase`);
    else phases.set(name, phase);
  }
  if (problems.length > 0) throw new Error(`${problems.join('; ')} (each phase in lib/phases/ declares its states: Phase.declared)`);
  return phases;
}

/** The engine's execution events, as far as the rehearsal reads them. */
export type EventLog =
  | { type: 'StateEntered' | 'StateExited'; state: { name: string; input?: unknown; output?: unknown } }
  | { type: 'StateRetried'; state: { name: string }; retry: { retrier: unknown; attempt: number } }
  | { type: 'StateFailed'; state: { name: string }; Error: string; Cause: unknown }
  | { type: 'StateCaught'; state: { name: string } }
  | {
      type:
        | 'ExecutionStarted'
        | 'ExecutionSucceeded'
        | 'ExecutionFailed'
        | 'ExecutionAborted'
        | 'ExecutionTimeout'
        | 'MapIterationStarted'
        | 'MapIterationSucceeded'
        | 'MapIterationFailed'
        | 'ParallelBranchStarted'
        | 'ParallelBranchSucceeded'
        | 'ParallelBranchFailed';
    };

/** JSON of an engine event with Error objects spelled out (JSON.stringify makes an Error `{}`, hiding its message). */
export function eventText(event: unknown): string {
  return JSON.stringify(event, (_key, value: unknown) =>
    value instanceof Error ? { ...value, name: value.name, message: value.message, stack: value.stack, cause: value.cause } : value,
  );
}

export interface AccountingOptions {
  /** Every state by name, nested ones included. */
  readonly states: ReadonlyMap<string, EngineState>;
  /** The report phase of each state ({@link phasesOfStates}). */
  readonly phaseOfState: ReadonlyMap<string, string>;
  /** The callback (approval) states: a `States.Timeout` there is a gate timeout. */
  readonly gateNames: readonly string[];
  /** The simulated clock: Waits and retry pauses advance it; phases are timed on it. */
  readonly clock: Pick<SimClock, 'advance' | 'simulatedSeconds'>;
  readonly progress: (line: string) => void;
  /** Called with each StateExited (progress lines that read a state's output). */
  readonly onExited?: (state: { name: string; output?: unknown }) => void;
  /** Called when the engine times a gate out (States.Timeout in a callback state). */
  readonly onGateTimedOut?: (state: string) => void;
}

/**
 * Reads the engine's events as they come: the execution history (for the secret scan), the
 * state transitions and largest payload, the simulated time (a Wait or a retry pause advances the
 * simulated clock by its simulated length), progress lines, and per report phase its status,
 * retries and simulated time.
 */
export class ExecutionAccounting {
  /** Each engine event as JSON, in order (the runner appends the outcome). */
  public readonly history: string[] = [];
  public stateTransitions = 0;
  public maxStatePayloadBytes = 0;
  /** A gate ran into its TimeoutSeconds. */
  public gateTimedOut = false;

  private readonly phaseTimes = new Map<string, { start: number; end: number; failed: boolean; retries: number }>();
  private readonly lastAttemptFailed = new Set<string>();

  constructor(private readonly options: AccountingOptions) {}

  /** Consumes the engine's event stream until it ends. */
  public async consume(events: AsyncIterable<EventLog>): Promise<void> {
    for await (const event of events) this.record(event);
  }

  /**
   * After the execution: a failure neither retried nor caught ended the execution. A Fail state
   * ends it as designed: the execution's status says so, and the phase whose state failed first is
   * FAILED already.
   */
  public settle(): void {
    for (const state of this.lastAttemptFailed) this.touch(state, this.options.states.get(state)?.Type === 'Fail' ? {} : { failed: true });
  }

  /** Every phase of the workflow, in order; the ones this run did not reach say so. */
  public phases(declared: DeclaredPhases): PhaseReport[] {
    return declared.map(({ name: p }) => {
      const t = this.phaseTimes.get(p);
      if (!t) return { name: p, status: 'NOT_RUN', retries: 0, simulatedSeconds: 0 };
      return {
        name: p,
        status: t.failed ? 'FAILED' : 'SUCCEEDED',
        retries: t.retries,
        simulatedSeconds: Math.round((t.end - t.start) * 10) / 10,
      };
    });
  }

  private phaseOf(state: string): string {
    const phase = this.options.phaseOfState.get(state);
    if (phase === undefined) throw new Error(`the engine ran state "${state}", which is not in the definition`);
    return phase;
  }

  // A phase is FAILED when any of its states failed: a StateFailed that no StateRetried follows
  // (the engine then catches it, and sends StateExited, or the execution fails). A failed attempt
  // that is retried is counted in `retries`, not as a failure.
  private touch(state: string, change: { failed?: true; retried?: true } = {}): void {
    const phase = this.phaseOf(state);
    const now = this.options.clock.simulatedSeconds();
    const t = this.phaseTimes.get(phase) ?? { start: now, end: now, failed: false, retries: 0 };
    t.end = now;
    if (change.failed) t.failed = true;
    if (change.retried) t.retries += 1;
    this.phaseTimes.set(phase, t);
  }

  private record(event: EventLog): void {
    const { states, clock, progress, gateNames } = this.options;
    this.history.push(eventText(event));
    switch (event.type) {
      case 'StateEntered': {
        this.stateTransitions += 1;
        this.maxStatePayloadBytes = Math.max(this.maxStatePayloadBytes, Buffer.byteLength(JSON.stringify(event.state.input ?? null)));
        const s = states.get(event.state.name);
        if (s?.Type === 'Wait' && typeof s.Seconds === 'number') {
          clock.advance(s.Seconds);
          progress(`  waiting ${s.Seconds}s (simulated): ${event.state.name}`);
        }
        this.touch(event.state.name);
        if (s?.Type === 'Task') progress(`[${clock.simulatedSeconds().toFixed(1).padStart(7)}s] ${event.state.name}`);
        break;
      }
      case 'StateExited':
        this.maxStatePayloadBytes = Math.max(this.maxStatePayloadBytes, Buffer.byteLength(JSON.stringify(event.state.output ?? null)));
        this.touch(event.state.name);
        this.options.onExited?.(event.state);
        break;
      case 'StateRetried': {
        // The engine paused `pauseMs`; the simulated clock gets the pause the Retry asks for.
        const retrier = event.retry.retrier as { IntervalSeconds?: number; BackoffRate?: number };
        const pause = (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** (event.retry.attempt - 1);
        clock.advance(pause);
        this.lastAttemptFailed.delete(event.state.name);
        this.touch(event.state.name, { retried: true });
        progress(`  retry ${event.retry.attempt} of "${event.state.name}" after ${pause}s (simulated)`);
        break;
      }
      case 'StateFailed':
        this.lastAttemptFailed.add(event.state.name);
        this.touch(event.state.name);
        if (event.Error === 'States.Timeout' && gateNames.includes(event.state.name)) {
          this.gateTimedOut = true;
          // The gate waited its configured TimeoutSeconds in simulated time (the engine's timer may be scaled down).
          const configured = states.get(event.state.name)?.TimeoutSeconds;
          if (configured) clock.advance(configured);
          this.options.onGateTimedOut?.(event.state.name);
        }
        progress(`  ${event.state.name} failed: ${event.Error}: ${String(event.Cause).slice(0, 300)}`);
        break;
      case 'StateCaught':
        this.lastAttemptFailed.delete(event.state.name);
        this.touch(event.state.name, { failed: true });
        progress(`  caught: ${event.state.name} goes to its error path`);
        break;
      default:
        break;
    }
  }
}
