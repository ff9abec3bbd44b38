import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { S3Client } from '@aws-sdk/client-s3';
import { ArtifactStore } from '../shared/artifacts';
import { classifyAwsErrors } from '../shared/aws-errors';
import { lazy, requireEnv } from '../shared/env';
import { ChangeLedger } from '../shared/ledger';
import { createLogger, withExecution } from '../shared/logger';
import { probeTls } from '../shared/tls-probe';
import { verifyRollback, type VerifyRollbackResult } from './domain';

export interface VerifyRollbackEvent {
  readonly executionName: string;
}

const deps = lazy(() => ({
  domain: requireEnv('DOMAIN'),
  store: new ArtifactStore(new S3Client({}), requireEnv('ARTIFACT_BUCKET')),
  clients: {
    elb: new ElasticLoadBalancingClient({}),
    elbv2: new ElasticLoadBalancingV2Client({}),
    cloudfront: new CloudFrontClient({}),
  },
  logger: createLogger('verify-rollback'),
}));

export const handler = async (event: VerifyRollbackEvent): Promise<VerifyRollbackResult> => {
  const d = deps();
  return classifyAwsErrors(() =>
    verifyRollback({
      clients: d.clients,
      ledger: new ChangeLedger(d.store, event.executionName),
      probe: probeTls,
      logger: withExecution(d.logger, event.executionName),
      domain: d.domain,
    }),
  );
};
