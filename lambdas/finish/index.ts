import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { ArtifactStore } from '../shared/artifacts';
import { defineHandler } from '../shared/handler';
import { ChangeLedger } from '../shared/ledger';
import { finishRotation, type FinishResult, type FinishState } from './domain';

export interface FinishEvent {
  readonly executionName: string;
  readonly succeeded: boolean;
  readonly state: FinishState;
}

export const handler = defineHandler({
  name: 'finish',
  deps: ({ requireEnv, awsClient }) => ({
    domain: requireEnv('DOMAIN'),
    topicArn: requireEnv('TOPIC_ARN'),
    store: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
    sns: awsClient(SNSClient),
  }),
  run: (event: FinishEvent, d, { logger, now }): Promise<FinishResult> =>
    finishRotation({
      ...d,
      ledger: new ChangeLedger(d.store, event.executionName),
      logger,
      executionName: event.executionName,
      succeeded: event.succeeded,
      state: event.state,
      now,
    }),
});
