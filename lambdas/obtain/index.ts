import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { classifyAwsErrors } from '../shared/aws-errors';
import { lazy, requireEnv } from '../shared/env';
import { createLogger, withExecution } from '../shared/logger';
import { obtainCertificate, type ObtainResult } from './domain';
import { awsClient } from '../shared/aws-clients';

export interface ObtainEvent {
  /** The execution input: `{ "source": ... }`. */
  readonly input: { readonly source?: unknown } | null;
  readonly executionName: string;
}

const deps = lazy(() => ({
  domain: requireEnv('DOMAIN'),
  stagingBucket: requireEnv('STAGING_BUCKET'),
  secretPrefix: requireEnv('SECRET_PREFIX'),
  s3: awsClient(S3Client),
  secrets: awsClient(SecretsManagerClient),
  logger: createLogger('obtain'),
}));

export const handler = async (event: ObtainEvent): Promise<ObtainResult> => {
  const d = deps();
  return classifyAwsErrors(() =>
    obtainCertificate({
      ...d,
      logger: withExecution(d.logger, event.executionName),
      source: event.input?.source,
      executionName: event.executionName,
    }),
  );
};
