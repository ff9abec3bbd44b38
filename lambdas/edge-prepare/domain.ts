import type { ArtifactStore } from '../shared/artifacts';
import { batchesOf, readPlan, unitsOf, type BatchSizes, type EdgeBatch } from '../shared/edge-batches';
import type { DomainLogger } from '../shared/logger';

export interface EdgePrepareParams {
  readonly store: ArtifactStore;
  readonly executionName: string;
  readonly sizes: BatchSizes;
  readonly logger: DomainLogger;
}

/** What the state carries: batch ids only (the targets stay in plan.json), and counts. */
export interface EdgePrepareResult {
  readonly elb: EdgeBatch[];
  readonly elbv2: EdgeBatch[];
  readonly cloudfront: EdgeBatch[];
  /** Every batch, for the verification Map. */
  readonly all: EdgeBatch[];
  /** Targets per kind (ELBv2: listener roles), from the plan. */
  readonly targets: { readonly elb: number; readonly elbv2: number; readonly cloudfront: number };
}

/**
 * Splits the plan's edge targets into coarse batches per service: few Map iterations whatever the
 * fleet size (each batch works through its targets with bounded concurrency and keeps its
 * progress in the ledger), so the state transitions barely grow with the fleet.
 */
export async function prepareEdge(params: EdgePrepareParams): Promise<EdgePrepareResult> {
  const plan = await readPlan(params.store, params.executionName);
  const batches = batchesOf(plan, params.sizes);
  const count = (kind: 'elb' | 'elbv2' | 'cloudfront') => unitsOf(plan, kind).reduce((n, u) => n + u.length, 0);
  const result: EdgePrepareResult = {
    ...batches,
    all: [...batches.elb, ...batches.elbv2, ...batches.cloudfront],
    targets: { elb: count('elb'), elbv2: count('elbv2'), cloudfront: count('cloudfront') },
  };
  params.logger.info('edge batches', { targets: result.targets, batches: result.all.length });
  return result;
}
