import { defineHandler } from '../shared/handler';
import { checkInput, type CheckedInput } from './domain';

export interface CheckInputEvent {
  readonly executionName: string;
  /** The whole execution input, exactly as the caller wrote it. */
  readonly input: unknown;
}

export const handler = defineHandler({
  name: 'check-input',
  deps: () => ({}),
  run: (event: CheckInputEvent, _deps, { logger }): CheckedInput => checkInput({ input: event.input, logger }),
});
