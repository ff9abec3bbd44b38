import { lazy } from '../shared/env';
import { createLogger, withExecution } from '../shared/logger';
import { checkInput, type CheckedInput } from './domain';

export interface CheckInputEvent {
  readonly executionName: string;
  /** The whole execution input, exactly as the caller wrote it. */
  readonly input: unknown;
}

const deps = lazy(() => ({ logger: createLogger('check-input') }));

export const handler = async (event: CheckInputEvent): Promise<CheckedInput> =>
  Promise.resolve(checkInput({ input: event.input, logger: withExecution(deps().logger, event.executionName) }));
