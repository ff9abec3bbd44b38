import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { ArtifactStore } from '../shared/artifacts';
import { defineHandler } from '../shared/handler';
import { planRotation, type NodePhaseSpec, type PlanSummary } from './domain';

export interface PlanEvent {
  readonly executionName: string;
  readonly current: { readonly arn: string; readonly id: string };
}

export const handler = defineHandler({
  name: 'plan',
  deps: ({ requireEnv, requireJsonEnv, awsClient }) => ({
    canary: { loadBalancerName: requireEnv('CANARY_LOAD_BALANCER'), port: Number(requireEnv('CANARY_PORT')) },
    edge: requireJsonEnv<{ include: string[]; exclude: string[] }>('EDGE_SELECTION'),
    nodePhases: requireJsonEnv<NodePhaseSpec[]>('NODE_PHASES'),
    unavailableNodes: requireEnv('UNAVAILABLE_NODES') === 'skip' ? ('skip' as const) : ('refuse' as const),
    store: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
    elb: awsClient(ElasticLoadBalancingClient),
    elbv2: awsClient(ElasticLoadBalancingV2Client),
    cloudfront: awsClient(CloudFrontClient),
    ec2: awsClient(EC2Client),
    ssm: awsClient(SSMClient),
  }),
  run: (event: PlanEvent, d, { logger }): Promise<PlanSummary> =>
    planRotation({ ...d, logger, executionName: event.executionName, current: event.current }),
});
