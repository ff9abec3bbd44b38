import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { ArtifactStore } from '../shared/artifacts';
import { defineHandler } from '../shared/handler';
import { ChangeLedger } from '../shared/ledger';
import { finishRotation, type FinishParams, type FinishResult } from './domain';
import type { ConfigurationManagement } from './message';

/** The state's payload: these fields of {@link FinishParams} (the rest is the container's). */
export type FinishEvent = Pick<FinishParams, 'executionName' | 'succeeded' | 'state'>;

export const handler = defineHandler({
  name: 'finish',
  deps: ({ requireEnv, requireJsonEnv, awsClient }) => {
    const monitParameter = requireJsonEnv<string | null>('MONIT_PARAMETER');
    const configurationManagement = requireJsonEnv<ConfigurationManagement | null>('CONFIGURATION_MANAGEMENT');
    return {
      domain: requireEnv('DOMAIN'),
      topicArn: requireEnv('TOPIC_ARN'),
      store: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
      sns: awsClient(SNSClient),
      iam: awsClient(IAMClient),
      ssm: awsClient(SSMClient),
      ...(monitParameter ? { monitParameter } : {}),
      ...(configurationManagement ? { configurationManagement } : {}),
    };
  },
  run: (event: FinishEvent, d, { logger, now }): Promise<FinishResult> =>
    finishRotation({ ...d, ...event, ledger: new ChangeLedger(d.store, event.executionName), logger, now }),
});
