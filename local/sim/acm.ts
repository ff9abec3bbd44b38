/**
 * Simulated ACM: DescribeCertificate and ExportCertificate of the fleet's `acm` certificates
 * (REHEARSAL.md fleet file: exportable certificates). Each is an ACM certificate with real
 * material (the rehearsal issues it); `type` AMAZON_ISSUED (default), PRIVATE or IMPORTED,
 * `exportable` (default true: requested with export enabled, `Options.Export = ENABLED`).
 *
 * ExportCertificate, as AWS: only an ISSUED certificate whose export is enabled (AMAZON_ISSUED or
 * PRIVATE); the passphrase is 4 to 128 ASCII bytes without `#`, `$` or `%`; the private key comes
 * back as an encrypted PKCS#8 PEM (`ENCRYPTED PRIVATE KEY`) under that passphrase, the chain
 * without the certificate itself. The material is never recorded (the secret scan looks for the
 * key everywhere else).
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type * as acmTypes from '@aws-sdk/client-acm';
import * as acmSdk from '@aws-sdk/client-acm';
import { awsError } from './errors';
import type { Out, SimCertificate } from './iam';
import { defineService, type OperationsOf } from './service';

/** An ACM certificate of the fleet file. */
export interface FleetAcmCertificate {
  /** @default 'AMAZON_ISSUED' */
  readonly type?: 'AMAZON_ISSUED' | 'PRIVATE' | 'IMPORTED';
  /** Requested with export enabled. @default true */
  readonly exportable?: boolean;
  /** @default 'ISSUED' */
  readonly status?: 'ISSUED' | 'PENDING_VALIDATION' | 'EXPIRED';
}

/** A simulated ACM certificate. */
export interface SimAcmCertificate {
  readonly arn: string;
  readonly type: NonNullable<FleetAcmCertificate['type']>;
  readonly exportable: boolean;
  readonly status: NonNullable<FleetAcmCertificate['status']>;
  material?: SimCertificate;
  exports: number;
}

/** The ARN of the fleet's `index`-th ACM certificate (fixed, so a rehearsal config can name it before the account exists). */
export function simAcmCertificateArn(region: string, accountId: string, index: number): string {
  return `arn:aws:acm:${region}:${accountId}:certificate/00000000-0000-4000-8000-${String(index + 1).padStart(12, '0')}`;
}

/** The operations of acm the simulator answers. */
export const ACM_OPERATIONS = ['DescribeCertificate', 'ExportCertificate'] as const;

/** Simulated ACM. */
export class SimAcm {
  readonly certificates: SimAcmCertificate[] = [];

  constructor(
    private readonly region: string,
    private readonly accountId: string,
  ) {}

  seed(specs: readonly FleetAcmCertificate[]): void {
    for (const [i, s] of specs.entries()) {
      this.certificates.push({
        arn: simAcmCertificateArn(this.region, this.accountId, i),
        type: s.type ?? 'AMAZON_ISSUED',
        exportable: s.exportable ?? true,
        status: s.status ?? 'ISSUED',
        exports: 0,
      });
    }
  }

  /** Gives the fleet's certificates their material, in fleet order (the rehearsal issues it). */
  setMaterial(materials: readonly SimCertificate[]): void {
    this.certificates.forEach((c, i) => {
      c.material = materials[i];
    });
  }

  private mustGet(arn: string | undefined): SimAcmCertificate {
    if (!arn || !/^arn:aws[\w-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/.test(arn)) {
      throw awsError('InvalidArnException', `String '${String(arn)}' is not a valid ARN`, 400);
    }
    const c = this.certificates.find((x) => x.arn === arn);
    if (!c) throw awsError('ResourceNotFoundException', `Could not find certificate ${arn}.`, 400);
    return c;
  }

  /** The SDK operations, by name (exactly ACM_OPERATIONS). */
  readonly operations = {
    DescribeCertificate: (input: acmTypes.DescribeCertificateCommandInput): Out<acmTypes.DescribeCertificateCommandOutput> => {
      const c = this.mustGet(input.CertificateArn);
      const x = c.material ? new X509Certificate(c.material.certPem) : undefined;
      const names = (x?.subjectAltName ?? '')
        .split(/,\s*/)
        .filter((s) => s.startsWith('DNS:'))
        .map((s) => s.slice(4));
      const key = c.material ? createPrivateKey(c.material.keyPem) : undefined;
      const keyAlgorithm = key?.asymmetricKeyType === 'ec' ? 'EC_prime256v1' : `RSA_${key?.asymmetricKeyDetails?.modulusLength ?? 2048}`;
      return {
        Certificate: {
          CertificateArn: c.arn,
          DomainName: names[0],
          SubjectAlternativeNames: names,
          Status: c.status,
          Type: c.type,
          KeyAlgorithm: keyAlgorithm as acmTypes.KeyAlgorithm,
          ...(x ? { NotBefore: new Date(x.validFrom), NotAfter: new Date(x.validTo), Serial: x.serialNumber } : {}),
          Options: { Export: c.exportable && c.type !== 'IMPORTED' ? 'ENABLED' : 'DISABLED' },
          RenewalEligibility: c.type === 'IMPORTED' ? 'INELIGIBLE' : 'ELIGIBLE',
        },
      };
    },
    ExportCertificate: (input: acmTypes.ExportCertificateCommandInput): Out<acmTypes.ExportCertificateCommandOutput> => {
      const c = this.mustGet(input.CertificateArn);
      const passphrase = Buffer.from(input.Passphrase ?? new Uint8Array());
      if (
        passphrase.length < 4 ||
        passphrase.length > 128 ||
        /[#$%]/.test(passphrase.toString('latin1')) ||
        passphrase.some((b) => b < 0x20 || b > 0x7e)
      ) {
        throw awsError('ValidationException', 'Passphrase must be 4 to 128 ASCII characters and must not contain #, $ or %', 400);
      }
      if (c.type === 'IMPORTED' || !c.exportable) {
        throw awsError('ValidationException', `Certificate ARN: ${c.arn} is not an exportable certificate`, 400);
      }
      if (c.status !== 'ISSUED' || !c.material) {
        throw awsError('RequestInProgressException', `Certificate ARN: ${c.arn} is in status ${c.status}`, 400);
      }
      c.exports += 1;
      const encrypted = createPrivateKey(c.material.keyPem)
        .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase })
        .toString();
      return { Certificate: c.material.certPem, CertificateChain: c.material.chainPem, PrivateKey: encrypted };
    },
  } satisfies OperationsOf<typeof ACM_OPERATIONS>;
}

/** acm in the registry (registry.ts). */
export const acmService = defineService({
  prefix: 'acm',
  property: 'acm',
  operations: ACM_OPERATIONS,
  client: acmSdk.ACMClient,
  sdk: { exports: acmSdk, baseException: 'ACMServiceException' },
  throttlingCode: 'ThrottlingException',
  // Published: DescribeCertificate 10/s, ExportCertificate 5/s (estimates of ACM's request quotas).
  defaultRates: { 'acm:*': 10, 'acm:ExportCertificate': 5 },
  create: (ctx) => new SimAcm(ctx.region, ctx.accountId),
  seed: (acm, ctx) => acm.seed(ctx.fleet.acm ?? []),
});
