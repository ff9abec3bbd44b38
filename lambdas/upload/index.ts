import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { defineHandler } from '../shared/handler';
import { createEdgeClients } from '../shared/target-ops';
import { uploadCertificate, type UploadParams, type UploadResult } from './domain';

/** The state's payload: these fields of {@link UploadParams} (the rest is the container's). */
export type UploadEvent = Pick<UploadParams, 'executionName' | 'secretArn' | 'expected' | 'currentArn'>;

export const handler = defineHandler({
  name: 'upload',
  deps: ({ requireEnv, awsClient }) => ({
    iamPath: requireEnv('IAM_PATH'),
    namePrefix: requireEnv('CERTIFICATE_NAME_PREFIX'),
    domain: requireEnv('DOMAIN'),
    pruneKeep: Number(requireEnv('PRUNE_KEEP')),
    iam: awsClient(IAMClient),
    secrets: awsClient(SecretsManagerClient),
    edge: createEdgeClients(),
  }),
  run: (event: UploadEvent, d, { logger }): Promise<UploadResult> => uploadCertificate({ ...d, logger, ...event }),
});
