/**
 * The fleet file (REHEARSAL.md "Fleet file"): the shape of the simulated account, and the default
 * fleet. `parseFleet` (fleet-file.ts) validates a file into this shape.
 */
import type { FleetAcmCertificate } from './acm';
import type { FleetHostedZone } from './route53';
import { DEFAULT_DAYS_LEFT, DEFAULT_DEPLOY_SECONDS, DEFAULT_IAM_PROPAGATION_SECONDS, DEFAULT_IAM_QUOTA } from './fleet-file';

export { DEFAULT_DAYS_LEFT, DEFAULT_DEPLOY_SECONDS, DEFAULT_IAM_PROPAGATION_SECONDS, DEFAULT_IAM_QUOTA, parseFleet } from './fleet-file';

/**
 * Which certificate a place serves at the start: the one being rotated (`current`), an unrelated
 * one (`other`), or one of the fleet's `iamCertificates` by name (an older certificate still in use).
 */
export type CertificateRef = string;

/** An extra IAM server certificate the account holds at the start (an older one of the domain, say). */
export interface FleetIamCertificate {
  /** Its ServerCertificateName, e.g. `STAR.gitter.im_2023-11-15`. */
  readonly name: string;
  /** Simulated days since its upload (the current certificate was uploaded 400 days ago). */
  readonly uploadedDaysAgo: number;
  /** Its IAM path. @default the current certificate's path (the config's iamPath in a rehearsal) */
  readonly path?: string;
}

/** Classic ELB listener protocols. */
export type ElbProtocol = 'HTTPS' | 'SSL' | 'HTTP' | 'TCP';

/** A classic ELB listener. `certificate` is set exactly for HTTPS/SSL listeners. */
export interface FleetElbListener {
  readonly port: number;
  readonly protocol: ElbProtocol;
  /** @default 'current' for HTTPS/SSL; undefined for HTTP/TCP */
  readonly certificate?: CertificateRef;
}

/** A classic ELB. */
export interface FleetElb {
  readonly name: string;
  readonly listeners: readonly FleetElbListener[];
}

/** An ELBv2 listener (HTTPS on an ALB, TLS on an NLB). */
export interface FleetAlbListener {
  readonly port: number;
  /** @default 'HTTPS' */
  readonly protocol: 'HTTPS' | 'TLS';
  /** The default certificate. @default 'current' */
  readonly certificate: CertificateRef;
  /** Extra SNI certificates. @default [] */
  readonly sni: readonly CertificateRef[];
}

/** An ELBv2 load balancer: an ALB when its listeners are HTTPS, an NLB when they are TLS. */
export interface FleetAlb {
  readonly name: string;
  readonly listeners: readonly FleetAlbListener[];
}

/** A CloudFront distribution. */
export interface FleetDistribution {
  readonly id: string;
  /** @default [] */
  readonly aliases: readonly string[];
  /** Simulated propagation time of an update. @default 60 */
  readonly deploySeconds: number;
  /** @default 'current' */
  readonly certificate: CertificateRef;
}

/** An EC2 instance running nginx with the certificate. */
export interface FleetInstance {
  readonly id: string;
  /** @default {} */
  readonly tags: Readonly<Record<string, string>>;
  /** Served by a real nginx (a later node phase); otherwise simulated in memory. @default false */
  readonly nginx: boolean;
  /**
   * Managed by SSM (agent running, instance profile allowing it): false makes it absent from
   * DescribeInstanceInformation and refused by SendCommand (InvalidInstanceId). @default true
   */
  readonly ssmManaged?: boolean;
}

/** A parsed, validated fleet file with defaults filled in. */
export interface FleetSpec {
  readonly domain: string;
  /** Days the current certificate has left. @default 20 */
  readonly currentCertDaysLeft: number;
  readonly elbs: readonly FleetElb[];
  readonly albs: readonly FleetAlb[];
  readonly distributions: readonly FleetDistribution[];
  readonly instances: readonly FleetInstance[];
  /**
   * Simulated seconds during which a just-uploaded IAM certificate is unknown to ELB and ELBv2
   * (`CertificateNotFound`), as IAM's propagation delay makes it in AWS. @default 10
   */
  readonly iamPropagationSeconds: number;
  /**
   * Requests per second per `service:Operation` (or `service:*`, or `*`), beyond which calls are
   * throttled in simulated time; these replace the defaults they name (see api-rates.ts). @default {}
   */
  readonly apiRates: Readonly<Record<string, number>>;
  /** Extra IAM server certificates at the start, besides the current and the other one. @default [] */
  readonly iamCertificates: readonly FleetIamCertificate[];
  /** What GetAccountSummary says is `ServerCertificatesQuota`; uploads beyond it fail with LimitExceeded. @default 20 */
  readonly iamServerCertificateQuota: number;
  /** Route53 hosted zones. @default one public zone named after `domain` */
  readonly hostedZones?: readonly FleetHostedZone[];
  /** ACM certificates (exportable public ones by default), in order; the rehearsal gives each the domain's names. @default [] */
  readonly acm?: readonly FleetAcmCertificate[];
}

/**
 * The default fleet, shaped like the runbook: the IRC canary ELB (SSL 6667) and the other ELBs,
 * an ALB with an unrelated SNI certificate, three distributions (one unrelated), the beta node,
 * the ws-01 prod canary and the other prod nodes, and two older IAM certificates of the domain that
 * nothing uses any more (a rotation prunes them). Returned fresh (safe to modify).
 */
export function defaultFleet(): FleetSpec {
  return {
    domain: 'gitter.im',
    currentCertDaysLeft: DEFAULT_DAYS_LEFT,
    elbs: [
      {
        name: 'apps-servers-elb-prod',
        listeners: [
          { port: 6667, protocol: 'SSL', certificate: 'current' },
          { port: 443, protocol: 'HTTPS', certificate: 'current' },
        ],
      },
      { name: 'webapp-elb-prod', listeners: [{ port: 443, protocol: 'HTTPS', certificate: 'current' }] },
      { name: 'ws-elb-prod', listeners: [{ port: 443, protocol: 'SSL', certificate: 'current' }] },
      { name: 'legacy-elb', listeners: [{ port: 443, protocol: 'HTTPS', certificate: 'other' }] },
    ],
    albs: [
      {
        name: 'api-alb-prod',
        listeners: [{ port: 443, protocol: 'HTTPS', certificate: 'current', sni: ['other'] }],
      },
    ],
    distributions: [
      { id: 'E1GITTERCDN', aliases: ['cdn.gitter.im'], deploySeconds: 120, certificate: 'current' },
      { id: 'E2GITTERAVATARS', aliases: ['avatars.gitter.im'], deploySeconds: DEFAULT_DEPLOY_SECONDS, certificate: 'current' },
      { id: 'E3OTHER', aliases: [], deploySeconds: DEFAULT_DEPLOY_SECONDS, certificate: 'other' },
    ],
    instances: [
      { id: 'i-0beta', tags: { Name: 'gitter-beta', Env: 'beta' }, nginx: true },
      { id: 'i-0ws01', tags: { Name: 'ws-01', Env: 'prod' }, nginx: false },
      { id: 'i-0ws02', tags: { Name: 'ws-02', Env: 'prod' }, nginx: false },
      { id: 'i-0ws03', tags: { Name: 'ws-03', Env: 'prod' }, nginx: false },
      { id: 'i-0webapp01', tags: { Name: 'webapp-01', Env: 'prod' }, nginx: false },
    ],
    iamPropagationSeconds: DEFAULT_IAM_PROPAGATION_SECONDS,
    apiRates: {},
    iamCertificates: [
      { name: 'STAR.gitter.im_2023-11-15', uploadedDaysAgo: 1110 },
      { name: 'STAR.gitter.im_2024-11-15', uploadedDaysAgo: 745 },
    ],
    iamServerCertificateQuota: DEFAULT_IAM_QUOTA,
  };
}
