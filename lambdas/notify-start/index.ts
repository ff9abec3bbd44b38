import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { ArtifactStore } from '../shared/artifacts';
import { defineHandler } from '../shared/handler';
import { notifyStart, type StartNoticeParams, type StartNoticeResult } from './domain';

/** The state's payload: these fields of {@link StartNoticeParams} (the rest is the container's). */
export type StartNoticeEvent = Pick<StartNoticeParams, 'executionName' | 'certificates' | 'approvalFollows' | 'warnings'>;

export const handler = defineHandler({
  name: 'notify-start',
  deps: ({ requireEnv, awsClient }) => ({
    domain: requireEnv('DOMAIN'),
    topicArn: requireEnv('TOPIC_ARN'),
    artifacts: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
    sns: awsClient(SNSClient),
  }),
  run: (event: StartNoticeEvent, d, { logger, now }): Promise<StartNoticeResult> => notifyStart({ ...d, ...event, logger, now }),
});
