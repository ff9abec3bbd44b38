import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { ArtifactStore } from '../shared/artifacts';
import { defineHandler } from '../shared/handler';
import { ChangeLedger } from '../shared/ledger';
import { createEdgeClients } from '../shared/target-ops';
import { rollBack, type RollbackResult } from './domain';

export interface RollbackEvent {
  readonly executionName: string;
  /**
   * The whole (small) state: `uploaded.name` is there when the upload happened. Only a hint of
   * where to look: rollback proves with IAM's tag and the plan what is this execution's.
   */
  readonly state: { readonly uploaded?: { readonly name?: unknown } };
}

export const handler = defineHandler({
  name: 'rollback',
  deps: ({ requireEnv, awsClient }) => ({
    store: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
    iam: awsClient(IAMClient),
    clients: createEdgeClients(),
  }),
  run: (event: RollbackEvent, d, { logger, now }): Promise<RollbackResult> => {
    const hint = event.state.uploaded?.name;
    return rollBack({
      clients: d.clients,
      iam: d.iam,
      store: d.store,
      executionName: event.executionName,
      ledger: new ChangeLedger(d.store, event.executionName),
      logger,
      ...(typeof hint === 'string' ? { uploadedName: hint } : {}),
      now,
    });
  },
});
