import { DeleteServerCertificateCommand, type IAMClient } from '@aws-sdk/client-iam';
import { ArtifactStore } from '../shared/artifacts';
import { awsErrorName } from '../shared/aws-errors';
import type { EdgeReadClients } from '../shared/certificate-uses';
import { listServerCertificates, selectPrunable, type KeptCertificate, type PrunableCertificate } from '../shared/iam-prune';
import type { DomainLogger } from '../shared/logger';

export interface PruneParams {
  readonly iam: IAMClient;
  readonly clients: EdgeReadClients;
  readonly store: ArtifactStore;
  readonly logger: DomainLogger;
  readonly executionName: string;
  readonly iamPath: string;
  readonly namePrefix: string;
  /** `prune.keep`: the domain's certificates older than the new one that stay, the previous one included. */
  readonly keep: number;
  /** The certificate the rotation replaced (kept for rollback). */
  readonly previousArn: string;
  /** The new certificate's IAM name. */
  readonly newName: string;
}

export interface PruneResult {
  /** Deleted by this execution (this attempt or an earlier one), oldest first. */
  readonly pruned: Array<{ readonly name: string; readonly uploadDate: string }>;
  /** The domain's certificates left in IAM, each with why. */
  readonly kept: KeptCertificate[];
  /** What the in-use check read (absent when nothing was old enough to need it). */
  readonly checked?: { readonly elbListeners: number; readonly elbv2Listeners: number; readonly distributions: number };
  /** The decision and its outcome, in the artifacts bucket. */
  readonly recordKey: string;
}

/** What an attempt writes before it deletes anything, so a retry knows what earlier attempts set out to delete. */
interface PruneRecord {
  readonly intended: PrunableCertificate[];
  readonly pruned?: PruneResult['pruned'];
  readonly kept?: KeptCertificate[];
}

/** Where the prune decision of an execution is kept. */
export function pruneRecordKey(executionName: string): string {
  return `${ArtifactStore.executionPrefix(executionName)}prune.json`;
}

/**
 * After a successful rotation: deletes the IAM server certificates of this domain that
 * {@link selectPrunable} finds unused and older than the previous one (kept for rollback), beyond
 * `keep`. Idempotent: the decision is written to S3 before the first deletion; a retry decides
 * again from what IAM lists now, and reports as pruned what an earlier attempt set out to delete
 * and IAM no longer lists. IAM refusing a deletion because the certificate is in use
 * (`DeleteConflict`) keeps it, with that reason; any other error fails the task.
 */
export async function pruneCertificates(params: PruneParams): Promise<PruneResult> {
  const recordKey = pruneRecordKey(params.executionName);
  const earlier = (await params.store.getJson<PruneRecord>(recordKey))?.intended ?? [];
  const listed = await listServerCertificates(params.iam);
  const decision = await selectPrunable(
    {
      iam: params.iam,
      clients: params.clients,
      iamPath: params.iamPath,
      namePrefix: params.namePrefix,
      previousArn: params.previousArn,
      newName: params.newName,
      keep: params.keep,
    },
    listed,
  );
  const listedNames = new Set(listed.map((m) => m.ServerCertificateName));
  const goneBefore = earlier.filter((c) => !listedNames.has(c.name));
  const intended = [...goneBefore, ...decision.prunable.filter((c) => !goneBefore.some((g) => g.name === c.name))];
  await params.store.putJson(recordKey, { intended } satisfies PruneRecord);

  const deleted: PrunableCertificate[] = [];
  const kept = [...decision.kept];
  for (const c of decision.prunable) {
    try {
      await params.iam.send(new DeleteServerCertificateCommand({ ServerCertificateName: c.name }));
      deleted.push(c);
      params.logger.info('pruned an old IAM server certificate', { name: c.name, uploadDate: c.uploadDate });
    } catch (error) {
      const code = awsErrorName(error);
      if (code === 'NoSuchEntity' || code === 'NoSuchEntityException') deleted.push(c);
      else if (code === 'DeleteConflict' || code === 'DeleteConflictException') {
        kept.push({ name: c.name, reason: `IAM refused to delete it: in use (${error instanceof Error ? error.message : code})` });
      } else throw error;
    }
  }
  const pruned = [...goneBefore, ...deleted]
    .sort((a, b) => a.uploadDate.localeCompare(b.uploadDate))
    .map((c) => ({ name: c.name, uploadDate: c.uploadDate }));
  await params.store.putJson(recordKey, { intended, pruned, kept } satisfies PruneRecord);
  params.logger.info('pruning done', { pruned: pruned.length, kept: kept.length });
  return { pruned, kept, ...(decision.checked ? { checked: decision.checked } : {}), recordKey };
}
