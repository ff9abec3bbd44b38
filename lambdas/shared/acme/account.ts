/**
 * The ACME account key and the EAB HMAC, both kept in Secrets Manager: the account key is created
 * on the first issuance against a CA and reused after (one account per CA and domain); the HMAC is
 * the one the CA gave for External Account Binding, stored there by the operator.
 */
import { generateKeyPairSync } from 'node:crypto';
import { CreateSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsErrorName } from '../aws-errors';
import { AcmeAccountRefused } from '../errors';
import type { DomainLogger } from '../logger';

/** What the account secret holds (SecretString, JSON). */
export interface AcmeAccount {
  readonly accountKey: string;
  readonly directoryUrl: string;
  /** The account's URL at the CA (its `kid`), so a reused account needs no new-account request. */
  readonly accountUrl: string;
}

async function readSecretString(secrets: SecretsManagerClient, secretId: string): Promise<string | undefined> {
  try {
    return (await secrets.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

function parseAccount(text: string, secretName: string, directoryUrl: string): AcmeAccount {
  let o: Partial<AcmeAccount> = {};
  try {
    o = JSON.parse(text) as Partial<AcmeAccount>;
  } catch {
    // reported below
  }
  if (
    typeof o.accountKey !== 'string' ||
    !o.accountKey.includes('PRIVATE KEY') ||
    typeof o.accountUrl !== 'string' ||
    typeof o.directoryUrl !== 'string'
  ) {
    throw new AcmeAccountRefused(
      `secret ${secretName} does not hold an ACME account ({"accountKey": PEM, "directoryUrl": URL, "accountUrl": URL}); delete it to let the rotation create a new account`,
    );
  }
  if (o.directoryUrl !== directoryUrl) {
    throw new AcmeAccountRefused(
      `secret ${secretName} holds the account of ${o.directoryUrl}, not of ${directoryUrl}: set certificateSource.acme.accountKeySecretName to a secret for this CA`,
    );
  }
  return { accountKey: o.accountKey, directoryUrl: o.directoryUrl, accountUrl: o.accountUrl };
}

/** The stored account for `directoryUrl`, or undefined when none was created yet. */
export async function readAccount(
  secrets: SecretsManagerClient,
  secretName: string,
  directoryUrl: string,
): Promise<AcmeAccount | undefined> {
  const text = await readSecretString(secrets, secretName);
  return text === undefined ? undefined : parseAccount(text, secretName, directoryUrl);
}

/** A new account key: ECDSA P-256, which every ACME CA accepts for accounts (PKCS#8 PEM). */
export function newAccountKey(): string {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * Stores a just registered account, once. When another rotation stored one first
 * (ResourceExistsException), that one is returned and used (the new registration is left unused).
 */
export async function storeAccount(params: {
  readonly secrets: SecretsManagerClient;
  readonly secretName: string;
  readonly account: AcmeAccount;
  readonly domain: string;
  readonly logger: DomainLogger;
}): Promise<{ readonly account: AcmeAccount; readonly created: boolean }> {
  const { secrets, secretName, account } = params;
  try {
    await secrets.send(
      new CreateSecretCommand({
        Name: secretName,
        Description: `ACME account key of the ${params.domain} certificate rotation for ${account.directoryUrl}`,
        SecretString: JSON.stringify(account),
        Tags: [
          { Key: 'cert-rotation:domain', Value: params.domain },
          { Key: 'cert-rotation:purpose', Value: 'acme-account' },
        ],
      }),
    );
    params.logger.info('ACME account key stored in Secrets Manager', { secretName, accountUrl: account.accountUrl });
    return { account, created: true };
  } catch (error) {
    if (awsErrorName(error) !== 'ResourceExistsException') throw error;
    const winner = await readAccount(secrets, secretName, account.directoryUrl);
    if (!winner) throw error;
    return { account: winner, created: false };
  }
}

/** The EAB HMAC key (base64url) from its secret: the SecretString itself, or JSON `{"hmacKey": "..."}`. */
export async function eabHmacKey(secrets: SecretsManagerClient, secretName: string): Promise<string> {
  const text = await readSecretString(secrets, secretName);
  if (text === undefined) {
    throw new AcmeAccountRefused(`the EAB HMAC secret ${secretName} does not exist: store the HMAC key your CA gave you there`);
  }
  let value = text.trim();
  if (value.startsWith('{')) {
    try {
      const o = JSON.parse(value) as { hmacKey?: unknown };
      value = typeof o.hmacKey === 'string' ? o.hmacKey.trim() : '';
    } catch {
      value = '';
    }
  }
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(value)) {
    throw new AcmeAccountRefused(`the EAB HMAC secret ${secretName} must hold the base64url HMAC key (or {"hmacKey": "..."})`);
  }
  return value;
}
