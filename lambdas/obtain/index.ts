import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { defineHandler } from '../shared/handler';
import { obtainCertificate, type ObtainParams, type ObtainResult } from './domain';

/** The state's payload: the execution's name and its input (`{ "source": ... }`, checked by the domain). */
export type ObtainEvent = Pick<ObtainParams, 'executionName'> & { readonly input: { readonly source?: unknown } | null };

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
    obtainCertificate({ ...d, logger, executionName: event.executionName, source: event.input?.source }),
});
