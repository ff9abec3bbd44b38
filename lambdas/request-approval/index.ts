import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { ArtifactStore } from '../shared/artifacts';
import { classifyAwsErrors } from '../shared/aws-errors';
import { lazy, requireEnv } from '../shared/env';
import { createLogger, withExecution } from '../shared/logger';
import { requestApproval, type ApprovalRequestResult } from './domain';
import { awsClient } from '../shared/aws-clients';

export interface ApprovalEvent {
  readonly taskToken: string;
  readonly gate: string;
  readonly title: string;
  readonly executionName: string;
  readonly executionArn: string;
  readonly details: unknown;
}

const deps = lazy(() => {
  const bucket = requireEnv('ARTIFACT_BUCKET');
  return {
    bucket,
    domain: requireEnv('DOMAIN'),
    topicArn: requireEnv('TOPIC_ARN'),
    store: new ArtifactStore(awsClient(S3Client), bucket),
    sns: awsClient(SNSClient),
    logger: createLogger('request-approval'),
  };
});

export const handler = async (event: ApprovalEvent): Promise<ApprovalRequestResult> => {
  const d = deps();
  return classifyAwsErrors(() =>
    requestApproval({ ...d, ...event, logger: withExecution(d.logger, event.executionName), now: new Date() }),
  );
};
