/**
 * The places of the simulated account that serve a certificate over TLS (secure ELB listeners,
 * ELBv2 listeners, distributions, nodes), named by the report's keys (target-keys.ts), and the
 * target faults of the faults file that make an endpoint serve something else than its
 * configuration says. The services declare their targets (`targets` in their definition) with
 * the builders below; the account lists them ({@link SimTarget}) and serves them (tls-endpoints.ts).
 */
import { X509Certificate } from 'node:crypto';
import { certificateCoversHost, sha256OfCertificate } from './certinfo';
import type { SimCloudFront } from './cloudfront';
import type { SimEc2 } from './ec2';
import type { SimElb } from './elb';
import type { SimElbv2, SimElbv2Listener } from './elbv2';
import type { TargetFault } from './faults';
import type { SimCertificate, SimIam } from './iam';
import type { NodeRuntime } from './nodes';
import { cloudfrontTargetKey, elbTargetKey, elbv2TargetKey, nodeTargetKey, type TargetKind } from './target-keys';

/** Every place that serves a certificate: a secure listener, a distribution or a node. */
export interface SimTarget {
  /** The report key: `elb/NAME/PORT`, `elbv2/NAME/PORT`, `cloudfront/ID`, `node/INSTANCE`. */
  readonly key: string;
  readonly kind: TargetKind;
  /** ELB name; listener ARN (elbv2); distribution id; instance id. */
  readonly id: string;
  /** Load balancer name (elb, elbv2). */
  readonly loadBalancerName?: string;
  /** The instance's Name tag (node). */
  readonly name?: string;
  readonly port: number;
  /** Simulated DNS name to handshake with (ELB DNS name, first alias or cloudfront.net name, private DNS name). */
  readonly host: string;
  /** Every simulated name that reaches this target (aliases, private IP...). */
  readonly hosts: readonly string[];
  /** Real 127.0.0.1 port of its TLS server. */
  readonly localPort: number;
  /** IAM ARN (elb, elbv2 default); IAM ServerCertificateId served now (cloudfront); a label such as 'current' (node). */
  readonly certificate: string;
  /** SHA-256 (hex, DER) of the leaf the account says this target serves now (elbv2: the default). */
  servedSha256(): string;
  /**
   * SHA-256 of the leaf the API configuration serves for an SNI name (elbv2: the SNI certificate
   * that covers it, else the default), whatever a target fault makes the TLS endpoint serve.
   */
  configuredSha256(servername: string): string;
}

/** What to serve for an SNI name (undefined: no SNI); undefined makes the handshake fail. */
export type ServeFn = (servername: string | undefined) => SimCertificate | undefined;

/** A target as a service declares it. */
export interface TargetDef {
  readonly kind: TargetKind;
  readonly id: string;
  readonly key: string;
  readonly port: number;
  readonly hosts: string[];
  readonly loadBalancerName?: string;
  readonly name?: string;
  certificate(): string;
  serve: ServeFn;
  servedSha256(): string;
  /** What the configuration serves now, as a fingerprint: it differs exactly when the served certificates changed. */
  signature(): string;
  /** What the configuration serves now, kept (material included) for a target fault that freezes the endpoint. */
  pin(): ServeFn;
}

/** What the target builders read. */
export interface TargetContext {
  readonly iam: SimIam;
  readonly nodes: NodeRuntime;
}

function materialByArn(iam: SimIam, arn: string | undefined): SimCertificate | undefined {
  const e = arn === undefined ? undefined : iam.byArn(arn);
  return e ? iam.servingMaterial(e.id) : undefined;
}

function shaOfArn(iam: SimIam, arn: string | undefined): string {
  return arn ? ((iam.byArn(arn) ?? iam.byId(arn))?.sha256 ?? '') : '';
}

/** Classic ELB: one target per HTTPS/SSL listener (HTTP/TCP listeners have no certificate and no TLS server). */
export function elbTargets(elb: SimElb, { iam }: TargetContext): TargetDef[] {
  return elb.loadBalancers.flatMap((lb) =>
    lb.listeners
      .filter((l) => l.certificateArn !== undefined)
      .map((l): TargetDef => ({
        kind: 'elb',
        id: lb.name,
        key: elbTargetKey(lb.name, l.port),
        port: l.port,
        hosts: [lb.dnsName],
        loadBalancerName: lb.name,
        certificate: () => l.certificateArn ?? '',
        serve: () => materialByArn(iam, l.certificateArn),
        servedSha256: () => shaOfArn(iam, l.certificateArn),
        signature: () => l.certificateArn ?? '',
        pin: () => {
          const m = materialByArn(iam, l.certificateArn);
          return () => m;
        },
      })),
  );
}

/** The certificate an ELBv2 listener picks for an SNI name: the default when it covers it, else the first SNI certificate that does. */
function pickElbv2(iam: SimIam, l: SimElbv2Listener, servername: string | undefined): string {
  if (!servername) return l.defaultCertificateArn;
  const covers = (arn: string) => {
    const e = iam.byArn(arn);
    return e !== undefined && certificateCoversHost(new X509Certificate(e.certificateBody), servername);
  };
  if (covers(l.defaultCertificateArn)) return l.defaultCertificateArn;
  return l.sniCertificateArns.find(covers) ?? l.defaultCertificateArn;
}

/** ELBv2: one target per listener (default + SNI certificates). */
export function elbv2Targets(elbv2: SimElbv2, { iam }: TargetContext): TargetDef[] {
  return elbv2.loadBalancers.flatMap((lb) =>
    lb.listeners.map((l): TargetDef => ({
      kind: 'elbv2',
      id: l.arn,
      key: elbv2TargetKey(lb.name, l.port),
      port: l.port,
      hosts: [lb.dnsName],
      loadBalancerName: lb.name,
      certificate: () => l.defaultCertificateArn,
      serve: (servername) => materialByArn(iam, pickElbv2(iam, l, servername)),
      servedSha256: () => shaOfArn(iam, l.defaultCertificateArn),
      signature: () => [l.defaultCertificateArn, ...l.sniCertificateArns].join(' '),
      pin: () => {
        // The default first, then the SNI list: the order pickElbv2 picks in.
        const all = [l.defaultCertificateArn, ...l.sniCertificateArns]
          .map((arn) => materialByArn(iam, arn))
          .filter((m): m is SimCertificate => m !== undefined)
          .map((m) => ({ m, x: new X509Certificate(m.certPem) }));
        const fallback = materialByArn(iam, l.defaultCertificateArn);
        return (servername) => (servername ? (all.find((e) => certificateCoversHost(e.x, servername))?.m ?? fallback) : fallback);
      },
    })),
  );
}

/** CloudFront: one target per distribution, on its aliases (wildcards aside) and its cloudfront.net name. */
export function cloudfrontTargets(cloudfront: SimCloudFront, { iam }: TargetContext): TargetDef[] {
  return cloudfront.distributions.map((d): TargetDef => {
    const aliases = d.config.Aliases?.Items ?? [];
    const served = () => cloudfront.refresh(d).servedCertificateId;
    return {
      kind: 'cloudfront',
      id: d.id,
      key: cloudfrontTargetKey(d.id),
      port: 443,
      hosts: [...aliases.filter((a) => !a.startsWith('*.')), d.domainName],
      certificate: () => served() ?? '',
      serve: () => {
        const id = served();
        return id ? iam.servingMaterial(id) : undefined;
      },
      servedSha256: () => {
        const id = served();
        return id ? (iam.byId(id)?.sha256 ?? '') : '';
      },
      signature: () => served() ?? '',
      pin: () => {
        const id = served();
        const m = id ? iam.servingMaterial(id) : undefined;
        return () => m;
      },
    };
  });
}

/** Nodes: one target per instance, on 443 of its private DNS name and IP, served by the node runtime. */
export function nodeTargets(ec2: SimEc2, { nodes }: TargetContext): TargetDef[] {
  return ec2.instances.map((inst): TargetDef => ({
    kind: 'node',
    id: inst.id,
    key: nodeTargetKey(inst.id),
    port: 443,
    hosts: [inst.privateDnsName, inst.privateIp],
    name: inst.tags.Name,
    certificate: () => nodes.serving(inst.id).label,
    serve: () => nodes.material(inst.id),
    servedSha256: () => nodes.serving(inst.id).sha256,
    signature: () => nodes.serving(inst.id).sha256,
    pin: () => {
      const cert = nodes.material(inst.id);
      return () => cert;
    },
  }));
}

/**
 * The account's targets and their target faults: `serves-stale` pins the endpoint to what the
 * target serves now (the start); `stuck-after-change` pins it to what it serves right after its
 * configuration first changes. The API keeps answering with the configuration; only the TLS
 * endpoint is affected.
 */
export class TargetSet {
  readonly defs: readonly TargetDef[];
  /** What the TLS endpoint of a target with a target fault serves (instead of what its configuration says). */
  private readonly faulted = new Map<string, ServeFn>();
  /** Change checks of `stuck-after-change` targets: run after every call and before every handshake. */
  private readonly pinChecks: Array<() => void> = [];

  constructor(defs: readonly TargetDef[], faults: readonly TargetFault[]) {
    this.defs = defs;
    for (const f of faults) this.applyFault(f);
  }

  /** By report key. */
  byKey(key: string): TargetDef | undefined {
    return this.defs.find((t) => t.key === key);
  }

  /** What the TLS endpoint of a target serves: its configuration, unless a target fault says otherwise. */
  endpointServe(def: TargetDef): ServeFn {
    return (servername) => (this.faulted.get(def.key) ?? def.serve)(servername);
  }

  /** Whether a target has a target fault. */
  hasFault(key: string): boolean {
    return this.faulted.has(key);
  }

  /** Lets `stuck-after-change` faults see a change (after every API call and node install). */
  checkChanges(): void {
    for (const check of this.pinChecks) check();
  }

  /** The public view of every target, in fleet order. */
  list(localPort: (key: string) => number): SimTarget[] {
    return this.defs.map((t) => ({
      key: t.key,
      kind: t.kind,
      id: t.id,
      loadBalancerName: t.loadBalancerName,
      name: t.name,
      port: t.port,
      host: t.hosts[0],
      hosts: [...t.hosts],
      localPort: localPort(t.key),
      certificate: t.certificate(),
      servedSha256: () => t.servedSha256(),
      configuredSha256: (servername: string) => {
        const m = t.serve(servername);
        // A node on a real nginx serves TLS itself: what its files hold.
        return m ? sha256OfCertificate(m.certPem) : t.kind === 'node' ? t.servedSha256() : '';
      },
    }));
  }

  private applyFault(f: TargetFault): void {
    const def = this.byKey(f.target);
    if (!def)
      throw new Error(`internal: target fault on ${f.target}, which is not a target (checkFaultsAgainstFleet lets no such fault through)`);
    if (f.fault === 'serves-stale') {
      this.faulted.set(def.key, def.pin());
      return;
    }
    const start = def.signature();
    let pinned: ServeFn | undefined;
    const check = () => {
      if (!pinned && def.signature() !== start) pinned = def.pin();
    };
    this.pinChecks.push(check);
    this.faulted.set(def.key, (servername) => {
      check();
      return (pinned ?? def.serve)(servername);
    });
  }
}
