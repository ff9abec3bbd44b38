/**
 * Exports an ACM exportable certificate (public, since June 2025; or private): DescribeCertificate
 * checks it can be exported (ISSUED, ACM-issued, export enabled), ExportCertificate returns the
 * certificate, the chain and the private key encrypted with a passphrase made for this one call,
 * and node:crypto decrypts the key. The caller stores the three in Secrets Manager; the passphrase
 * and the decrypted key stay in this invocation's memory.
 */
import { createPrivateKey, randomBytes } from 'node:crypto';
import { DescribeCertificateCommand, ExportCertificateCommand, type ACMClient } from '@aws-sdk/client-acm';
import { awsErrorName } from '../aws-errors';
import { AcmCertificateNotExportable } from '../errors';
import type { DomainLogger } from '../logger';

export interface AcmExported {
  readonly certificate: string;
  readonly chain?: string;
  readonly privateKey: string;
}

/**
 * A passphrase for one export: 32 random bytes as base64url (43 characters, inside ACM's 4 to 128
 * ASCII characters, and never `#`, `$` or `%`).
 */
export function exportPassphrase(): string {
  return randomBytes(32).toString('base64url');
}

/** Decrypts an `ENCRYPTED PRIVATE KEY` PEM (PKCS#8) to a plain PKCS#8 PEM. */
export function decryptPrivateKey(encryptedPem: string, passphrase: string): string {
  return createPrivateKey({ key: encryptedPem, format: 'pem', passphrase }).export({ type: 'pkcs8', format: 'pem' }).toString();
}

export async function exportFromAcm(params: {
  readonly acm: ACMClient;
  readonly certificateArn: string;
  readonly logger: DomainLogger;
}): Promise<AcmExported> {
  const arn = params.certificateArn;
  const described = await params.acm.send(new DescribeCertificateCommand({ CertificateArn: arn })).catch((error: unknown) => {
    const name = awsErrorName(error);
    if (name === 'ResourceNotFoundException' || name === 'InvalidArnException') {
      throw new AcmCertificateNotExportable(
        `ACM certificate ${arn} does not exist in this account and region (${name}); set certificateSource.acm.certificateArn to an exportable certificate`,
      );
    }
    throw error;
  });
  const c = described.Certificate;
  if (c?.Type === 'IMPORTED') {
    throw new AcmCertificateNotExportable(
      `ACM certificate ${arn} is IMPORTED: ACM exports only certificates it issued. Request a public certificate with export enabled (RequestCertificate Options.Export=ENABLED), or stage this one with the "secretId"/"s3" source`,
    );
  }
  if (c?.Options?.Export !== 'ENABLED') {
    throw new AcmCertificateNotExportable(
      `ACM certificate ${arn} (${c?.Type ?? 'unknown type'}) was not requested with export enabled (Options.Export is ${c?.Options?.Export ?? 'unset'}); export cannot be turned on later: request a new certificate with Options.Export=ENABLED`,
    );
  }
  if (c.Status !== 'ISSUED') {
    throw new AcmCertificateNotExportable(
      `ACM certificate ${arn} is ${c.Status ?? 'in an unknown status'}, not ISSUED: finish its validation first`,
    );
  }
  const passphrase = exportPassphrase();
  const out = await params.acm
    .send(new ExportCertificateCommand({ CertificateArn: arn, Passphrase: Buffer.from(passphrase, 'ascii') }))
    .catch((error: unknown) => {
      if (awsErrorName(error) === 'ValidationException' || awsErrorName(error) === 'RequestInProgressException') {
        throw new AcmCertificateNotExportable(`ACM refused to export ${arn}: ${error instanceof Error ? error.message : String(error)}`);
      }
      throw error;
    });
  if (!out.Certificate || !out.PrivateKey) throw new AcmCertificateNotExportable(`ACM returned no certificate or key for ${arn}`);
  let privateKey: string;
  try {
    privateKey = decryptPrivateKey(out.PrivateKey, passphrase);
  } catch (error) {
    // Never the key or the passphrase in the message: only what went wrong.
    throw new AcmCertificateNotExportable(
      `the private key ACM exported for ${arn} does not decrypt with this call's passphrase (${error instanceof Error ? ((error as { code?: string }).code ?? error.name) : 'error'})`,
    );
  }
  params.logger.info('ACM certificate exported', { certificateArn: arn, type: c.Type, notAfter: c.NotAfter?.toISOString() });
  return { certificate: out.Certificate, ...(out.CertificateChain ? { chain: out.CertificateChain } : {}), privateKey };
}
