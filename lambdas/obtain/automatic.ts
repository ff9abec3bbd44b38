/**
 * The automatic sources of the obtain phase: `acme` (issued over ACME DNS-01 with Route53) and
 * `acm` (exported from ACM). Either way the certificate, chain and key go straight into a secret
 * of this rotation (`<prefix><execution name>`), and only its ARN and public metadata come back.
 *
 * Idempotent: a retry that finds the rotation's secret already stored returns it instead of
 * issuing again (an ACME CA counts every issuance against its rate limits).
 */
import type { ACMClient } from '@aws-sdk/client-acm';
import type { Route53Client } from '@aws-sdk/client-route-53';
import { CreateSecretCommand, DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { exportFromAcm } from '../shared/acm/export';
import { issueWithAcme } from '../shared/acme/issue';
import { awsErrorName } from '../shared/aws-errors';
import type { StoredBundle } from '../shared/bundle-store';
import { summarizeCertificate } from '../shared/certificate';
import { InputInvalid } from '../shared/errors';
import type { DomainLogger } from '../shared/logger';
import type { CertificateSources } from '../shared/source-config';

export interface AutomaticParams {
  readonly secrets: SecretsManagerClient;
  readonly route53: Route53Client;
  readonly acm: ACMClient;
  readonly logger: DomainLogger;
  readonly sources: CertificateSources;
  readonly executionName: string;
  readonly secretPrefix: string;
  readonly domain: string;
  /** The names the certificate must cover (config `certificateNames`). */
  readonly names: readonly string[];
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
}

/** What comes back into the state: a reference and public facts, never key material. */
export interface AutomaticResult {
  readonly secretArn: string;
  readonly origin: 'acme' | 'acm';
  readonly serial: string;
  readonly notAfter: string;
  readonly names: readonly string[];
  /** The ACME account that ordered it, or the ACM certificate it was exported from. */
  readonly issuedBy: string;
}

async function secretArnOf(secrets: SecretsManagerClient, name: string): Promise<string | undefined> {
  try {
    return (await secrets.send(new DescribeSecretCommand({ SecretId: name }))).ARN;
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

function facts(certificate: string): { serial: string; notAfter: string; names: string[] } {
  const s = summarizeCertificate(certificate);
  return { serial: s.serial, notAfter: s.notAfter, names: [...s.names] };
}

/** Obtains the certificate from `kind` (see the module comment). */
export async function obtainAutomatically(params: AutomaticParams, kind: 'acme' | 'acm'): Promise<AutomaticResult> {
  const secretName = `${params.secretPrefix}${params.executionName}`;
  const existing = await secretArnOf(params.secrets, secretName);
  if (existing) {
    params.logger.info('certificate of this rotation already stored: not obtained again', { secretName, source: kind });
    return { secretArn: existing, origin: kind, serial: '', notAfter: '', names: [], issuedBy: 'an earlier attempt of this execution' };
  }

  let bundle: StoredBundle;
  let issuedBy: string;
  if (kind === 'acme') {
    const config = params.sources.acme;
    if (!config) throw new InputInvalid('the "acme" source is not configured in this deployment (config certificateSource.acme)');
    const issued = await issueWithAcme({ ...params, config });
    bundle = { certificate: issued.certificate, privateKey: issued.privateKey, ...(issued.chain ? { chain: issued.chain } : {}) };
    issuedBy = issued.accountUrl;
  } else {
    const config = params.sources.acm;
    if (!config) throw new InputInvalid('the "acm" source is not configured in this deployment (config certificateSource.acm)');
    bundle = await exportFromAcm({ acm: params.acm, certificateArn: config.certificateArn, logger: params.logger });
    issuedBy = config.certificateArn;
  }

  let secretArn: string | undefined;
  try {
    const out = await params.secrets.send(
      new CreateSecretCommand({
        Name: secretName,
        Description: `New ${params.domain} certificate ${kind === 'acme' ? 'issued over ACME' : 'exported from ACM'} by rotation ${params.executionName}`,
        SecretString: JSON.stringify(bundle),
        Tags: [
          { Key: 'cert-rotation:domain', Value: params.domain },
          { Key: 'cert-rotation:execution', Value: params.executionName },
          { Key: 'cert-rotation:source', Value: kind },
        ],
      }),
    );
    secretArn = out.ARN;
  } catch (error) {
    if (awsErrorName(error) !== 'ResourceExistsException') throw error;
    secretArn = await secretArnOf(params.secrets, secretName);
  }
  if (!secretArn) throw new Error(`secret ${secretName} was created but cannot be described`);
  params.logger.info('new certificate stored in Secrets Manager', { secretName, source: kind });
  return { secretArn, origin: kind, ...facts(bundle.certificate), issuedBy };
}
