/**
 * Simulated classic Elastic Load Balancing: DescribeLoadBalancers (paginated with small pages) and
 * SetLoadBalancerListenerSSLCertificate (an atomic swap; the certificate must be an IAM ARN).
 */
import type {
  DescribeLoadBalancersCommandInput,
  DescribeLoadBalancersCommandOutput,
  LoadBalancerDescription,
  SetLoadBalancerListenerSSLCertificateCommandInput,
  SetLoadBalancerListenerSSLCertificateCommandOutput,
} from '@aws-sdk/client-elastic-load-balancing';
import * as elbSdk from '@aws-sdk/client-elastic-load-balancing';
import type { SimClock } from './clock';
import { awsError } from './errors';
import type { CertificateRef, ElbProtocol, FleetElb } from './fleet';
import type { Out, SimIam } from './iam';
import { defineService, type OperationsOf } from './service';
import { elbTargets } from './targets';
import { pageSize, paginate, stableDigits, stableHex } from './util';

/** DescribeLoadBalancers page size when PageSize is absent (real ELB: 400; small here to exercise pagination). */
export const ELB_DEFAULT_PAGE = 2;
/** The SSL negotiation policy every secure listener reports. */
export const ELB_SSL_POLICY = 'ELBSecurityPolicy-TLS-1-2-2017-01';

/** One listener of a simulated classic ELB. */
export interface SimElbListener {
  readonly protocol: ElbProtocol;
  readonly port: number;
  readonly instanceProtocol: string;
  readonly instancePort: number;
  /** IAM ARN served; undefined for HTTP/TCP. */
  certificateArn?: string;
}

/** A simulated classic ELB. */
export interface SimElbLoadBalancer {
  readonly name: string;
  readonly dnsName: string;
  readonly createdTime: Date;
  readonly listeners: SimElbListener[];
}

/** The operations of elb the simulator answers (the SDK command names without `Command`). */
export const ELB_OPERATIONS = ['DescribeLoadBalancers', 'SetLoadBalancerListenerSSLCertificate'] as const;

/** Simulated classic ELB. */
export class SimElb {
  readonly loadBalancers: SimElbLoadBalancer[] = [];

  constructor(
    private readonly iam: SimIam,
    private readonly clock: SimClock,
    private readonly region: string,
    private readonly accountId: string,
  ) {}

  /** Creates the fleet's ELBs; `certificateArn` maps "current"/"other" to IAM ARNs. */
  seed(elbs: readonly FleetElb[], certificateArn: (ref: CertificateRef) => string): void {
    for (const e of elbs) {
      this.loadBalancers.push({
        name: e.name,
        dnsName: `${e.name}-${stableDigits(`elb:${e.name}`, 10)}.${this.region}.elb.amazonaws.com`,
        createdTime: new Date(this.clock.nowMs() - 400 * 86_400_000),
        listeners: e.listeners.map((l) => ({
          protocol: l.protocol,
          port: l.port,
          instanceProtocol: l.protocol === 'HTTPS' || l.protocol === 'HTTP' ? 'HTTP' : 'TCP',
          instancePort: l.protocol === 'HTTPS' || l.protocol === 'HTTP' ? 80 : l.port,
          certificateArn: l.certificate ? certificateArn(l.certificate) : undefined,
        })),
      });
    }
  }

  /** The load balancer's ARN-like identifier (classic ELBs have ARNs too). */
  arnOf(lb: SimElbLoadBalancer): string {
    return `arn:aws:elasticloadbalancing:${this.region}:${this.accountId}:loadbalancer/${lb.name}`;
  }

  /** The SDK operations, by name (exactly ELB_OPERATIONS). */
  readonly operations = {
    DescribeLoadBalancers: (input: DescribeLoadBalancersCommandInput): Out<DescribeLoadBalancersCommandOutput> => {
      let selected = this.loadBalancers;
      if (input.LoadBalancerNames && input.LoadBalancerNames.length > 0) {
        selected = input.LoadBalancerNames.map((n) => this.mustGet(n));
      }
      const size = pageSize(input.PageSize, ELB_DEFAULT_PAGE, 1, 400, 'ValidationError', 'PageSize');
      const { page, next } = paginate(selected, { marker: input.Marker, pageSize: size, kind: 'elb', errorCode: 'InvalidNextToken' });
      return { LoadBalancerDescriptions: page.map((lb) => this.describe(lb)), NextMarker: next };
    },
    SetLoadBalancerListenerSSLCertificate: (
      input: SetLoadBalancerListenerSSLCertificateCommandInput,
    ): Out<SetLoadBalancerListenerSSLCertificateCommandOutput> => {
      const lb = this.mustGet(input.LoadBalancerName);
      const listener = lb.listeners.find((l) => l.port === input.LoadBalancerPort);
      if (!listener) {
        throw awsError(
          'ListenerNotFound',
          `Unable to find a listener on port ${String(input.LoadBalancerPort)} of LoadBalancer ${lb.name}`,
        );
      }
      if (listener.protocol !== 'HTTPS' && listener.protocol !== 'SSL') {
        throw awsError(
          'InvalidConfigurationRequest',
          `The listener on port ${listener.port} of ${lb.name} is ${listener.protocol}: it has no certificate`,
        );
      }
      const arn = input.SSLCertificateId ?? '';
      // A just-uploaded certificate is unknown to ELB until IAM has propagated it.
      if (!this.iam.visibleToLoadBalancers(arn)) throw awsError('CertificateNotFound', `Server Certificate not found for the key: ${arn}`);
      listener.certificateArn = arn; // atomic swap
      return {};
    },
  } satisfies OperationsOf<typeof ELB_OPERATIONS>;

  /** By name, or AccessPointNotFound. */
  mustGet(name: string | undefined): SimElbLoadBalancer {
    const lb = this.loadBalancers.find((l) => l.name === name);
    if (!lb) throw awsError('AccessPointNotFound', `There is no ACTIVE Load Balancer named '${String(name)}'`);
    return lb;
  }

  private describe(lb: SimElbLoadBalancer): LoadBalancerDescription {
    const secure = lb.listeners.filter((l) => l.certificateArn !== undefined).length > 0;
    return {
      LoadBalancerName: lb.name,
      DNSName: lb.dnsName,
      CanonicalHostedZoneName: lb.dnsName,
      CanonicalHostedZoneNameID: 'Z35SXDOTRQ7X7K',
      ListenerDescriptions: lb.listeners.map((l) => ({
        Listener: {
          Protocol: l.protocol,
          LoadBalancerPort: l.port,
          InstanceProtocol: l.instanceProtocol,
          InstancePort: l.instancePort,
          SSLCertificateId: l.certificateArn,
        },
        PolicyNames: l.certificateArn !== undefined ? [ELB_SSL_POLICY] : [],
      })),
      Policies: { AppCookieStickinessPolicies: [], LBCookieStickinessPolicies: [], OtherPolicies: secure ? [ELB_SSL_POLICY] : [] },
      BackendServerDescriptions: [],
      AvailabilityZones: [`${this.region}a`, `${this.region}b`],
      Subnets: ['subnet-0a1b2c3d', 'subnet-0e1f2a3b'],
      VPCId: 'vpc-0sim0000',
      Instances: [],
      HealthCheck: { Target: 'TCP:80', Interval: 30, Timeout: 5, UnhealthyThreshold: 2, HealthyThreshold: 10 },
      SourceSecurityGroup: { OwnerAlias: this.accountId, GroupName: `${lb.name}-sg` },
      SecurityGroups: [`sg-${stableHex(lb.name, 8)}`],
      CreatedTime: new Date(lb.createdTime),
      Scheme: 'internet-facing',
    };
  }
}

/** elb in the registry (registry.ts). */
export const elbService = defineService({
  prefix: 'elb',
  property: 'elb',
  operations: ELB_OPERATIONS,
  client: elbSdk.ElasticLoadBalancingClient,
  sdk: { exports: elbSdk, baseException: 'ElasticLoadBalancingServiceException' },
  throttlingCode: 'Throttling',
  // Published: Describe* 10/s (a bucket of 40); the others an estimate.
  defaultRates: { 'elb:*': 5, 'elb:DescribeLoadBalancers': 10 },
  create: (ctx) => new SimElb(ctx.service<SimIam>('iam'), ctx.clock, ctx.region, ctx.accountId),
  seed: (elb, ctx) => elb.seed(ctx.fleet.elbs, ctx.certificateArn),
  certificateUsers: (elb, entry) =>
    elb.loadBalancers.filter((lb) => lb.listeners.some((l) => l.certificateArn === entry.arn)).map((lb) => elb.arnOf(lb)),
  targets: elbTargets,
});
