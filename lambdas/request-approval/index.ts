import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { ArtifactStore } from '../shared/artifacts';
import { defineHandler } from '../shared/handler';
import { requestApproval, type ApprovalRequestResult } from './domain';

export interface ApprovalEvent {
  readonly taskToken: string;
  readonly gate: string;
  readonly title: string;
  readonly executionName: string;
  readonly executionArn: string;
  readonly details: unknown;
}

export const handler = defineHandler({
  name: 'request-approval',
  deps: ({ requireEnv, awsClient }) => {
    const bucket = requireEnv('ARTIFACT_BUCKET');
    return {
      bucket,
      domain: requireEnv('DOMAIN'),
      topicArn: requireEnv('TOPIC_ARN'),
      store: new ArtifactStore(awsClient(S3Client), bucket),
      sns: awsClient(SNSClient),
    };
  },
  run: (event: ApprovalEvent, d, { logger, now }): Promise<ApprovalRequestResult> => requestApproval({ ...d, ...event, logger, now }),
});
