import { SFNClient } from '@aws-sdk/client-sfn';
import { awsClient } from '../shared/aws-clients';
import { classifyAwsErrors } from '../shared/aws-errors';
import { lazy, requireEnv } from '../shared/env';
import { createLogger, withExecution } from '../shared/logger';
import { guardAgainstConcurrentRotation, type GuardResult } from './domain';

export interface GuardEvent {
  readonly executionArn: string;
  readonly executionName: string;
  readonly stateMachineArn: string;
}

const deps = lazy(() => ({
  domain: requireEnv('DOMAIN'),
  sfn: awsClient(SFNClient),
  logger: createLogger('guard'),
}));

export const handler = async (event: GuardEvent): Promise<GuardResult> => {
  const d = deps();
  return classifyAwsErrors(() =>
    guardAgainstConcurrentRotation({
      sfn: d.sfn,
      logger: withExecution(d.logger, event.executionName),
      domain: d.domain,
      stateMachineArn: event.stateMachineArn,
      executionArn: event.executionArn,
    }),
  );
};
