import { lazy } from '../shared/env';
import { createLogger, withExecution } from '../shared/logger';
import { probeTls } from '../shared/tls-probe';
import { verifyTls, type VerifyTlsResult } from './domain';

export interface VerifyTlsEvent {
  readonly executionName: string;
  readonly endpoint: string;
  readonly servername?: string;
  readonly expectedSha256: string;
  readonly previous: { readonly attempts: number };
  readonly maxAttempts: number;
  readonly intervalSeconds: number;
}

const deps = lazy(() => ({ logger: createLogger('verify-tls') }));

export const handler = async (event: VerifyTlsEvent): Promise<VerifyTlsResult> => {
  const d = deps();
  return verifyTls({
    probe: probeTls,
    logger: withExecution(d.logger, event.executionName),
    endpoint: event.endpoint,
    ...(event.servername ? { servername: event.servername } : {}),
    expectedSha256: event.expectedSha256,
    previousAttempts: event.previous.attempts,
    maxAttempts: event.maxAttempts,
    intervalSeconds: event.intervalSeconds,
  });
};
