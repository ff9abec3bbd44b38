import { S3Client } from '@aws-sdk/client-s3';
import { ArtifactStore } from '../shared/artifacts';
import { parseBatchSizes } from '../shared/edge-batches';
import { defineHandler } from '../shared/handler';
import { ChangeLedger } from '../shared/ledger';
import { createEdgeClients } from '../shared/target-ops';
import { switchBatch, type EdgeSwitchParams, type EdgeSwitchResult } from './domain';

/** The state's payload: these fields of {@link EdgeSwitchParams} (the rest is the container's). */
export type EdgeSwitchEvent = Pick<EdgeSwitchParams, 'executionName' | 'batch' | 'current' | 'uploaded' | 'newSha256'>;

export const handler = defineHandler({
  name: 'edge-switch',
  deps: ({ requireEnv, requireJsonEnv, awsClient }) => ({
    store: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
    sizes: parseBatchSizes(requireJsonEnv('EDGE_BATCH_SIZES')),
    callConcurrency: requireJsonEnv<Record<string, number>>('EDGE_CALL_CONCURRENCY'),
    budgetSeconds: Number(requireEnv('TIME_BUDGET_SECONDS')),
    clients: createEdgeClients(),
  }),
  run: ({ batch, ...event }: EdgeSwitchEvent, d, { logger, now }): Promise<EdgeSwitchResult> =>
    switchBatch({
      ...d,
      ...event,
      batch,
      concurrency: d.callConcurrency[batch.kind] ?? 1,
      ledger: new ChangeLedger(d.store, event.executionName),
      logger,
      now,
    }),
});
