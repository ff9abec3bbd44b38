import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { S3Client } from '@aws-sdk/client-s3';
import { ArtifactStore } from '../shared/artifacts';
import { classifyAwsErrors } from '../shared/aws-errors';
import { lazy, requireEnv, requireJsonEnv } from '../shared/env';
import { createLogger, withExecution } from '../shared/logger';
import { planRotation, type NodePhaseSpec, type PlanSummary } from './domain';
import { awsClient } from '../shared/aws-clients';

export interface PlanEvent {
  readonly executionName: string;
  readonly current: { readonly arn: string; readonly id: string };
}

const deps = lazy(() => ({
  canary: { loadBalancerName: requireEnv('CANARY_LOAD_BALANCER'), port: Number(requireEnv('CANARY_PORT')) },
  edge: requireJsonEnv<{ include: string[]; exclude: string[] }>('EDGE_SELECTION'),
  nodePhases: requireJsonEnv<NodePhaseSpec[]>('NODE_PHASES'),
  store: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
  elb: awsClient(ElasticLoadBalancingClient),
  elbv2: awsClient(ElasticLoadBalancingV2Client),
  cloudfront: awsClient(CloudFrontClient),
  ec2: awsClient(EC2Client),
  logger: createLogger('plan'),
}));

export const handler = async (event: PlanEvent): Promise<PlanSummary> => {
  const d = deps();
  return classifyAwsErrors(() =>
    planRotation({
      ...d,
      logger: withExecution(d.logger, event.executionName),
      executionName: event.executionName,
      current: event.current,
    }),
  );
};
