import './polyfill';
import { StateMachine } from 'aws-local-stepfunctions';
import { walkStates, type AslMachine } from './walk-states';

/** As much of a state as the rehearsal's overrides read. */
export interface EngineState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Seconds?: number;
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

/** Runs the definition in the local engine with those overrides (the rehearsal's one way in). */
export function startLocalExecution(
  definition: AslMachine<EngineState>,
  input: unknown,
  options: { readonly overrides: LocalOverrides; readonly context?: Record<string, unknown> },
): ReturnType<StateMachine['run']> {
  const machine = new StateMachine(definition as never, { validationOptions: { checkArn: false } });
  return machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: options.overrides.taskResourceLocalHandlers as never,
      waitTimeOverrides: options.overrides.waitTimeOverrides,
      retryIntervalOverrides: options.overrides.retryIntervalOverrides,
    },
    ...(options.context ? { context: options.context } : {}),
  });
}
