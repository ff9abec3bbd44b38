import { S3Client } from '@aws-sdk/client-s3';
import { ArtifactStore } from '../shared/artifacts';
import { parseBatchSizes, type EdgeBatch } from '../shared/edge-batches';
import { defineHandler } from '../shared/handler';
import { ChangeLedger } from '../shared/ledger';
import { createEdgeClients } from '../shared/target-ops';
import { probeTls } from '../shared/tls-probe';
import { verifyBatch, type EdgeVerifyResult } from './domain';

export interface EdgeVerifyEvent {
  readonly executionName: string;
  readonly batch: EdgeBatch;
  readonly current: { readonly arn: string; readonly id: string };
  readonly uploaded: { readonly arn: string; readonly id: string };
  readonly newSha256: string;
}

/** TLS handshakes in flight at once per batch (each is one connection; no AWS rate applies). */
const HANDSHAKES_IN_FLIGHT = 16;

export const handler = defineHandler({
  name: 'edge-verify',
  deps: ({ requireEnv, requireJsonEnv, awsClient }) => ({
    domain: requireEnv('DOMAIN'),
    store: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
    sizes: parseBatchSizes(requireJsonEnv('EDGE_BATCH_SIZES')),
    clients: createEdgeClients(),
  }),
  run: (event: EdgeVerifyEvent, d, { logger }): Promise<EdgeVerifyResult> =>
    verifyBatch({
      clients: d.clients,
      ledger: new ChangeLedger(d.store, event.executionName),
      store: d.store,
      probe: probeTls,
      logger,
      executionName: event.executionName,
      batch: event.batch,
      sizes: d.sizes,
      domain: d.domain,
      concurrency: HANDSHAKES_IN_FLIGHT,
      current: event.current,
      uploaded: event.uploaded,
      newSha256: event.newSha256,
    }),
});
