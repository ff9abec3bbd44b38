import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { defineHandler } from '../shared/handler';
import { uploadCertificate, type UploadResult } from './domain';

export interface UploadEvent {
  readonly executionName: string;
  readonly secretArn: string;
  readonly expected: { readonly sha256: string; readonly notBefore: string };
  /** The certificate in use now (found on the canary listener): the one this rotation replaces. */
  readonly currentArn: string;
}

export const handler = defineHandler({
  name: 'upload',
  deps: ({ requireEnv, awsClient }) => ({
    iamPath: requireEnv('IAM_PATH'),
    namePrefix: requireEnv('CERTIFICATE_NAME_PREFIX'),
    domain: requireEnv('DOMAIN'),
    pruneKeep: Number(requireEnv('PRUNE_KEEP')),
    iam: awsClient(IAMClient),
    secrets: awsClient(SecretsManagerClient),
    edge: {
      elb: awsClient(ElasticLoadBalancingClient),
      elbv2: awsClient(ElasticLoadBalancingV2Client),
      cloudfront: awsClient(CloudFrontClient),
    },
  }),
  run: (event: UploadEvent, d, { logger }): Promise<UploadResult> => uploadCertificate({ ...d, logger, ...event }),
});
