import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { IAMClient } from '@aws-sdk/client-iam';
import { classifyAwsErrors } from '../shared/aws-errors';
import { lazy, requireEnv } from '../shared/env';
import { createLogger, withExecution } from '../shared/logger';
import { findCurrentCertificate, type CurrentCertificate } from './domain';
import { awsClient } from '../shared/aws-clients';

export interface CurrentEvent {
  readonly executionName: string;
}

const deps = lazy(() => ({
  canary: { loadBalancerName: requireEnv('CANARY_LOAD_BALANCER'), port: Number(requireEnv('CANARY_PORT')) },
  elb: awsClient(ElasticLoadBalancingClient),
  iam: awsClient(IAMClient),
  logger: createLogger('current'),
}));

export const handler = async (event: CurrentEvent): Promise<CurrentCertificate> => {
  const d = deps();
  return classifyAwsErrors(() => findCurrentCertificate({ ...d, logger: withExecution(d.logger, event.executionName) }));
};
