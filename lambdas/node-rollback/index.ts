import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { ArtifactStore } from '../shared/artifacts';
import { defineHandler } from '../shared/handler';
import { ChangeLedger } from '../shared/ledger';
import { rollBackNodes, type NodeRollbackParams, type NodeRollbackResult } from './domain';

export type { NodeRollbackResult } from './domain';

/** The state's payload: these fields of {@link NodeRollbackParams}. */
export type NodeRollbackEvent = Pick<NodeRollbackParams, 'executionName'>;

export const handler = defineHandler({
  name: 'node-rollback',
  deps: ({ requireEnv, requireJsonEnv, awsClient }) => ({
    store: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
    ssm: awsClient(SSMClient),
    iam: awsClient(IAMClient),
    documentName: requireEnv('DOCUMENT_NAME'),
    deliveryTimeoutSeconds: Number(requireEnv('DELIVERY_TIMEOUT_SECONDS')),
    maxConcurrency: requireJsonEnv<Record<string, string>>('NODE_MAX_CONCURRENCY'),
  }),
  run: (event: NodeRollbackEvent, d, { logger, now }): Promise<NodeRollbackResult> =>
    rollBackNodes({
      ssm: d.ssm,
      iam: d.iam,
      store: d.store,
      ledger: new ChangeLedger(d.store, event.executionName),
      logger,
      executionName: event.executionName,
      documentName: d.documentName,
      deliveryTimeoutSeconds: d.deliveryTimeoutSeconds,
      maxConcurrency: d.maxConcurrency,
      now,
    }),
});
