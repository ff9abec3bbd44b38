import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { splitPemCertificates } from '../shared/certificate';
import { defineHandler } from '../shared/handler';
import { validateNewCertificate, type ValidateResult } from './domain';

export interface ValidateEvent {
  readonly executionName: string;
  readonly secretArn: string;
  readonly current: { readonly notAfter: string; readonly names?: string[]; readonly sha256?: string };
}

export const handler = defineHandler({
  name: 'validate',
  deps: ({ requireJsonEnv, optionalEnv, awsClient }) => ({
    requiredNames: requireJsonEnv<string[]>('REQUIRED_NAMES'),
    extraTrustedRoots: splitPemCertificates(optionalEnv('TRUSTED_ROOTS') ?? ''),
    secrets: awsClient(SecretsManagerClient),
  }),
  run: (event: ValidateEvent, d, { logger, now }): Promise<ValidateResult> =>
    validateNewCertificate({ ...d, logger, secretArn: event.secretArn, current: event.current, now }),
});
