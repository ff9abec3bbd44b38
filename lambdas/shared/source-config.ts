/**
 * The automatic certificate sources as the obtain handler receives them (environment variable
 * `CERTIFICATE_SOURCES`, JSON, written by the stack from the config section `certificateSource`).
 * Names and public values only: the EAB HMAC and every private key stay in Secrets Manager.
 */

/** Key types of the certificate key made for each ACME rotation: each works on classic ELB, ELBv2 and CloudFront. */
export const ACME_KEY_TYPES = ['rsa-2048', 'rsa-3072', 'rsa-4096', 'ec-p256'] as const;
export type AcmeKeyType = (typeof ACME_KEY_TYPES)[number];

export interface AcmeSourceConfig {
  /** The CA's ACME directory. */
  readonly directoryUrl: string;
  /** `mailto:` contact of the account (expiry and policy emails from the CA). */
  readonly contactEmail?: string;
  /** External Account Binding: the CA's key id, and the secret holding its base64url HMAC key. */
  readonly eab?: { readonly keyId: string; readonly hmacSecretName: string };
  /** Secret holding the account key (created on the first issuance, reused after). */
  readonly accountKeySecretName: string;
  readonly keyType: AcmeKeyType;
  /** Hosted zones the stack grants TXT changes of `_acme-challenge` names in. */
  readonly hostedZoneIds: readonly string[];
  /** Give up waiting for a Route53 change to be INSYNC after this long. */
  readonly dnsTimeoutSeconds: number;
  readonly dnsPollSeconds: number;
  /** Extra roots trusted for the directory's HTTPS (a private ACME CA); public roots always. */
  readonly directoryTrustedCertificates: readonly string[];
}

export interface AcmSourceConfig {
  /** The exportable ACM certificate. */
  readonly certificateArn: string;
  /** Whether an EventBridge rule starts a rotation when ACM has renewed it. */
  readonly startOnRenewal: boolean;
}

export interface CertificateSources {
  readonly acme?: AcmeSourceConfig;
  readonly acm?: AcmSourceConfig;
}
