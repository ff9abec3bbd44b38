import { DeleteServerCertificateCommand, type IAMClient } from '@aws-sdk/client-iam';
import type { PlanDocument } from '../plan/domain';
import { ArtifactStore } from '../shared/artifacts';
import { awsErrorName } from '../shared/aws-errors';
import { EXECUTION_TAG, getCertificateBody } from '../shared/iam-certs';
import type { ChangeLedger, LedgerEntry, LedgerRecord } from '../shared/ledger';
import type { DomainLogger } from '../shared/logger';
import { apply, describeClassicCertificates, observe } from '../shared/edge-ops';
import { AwsTransient, CertificateNotPropagated } from '../shared/errors';
import { mapSettled } from '../shared/pool';
import type { EdgeClients } from '../shared/target-ops';
import { targetKey, targetLabel, type EdgeTarget } from '../shared/targets';

export interface RollbackParams {
  readonly clients: EdgeClients;
  readonly iam: IAMClient;
  readonly ledger: ChangeLedger;
  /** The execution's artifacts: rollback reads back the plan it wrote. */
  readonly store: ArtifactStore;
  readonly executionName: string;
  readonly logger: DomainLogger;
  /**
   * The IAM name of the certificate the upload reported (from the state). A hint of where to
   * look, never authority: only IAM's own `cert-rotation:execution` tag proves it is ours.
   */
  readonly uploadedName?: string;
  readonly now: () => Date;
  /** Targets restored at once (each wave of one phase: the edge first, then the canary). @default 8 */
  readonly concurrency?: number;
  /** Seconds of work after which no new target is started; the state machine invokes rollback again. @default unlimited */
  readonly budgetSeconds?: number;
}

export interface RollbackResult {
  /** False when the time budget ran out with targets left: the state machine invokes rollback again, which resumes from the ledger. */
  readonly done: boolean;
  readonly entries: number;
  readonly restored: string[];
  readonly neverSwitched: string[];
  /** Targets (or ledger objects) not acted on, each with the reason. */
  readonly leftAlone: Array<{ readonly target: string; readonly reason: string }>;
  readonly uploadDeleted: boolean;
  readonly uploadNote?: string;
}

/** Why a looked-up name is not ours when IAM has no certificate of that name (a retry after the delete). */
const ABSENT = 'IAM has no server certificate of that name';

/** How many distinct certificate names rollback asks IAM about (one per execution is normal). */
const MAX_CERTIFICATE_LOOKUPS = 10;

/** The certificates IAM shows tagged with this execution's name: what rollback may switch away from and delete. */
export interface OurCertificates {
  /** IAM name -> ARN and ServerCertificateId. */
  readonly byName: Map<string, { readonly arn: string; readonly id: string }>;
  /** ARNs (ELB/ELBv2 values) and ServerCertificateIds (CloudFront values) of those. */
  readonly values: Set<string>;
  /** Names looked at that are not ours, with why. */
  readonly notOurs: Map<string, string>;
}

/** The IAM name in a server-certificate ARN (`...:server-certificate/<path>/<name>`), if it is one. */
export function nameInArn(value: string): string | undefined {
  return /^arn:[^:]+:iam::\d{12}:server-certificate\/(?:.*\/)?([\w+=,.@-]{1,128})$/.exec(value)?.[1];
}

export async function findOurCertificates(iam: IAMClient, executionName: string, hints: readonly string[]): Promise<OurCertificates> {
  const ours: OurCertificates = { byName: new Map(), values: new Set(), notOurs: new Map() };
  for (const name of [...new Set(hints)].slice(0, MAX_CERTIFICATE_LOOKUPS)) {
    let found: Awaited<ReturnType<typeof getCertificateBody>>;
    try {
      found = await getCertificateBody(iam, name);
    } catch (error) {
      // Outside the rotation's IAM path the role may not even read it: then it is not ours either.
      if (awsErrorName(error) !== 'AccessDenied' && awsErrorName(error) !== 'AccessDeniedException') throw error;
      ours.notOurs.set(name, 'this role may not read it (outside the rotation IAM path)');
      continue;
    }
    if (!found) {
      ours.notOurs.set(name, ABSENT);
    } else if (found.tags[EXECUTION_TAG] !== executionName) {
      ours.notOurs.set(name, `IAM does not show it tagged ${EXECUTION_TAG}=${executionName}`);
    } else {
      const arn = found.metadata.Arn ?? '';
      const id = found.metadata.ServerCertificateId ?? '';
      ours.byName.set(name, { arn, id });
      if (arn) ours.values.add(arn);
      if (id) ours.values.add(id);
    }
  }
  return ours;
}

/** Plan targets by key: only these may be switched back (the canary is the plan's `canary`). */
function planTargets(plan: PlanDocument | undefined): Map<string, EdgeTarget> {
  const targets = new Map<string, EdgeTarget>();
  if (!plan) return targets;
  for (const t of [plan.canary, ...(Array.isArray(plan.edge) ? plan.edge : [])]) {
    if (t && typeof t === 'object') targets.set(targetKey(t), t);
  }
  return targets;
}

/** What the plan found in use, as a target of this kind records it (ARN for ELB/ELBv2, id for CloudFront). */
function currentValueFor(plan: PlanDocument, target: EdgeTarget): string {
  return target.kind === 'cloudfront' ? plan.current.id : plan.current.arn;
}

type Proof =
  | { readonly ok: true; readonly target: EdgeTarget }
  /** `mayServeOurs`: a planned target whose after is this execution's certificate, only its before is unproven. */
  | { readonly ok: false; readonly reason: string; readonly mayServeOurs?: boolean };

/**
 * An entry is honoured only when it is where the ledger writes it, its target is in this
 * execution's plan, its `after` is a certificate IAM shows tagged with this execution, and its
 * `before` is what the plan found in use. The target acted on is the plan's, never the entry's.
 */
function prove(
  record: LedgerRecord,
  params: RollbackParams,
  plan: PlanDocument | undefined,
  targets: Map<string, EdgeTarget>,
  ours: OurCertificates,
): Proof {
  const entry = record.entry;
  if (!entry) return { ok: false, reason: `ledger object ${record.objectKey} is ${record.problem ?? 'unreadable'}; left alone` };
  if (!params.ledger.isStoredAt(entry, record.objectKey)) {
    return { ok: false, reason: `stored at ${record.objectKey}, not where the ledger writes ${entry.key}; left alone` };
  }
  if (!plan) {
    return {
      ok: false,
      reason: `this execution wrote no plan (${ArtifactStore.planKey(params.executionName)}), so no target is proven; left alone`,
    };
  }
  const target = targets.get(entry.key);
  if (!target) return { ok: false, reason: `${entry.key} is not in this execution's plan; left alone` };
  if (!ours.values.has(entry.after)) {
    const name = nameInArn(entry.after);
    const why = name !== undefined ? ours.notOurs.get(name) : undefined;
    return {
      ok: false,
      reason: `its after ${entry.after} is not the certificate this execution uploaded (${why ?? `IAM shows no ${EXECUTION_TAG}=${params.executionName} on it`}); left alone`,
    };
  }
  const current = currentValueFor(plan, target);
  if (entry.before !== current) {
    return {
      ok: false,
      mayServeOurs: true,
      reason: `its before ${entry.before} is not the certificate the plan found in use (${current}): it may serve this execution's certificate, but what it served before is not proven; left alone`,
    };
  }
  return { ok: true, target };
}

/**
 * Restores exactly what this execution can prove it changed, newest first. A ledger entry is
 * evidence only when it matches the execution's own plan and the certificate IAM shows it
 * uploaded; anything else is left alone and reported with the reason in the result (the entry
 * itself is not rewritten). A proven target that
 * serves neither the old nor the new certificate was changed by someone else: it is left alone
 * too, never overwritten, and then the uploaded certificate is kept. An IAM certificate is
 * deleted only when IAM itself shows it tagged with this execution's name.
 */
export async function rollBack(params: RollbackParams): Promise<RollbackResult> {
  const [allRecords, plan] = await Promise.all([
    params.ledger.records(),
    params.store.getJson<PlanDocument>(ArtifactStore.planKey(params.executionName)),
  ]);
  // Nodes are rolled back before this by the node rollback (lambdas/node-rollback), with their own proof.
  const records = allRecords.filter((r) => r.entry?.target.kind !== 'node');
  const hints = [
    ...(typeof params.uploadedName === 'string' && params.uploadedName !== '' ? [params.uploadedName] : []),
    ...records.map((r) => (r.entry ? nameInArn(r.entry.after) : undefined)).filter((n): n is string => n !== undefined),
  ];
  const ours = hints.length > 0 ? await findOurCertificates(params.iam, params.executionName, hints) : undefined;
  const provenPlan = plan && typeof plan.current === 'object' && plan.current !== null ? plan : undefined;
  const targets = planTargets(provenPlan);
  const none: OurCertificates = { byName: new Map(), values: new Set(), notOurs: new Map() };
  const proofOf = (r: LedgerRecord) => prove(r, params, provenPlan, targets, ours ?? none);
  const labelOf = (r: LedgerRecord) => (r.entry ? targetLabel(r.entry.target) : `ledger object ${r.objectKey}`);

  const restored: string[] = [];
  const neverSwitched: string[] = [];
  const leftAlone: Array<{ target: string; reason: string }> = [];
  /** A proven target left alone may still serve our certificate: then it is kept. */
  let provenLeftAlone = false;
  const todo: Array<{ entry: LedgerEntry; target: EdgeTarget }> = [];

  for (const record of records) {
    const proof = proofOf(record);
    const entry = record.entry;
    if (!proof.ok && entry?.status === 'rolled-back') {
      // Done already (a retry after the upload was deleted cannot prove it again): nothing to act on.
      continue;
    }
    if (!proof.ok && proof.mayServeOurs && entry) {
      // Our certificate may be served there and we cannot prove what to restore: a target not back.
      leftAlone.push({ target: labelOf(record), reason: entry.status === 'left-alone' ? (entry.note ?? proof.reason) : proof.reason });
      provenLeftAlone = true;
      if (entry.status !== 'left-alone') await params.ledger.update(entry, 'left-alone', params.now(), proof.reason);
      params.logger.warn('ledger entry with an unproven before; left alone', { object: record.objectKey, reason: proof.reason });
    } else if (!proof.ok) {
      leftAlone.push({ target: labelOf(record), reason: proof.reason });
      // Reported, never rewritten: it is not this execution's entry, and marking it `left-alone`
      // would make the report count a target this execution never touched as "not back".
      params.logger.warn('ledger entry not proven; left alone', { object: record.objectKey, reason: proof.reason });
    } else if (entry?.status === 'left-alone') {
      // A retried rollback still knows what an earlier attempt left alone.
      leftAlone.push({ target: targetLabel(proof.target), reason: entry.note ?? 'left alone by an earlier attempt' });
      provenLeftAlone = true;
    } else if (entry && (entry.status === 'intended' || entry.status === 'applied')) {
      todo.push({ entry, target: proof.target });
    }
  }

  // Newest phase first (the edge before the canary), each phase's targets in parallel, bounded.
  todo.sort((a, b) => b.entry.updatedAt.localeCompare(a.entry.updatedAt));
  const phases = [...new Set(todo.map((t) => t.entry.phase))];
  const started = params.now().getTime();
  const outOfTime = () => params.budgetSeconds !== undefined && params.now().getTime() - started > params.budgetSeconds * 1000;
  const classicNames = todo.flatMap(({ target }) => (target.kind === 'elb' ? [target.loadBalancerName] : []));
  const classic = classicNames.length > 0 ? await describeClassicCertificates(params.clients, classicNames) : undefined;
  let deferred = 0;
  const errors: unknown[] = [];
  for (const phase of phases) {
    const wave = todo.filter((t) => t.entry.phase === phase);
    type Outcome =
      | { readonly kind: 'restored' | 'never' | 'deferred'; readonly label: string }
      | { readonly kind: 'left'; readonly label: string; readonly reason: string };
    const settled = await mapSettled(wave, params.concurrency ?? 8, async ({ entry, target }): Promise<Outcome> => {
      const label = targetLabel(target);
      if (outOfTime()) return { kind: 'deferred', label };
      // Observed from our certificate back to the previous one: 'before' = serves ours, 'after' = back.
      const seen = await observe(params.clients, target, entry.after, entry.before, classic);
      if (seen.state === 'before' || seen.state === 'both') {
        // 'both': an SNI switch interrupted between Add and Remove; finishing the restore is safe.
        await apply(params.clients, target, seen, entry.after, entry.before);
        await params.ledger.update(entry, 'rolled-back', params.now());
        params.logger.info('target restored', { target: label });
        return { kind: 'restored', label };
      }
      if (seen.state === 'after') {
        await params.ledger.update(entry, 'rolled-back', params.now(), 'was not switched');
        return { kind: 'never', label };
      }
      const reason = `serves ${seen.value || 'nothing'}, neither the previous nor the new certificate; left alone`;
      await params.ledger.update(entry, 'left-alone', params.now(), reason);
      params.logger.warn('target left alone during rollback', { target: label, reason });
      return { kind: 'left', label, reason };
    });
    // In the wave's order (newest first), whatever order the calls finished in.
    for (const r of settled) {
      if (r.status !== 'fulfilled') continue;
      const o = r.value;
      if (o.kind === 'restored') restored.push(o.label);
      else if (o.kind === 'never') neverSwitched.push(o.label);
      else if (o.kind === 'deferred') deferred += 1;
      else if (o.kind === 'left') {
        leftAlone.push({ target: o.label, reason: o.reason });
        provenLeftAlone = true;
      }
    }
    errors.push(...settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : [])));
    // The canary goes back only once the edge is back (or has been tried).
    if (errors.length > 0) break;
  }
  if (errors.length > 0) {
    const rank = (e: unknown) => (e instanceof AwsTransient ? 2 : e instanceof CertificateNotPropagated ? 1 : 0);
    throw [...errors].sort((a, b) => rank(a) - rank(b))[0];
  }
  if (deferred > 0) {
    params.logger.info('rollback continues in the next invocation', { deferred, restored: restored.length });
    return { done: false, entries: todo.length, restored, neverSwitched, leftAlone, uploadDeleted: false };
  }

  let uploadDeleted = false;
  const notes: string[] = [];
  const mine = [...(ours?.byName.keys() ?? [])];
  const hinted = params.uploadedName !== undefined ? ours?.notOurs.get(params.uploadedName) : undefined;
  if (hinted === ABSENT && mine.length === 0) {
    // A retry after the delete took effect: the upload is gone, which is what deleting it meant.
    uploadDeleted = true;
    notes.push(`${params.uploadedName} is not in IAM (already deleted)`);
  } else if (hinted !== undefined) {
    notes.push(`left ${params.uploadedName} alone: ${hinted}`);
  }
  if (mine.length > 0 && provenLeftAlone) {
    notes.push(`kept ${mine.join(', ')}: some targets were left alone`);
  } else if (mine.length > 0) {
    uploadDeleted = true;
    for (const name of mine) {
      try {
        await params.iam.send(new DeleteServerCertificateCommand({ ServerCertificateName: name }));
      } catch (error) {
        const code = awsErrorName(error);
        if (code === 'NoSuchEntityException' || code === 'NoSuchEntity') continue;
        if (code !== 'DeleteConflictException' && code !== 'DeleteConflict') throw error;
        uploadDeleted = false;
        notes.push(`kept ${name}: still attached while targets finish switching back; prune it later`);
      }
    }
  }
  const uploadNote = notes.length > 0 ? notes.join('; ') : undefined;
  return { done: true, entries: todo.length, restored, neverSwitched, leftAlone, uploadDeleted, ...(uploadNote ? { uploadNote } : {}) };
}
