import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { defineHandler } from '../shared/handler';
import { uploadCertificate, type UploadResult } from './domain';

export interface UploadEvent {
  readonly executionName: string;
  readonly secretArn: string;
  readonly expected: { readonly sha256: string; readonly notBefore: string };
}

export const handler = defineHandler({
  name: 'upload',
  deps: ({ requireEnv, awsClient }) => ({
    iamPath: requireEnv('IAM_PATH'),
    namePrefix: requireEnv('CERTIFICATE_NAME_PREFIX'),
    domain: requireEnv('DOMAIN'),
    iam: awsClient(IAMClient),
    secrets: awsClient(SecretsManagerClient),
  }),
  run: (event: UploadEvent, d, { logger }): Promise<UploadResult> => uploadCertificate({ ...d, logger, ...event }),
});
