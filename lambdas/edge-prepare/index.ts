import { S3Client } from '@aws-sdk/client-s3';
import { ArtifactStore } from '../shared/artifacts';
import { parseBatchSizes } from '../shared/edge-batches';
import { defineHandler } from '../shared/handler';
import { prepareEdge, type EdgePrepareResult } from './domain';

export interface EdgePrepareEvent {
  readonly executionName: string;
}

export const handler = defineHandler({
  name: 'edge-prepare',
  deps: ({ requireEnv, requireJsonEnv, awsClient }) => ({
    store: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
    sizes: parseBatchSizes(requireJsonEnv('EDGE_BATCH_SIZES')),
  }),
  run: (event: EdgePrepareEvent, d, { logger }): Promise<EdgePrepareResult> =>
    prepareEdge({ store: d.store, executionName: event.executionName, sizes: d.sizes, logger }),
});
