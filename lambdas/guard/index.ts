import { SFNClient } from '@aws-sdk/client-sfn';
import { defineHandler } from '../shared/handler';
import { guardAgainstConcurrentRotation, type GuardResult } from './domain';

export interface GuardEvent {
  readonly executionArn: string;
  readonly executionName: string;
  readonly stateMachineArn: string;
}

export const handler = defineHandler({
  name: 'guard',
  deps: ({ requireEnv, awsClient }) => ({ domain: requireEnv('DOMAIN'), sfn: awsClient(SFNClient) }),
  run: (event: GuardEvent, d, { logger }): Promise<GuardResult> =>
    guardAgainstConcurrentRotation({
      sfn: d.sfn,
      logger,
      domain: d.domain,
      stateMachineArn: event.stateMachineArn,
      executionArn: event.executionArn,
    }),
});
