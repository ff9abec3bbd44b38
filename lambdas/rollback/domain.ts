import { DeleteServerCertificateCommand, type IAMClient } from '@aws-sdk/client-iam';
import { awsErrorName } from '../shared/aws-errors';
import type { ChangeLedger } from '../shared/ledger';
import type { DomainLogger } from '../shared/logger';
import { readTargetState, setTargetCertificate, type EdgeClients } from '../shared/target-ops';
import { targetLabel } from '../shared/targets';

export interface RollbackParams {
  readonly clients: EdgeClients;
  readonly iam: IAMClient;
  readonly ledger: ChangeLedger;
  readonly logger: DomainLogger;
  /** The certificate this execution uploaded, when it got that far. */
  readonly uploaded?: { readonly name: string; readonly reused: boolean };
  readonly now: () => Date;
}

export interface RollbackResult {
  readonly entries: number;
  readonly restored: string[];
  readonly neverSwitched: string[];
  readonly leftAlone: Array<{ readonly target: string; readonly reason: string }>;
  readonly uploadDeleted: boolean;
  readonly uploadNote?: string;
}

/**
 * Restores exactly what the ledger says this execution changed, newest first. A target that
 * serves neither the old nor the new certificate was changed by someone else: it is left alone
 * and reported, never overwritten. The uploaded IAM certificate is deleted only when every
 * target is back (and never if it existed before this execution).
 */
export async function rollBack(params: RollbackParams): Promise<RollbackResult> {
  const all = await params.ledger.entries();
  const entries = all
    .filter((e) => e.status === 'intended' || e.status === 'applied')
    .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  const restored: string[] = [];
  const neverSwitched: string[] = [];
  // A retried rollback still knows what an earlier attempt left alone.
  const leftAlone: Array<{ target: string; reason: string }> = all
    .filter((e) => e.status === 'left-alone')
    .map((e) => ({ target: targetLabel(e.target), reason: e.note ?? 'left alone by an earlier attempt' }));

  for (const entry of entries) {
    const label = targetLabel(entry.target);
    const { state, value } = await readTargetState(params.clients, entry.target, entry.before, entry.after);
    if (state === 'after' || state === 'both') {
      // 'both': an SNI switch interrupted between Add and Remove; finishing the restore is safe.
      await setTargetCertificate(params.clients, entry.target, entry.after, entry.before);
      await params.ledger.update(entry, 'rolled-back', params.now());
      restored.push(label);
      params.logger.info('target restored', { target: label });
    } else if (state === 'before') {
      await params.ledger.update(entry, 'rolled-back', params.now(), 'was not switched');
      neverSwitched.push(label);
    } else {
      const reason = `serves ${value || 'nothing'}, neither the previous nor the new certificate; left alone`;
      await params.ledger.update(entry, 'left-alone', params.now(), reason);
      leftAlone.push({ target: label, reason });
      params.logger.warn('target left alone during rollback', { target: label, reason });
    }
  }

  let uploadDeleted = false;
  let uploadNote: string | undefined;
  if (params.uploaded && !params.uploaded.reused) {
    if (leftAlone.length > 0) {
      uploadNote = `kept ${params.uploaded.name}: some targets were left alone`;
    } else {
      try {
        await params.iam.send(new DeleteServerCertificateCommand({ ServerCertificateName: params.uploaded.name }));
        uploadDeleted = true;
      } catch (error) {
        const code = awsErrorName(error);
        if (code === 'NoSuchEntityException') uploadDeleted = true;
        else if (code === 'DeleteConflictException')
          uploadNote = `kept ${params.uploaded.name}: still attached while targets finish switching back; prune it later`;
        else throw error;
      }
    }
  }
  return { entries: entries.length, restored, neverSwitched, leftAlone, uploadDeleted, ...(uploadNote ? { uploadNote } : {}) };
}
