import type { ArtifactStore } from '../shared/artifacts';
import { batchName, edgeDocumentKey, readPlan, unitsOfBatch, type BatchSizes, type EdgeBatch } from '../shared/edge-batches';
import { apply, describeClassicCertificates, observe } from '../shared/edge-ops';
import { AwsTransient, CertificateNotPropagated, TargetNotFound } from '../shared/errors';
import type { ChangeLedger } from '../shared/ledger';
import type { DomainLogger } from '../shared/logger';
import { mapSettled } from '../shared/pool';
import type { EdgeClients } from '../shared/target-ops';
import { targetKey, targetLabel, type EdgeTarget } from '../shared/targets';

/** The ledger's phase name for the edge rollout's changes. */
export const EDGE_PHASE = 'edge';

export interface EdgeSwitchParams {
  readonly clients: EdgeClients;
  readonly ledger: ChangeLedger;
  readonly store: ArtifactStore;
  readonly logger: DomainLogger;
  readonly executionName: string;
  readonly batch: EdgeBatch;
  readonly sizes: BatchSizes;
  /** Targets (ELBv2: listeners) worked on at once in this batch. */
  readonly concurrency: number;
  readonly current: { readonly arn: string; readonly id: string; readonly sha256: string };
  readonly uploaded: { readonly arn: string; readonly id: string };
  readonly newSha256: string;
  /** Seconds of work after which no new target is started (the next invocation resumes). */
  readonly budgetSeconds: number;
  readonly now: () => Date;
}

export type SwitchOutcome = 'switched' | 'already' | 'left-alone' | 'deferred';

export interface EdgeSwitchResult {
  readonly batch: string;
  /** False when the time budget ran out: the state machine invokes the batch again, which resumes. */
  readonly done: boolean;
  readonly targets: number;
  readonly switched: number;
  readonly already: number;
  readonly leftAlone: number;
  readonly deferred: number;
  /** What happened to each target: `executions/<name>/edge/switched/<batch>.json`. */
  readonly detailsKey: string;
}

interface Detail {
  readonly key: string;
  readonly target: string;
  readonly outcome: SwitchOutcome;
  readonly note?: string;
}

/** What this kind of target is configured with: IAM ARNs for load balancers, the ServerCertificateId for CloudFront. */
function valuesFor(t: EdgeTarget, p: EdgeSwitchParams): { before: string; after: string } {
  return t.kind === 'cloudfront' ? { before: p.current.id, after: p.uploaded.id } : { before: p.current.arn, after: p.uploaded.arn };
}

/** The most telling of several failures: a permanent one first, then propagation, then a transient one. */
function worst(errors: unknown[]): unknown {
  const rank = (e: unknown) => (e instanceof AwsTransient ? 2 : e instanceof CertificateNotPropagated ? 1 : 0);
  return [...errors].sort((a, b) => rank(a) - rank(b))[0];
}

/**
 * Switches one batch of the plan's edge targets from the current to the uploaded certificate:
 * for each target, ledger entry first (with its full prior state), then the exact change, then
 * the entry marked applied. A target already applied in the ledger is skipped without an AWS call
 * (a retry or a resumed invocation never changes anything twice); one that serves neither
 * certificate was changed by someone else and is left alone (reported). Targets run with bounded
 * concurrency; every one runs to its end before the first failure is thrown, so progress is kept.
 */
export async function switchBatch(params: EdgeSwitchParams): Promise<EdgeSwitchResult> {
  const plan = await readPlan(params.store, params.executionName);
  if (plan.current.arn !== params.current.arn) {
    throw new TargetNotFound(`the plan was made for ${plan.current.arn}, not the current certificate ${params.current.arn}; stopping`);
  }
  const units = unitsOfBatch(plan, params.batch, params.sizes);
  const started = params.now().getTime();
  const outOfTime = () => params.now().getTime() - started > params.budgetSeconds * 1000;
  const fingerprints = { beforeSha256: params.current.sha256, afterSha256: params.newSha256 };
  const classicNames = units.flat().flatMap((t) => (t.kind === 'elb' ? [t.loadBalancerName] : []));
  const classic = classicNames.length > 0 ? await describeClassicCertificates(params.clients, classicNames) : undefined;

  const switchOne = async (target: EdgeTarget): Promise<Detail> => {
    const { before, after } = valuesFor(target, params);
    const base = { key: targetKey(target), target: targetLabel(target) };
    const existing = await params.ledger.get(target);
    if (existing?.status === 'applied' && existing.phase === EDGE_PHASE && existing.after === after) return { ...base, outcome: 'already' };
    const seen = await observe(params.clients, target, before, after, classic);
    if (!existing && seen.state === 'other') {
      return { ...base, outcome: 'left-alone', note: `serves ${seen.value || 'nothing'}, not the certificate the plan found; left alone` };
    }
    if (!existing && seen.state === 'after')
      return { ...base, outcome: 'already', note: 'served the new certificate before this rotation changed it' };
    if (seen.state === 'other') {
      throw new TargetNotFound(
        `${base.target} now serves ${seen.value || 'nothing'}, neither ${before} nor ${after}; someone else changed it, stopping`,
      );
    }
    // The intent, with the full prior state, before the change (a retry keeps the first entry's `before`).
    const entry = await params.ledger.recordIntent(target, EDGE_PHASE, before, after, params.now(), fingerprints, seen.prior);
    if (seen.state !== 'after') await apply(params.clients, target, seen, before, after);
    await params.ledger.update(entry, 'applied', params.now());
    return { ...base, outcome: 'switched' };
  };

  const settled = await mapSettled(units, params.concurrency, async (unit): Promise<Detail[]> => {
    if (outOfTime()) return unit.map((t) => ({ key: targetKey(t), target: targetLabel(t), outcome: 'deferred' }));
    const details: Detail[] = [];
    // The targets of one listener one after the other.
    for (const t of unit) details.push(await switchOne(t));
    return details;
  });
  const details = settled.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
  const errors = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));

  // Merged with what earlier invocations of this batch saw (a resumed one finds their targets applied).
  const detailsKey = edgeDocumentKey(params.executionName, 'switched', params.batch);
  const earlier = (await params.store.getJson<{ targets?: Detail[] }>(detailsKey))?.targets ?? [];
  const merged = new Map<string, Detail>(earlier.filter((d) => d.outcome !== 'deferred').map((d) => [d.key, d]));
  for (const d of details) if (!(d.outcome === 'already' && merged.get(d.key)?.outcome === 'switched')) merged.set(d.key, d);
  await params.store.putJson(detailsKey, { batch: batchName(params.batch), targets: [...merged.values()] });
  if (errors.length > 0) throw worst(errors);

  const count = (o: SwitchOutcome) => details.filter((d) => d.outcome === o).length;
  const result: EdgeSwitchResult = {
    batch: batchName(params.batch),
    done: count('deferred') === 0,
    targets: details.length,
    switched: [...merged.values()].filter((d) => d.outcome === 'switched').length,
    already: count('already'),
    leftAlone: count('left-alone'),
    deferred: count('deferred'),
    detailsKey,
  };
  params.logger.info('edge batch switched', { ...result });
  return result;
}
