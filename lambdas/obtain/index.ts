import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { defineHandler } from '../shared/handler';
import { obtainCertificate, type ObtainResult } from './domain';

export interface ObtainEvent {
  /** The execution input: `{ "source": ... }`. */
  readonly input: { readonly source?: unknown } | null;
  readonly executionName: string;
}

export const handler = defineHandler({
  name: 'obtain',
  deps: ({ requireEnv, awsClient }) => ({
    domain: requireEnv('DOMAIN'),
    stagingBucket: requireEnv('STAGING_BUCKET'),
    secretPrefix: requireEnv('SECRET_PREFIX'),
    s3: awsClient(S3Client),
    secrets: awsClient(SecretsManagerClient),
  }),
  run: (event: ObtainEvent, d, { logger }): Promise<ObtainResult> =>
    obtainCertificate({ ...d, logger, source: event.input?.source, executionName: event.executionName }),
});
