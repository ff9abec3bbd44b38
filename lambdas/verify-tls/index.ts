import { defineHandler } from '../shared/handler';
import { probeTls } from '../shared/tls-probe';
import { verifyTls, type VerifyTlsParams, type VerifyTlsResult } from './domain';

/** The state's payload: the check's fields of {@link VerifyTlsParams}, and the previous attempt's count. */
export type VerifyTlsEvent = Omit<VerifyTlsParams, 'probe' | 'logger' | 'previousAttempts'> & {
  readonly executionName: string;
  readonly previous: { readonly attempts: number };
};

export const handler = defineHandler({
  name: 'verify-tls',
  deps: () => ({}),
  run: ({ previous, executionName: _execution, ...check }: VerifyTlsEvent, _deps, { logger }): Promise<VerifyTlsResult> =>
    verifyTls({ ...check, probe: probeTls, logger, previousAttempts: previous.attempts }),
});
