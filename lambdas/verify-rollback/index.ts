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
  run: (event: VerifyRollbackEvent, d, { logger }): Promise<VerifyRollbackResult> =>
    verifyRollback({
      clients: d.clients,
      ledger: new ChangeLedger(d.store, event.executionName),
      probe: probeTls,
      logger,
      domain: d.domain,
    }),
});
