import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { ArtifactStore } from '../shared/artifacts';
import { defineHandler } from '../shared/handler';
import { pruneCertificates, type PruneResult } from './domain';

export interface PruneEvent {
  readonly executionName: string;
  /** The certificate the rotation replaced (found on the canary listener before the switch). */
  readonly previousArn: string;
  /** The new certificate's IAM name (from the upload). */
  readonly newName: string;
}

export const handler = defineHandler({
  name: 'prune',
  deps: ({ requireEnv, awsClient }) => ({
    iamPath: requireEnv('IAM_PATH'),
    namePrefix: requireEnv('CERTIFICATE_NAME_PREFIX'),
    keep: Number(requireEnv('PRUNE_KEEP')),
    store: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
    iam: awsClient(IAMClient),
    clients: {
      elb: awsClient(ElasticLoadBalancingClient),
      elbv2: awsClient(ElasticLoadBalancingV2Client),
      cloudfront: awsClient(CloudFrontClient),
    },
  }),
  run: (event: PruneEvent, d, { logger }): Promise<PruneResult> => pruneCertificates({ ...d, logger, ...event }),
});
