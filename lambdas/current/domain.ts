import type { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import type { IAMClient } from '@aws-sdk/client-iam';
import { summarizeCertificate } from '../shared/certificate';
import { TargetNotFound } from '../shared/errors';
import { findServerCertificate, getCertificateBody } from '../shared/iam-certs';
import type { DomainLogger } from '../shared/logger';
import { describeClassicElb } from '../shared/target-ops';

export interface CurrentParams {
  readonly elb: ElasticLoadBalancingClient;
  readonly iam: IAMClient;
  readonly logger: DomainLogger;
  readonly canary: { readonly loadBalancerName: string; readonly port: number };
}

/** The certificate in use, identified from the canary listener. No key material. */
export interface CurrentCertificate {
  readonly arn: string;
  readonly id: string;
  readonly name: string;
  readonly path: string;
  readonly sha256: string;
  readonly md5: string;
  readonly serial: string;
  readonly notAfter: string;
  readonly names: string[];
}

/**
 * The certificate the canary listener serves is "the current certificate": the one the rotation
 * replaces everywhere. It must be an IAM server certificate (ACM certificates renew themselves).
 */
export async function findCurrentCertificate(params: CurrentParams): Promise<CurrentCertificate> {
  const { loadBalancerName, port } = params.canary;
  const lb = await describeClassicElb(params.elb, loadBalancerName);
  const listener = lb.ListenerDescriptions?.map((d) => d.Listener).find((l) => l?.LoadBalancerPort === port);
  if (!listener) throw new TargetNotFound(`classic load balancer ${loadBalancerName} has no listener on port ${port}`);
  const arn = listener.SSLCertificateId;
  if (!arn)
    throw new TargetNotFound(
      `listener ${loadBalancerName}:${port} (${listener.Protocol}) has no certificate; the canary must be an SSL or HTTPS listener`,
    );
  if (!arn.includes(':server-certificate/')) {
    throw new TargetNotFound(`listener ${loadBalancerName}:${port} serves ${arn}, which is not an IAM server certificate`);
  }
  const meta = await findServerCertificate(params.iam, { arn });
  if (!meta?.ServerCertificateName || !meta.ServerCertificateId || !meta.Path) {
    throw new TargetNotFound(`listener ${loadBalancerName}:${port} serves ${arn}, which IAM does not list`);
  }
  const cert = await getCertificateBody(params.iam, meta.ServerCertificateName);
  if (!cert) throw new TargetNotFound(`IAM server certificate ${meta.ServerCertificateName} cannot be read`);
  const summary = summarizeCertificate(cert.body);
  params.logger.info('current certificate found on the canary listener', {
    name: meta.ServerCertificateName,
    sha256: summary.sha256,
    notAfter: summary.notAfter,
  });
  return {
    arn,
    id: meta.ServerCertificateId,
    name: meta.ServerCertificateName,
    path: meta.Path,
    sha256: summary.sha256,
    md5: summary.md5,
    serial: summary.serial,
    notAfter: summary.notAfter,
    names: summary.names,
  };
}
