import { defaultFleet, type FleetAlb, type FleetDistribution, type FleetElb, type FleetInstance, type FleetSpec } from './sim';

/**
 * Fleets for the edge rollout: the mixed fleet of issue 7's "Done means", a one-of-each fleet (the
 * baseline for state transitions) and the scale fleet (2,000 classic listeners, 400 ELBv2
 * listeners, 500 distributions, 5,000 nodes). Each keeps the default fleet's canary ELB and node
 * tags (the example config in cdk.json targets them), and puts a few of each kind on an unrelated
 * certificate ("other"), which the rotation must leave alone.
 */
export interface EdgeFleetSize {
  /** Classic ELB listeners besides the canary (4 per ELB). */
  readonly classicListeners: number;
  /** ELBv2 listeners (4 per ALB): every 3rd with an SNI list, every 10th all "other". */
  readonly v2Listeners: number;
  readonly distributions: number;
  /** Nodes besides the default fleet's beta and ws-01 (all prod, in memory). */
  readonly nodes: number;
  /** The slowest distribution's deploySeconds (others spread below it). @default 300 */
  readonly maxDeploySeconds?: number;
}

const PORTS = [443, 8443, 9443, 10443];

/** A fleet of the given size; every 10th target of each kind is on an unrelated certificate. */
export function edgeFleet(size: EdgeFleetSize): FleetSpec {
  const base = defaultFleet();
  const canary = base.elbs[0];
  const other = (i: number) => i % 10 === 9;
  const elbs: FleetElb[] = [{ name: canary.name, listeners: canary.listeners.filter((l) => l.port === 6667) }];
  for (let i = 0; i < size.classicListeners; i += PORTS.length) {
    const n = Math.min(PORTS.length, size.classicListeners - i);
    elbs.push({
      name: `edge-elb-${i / PORTS.length}`,
      listeners: PORTS.slice(0, n).map((port, j) => ({
        port,
        protocol: j % 2 ? 'SSL' : 'HTTPS',
        certificate: other(i + j) ? 'other' : 'current',
      })),
    });
  }
  const albs: FleetAlb[] = [];
  for (let i = 0; i < size.v2Listeners; i += PORTS.length) {
    const n = Math.min(PORTS.length, size.v2Listeners - i);
    // Every 5th load balancer is an NLB (TLS listeners), the others ALBs (HTTPS).
    const protocol = (i / PORTS.length) % 5 === 4 ? 'TLS' : 'HTTPS';
    albs.push({
      name: `edge-alb-${i / PORTS.length}`,
      listeners: PORTS.slice(0, n).map((port, j) => {
        const k = i + j;
        if (other(k)) return { port, protocol, certificate: 'other', sni: ['other'] };
        // Every 3rd: the current certificate only in the SNI list, beside an unrelated one; every 3rd+1: both.
        if (k % 3 === 0) return { port, protocol, certificate: 'other', sni: ['other', 'current'] };
        if (k % 3 === 1) return { port, protocol, certificate: 'current', sni: ['current', 'other'] };
        return { port, protocol, certificate: 'current', sni: [] };
      }),
    });
  }
  const maxDeploy = size.maxDeploySeconds ?? 300;
  const distributions: FleetDistribution[] = Array.from({ length: size.distributions }, (_, i) => ({
    id: `EEDGE${i}`,
    aliases: i % 4 === 3 ? [] : [`cdn${i}.${base.domain}`],
    // The first is the slowest; the others spread from a third of it up.
    deploySeconds: i === 0 ? maxDeploy : Math.round(maxDeploy / 3 + ((i * 37) % Math.round((maxDeploy * 2) / 3))),
    certificate: other(i) ? 'other' : 'current',
  }));
  const instances: FleetInstance[] = [
    ...base.instances.filter((x) => x.tags.Env === 'beta' || x.tags.Name === 'ws-01').map((x) => ({ ...x, nginx: false })),
    ...Array.from({ length: size.nodes }, (_, i) => ({ id: `i-0edge${i}`, tags: { Name: `edge-node-${i}`, Env: 'prod' }, nginx: false })),
  ];
  return { ...base, elbs, albs, distributions, instances };
}

/** Issue 7's "Done means" fleet: 50 classic listeners, 20 ELBv2 listeners (some with SNI lists), 30 distributions. */
export const MIXED_FLEET: EdgeFleetSize = { classicListeners: 50, v2Listeners: 20, distributions: 30, nodes: 3 };
/** One of each kind (the baseline the scale fleet's state transitions are compared with). */
export const ONE_OF_EACH: EdgeFleetSize = { classicListeners: 1, v2Listeners: 1, distributions: 1, nodes: 1 };
/** The scale of DESIGN.md §4. */
export const SCALE_FLEET: EdgeFleetSize = { classicListeners: 2000, v2Listeners: 400, distributions: 500, nodes: 5000 };
