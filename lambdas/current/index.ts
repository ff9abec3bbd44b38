import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { IAMClient } from '@aws-sdk/client-iam';
import { defineHandler } from '../shared/handler';
import { findCurrentCertificate, type CurrentCertificate } from './domain';

export interface CurrentEvent {
  readonly executionName: string;
}

export const handler = defineHandler({
  name: 'current',
  deps: ({ requireEnv, awsClient }) => ({
    canary: { loadBalancerName: requireEnv('CANARY_LOAD_BALANCER'), port: Number(requireEnv('CANARY_PORT')) },
    elb: awsClient(ElasticLoadBalancingClient),
    iam: awsClient(IAMClient),
  }),
  run: (_event: CurrentEvent, d, { logger }): Promise<CurrentCertificate> => findCurrentCertificate({ ...d, logger }),
});
