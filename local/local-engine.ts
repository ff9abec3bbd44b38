import './polyfill';
import { StateMachine } from 'aws-local-stepfunctions';
import { walkStates, type AslMachine } from './walk-states';

/** As much of a state as the rehearsal's overrides read. */
export interface EngineState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Seconds?: number;
  /** A Task's (a gate's) timeout: the engine raises States.Timeout after this many real seconds. */
  readonly TimeoutSeconds?: number;
  readonly Retry?: Array<{ ErrorEquals: string[]; IntervalSeconds?: number; BackoffRate?: number }>;
}

export type LocalHandler = (input: unknown) => Promise<unknown>;

export interface LocalOverrides {
  readonly taskResourceLocalHandlers: Record<string, LocalHandler>;
  readonly waitTimeOverrides: Record<string, number>;
  readonly retryIntervalOverrides: Record<string, number>;
}

/**
 * The engine overrides for every state of the definition, nested ones (Map, Parallel) included:
 * aws-local-stepfunctions keys them by state name alone and hands them down to the machines it
 * runs for Map iterations and Parallel branches. Each Task runs `handlerFor` its state (a Task
 * without one is an error naming it: the engine would call AWS); each Wait and each Retry pause
 * takes `pauseMs` of real time.
 */
export function localOverrides(
  definition: AslMachine<EngineState>,
  options: { readonly pauseMs: number; readonly handlerFor: (name: string, state: EngineState) => LocalHandler | undefined },
): LocalOverrides {
  const taskResourceLocalHandlers: Record<string, LocalHandler> = {};
  const waitTimeOverrides: Record<string, number> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const { name, state, path } of walkStates(definition)) {
    if (state.Type === 'Task') {
      const handler = options.handlerFor(name, state);
      if (!handler) throw new Error(`no local handler for Task state "${name}" (${path.join('.')}, Resource ${state.Resource ?? 'none'})`);
      taskResourceLocalHandlers[name] = handler;
    }
    if (state.Type === 'Wait') waitTimeOverrides[name] = options.pauseMs;
    if (state.Retry) retryIntervalOverrides[name] = options.pauseMs;
  }
  return { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides };
}

/** The longest timer Node.js keeps (a longer setTimeout fires at once, with a TimeoutOverflowWarning). */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/**
 * The definition as the engine runs it: the named top-level Task states get `TimeoutSeconds` =
 * the given real seconds (the engine times a task with a real timer, so a gate that is meant to
 * time out in a rehearsal waits seconds, not its configured day; the rehearsal advances the
 * simulated clock by the configured timeout when it fires), and an execution timeout too long for
 * a Node.js timer is left to the simulated clock (the engine's timer would fire at once).
 */
export function withTimeoutOverrides(
  definition: AslMachine<EngineState> & { readonly TimeoutSeconds?: number },
  timeoutOverrides: Readonly<Record<string, number>>,
): AslMachine<EngineState> {
  const states = { ...(definition.States ?? {}) };
  for (const [name, seconds] of Object.entries(timeoutOverrides)) {
    const state = states[name];
    if (state?.Type !== 'Task') throw new Error(`timeout override: "${name}" is not a top-level Task state`);
    if (!Number.isInteger(seconds) || seconds < 1)
      throw new Error(`timeout override of "${name}": ${seconds} is not a whole number of seconds >= 1`);
    states[name] = { ...state, TimeoutSeconds: seconds };
  }
  const { TimeoutSeconds, ...rest } = definition;
  return { ...rest, ...(TimeoutSeconds !== undefined && TimeoutSeconds <= MAX_TIMER_SECONDS ? { TimeoutSeconds } : {}), States: states };
}

/** Runs the definition in the local engine with those overrides (the rehearsal's one way in). */
export function startLocalExecution(
  definition: AslMachine<EngineState>,
  input: unknown,
  options: {
    readonly overrides: LocalOverrides;
    readonly context?: Record<string, unknown>;
    /** Real seconds after which these Task states time out (see {@link withTimeoutOverrides}). @default none */
    readonly timeoutOverrides?: Readonly<Record<string, number>>;
  },
): ReturnType<StateMachine['run']> {
  const machine = new StateMachine(withTimeoutOverrides(definition, options.timeoutOverrides ?? {}) as never, {
    validationOptions: { checkArn: false },
  });
  return machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: options.overrides.taskResourceLocalHandlers as never,
      waitTimeOverrides: options.overrides.waitTimeOverrides,
      retryIntervalOverrides: options.overrides.retryIntervalOverrides,
    },
    ...(options.context ? { context: options.context } : {}),
  });
}
