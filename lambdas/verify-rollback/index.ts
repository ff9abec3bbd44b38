import { S3Client } from '@aws-sdk/client-s3';
import { ArtifactStore } from '../shared/artifacts';
import { classifyAwsErrors } from '../shared/aws-errors';
import { lazy, requireEnv } from '../shared/env';
import { ChangeLedger } from '../shared/ledger';
import { createLogger, withExecution } from '../shared/logger';
import { createEdgeClients } from '../shared/target-ops';
import { probeTls } from '../shared/tls-probe';
import { verifyRollback, type VerifyRollbackResult } from './domain';
import { awsClient } from '../shared/aws-clients';

export interface VerifyRollbackEvent {
  readonly executionName: string;
}

const deps = lazy(() => ({
  domain: requireEnv('DOMAIN'),
  store: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
  clients: createEdgeClients(),
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
