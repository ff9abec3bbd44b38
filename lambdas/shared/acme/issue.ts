/**
 * Issues a certificate over ACME DNS-01 with Route53, with acme-client:
 *  1. the account key from Secrets Manager (created once, reused), EAB when configured;
 *  2. an order for the names (wildcard + apex); every pending authorization's dns-01 key
 *     authorization is grouped by record name (`*.gitter.im` and `gitter.im` share
 *     `_acme-challenge.gitter.im`, so one TXT record set holds both values);
 *  3. each record set is UPSERTed in the zone that owns it and waited on until INSYNC;
 *  4. the challenges are answered and waited on; the order is finalized with a CSR of a key made
 *     for this rotation only (type from the config), and the certificate downloaded;
 *  5. whatever happened, every record set this call wrote is removed again.
 * The key and certificate go back to the caller only, which stores them in Secrets Manager.
 * Errors are named (AcmeRateLimited, AcmeChallengeInvalid, AcmeAccountRefused, AcmeOrderRefused,
 * AcmeUnavailable, HostedZoneNotFound, DnsChangeTimeout) with what to do.
 */
import { generateKeyPairSync } from 'node:crypto';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { Route53Client } from '@aws-sdk/client-route-53';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as acme from 'acme-client';
import { AcmeAccountRefused, AcmeChallengeInvalid, AcmeOrderRefused, AcmeRateLimited, AcmeUnavailable, RotationError } from '../errors';
import type { DomainLogger } from '../logger';
import type { AcmeKeyType, AcmeSourceConfig } from '../source-config';
import { eabHmacKey, newAccountKey, readAccount, storeAccount, type AcmeAccount } from './account';
import { challengeRecordName, deleteTxt, findHostedZone, upsertTxt, waitInsync, type HostedZoneRef } from './route53';

export interface AcmeIssueParams {
  readonly route53: Route53Client;
  readonly secrets: SecretsManagerClient;
  readonly logger: DomainLogger;
  readonly config: AcmeSourceConfig;
  /** The certificate's names, from the config (wildcard + apex). */
  readonly names: readonly string[];
  readonly domain: string;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
}

export interface AcmeIssued {
  readonly certificate: string;
  readonly chain: string;
  readonly privateKey: string;
  readonly accountUrl: string;
  readonly accountCreated: boolean;
}

/** The last ACME problem document the CA answered with (RFC 8555 §6.7), for naming the error. */
interface Problem {
  readonly type: string;
  readonly detail: string;
  readonly status: number;
}
let lastProblem: Problem | undefined;
let interceptorInstalled = false;

/** The problem recorded since the last reset (a function, so TypeScript does not narrow it across awaits). */
function recordedProblem(): Problem | undefined {
  return lastProblem;
}

/** acme-client keeps only a problem's detail in its errors; this keeps its type too. */
function watchProblems(): void {
  if (interceptorInstalled) return;
  interceptorInstalled = true;
  const record = (response: { status?: number; data?: unknown } | undefined) => {
    const data = response?.data as { type?: unknown; detail?: unknown } | undefined;
    if (typeof data?.type === 'string' && data.type.startsWith('urn:ietf:params:acme:error:')) {
      lastProblem = {
        type: data.type.slice('urn:ietf:params:acme:error:'.length),
        detail: typeof data.detail === 'string' ? data.detail : '',
        status: response?.status ?? 0,
      };
    }
  };
  acme.axios.interceptors.response.use(
    (response) => {
      record(response);
      return response;
    },
    (error: unknown) => {
      record((error as { response?: { status?: number; data?: unknown } }).response);
      // acme-client's own retry logic reads the axios error as it is.
      return Promise.reject(error instanceof Error ? error : new Error('ACME request failed'));
    },
  );
}

/** The HTTPS trust for the directory: Node's public roots, plus the configured private ones. */
function trustDirectory(extra: readonly string[]): void {
  acme.axios.defaults.httpsAgent = extra.length > 0 ? new Agent({ ca: [...rootCertificates, ...extra], keepAlive: false }) : undefined;
}

/** A fresh certificate key of the configured type, PKCS#8 PEM. */
export function newCertificateKey(keyType: AcmeKeyType): string {
  const pair =
    keyType === 'ec-p256'
      ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      : generateKeyPairSync('rsa', { modulusLength: Number(keyType.slice(4)) });
  return pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Turns an acme-client or network error into a named error an SRE can act on. */
function classify(error: unknown, stage: string, directoryUrl: string): Error {
  if (error instanceof RotationError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const problem = recordedProblem();
  const code = (error as { code?: unknown }).code;
  if (problem?.type === 'rateLimited' || problem?.status === 429) {
    return new AcmeRateLimited(
      `the ACME CA (${directoryUrl}) rate-limited ${stage}: ${problem.detail || message}. Wait until the time it names (Let's Encrypt limits reset within hours to a week), or use the staging directory for tests`,
    );
  }
  if (problem && ['unauthorized', 'externalAccountRequired', 'accountDoesNotExist', 'userActionRequired'].includes(problem.type)) {
    return new AcmeAccountRefused(
      `the ACME CA (${directoryUrl}) refused the account during ${stage} (${problem.type}): ${problem.detail || message}. Check certificateSource.acme.eab (key id and the HMAC secret) and the account key secret`,
    );
  }
  if (problem && ['rejectedIdentifier', 'caa', 'badCSR', 'badPublicKey', 'unsupportedIdentifier', 'malformed'].includes(problem.type)) {
    return new AcmeOrderRefused(
      `the ACME CA (${directoryUrl}) refused ${stage} (${problem.type}): ${problem.detail || message}. Check the names (certificateNames), CAA records and certificateSource.acme.keyType`,
    );
  }
  if (
    problem?.type === 'badNonce' ||
    problem?.type === 'serverInternal' ||
    (problem && problem.status >= 500) ||
    typeof code === 'string'
  ) {
    return new AcmeUnavailable(`the ACME CA (${directoryUrl}) failed during ${stage}: ${problem?.detail || message}; retried`);
  }
  return new AcmeOrderRefused(`ACME ${stage} failed at ${directoryUrl}: ${problem?.detail || message}`);
}

/** Runs one ACME step, naming its failure. */
async function step<T>(stage: string, directoryUrl: string, body: () => Promise<T>): Promise<T> {
  lastProblem = undefined;
  try {
    return await body();
  } catch (error) {
    throw classify(error, stage, directoryUrl);
  }
}

/** Issues the certificate (see the module comment). */
export async function issueWithAcme(params: AcmeIssueParams): Promise<AcmeIssued> {
  const { config, logger, route53 } = params;
  const dir = config.directoryUrl;
  watchProblems();
  trustDirectory(config.directoryTrustedCertificates);

  const backoff = {
    // Poll challenge and order status from 1 s, backing off to 10 s, 12 times (about 1.5 minutes).
    backoffAttempts: 12,
    backoffMin: 1000,
    backoffMax: 10000,
  };
  let account: AcmeAccount | undefined = await readAccount(params.secrets, config.accountKeySecretName, dir);
  let created = false;
  if (!account) {
    // First issuance against this CA: register a new account (with EAB when configured), then keep it.
    const accountKey = newAccountKey();
    const externalAccountBinding = config.eab
      ? { kid: config.eab.keyId, hmacKey: await eabHmacKey(params.secrets, config.eab.hmacSecretName) }
      : undefined;
    const registration = new acme.Client({
      directoryUrl: dir,
      accountKey,
      ...(externalAccountBinding ? { externalAccountBinding } : {}),
      ...backoff,
    });
    await step('account registration', dir, () =>
      registration.createAccount({
        termsOfServiceAgreed: true,
        ...(config.contactEmail ? { contact: [`mailto:${config.contactEmail}`] } : {}),
      }),
    );
    const stored = await storeAccount({
      secrets: params.secrets,
      secretName: config.accountKeySecretName,
      account: { accountKey, directoryUrl: dir, accountUrl: registration.getAccountUrl() },
      domain: params.domain,
      logger,
    });
    account = stored.account;
    created = stored.created;
  }
  // A known account signs with its URL (kid): no new-account request.
  const client = new acme.Client({ directoryUrl: dir, accountKey: account.accountKey, accountUrl: account.accountUrl, ...backoff });
  const accountUrl = account.accountUrl;
  logger.info('ACME account ready', { accountUrl, created });

  const order = await step('the new order', dir, () =>
    client.createOrder({ identifiers: params.names.map((value) => ({ type: 'dns', value })) }),
  );
  const authorizations = await step('reading the authorizations', dir, () => client.getAuthorizations(order));

  // Every pending authorization's dns-01 challenge, grouped by record name.
  const pending: Array<{ identifier: string; record: string; challenge: Parameters<typeof client.completeChallenge>[0] }> = [];
  const records = new Map<string, { values: string[]; zone?: HostedZoneRef }>();
  for (const authz of authorizations) {
    if (authz.status === 'valid') continue;
    const identifier = `${authz.wildcard ? '*.' : ''}${authz.identifier.value}`;
    const challenge = authz.challenges.find((c) => c.type === 'dns-01');
    if (!challenge)
      throw new AcmeOrderRefused(`the ACME CA (${dir}) offers no dns-01 challenge for ${identifier}; this source needs DNS-01`);
    const value = await client.getChallengeKeyAuthorization(challenge);
    const record = challengeRecordName(authz.identifier.value);
    const entry = records.get(record) ?? { values: [] };
    entry.values.push(value);
    records.set(record, entry);
    pending.push({ identifier, record, challenge });
  }

  try {
    for (const [record, entry] of records) entry.zone = await findHostedZone(route53, record, config.hostedZoneIds);
    const changes: Array<{ record: string; id: string }> = [];
    for (const [record, entry] of records) {
      changes.push({ record, id: await upsertTxt(route53, entry.zone!, record, entry.values) });
      logger.info('ACME challenge record published', { zone: entry.zone!.id, record, values: entry.values.length });
    }
    for (const c of changes) {
      await waitInsync(route53, c.id, `TXT ${c.record}`, {
        timeoutSeconds: config.dnsTimeoutSeconds,
        pollSeconds: config.dnsPollSeconds,
        now: params.now,
        sleep: params.sleep,
      });
    }
    for (const p of pending) {
      await step(`answering the challenge for ${p.identifier}`, dir, () => client.completeChallenge(p.challenge));
    }
    for (const p of pending) {
      lastProblem = undefined;
      try {
        await client.waitForValidStatus(p.challenge);
      } catch (error) {
        const named = classify(error, `validating ${p.identifier}`, dir);
        if (!(named instanceof AcmeOrderRefused)) throw named;
        throw new AcmeChallengeInvalid(
          `the ACME CA (${dir}) could not validate ${p.identifier} over DNS-01: ${recordedProblem()?.detail || (error instanceof Error ? error.message : String(error))}. ` +
            `It looked up TXT ${p.record} (hosted zone ${records.get(p.record)?.zone?.id ?? '?'}): check that this zone is the one delegated in public DNS, and no CAA record forbids the CA. The record has been removed`,
        );
      }
    }
  } finally {
    // Whatever happened: no challenge record stays behind (each removal tried, failures logged).
    for (const [record, entry] of records) {
      if (!entry.zone) continue;
      await deleteTxt(route53, entry.zone, record, logger).catch((error: unknown) => {
        logger.error('could not remove the ACME challenge record; delete it by hand', {
          zone: entry.zone!.id,
          record,
          error: error instanceof Error ? error.message : String(error),
        });
      });
    }
  }

  const privateKey = newCertificateKey(config.keyType);
  const [, csr] = await acme.crypto.createCsr({ commonName: params.names[0], altNames: [...params.names] }, privateKey);
  const ready = await step('finalizing the order', dir, async () => client.waitForValidStatus(await client.finalizeOrder(order, csr)));
  const pem = await step('downloading the certificate', dir, () => client.getCertificate(ready));
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new AcmeOrderRefused(`the ACME CA (${dir}) returned no certificate for the order`);
  logger.info('ACME certificate issued', { names: params.names, chainLength: blocks.length - 1 });
  return {
    certificate: `${blocks[0]}\n`,
    chain: blocks.slice(1).join('\n') + (blocks.length > 1 ? '\n' : ''),
    privateKey,
    accountUrl,
    accountCreated: created,
  };
}
