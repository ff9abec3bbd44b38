/**
 * Simulated Elastic Load Balancing v2 (ALB/NLB): DescribeLoadBalancers, DescribeListeners,
 * DescribeListenerCertificates, ModifyListener (Certificates = the default, exactly one),
 * Add/RemoveListenerCertificates (the SNI list). Certificates must be IAM ARNs.
 */
import type {
  AddListenerCertificatesCommandInput,
  AddListenerCertificatesCommandOutput,
  Certificate,
  DescribeListenerCertificatesCommandInput,
  DescribeListenerCertificatesCommandOutput,
  DescribeListenersCommandInput,
  DescribeListenersCommandOutput,
  DescribeLoadBalancersCommandInput,
  DescribeLoadBalancersCommandOutput,
  Listener,
  LoadBalancer,
  ModifyListenerCommandInput,
  ModifyListenerCommandOutput,
  RemoveListenerCertificatesCommandInput,
  RemoveListenerCertificatesCommandOutput,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import * as elbv2Sdk from '@aws-sdk/client-elastic-load-balancing-v2';
import type { SimClock } from './clock';
import { awsError } from './errors';
import type { CertificateRef, FleetAlb } from './fleet';
import type { Out, SimIam } from './iam';
import { defineService, type OperationsOf } from './service';
import { elbv2Targets } from './targets';
import { pageSize, paginate, stableDigits, stableHex } from './util';

/** Page size of DescribeLoadBalancers / DescribeListeners when PageSize is absent (small, to exercise pagination). */
export const ELBV2_DEFAULT_PAGE = 2;
/** The TLS policy every listener reports. */
export const ELBV2_SSL_POLICY = 'ELBSecurityPolicy-TLS13-1-2-2021-06';

/** A listener of a simulated ELBv2 load balancer. */
export interface SimElbv2Listener {
  readonly arn: string;
  readonly loadBalancerArn: string;
  readonly loadBalancerName: string;
  readonly port: number;
  readonly protocol: 'HTTPS' | 'TLS';
  /** The default certificate (IAM ARN). */
  defaultCertificateArn: string;
  /** The SNI certificate list (IAM ARNs), in the order added. */
  sniCertificateArns: string[];
  sslPolicy: string;
}

/** A simulated ALB or NLB. */
export interface SimElbv2LoadBalancer {
  readonly name: string;
  readonly arn: string;
  readonly dnsName: string;
  readonly type: 'application' | 'network';
  readonly createdTime: Date;
  readonly listeners: SimElbv2Listener[];
}

/** The operations of elbv2 the simulator answers (the SDK command names without `Command`). */
export const ELBV2_OPERATIONS = [
  'DescribeLoadBalancers',
  'DescribeListeners',
  'DescribeListenerCertificates',
  'ModifyListener',
  'AddListenerCertificates',
  'RemoveListenerCertificates',
] as const;

/** Simulated ELBv2. */
export class SimElbv2 {
  readonly loadBalancers: SimElbv2LoadBalancer[] = [];

  constructor(
    private readonly iam: SimIam,
    private readonly clock: SimClock,
    private readonly region: string,
    private readonly accountId: string,
  ) {}

  /** Creates the fleet's ALBs/NLBs; `certificateArn` maps "current"/"other" to IAM ARNs. */
  seed(albs: readonly FleetAlb[], certificateArn: (ref: CertificateRef) => string): void {
    for (const a of albs) {
      const type = a.listeners.some((l) => l.protocol === 'TLS') ? 'network' : 'application';
      const short = type === 'network' ? 'net' : 'app';
      const lbId = stableHex(`elbv2:${a.name}`, 16);
      const arn = `arn:aws:elasticloadbalancing:${this.region}:${this.accountId}:loadbalancer/${short}/${a.name}/${lbId}`;
      this.loadBalancers.push({
        name: a.name,
        arn,
        dnsName: `${a.name}-${stableDigits(`elbv2:${a.name}`, 10)}.${this.region}.elb.amazonaws.com`,
        type,
        createdTime: new Date(this.clock.nowMs() - 300 * 86_400_000),
        listeners: a.listeners.map((l) => ({
          arn: `arn:aws:elasticloadbalancing:${this.region}:${this.accountId}:listener/${short}/${a.name}/${lbId}/${stableHex(`${a.name}:${l.port}`, 16)}`,
          loadBalancerArn: arn,
          loadBalancerName: a.name,
          port: l.port,
          protocol: l.protocol,
          defaultCertificateArn: certificateArn(l.certificate),
          sniCertificateArns: [...new Set(l.sni.map(certificateArn))],
          sslPolicy: ELBV2_SSL_POLICY,
        })),
      });
    }
  }

  /** Every listener of every load balancer. */
  allListeners(): SimElbv2Listener[] {
    return this.loadBalancers.flatMap((lb) => lb.listeners);
  }

  /** The SDK operations, by name (exactly ELBV2_OPERATIONS). */
  readonly operations = {
    DescribeLoadBalancers: (input: DescribeLoadBalancersCommandInput): Out<DescribeLoadBalancersCommandOutput> => {
      if (input.Names?.length && input.LoadBalancerArns?.length) {
        throw awsError('ValidationError', 'Load balancer names and load balancer ARNs cannot be specified at the same time');
      }
      let selected = this.loadBalancers;
      if (input.Names?.length) selected = input.Names.map((n) => this.find((lb) => lb.name === n, n));
      if (input.LoadBalancerArns?.length) selected = input.LoadBalancerArns.map((a) => this.find((lb) => lb.arn === a, a));
      const size = pageSize(input.PageSize, ELBV2_DEFAULT_PAGE, 1, 400, 'ValidationError', 'PageSize');
      const { page, next } = paginate(selected, { marker: input.Marker, pageSize: size, kind: 'elbv2-lb', errorCode: 'ValidationError' });
      return { LoadBalancers: page.map((lb) => this.describeLb(lb)), NextMarker: next };
    },
    DescribeListeners: (input: DescribeListenersCommandInput): Out<DescribeListenersCommandOutput> => {
      const byLb = input.LoadBalancerArn !== undefined;
      const byArns = (input.ListenerArns?.length ?? 0) > 0;
      if (byLb === byArns) throw awsError('ValidationError', 'You must specify either listener ARNs or a load balancer ARN');
      const listeners = byLb
        ? this.find((lb) => lb.arn === input.LoadBalancerArn, input.LoadBalancerArn).listeners
        : (input.ListenerArns ?? []).map((a) => this.mustGetListener(a));
      const size = pageSize(input.PageSize, ELBV2_DEFAULT_PAGE, 1, 400, 'ValidationError', 'PageSize');
      const { page, next } = paginate(listeners, {
        marker: input.Marker,
        pageSize: size,
        kind: 'elbv2-listener',
        errorCode: 'ValidationError',
      });
      return { Listeners: page.map((l) => describeListener(l)), NextMarker: next };
    },
    DescribeListenerCertificates: (input: DescribeListenerCertificatesCommandInput): Out<DescribeListenerCertificatesCommandOutput> => {
      const l = this.mustGetListener(input.ListenerArn);
      // Like the real API: the default appears with IsDefault true, and again (false) if it is also in the SNI list.
      const all: Certificate[] = [
        { CertificateArn: l.defaultCertificateArn, IsDefault: true },
        ...l.sniCertificateArns.map((a) => ({ CertificateArn: a, IsDefault: false })),
      ];
      const size = pageSize(input.PageSize, 400, 1, 400, 'ValidationError', 'PageSize');
      const { page, next } = paginate(all, { marker: input.Marker, pageSize: size, kind: 'elbv2-certs', errorCode: 'ValidationError' });
      return { Certificates: page, NextMarker: next };
    },
    ModifyListener: (input: ModifyListenerCommandInput): Out<ModifyListenerCommandOutput> => {
      const l = this.mustGetListener(input.ListenerArn);
      if (input.Port !== undefined && input.Port !== l.port) throw notSimulatedChange('Port');
      if (input.Protocol !== undefined && input.Protocol !== l.protocol) throw notSimulatedChange('Protocol');
      if (input.DefaultActions !== undefined) throw notSimulatedChange('DefaultActions');
      let newDefault: string | undefined;
      if (input.Certificates !== undefined) {
        if (input.Certificates.length !== 1) {
          throw awsError('ValidationError', 'Certificates must contain exactly one certificate: the default certificate');
        }
        newDefault = this.mustBeCertificate(input.Certificates[0].CertificateArn);
      }
      if (input.SslPolicy !== undefined) {
        if (!input.SslPolicy.startsWith('ELBSecurityPolicy-'))
          throw awsError('SSLPolicyNotFound', `SSL policy '${input.SslPolicy}' not found`);
        l.sslPolicy = input.SslPolicy;
      }
      if (newDefault !== undefined) l.defaultCertificateArn = newDefault;
      return { Listeners: [describeListener(l)] };
    },
    AddListenerCertificates: (input: AddListenerCertificatesCommandInput): Out<AddListenerCertificatesCommandOutput> => {
      const l = this.mustGetListener(input.ListenerArn);
      const arns = (input.Certificates ?? []).map((c) => this.mustBeCertificate(c.CertificateArn));
      if (arns.length === 0) throw awsError('ValidationError', 'Certificates must not be empty');
      const added = arns.filter((arn, i) => !l.sniCertificateArns.includes(arn) && arns.indexOf(arn) === i);
      if (l.sniCertificateArns.length + added.length > 25) {
        throw awsError('TooManyCertificates', 'You have reached the limit of 25 certificates per listener');
      }
      l.sniCertificateArns.push(...added);
      return { Certificates: l.sniCertificateArns.map((a) => ({ CertificateArn: a, IsDefault: false })) };
    },
    RemoveListenerCertificates: (input: RemoveListenerCertificatesCommandInput): Out<RemoveListenerCertificatesCommandOutput> => {
      const l = this.mustGetListener(input.ListenerArn);
      const arns = (input.Certificates ?? []).map((c) => c.CertificateArn ?? '');
      if (arns.length === 0) throw awsError('ValidationError', 'Certificates must not be empty');
      if (arns.includes(l.defaultCertificateArn) && !l.sniCertificateArns.includes(l.defaultCertificateArn)) {
        throw awsError('OperationNotPermitted', 'The default certificate cannot be removed from the certificate list; use ModifyListener');
      }
      l.sniCertificateArns = l.sniCertificateArns.filter((a) => !arns.includes(a));
      return {};
    },
  } satisfies OperationsOf<typeof ELBV2_OPERATIONS>;

  /** A listener by ARN, or ListenerNotFound. */
  mustGetListener(arn: string | undefined): SimElbv2Listener {
    const l = this.allListeners().find((x) => x.arn === arn);
    if (!l) throw awsError('ListenerNotFound', `One or more listeners not found: ${String(arn)}`);
    return l;
  }

  private find(pred: (lb: SimElbv2LoadBalancer) => boolean, what: string | undefined): SimElbv2LoadBalancer {
    const lb = this.loadBalancers.find(pred);
    if (!lb) throw awsError('LoadBalancerNotFound', `One or more load balancers not found: ${String(what)}`);
    return lb;
  }

  private mustBeCertificate(arn: string | undefined): string {
    // A just-uploaded certificate is unknown to ELBv2 until IAM has propagated it.
    if (!arn || !this.iam.visibleToLoadBalancers(arn)) throw awsError('CertificateNotFound', `Certificate '${String(arn)}' not found`);
    return arn;
  }

  private describeLb(lb: SimElbv2LoadBalancer): LoadBalancer {
    return {
      LoadBalancerArn: lb.arn,
      DNSName: lb.dnsName,
      CanonicalHostedZoneId: lb.type === 'network' ? 'Z26RNL4JYFTOTI' : 'Z35SXDOTRQ7X7K',
      CreatedTime: new Date(lb.createdTime),
      LoadBalancerName: lb.name,
      Scheme: 'internet-facing',
      VpcId: 'vpc-0sim0000',
      State: { Code: 'active' },
      Type: lb.type,
      AvailabilityZones: [
        { ZoneName: `${this.region}a`, SubnetId: 'subnet-0a1b2c3d' },
        { ZoneName: `${this.region}b`, SubnetId: 'subnet-0e1f2a3b' },
      ],
      SecurityGroups: lb.type === 'application' ? [`sg-${stableHex(lb.name, 8)}`] : undefined,
      IpAddressType: 'ipv4',
    };
  }
}

function describeListener(l: SimElbv2Listener): Listener {
  return {
    ListenerArn: l.arn,
    LoadBalancerArn: l.loadBalancerArn,
    Port: l.port,
    Protocol: l.protocol,
    // Like the real API: only the default certificate here; the SNI list is DescribeListenerCertificates'.
    Certificates: [{ CertificateArn: l.defaultCertificateArn }],
    SslPolicy: l.sslPolicy,
    DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn(l) }],
  };
}

function targetGroupArn(l: SimElbv2Listener): string {
  const prefix = l.loadBalancerArn.slice(0, l.loadBalancerArn.indexOf(':loadbalancer/'));
  return `${prefix}:targetgroup/${l.loadBalancerName}-${l.port}/${stableHex(`tg:${l.arn}`, 16)}`;
}

function notSimulatedChange(field: string) {
  return awsError('ValidationError', `The simulated account only changes Certificates and SslPolicy with ModifyListener, not ${field}`);
}

/** elbv2 in the registry (registry.ts). */
export const elbv2Service = defineService({
  prefix: 'elbv2',
  property: 'elbv2',
  operations: ELBV2_OPERATIONS,
  client: elbv2Sdk.ElasticLoadBalancingV2Client,
  sdk: { exports: elbv2Sdk, baseException: 'ElasticLoadBalancingV2ServiceException' },
  throttlingCode: 'Throttling',
  // Published: Describe* 10/s; the others an estimate.
  defaultRates: {
    'elbv2:*': 5,
    'elbv2:DescribeLoadBalancers': 10,
    'elbv2:DescribeListeners': 10,
    'elbv2:DescribeListenerCertificates': 10,
  },
  create: (ctx) => new SimElbv2(ctx.service<SimIam>('iam'), ctx.clock, ctx.region, ctx.accountId),
  seed: (elbv2, ctx) => elbv2.seed(ctx.fleet.albs, ctx.certificateArn),
  certificateUsers: (elbv2, entry) =>
    elbv2
      .allListeners()
      .filter((l) => l.defaultCertificateArn === entry.arn || l.sniCertificateArns.includes(entry.arn))
      .map((l) => l.arn),
  targets: elbv2Targets,
});
