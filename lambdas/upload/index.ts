import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { classifyAwsErrors } from '../shared/aws-errors';
import { lazy, requireEnv } from '../shared/env';
import { createLogger, withExecution } from '../shared/logger';
import { uploadCertificate, type UploadResult } from './domain';
import { awsClient } from '../shared/aws-clients';

export interface UploadEvent {
  readonly executionName: string;
  readonly secretArn: string;
  readonly expected: { readonly sha256: string; readonly notBefore: string };
}

const deps = lazy(() => ({
  iamPath: requireEnv('IAM_PATH'),
  namePrefix: requireEnv('CERTIFICATE_NAME_PREFIX'),
  domain: requireEnv('DOMAIN'),
  iam: awsClient(IAMClient),
  secrets: awsClient(SecretsManagerClient),
  logger: createLogger('upload'),
}));

export const handler = async (event: UploadEvent): Promise<UploadResult> => {
  const d = deps();
  return classifyAwsErrors(() => uploadCertificate({ ...d, logger: withExecution(d.logger, event.executionName), ...event }));
};
