import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { S3Client } from '@aws-sdk/client-s3';
import { ArtifactStore } from '../shared/artifacts';
import { defineHandler } from '../shared/handler';
import { roundsBefore, type PollRoundEvent } from '../shared/poll-round';
import { pollDistributions, type EdgePollParams, type EdgePollResult } from './domain';

/** The state's payload: these fields of {@link EdgePollParams}, and the previous round's count (absent on the first). */
export type EdgePollEvent = Pick<EdgePollParams, 'executionName' | 'maxRounds' | 'purpose'> & PollRoundEvent;

export const handler = defineHandler({
  name: 'edge-poll',
  deps: ({ requireEnv, awsClient }) => ({
    store: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
    cloudfront: awsClient(CloudFrontClient),
  }),
  run: ({ previous, ...event }: EdgePollEvent, d, { logger }): Promise<EdgePollResult> =>
    pollDistributions({ ...d, ...event, rounds: roundsBefore({ previous }), logger }),
});
