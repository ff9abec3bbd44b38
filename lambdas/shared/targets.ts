/**
 * The places a certificate is served at the edge, as the plan and the change ledger name them.
 * Identifiers only: no certificate material.
 */
export interface ElbListenerTarget {
  readonly kind: 'elb';
  readonly loadBalancerName: string;
  readonly port: number;
  readonly dnsName: string;
}

export interface ElbV2ListenerTarget {
  readonly kind: 'elbv2';
  readonly loadBalancerName: string;
  readonly listenerArn: string;
  readonly port: number;
  readonly dnsName: string;
  /** Whether the current certificate is the listener's default or one of its SNI certificates. */
  readonly role: 'default' | 'sni';
}

export interface DistributionTarget {
  readonly kind: 'cloudfront';
  readonly distributionId: string;
  readonly domainName: string;
  readonly aliases: readonly string[];
}

export type EdgeTarget = ElbListenerTarget | ElbV2ListenerTarget | DistributionTarget;

export interface NodeTarget {
  readonly kind: 'node';
  readonly instanceId: string;
  readonly name: string;
  readonly phase: string;
  /** Its private DNS name or IP (EC2), for a TLS handshake where one can reach it. */
  readonly host?: string;
}

/** What the change ledger records: an edge target or a node. */
export type LedgerTarget = EdgeTarget | NodeTarget;

/** A stable key, used for ledger object names and include/exclude matching. */
export function targetKey(target: EdgeTarget | NodeTarget): string {
  switch (target.kind) {
    case 'elb':
      return `elb/${target.loadBalancerName}/${target.port}`;
    case 'elbv2':
      return `elbv2/${target.loadBalancerName}/${target.port}/${target.role}`;
    case 'cloudfront':
      return `cloudfront/${target.distributionId}`;
    case 'node':
      return `node/${target.phase}/${target.instanceId}`;
  }
}

/** A short human label for emails and reports. */
export function targetLabel(target: EdgeTarget | NodeTarget): string {
  switch (target.kind) {
    case 'elb':
      return `ELB ${target.loadBalancerName}:${target.port}`;
    case 'elbv2':
      return `ELBv2 ${target.loadBalancerName}:${target.port}${target.role === 'sni' ? ' (SNI)' : ''}`;
    case 'cloudfront':
      return `CloudFront ${target.distributionId}${target.aliases.length ? ` (${target.aliases.join(', ')})` : ''}`;
    case 'node':
      return `node ${target.name} (${target.instanceId})`;
  }
}
