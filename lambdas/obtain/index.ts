import { ACMClient } from '@aws-sdk/client-acm';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { defineHandler } from '../shared/handler';
import type { CertificateSources } from '../shared/source-config';
import { obtainCertificate, type ObtainParams, type ObtainResult } from './domain';

/** The state's payload: the execution's name and its input (`{ "source": ... }`, checked by the domain). */
export type ObtainEvent = Pick<ObtainParams, 'executionName'> & { readonly input: { readonly source?: unknown } | null };

export const handler = defineHandler({
  name: 'obtain',
  deps: ({ requireEnv, requireJsonEnv, awsClient }) => ({
    domain: requireEnv('DOMAIN'),
    stagingBucket: requireEnv('STAGING_BUCKET'),
    secretPrefix: requireEnv('SECRET_PREFIX'),
    s3: awsClient(S3Client),
    secrets: awsClient(SecretsManagerClient),
    /** The configured automatic sources (names only; `{}` when none). */
    sources: requireJsonEnv<CertificateSources>('CERTIFICATE_SOURCES'),
    names: requireJsonEnv<string[]>('CERTIFICATE_NAMES'),
    route53: awsClient(Route53Client),
    acm: awsClient(ACMClient),
  }),
  run: (event: ObtainEvent, d, { logger, now }): Promise<ObtainResult> =>
    obtainCertificate({
      ...d,
      logger,
      now,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      source: event.input?.source,
      executionName: event.executionName,
    }),
});
