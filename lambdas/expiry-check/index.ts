import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { IAMClient } from '@aws-sdk/client-iam';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { defineHandler } from '../shared/handler';
import { parseEndpoint, probeTls } from '../shared/tls-probe';
import { checkExpiry, type AutomaticSource, type ExpiryCheckResult } from './domain';

export type { AutomaticSource, ExpiryCheckResult, ExpiryDecision } from './domain';
export { scheduledExecutionName, DAYS_TO_EXPIRY } from './domain';

/** What the EventBridge rule sends (its target input): a fixed name for the logs and the event's time. */
export interface ExpiryCheckEvent {
  readonly executionName: string;
  /** The scheduled event's time (ISO 8601); names the rotation it may start. */
  readonly time?: string;
}

export const handler = defineHandler({
  name: 'expiry-check',
  deps: ({ requireEnv, requireJsonEnv, awsClient }) => {
    const automatic = requireJsonEnv<AutomaticSource | null>('AUTOMATIC_SOURCE');
    return {
      domain: requireEnv('DOMAIN'),
      canary: { loadBalancerName: requireEnv('CANARY_LOAD_BALANCER'), port: Number(requireEnv('CANARY_PORT')) },
      endpoint: parseEndpoint(requireEnv('CANARY_ENDPOINT')),
      stateMachineArn: requireEnv('STATE_MACHINE_ARN'),
      topicArn: requireEnv('TOPIC_ARN'),
      daysBeforeExpiry: Number(requireEnv('DAYS_BEFORE_EXPIRY')),
      staging: {
        secretPrefix: requireEnv('SECRET_PREFIX'),
        stagingBucket: requireEnv('STAGING_BUCKET'),
        stateMachineArn: requireEnv('STATE_MACHINE_ARN'),
      },
      ...(automatic ? { automaticSource: automatic } : {}),
      elb: awsClient(ElasticLoadBalancingClient),
      iam: awsClient(IAMClient),
      sfn: awsClient(SFNClient),
      sns: awsClient(SNSClient),
      cloudwatch: awsClient(CloudWatchClient),
    };
  },
  run: (event: ExpiryCheckEvent, d, { logger, now }): Promise<ExpiryCheckResult> =>
    checkExpiry({ ...d, probe: probeTls, logger, now, ...(event.time ? { scheduledAt: event.time } : {}) }),
});
