import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { ArtifactStore } from '../shared/artifacts';
import { classifyAwsErrors } from '../shared/aws-errors';
import { lazy, requireEnv } from '../shared/env';
import { ChangeLedger } from '../shared/ledger';
import { createLogger, withExecution } from '../shared/logger';
import { createEdgeClients } from '../shared/target-ops';
import { rollBack, type RollbackResult } from './domain';
import { awsClient } from '../shared/aws-clients';

export interface RollbackEvent {
  readonly executionName: string;
  /**
   * The whole (small) state: `uploaded.name` is there when the upload happened. Only a hint of
   * where to look: rollback proves with IAM's tag and the plan what is this execution's.
   */
  readonly state: { readonly uploaded?: { readonly name?: unknown } };
}

const deps = lazy(() => ({
  store: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
  iam: awsClient(IAMClient),
  clients: createEdgeClients(),
  logger: createLogger('rollback'),
}));

export const handler = async (event: RollbackEvent): Promise<RollbackResult> => {
  const d = deps();
  const hint = event.state.uploaded?.name;
  return classifyAwsErrors(() =>
    rollBack({
      clients: d.clients,
      iam: d.iam,
      store: d.store,
      executionName: event.executionName,
      ledger: new ChangeLedger(d.store, event.executionName),
      logger: withExecution(d.logger, event.executionName),
      ...(typeof hint === 'string' ? { uploadedName: hint } : {}),
      now: () => new Date(),
    }),
  );
};
