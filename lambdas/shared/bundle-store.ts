import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsErrorName } from './aws-errors';
import { InputInvalid } from './errors';

/**
 * The new certificate and its private key, as stored in Secrets Manager. The key never leaves
 * this module's callers' memory: only the secret ARN travels through the state machine.
 *
 * Secret format (SecretString, JSON): `{ "certificate": PEM, "privateKey": PEM, "chain": PEM? }`
 * (`certificateChain` is accepted for `chain`).
 */
export interface StoredBundle {
  readonly certificate: string;
  readonly privateKey: string;
  readonly chain?: string;
}

export const SECRET_FORMAT_HINT =
  'the secret must be JSON: {"certificate": "<PEM>", "privateKey": "<PEM>", "chain": "<PEM of the intermediates>"}';

export function parseBundleSecret(secretString: string | undefined, secretId: string): StoredBundle {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString ?? '');
  } catch {
    throw new InputInvalid(`secret ${secretId} is not JSON; ${SECRET_FORMAT_HINT}`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new InputInvalid(`secret ${secretId}: ${SECRET_FORMAT_HINT}`);
  const o = parsed as Record<string, unknown>;
  const chain = o.chain ?? o.certificateChain;
  const missing = ['certificate', 'privateKey'].filter((k) => typeof o[k] !== 'string' || o[k].trim() === '');
  if (missing.length > 0) throw new InputInvalid(`secret ${secretId} has no ${missing.join(' or ')}; ${SECRET_FORMAT_HINT}`);
  if (chain !== undefined && typeof chain !== 'string') throw new InputInvalid(`secret ${secretId}: "chain" must be a PEM string`);
  return {
    certificate: o.certificate as string,
    privateKey: o.privateKey as string,
    ...(typeof chain === 'string' && chain.trim() !== '' ? { chain } : {}),
  };
}

export async function readBundle(secrets: SecretsManagerClient, secretId: string): Promise<StoredBundle> {
  try {
    const out = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
    return parseBundleSecret(out.SecretString, secretId);
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') throw new InputInvalid(`secret ${secretId} does not exist`);
    throw error;
  }
}
