import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { lazy, optionalEnv, requireJsonEnv } from '../shared/env';
import { classifyAwsErrors } from '../shared/aws-errors';
import { splitPemCertificates } from '../shared/certificate';
import { createLogger, withExecution } from '../shared/logger';
import { validateNewCertificate, type ValidateResult } from './domain';
import { awsClient } from '../shared/aws-clients';

export interface ValidateEvent {
  readonly executionName: string;
  readonly secretArn: string;
  readonly current: { readonly notAfter: string; readonly names?: string[]; readonly sha256?: string };
}

const deps = lazy(() => ({
  requiredNames: requireJsonEnv<string[]>('REQUIRED_NAMES'),
  extraTrustedRoots: splitPemCertificates(optionalEnv('TRUSTED_ROOTS') ?? ''),
  secrets: awsClient(SecretsManagerClient),
  logger: createLogger('validate'),
}));

export const handler = async (event: ValidateEvent): Promise<ValidateResult> => {
  const d = deps();
  return classifyAwsErrors(() =>
    validateNewCertificate({
      ...d,
      logger: withExecution(d.logger, event.executionName),
      secretArn: event.secretArn,
      current: event.current,
      now: new Date(),
    }),
  );
};
