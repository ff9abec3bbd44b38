import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { ApprovalStore } from '../approval-page/store';
import { ArtifactStore } from '../shared/artifacts';
import { defineHandler } from '../shared/handler';
import { requestApproval, type ApprovalRequestParams, type ApprovalRequestResult } from './domain';

export type { GateNext, GateTouches } from './domain';

/** What a gate's state passes (the rest of the params comes from the environment). */
export type ApprovalEvent = Pick<
  ApprovalRequestParams,
  'taskToken' | 'gate' | 'title' | 'executionName' | 'executionArn' | 'details' | 'certificates' | 'next' | 'timeoutSeconds'
>;

function onTimeoutOf(value: string): 'rollback' | 'stop' {
  if (value !== 'rollback' && value !== 'stop') throw new Error(`ON_TIMEOUT must be rollback or stop (got "${value}")`);
  return value;
}

export const handler = defineHandler({
  name: 'request-approval',
  deps: ({ requireEnv, awsClient }) => {
    const onTimeout = onTimeoutOf(requireEnv('ON_TIMEOUT'));
    return {
      domain: requireEnv('DOMAIN'),
      topicArn: requireEnv('TOPIC_ARN'),
      pageUrl: requireEnv('APPROVAL_PAGE_URL'),
      onTimeout,
      approvals: new ApprovalStore(awsClient(DynamoDBClient), requireEnv('APPROVAL_TABLE')),
      artifacts: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
      sns: awsClient(SNSClient),
    };
  },
  run: (event: ApprovalEvent, d, { logger, now }): Promise<ApprovalRequestResult> => requestApproval({ ...d, ...event, logger, now }),
});
