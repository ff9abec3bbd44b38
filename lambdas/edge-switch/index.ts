import { S3Client } from '@aws-sdk/client-s3';
import { ArtifactStore } from '../shared/artifacts';
import { parseBatchSizes, type EdgeBatch } from '../shared/edge-batches';
import { defineHandler } from '../shared/handler';
import { ChangeLedger } from '../shared/ledger';
import { createEdgeClients } from '../shared/target-ops';
import { switchBatch, type EdgeSwitchResult } from './domain';

export interface EdgeSwitchEvent {
  readonly executionName: string;
  readonly batch: EdgeBatch;
  readonly current: { readonly arn: string; readonly id: string; readonly sha256: string };
  readonly uploaded: { readonly arn: string; readonly id: string };
  readonly newSha256: string;
}

export const handler = defineHandler({
  name: 'edge-switch',
  deps: ({ requireEnv, requireJsonEnv, awsClient }) => ({
    store: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
    sizes: parseBatchSizes(requireJsonEnv('EDGE_BATCH_SIZES')),
    concurrency: requireJsonEnv<Record<string, number>>('EDGE_CALL_CONCURRENCY'),
    budgetSeconds: Number(requireEnv('TIME_BUDGET_SECONDS')),
    clients: createEdgeClients(),
  }),
  run: (event: EdgeSwitchEvent, d, { logger, now }): Promise<EdgeSwitchResult> =>
    switchBatch({
      clients: d.clients,
      ledger: new ChangeLedger(d.store, event.executionName),
      store: d.store,
      logger,
      executionName: event.executionName,
      batch: event.batch,
      sizes: d.sizes,
      concurrency: d.concurrency[event.batch.kind] ?? 1,
      current: event.current,
      uploaded: event.uploaded,
      newSha256: event.newSha256,
      budgetSeconds: d.budgetSeconds,
      now,
    }),
});
