import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { ArtifactStore } from '../shared/artifacts';
import { classifyAwsErrors } from '../shared/aws-errors';
import { lazy, requireEnv } from '../shared/env';
import { ChangeLedger } from '../shared/ledger';
import { createLogger, withExecution } from '../shared/logger';
import { finishRotation, type FinishResult, type FinishState } from './domain';
import { awsClient } from '../shared/aws-clients';

export interface FinishEvent {
  readonly executionName: string;
  readonly succeeded: boolean;
  readonly state: FinishState;
}

const deps = lazy(() => ({
  domain: requireEnv('DOMAIN'),
  topicArn: requireEnv('TOPIC_ARN'),
  store: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
  sns: awsClient(SNSClient),
  logger: createLogger('finish'),
}));

export const handler = async (event: FinishEvent): Promise<FinishResult> => {
  const d = deps();
  return classifyAwsErrors(() =>
    finishRotation({
      ...d,
      ledger: new ChangeLedger(d.store, event.executionName),
      logger: withExecution(d.logger, event.executionName),
      executionName: event.executionName,
      succeeded: event.succeeded,
      state: event.state,
      now: new Date(),
    }),
  );
};
