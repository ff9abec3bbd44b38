import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ArtifactStore } from '../shared/artifacts';
import { NodesUnavailable, TargetNotFound } from '../shared/errors';
import type { DomainLogger } from '../shared/logger';
import {
  targetKey,
  targetLabel,
  type DistributionTarget,
  type EdgeTarget,
  type ElbListenerTarget,
  type ElbV2ListenerTarget,
  type NodeTarget,
} from '../shared/targets';
import { findClassicListeners, findDistributions, findInstances, findV2Listeners } from './discovery';
import { pingStatuses, unavailableReason, type UnavailableNode } from './nodes';

export type { UnavailableNode } from './nodes';

export interface NodePhaseSpec {
  readonly name: string;
  readonly targets: { readonly tags?: Readonly<Record<string, readonly string[]>>; readonly instanceIds?: readonly string[] };
}

export interface PlanParams {
  readonly elb: ElasticLoadBalancingClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly cloudfront: CloudFrontClient;
  readonly ec2: EC2Client;
  readonly ssm: SSMClient;
  readonly store: ArtifactStore;
  readonly logger: DomainLogger;
  readonly executionName: string;
  readonly current: { readonly arn: string; readonly id: string };
  readonly canary: { readonly loadBalancerName: string; readonly port: number };
  readonly edge: { readonly include: readonly string[]; readonly exclude: readonly string[] };
  readonly nodePhases: readonly NodePhaseSpec[];
  /** Nodes SSM does not manage or that are not Online: refuse to start (default), or skip them and say so. */
  readonly unavailableNodes: 'refuse' | 'skip';
}

/** The whole plan, stored in S3 (it grows with the fleet). */
export interface PlanDocument {
  readonly createdAt: string;
  readonly current: { readonly arn: string; readonly id: string };
  readonly canary: ElbListenerTarget;
  readonly edge: EdgeTarget[];
  /** Each node phase's nodes (the ones it deploys to), and the ones it skips because SSM cannot reach them. */
  readonly nodePhases: Array<{ readonly name: string; readonly nodes: NodeTarget[]; readonly skipped: UnavailableNode[] }>;
}

/** What the state carries: counts and a bounded list of names, for the approval email. */
export interface PlanSummary {
  readonly planKey: string;
  readonly counts: {
    readonly canary: number;
    readonly elb: number;
    readonly elbv2: number;
    readonly cloudfront: number;
    readonly nodes: Record<string, number>;
  };
  readonly edgeNames: string[];
  readonly nodeNames: Record<string, string[]>;
  /** Nodes left out because SSM cannot run the command there (skip mode), each named with its phase and reason. */
  readonly unavailableNodes: string[];
  readonly unavailableCount: number;
  readonly truncated: boolean;
}

const MAX_NAMES = 25;

/** What one discovery step found, stored so that a retried Plan task resumes instead of asking AWS again. */
interface DiscoveryDocument<T> {
  readonly current: { readonly arn: string; readonly id: string };
  readonly foundAt: string;
  readonly found: T[];
}

/** Where a discovery step's result is kept: `executions/<name>/discovery/<step>.json`. */
export function discoveryKey(executionName: string, step: string): string {
  return `${ArtifactStore.executionPrefix(executionName)}discovery/${step.replace(/[^A-Za-z0-9._-]/g, '_')}.json`;
}

/**
 * Runs one discovery step once per execution: a result an earlier attempt of this task stored
 * (for the same current certificate) is reused; otherwise the step runs and its result is stored.
 */
async function discoverOnce<T>(params: PlanParams, step: string, discover: () => Promise<T[]>): Promise<T[]> {
  const key = discoveryKey(params.executionName, step);
  const stored = await params.store.getJson<DiscoveryDocument<T>>(key);
  if (stored && stored.current.arn === params.current.arn && stored.current.id === params.current.id && Array.isArray(stored.found)) {
    params.logger.info('discovery resumed from an earlier attempt', { step, found: stored.found.length });
    return stored.found;
  }
  const found = await discover();
  const doc: DiscoveryDocument<T> = {
    current: { arn: params.current.arn, id: params.current.id },
    foundAt: new Date().toISOString(),
    found,
  };
  await params.store.putJson(key, doc);
  return found;
}

/** Matches a target against an include/exclude entry: ELB name, `name:port`, distribution id, or target key. */
export function matchesSelector(target: EdgeTarget, selector: string): boolean {
  switch (target.kind) {
    case 'elb':
    case 'elbv2':
      return (
        selector === target.loadBalancerName || selector === `${target.loadBalancerName}:${target.port}` || selector === targetKey(target)
      );
    case 'cloudfront':
      return selector === target.distributionId || selector === targetKey(target) || target.aliases.includes(selector);
  }
}

export async function planRotation(params: PlanParams): Promise<PlanSummary> {
  const { arn, id } = params.current;
  // Each service's discovery is kept as soon as it is done: a retry after a throttled call or a
  // crash repeats only the steps that had not finished.
  // allSettled: one service failing must not cut the others short before they stored their result.
  const settled = await Promise.allSettled([
    discoverOnce(params, 'elb', () => findClassicListeners(params.elb, arn)),
    discoverOnce(params, 'elbv2', () => findV2Listeners(params.elbv2, arn)),
    discoverOnce(params, 'cloudfront', () => findDistributions(params.cloudfront, id)),
  ] as const);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const [classic, v2, distributions] = settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [
    ElbListenerTarget[],
    ElbV2ListenerTarget[],
    DistributionTarget[],
  ];

  const isCanary = (t: EdgeTarget) =>
    t.kind === 'elb' && t.loadBalancerName === params.canary.loadBalancerName && t.port === params.canary.port;
  const canary = classic.find(isCanary);
  if (!canary) {
    throw new TargetNotFound(
      `canary listener ${params.canary.loadBalancerName}:${params.canary.port} does not serve the current certificate ${arn}`,
    );
  }
  const { include, exclude } = params.edge;
  const edge = [...classic, ...v2, ...distributions]
    .filter((t) => !isCanary(t))
    .filter((t) => include.length === 0 || include.some((s) => matchesSelector(t, s)))
    .filter((t) => !exclude.some((s) => matchesSelector(t, s)));

  // Each instance belongs to the first phase that selects it: "prod" = prod minus the prod canary.
  const claimed = new Set<string>();
  const nodePhases: PlanDocument['nodePhases'] = [];
  for (const phase of params.nodePhases) {
    const found = await discoverOnce(params, `nodes-${phase.name}`, () => findInstances(params.ec2, phase.targets));
    const mine = found.filter((i) => !claimed.has(i.instanceId));
    mine.forEach((i) => claimed.add(i.instanceId));
    // Whether SSM can run the command on each (managed and Online), asked once per execution too.
    const status = await discoverOnce(params, `ssm-${phase.name}`, async () => {
      const ping = await pingStatuses(
        params.ssm,
        mine.map((i) => i.instanceId),
      );
      return mine.map((i) => ({ instanceId: i.instanceId, ping: ping.get(i.instanceId) ?? null }));
    });
    const pingOf = new Map(status.map((s) => [s.instanceId, s.ping ?? undefined]));
    const nodes: NodeTarget[] = [];
    const skipped: UnavailableNode[] = [];
    for (const i of mine) {
      const reason = unavailableReason(pingOf.get(i.instanceId));
      if (reason) skipped.push({ instanceId: i.instanceId, name: i.name, phase: phase.name, reason });
      else nodes.push({ kind: 'node', instanceId: i.instanceId, name: i.name, phase: phase.name, ...(i.host ? { host: i.host } : {}) });
    }
    nodePhases.push({ name: phase.name, nodes, skipped });
  }
  const unavailable = nodePhases.flatMap((p) => p.skipped);
  const describeUnavailable = (u: UnavailableNode) => `${u.name} (${u.instanceId}, phase ${u.phase}): ${u.reason}`;
  if (unavailable.length > 0 && params.unavailableNodes === 'refuse') {
    const shown = unavailable.slice(0, MAX_NAMES).map(describeUnavailable).join('; ');
    const more = unavailable.length > MAX_NAMES ? `; and ${unavailable.length - MAX_NAMES} more` : '';
    throw new NodesUnavailable(
      `${unavailable.length} node(s) of the node phases cannot run the deploy command: ${shown}${more}. Nothing was changed. ` +
        'Bring them under SSM (agent running, instance profile), remove them from the phase, or set nodeRollout.unavailableNodes to "skip".',
    );
  }
  if (unavailable.length > 0) params.logger.warn('nodes skipped: SSM cannot run the command there', { count: unavailable.length });

  const planKey = ArtifactStore.planKey(params.executionName);
  const doc: PlanDocument = { createdAt: new Date().toISOString(), current: { arn, id }, canary, edge, nodePhases };
  await params.store.putJson(planKey, doc);

  const edgeNames = edge.map(targetLabel);
  const nodeNames = Object.fromEntries(nodePhases.map((p) => [p.name, p.nodes.slice(0, MAX_NAMES).map((n) => n.name)]));
  const summary: PlanSummary = {
    planKey,
    counts: {
      canary: 1,
      elb: edge.filter((t) => t.kind === 'elb').length,
      elbv2: edge.filter((t) => t.kind === 'elbv2').length,
      cloudfront: edge.filter((t) => t.kind === 'cloudfront').length,
      nodes: Object.fromEntries(nodePhases.map((p) => [p.name, p.nodes.length])),
    },
    edgeNames: edgeNames.slice(0, MAX_NAMES),
    nodeNames,
    unavailableNodes: unavailable.slice(0, MAX_NAMES).map(describeUnavailable),
    unavailableCount: unavailable.length,
    truncated: edgeNames.length > MAX_NAMES || nodePhases.some((p) => p.nodes.length > MAX_NAMES) || unavailable.length > MAX_NAMES,
  };
  params.logger.info('rotation planned', { counts: summary.counts });
  return summary;
}
