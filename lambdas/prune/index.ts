import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { ArtifactStore } from '../shared/artifacts';
import { defineHandler } from '../shared/handler';
import { createEdgeClients } from '../shared/target-ops';
import { pruneCertificates, type PruneParams, type PruneResult } from './domain';

/** The state's payload: these fields of {@link PruneParams} (the rest is the container's). */
export type PruneEvent = Pick<PruneParams, 'executionName' | 'previousArn' | 'newName'>;

export const handler = defineHandler({
  name: 'prune',
  deps: ({ requireEnv, awsClient }) => ({
    iamPath: requireEnv('IAM_PATH'),
    namePrefix: requireEnv('CERTIFICATE_NAME_PREFIX'),
    keep: Number(requireEnv('PRUNE_KEEP')),
    store: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
    iam: awsClient(IAMClient),
    clients: createEdgeClients(),
  }),
  run: (event: PruneEvent, d, { logger }): Promise<PruneResult> => pruneCertificates({ ...d, logger, ...event }),
});
