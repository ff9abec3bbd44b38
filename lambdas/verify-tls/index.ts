import { defineHandler } from '../shared/handler';
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

export const handler = defineHandler({
  name: 'verify-tls',
  deps: () => ({}),
  run: (event: VerifyTlsEvent, _deps, { logger }): Promise<VerifyTlsResult> =>
    verifyTls({
      probe: probeTls,
      logger,
      endpoint: event.endpoint,
      ...(event.servername ? { servername: event.servername } : {}),
      expectedSha256: event.expectedSha256,
      previousAttempts: event.previous.attempts,
      maxAttempts: event.maxAttempts,
      intervalSeconds: event.intervalSeconds,
    }),
});
