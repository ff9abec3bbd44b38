import { S3Client } from '@aws-sdk/client-s3';
import { ArtifactStore } from '../shared/artifacts';
import { defineHandler } from '../shared/handler';
import { ChangeLedger } from '../shared/ledger';
import { createEdgeClients } from '../shared/target-ops';
import { probeTls } from '../shared/tls-probe';
import { verifyRollback, type VerifyRollbackResult } from './domain';

export interface VerifyRollbackEvent {
  readonly executionName: string;
}

export const handler = defineHandler({
  name: 'verify-rollback',
  deps: ({ requireEnv, awsClient }) => ({
    domain: requireEnv('DOMAIN'),
    store: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
    clients: createEdgeClients(),
  }),
  run: async (event: VerifyRollbackEvent, d, { logger }): Promise<VerifyRollbackResult & { readonly count: number }> => {
    const result = await verifyRollback({
      clients: d.clients,
      ledger: new ChangeLedger(d.store, event.executionName),
      probe: probeTls,
      logger,
      domain: d.domain,
    });
    // The state keeps the first names and the count (the ledger holds every target).
    return { verified: result.verified.slice(0, NAMES_IN_STATE), count: result.verified.length };
  },
});

/** Verified targets named in the state. */
const NAMES_IN_STATE = 25;
