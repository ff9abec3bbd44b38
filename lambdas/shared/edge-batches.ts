import type { PlanDocument } from '../plan/domain';
import { ArtifactStore } from './artifacts';
import { TargetNotFound } from './errors';
import type { EdgeTarget } from './targets';

/**
 * The edge rollout's batches. A batch is only a position in this execution's own plan (kind and
 * index): each handler reads plan.json and slices it the same way, so no target list travels in
 * the state (it grows with the fleet) and no other document can steer which targets change.
 */
export type EdgeKind = 'elb' | 'elbv2' | 'cloudfront';
export const EDGE_KINDS: readonly EdgeKind[] = ['elb', 'elbv2', 'cloudfront'];

export interface EdgeBatch {
  readonly kind: EdgeKind;
  readonly index: number;
}

/** Units per batch, by kind (config `edge.batchSize`). */
export type BatchSizes = Readonly<Record<EdgeKind, number>>;

/** Reads `EDGE_BATCH_SIZES` (JSON) as the handlers receive it. */
export function parseBatchSizes(json: unknown): BatchSizes {
  const v = json as Record<string, unknown>;
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0;
  if (typeof v !== 'object' || v === null || !EDGE_KINDS.every((k) => ok(v[k]))) {
    throw new Error('EDGE_BATCH_SIZES must be an object of positive integers for elb, elbv2 and cloudfront');
  }
  return { elb: v.elb as number, elbv2: v.elbv2 as number, cloudfront: v.cloudfront as number };
}

/**
 * The plan's edge targets of one kind as units of work: one target each, except that the targets
 * of one ELBv2 listener (its default and its SNI role) form one unit, so they are switched one
 * after the other and never race on the same listener.
 */
export function unitsOf(plan: PlanDocument, kind: EdgeKind): EdgeTarget[][] {
  const targets = (Array.isArray(plan.edge) ? plan.edge : []).filter((t) => t.kind === kind);
  if (kind !== 'elbv2') return targets.map((t) => [t]);
  const byListener = new Map<string, EdgeTarget[]>();
  for (const t of targets) {
    if (t.kind !== 'elbv2') continue;
    byListener.set(t.listenerArn, [...(byListener.get(t.listenerArn) ?? []), t]);
  }
  return [...byListener.values()];
}

/** The batches of the plan, by kind. */
export function batchesOf(plan: PlanDocument, sizes: BatchSizes): Record<EdgeKind, EdgeBatch[]> {
  const of = (kind: EdgeKind) =>
    Array.from({ length: Math.ceil(unitsOf(plan, kind).length / sizes[kind]) }, (_, index) => ({ kind, index }));
  return { elb: of('elb'), elbv2: of('elbv2'), cloudfront: of('cloudfront') };
}

/** The units of one batch. */
export function unitsOfBatch(plan: PlanDocument, batch: EdgeBatch, sizes: BatchSizes): EdgeTarget[][] {
  if (!EDGE_KINDS.includes(batch.kind) || !Number.isInteger(batch.index) || batch.index < 0) {
    throw new TargetNotFound(`batch ${JSON.stringify(batch)} is not an edge batch`);
  }
  const size = sizes[batch.kind];
  return unitsOf(plan, batch.kind).slice(batch.index * size, (batch.index + 1) * size);
}

/** This execution's plan, or a clear error (the edge phase acts only on what the plan found). */
export async function readPlan(store: ArtifactStore, executionName: string): Promise<PlanDocument> {
  const plan = await store.getJson<PlanDocument>(ArtifactStore.planKey(executionName));
  if (!plan || typeof plan.current !== 'object' || plan.current === null) {
    throw new TargetNotFound(`this execution has no plan (${ArtifactStore.planKey(executionName)}); nothing to switch`);
  }
  return plan;
}

/** A short batch name for logs and documents: `elb-0`. */
export function batchName(batch: EdgeBatch): string {
  return `${batch.kind}-${batch.index}`;
}

/** Where the edge phase keeps what it saw per batch: `executions/<name>/edge/<what>/<kind>-<index>.json`. */
export function edgeDocumentKey(executionName: string, what: 'switched' | 'verified', batch: EdgeBatch): string {
  return `${ArtifactStore.executionPrefix(executionName)}edge/${what}/${batchName(batch)}.json`;
}
