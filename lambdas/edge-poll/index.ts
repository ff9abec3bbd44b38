import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { S3Client } from '@aws-sdk/client-s3';
import { ArtifactStore } from '../shared/artifacts';
import { defineHandler } from '../shared/handler';
import { pollDistributions, type EdgePollResult } from './domain';

export interface EdgePollEvent {
  readonly executionName: string;
  readonly previous: { readonly rounds: number };
  readonly maxRounds: number;
  readonly purpose: string;
}

export const handler = defineHandler({
  name: 'edge-poll',
  deps: ({ requireEnv, awsClient }) => ({
    store: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
    cloudfront: awsClient(CloudFrontClient),
  }),
  run: (event: EdgePollEvent, d, { logger }): Promise<EdgePollResult> =>
    pollDistributions({
      cloudfront: d.cloudfront,
      store: d.store,
      executionName: event.executionName,
      rounds: typeof event.previous?.rounds === 'number' ? event.previous.rounds : 0,
      maxRounds: event.maxRounds,
      purpose: event.purpose,
      logger,
    }),
});
