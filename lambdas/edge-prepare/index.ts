import { S3Client } from '@aws-sdk/client-s3';
import { ArtifactStore } from '../shared/artifacts';
import { parseBatchSizes } from '../shared/edge-batches';
import { defineHandler } from '../shared/handler';
import { prepareEdge, type EdgePrepareParams, type EdgePrepareResult } from './domain';

/** The state's payload: these fields of {@link EdgePrepareParams} (the rest is the container's). */
export type EdgePrepareEvent = Pick<EdgePrepareParams, 'executionName'>;

export const handler = defineHandler({
  name: 'edge-prepare',
  deps: ({ requireEnv, requireJsonEnv, awsClient }) => ({
    store: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
    sizes: parseBatchSizes(requireJsonEnv('EDGE_BATCH_SIZES')),
  }),
  run: (event: EdgePrepareEvent, d, { logger }): Promise<EdgePrepareResult> => prepareEdge({ ...d, logger, ...event }),
});
