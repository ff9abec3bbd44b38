import type { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import type { IAMClient } from '@aws-sdk/client-iam';
import { findCurrentCertificate } from '../current/domain';
import type { DomainLogger } from '../shared/logger';
import type { TlsProbe } from '../shared/tls-probe';

/** One view of the certificate in use: what IAM says the canary listener holds, or what a TLS handshake saw. */
export interface CertificateView {
  readonly serial: string;
  readonly sha256: string;
  readonly notAfter: string;
  /** IAM only: the server certificate's name. */
  readonly name?: string;
}

/** What the check read about the certificate in use. Each view is absent when it could not be read (the error says why). */
export interface CertificateInUse {
  readonly iam?: CertificateView;
  readonly iamError?: string;
  readonly tls?: CertificateView;
  readonly tlsError?: string;
  /** The earliest notAfter of the views read (the pessimistic answer: a served certificate expires whatever IAM says). */
  readonly notAfter: string;
}

export interface ReadCertificateParams {
  readonly elb: ElasticLoadBalancingClient;
  readonly iam: IAMClient;
  readonly probe: TlsProbe;
  readonly logger: DomainLogger;
  readonly canary: { readonly loadBalancerName: string; readonly port: number };
  /** `host:port` of the canary endpoint; the handshake sends SNI = host. */
  readonly endpoint: { readonly host: string; readonly port: number };
}

/** Thrown when neither IAM nor the TLS handshake told which certificate is in use. */
export class CertificateInUseUnknown extends Error {
  override readonly name = 'CertificateInUseUnknown';
}

/**
 * Reads the certificate in use twice: IAM's metadata of the certificate the canary listener holds
 * (the same lookup the rotation's validate phase makes), and a TLS handshake to the canary
 * endpoint (what clients are served). Either may fail on its own (a load balancer being replaced,
 * a network path down); the check goes on with the other and logs why. Both failing is an error.
 */
export async function readCertificateInUse(params: ReadCertificateParams): Promise<CertificateInUse> {
  const [iamRead, tlsRead] = await Promise.allSettled([
    findCurrentCertificate({ elb: params.elb, iam: params.iam, logger: params.logger, canary: params.canary }),
    params.probe({ host: params.endpoint.host, port: params.endpoint.port, servername: params.endpoint.host }),
  ]);
  const iam: CertificateView | undefined =
    iamRead.status === 'fulfilled'
      ? { serial: iamRead.value.serial, sha256: iamRead.value.sha256, notAfter: iamRead.value.notAfter, name: iamRead.value.name }
      : undefined;
  const tls: CertificateView | undefined =
    tlsRead.status === 'fulfilled'
      ? { serial: tlsRead.value.serial, sha256: tlsRead.value.sha256, notAfter: tlsRead.value.notAfter }
      : undefined;
  const iamError = iamRead.status === 'rejected' ? errorText(iamRead.reason) : undefined;
  const tlsError = tlsRead.status === 'rejected' ? errorText(tlsRead.reason) : undefined;
  if (iamError)
    params.logger.warn('could not read the canary listener certificate from IAM; going on with the TLS handshake', { iamError });
  if (tlsError) params.logger.warn('TLS handshake to the canary endpoint failed; going on with IAM', { tlsError });
  const views = [iam, tls].filter((v): v is CertificateView => v !== undefined);
  if (views.length === 0) {
    throw new CertificateInUseUnknown(`cannot tell which certificate is in use: IAM: ${iamError ?? '?'}; TLS: ${tlsError ?? '?'}`);
  }
  if (iam && tls && iam.sha256 !== tls.sha256) {
    params.logger.warn('the canary endpoint serves another certificate than the canary listener holds in IAM', {
      iamSha256: iam.sha256,
      tlsSha256: tls.sha256,
    });
  }
  const notAfter = views.map((v) => v.notAfter).sort((a, b) => Date.parse(a) - Date.parse(b))[0];
  return {
    ...(iam ? { iam } : {}),
    ...(iamError ? { iamError } : {}),
    ...(tls ? { tls } : {}),
    ...(tlsError ? { tlsError } : {}),
    notAfter,
  };
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
