import { ArtifactStore } from './artifacts';
import type { PriorState } from './edge-ops';
import { LedgerConflict } from './errors';
import { targetKey, targetLabel, type LedgerTarget } from './targets';

/**
 * The change ledger: one S3 document per changed target, written BEFORE the change ("intended")
 * and updated after it ("applied"). Rollback restores exactly these targets. Because the entry
 * is keyed by target and its `before` is never overwritten, a retried or re-run task cannot lose
 * what the target served before the rotation touched it.
 */
export type LedgerStatus = 'intended' | 'applied' | 'rolled-back' | 'left-alone';

/**
 * What a node said about itself (the deploy script's JSON line, through SSM), recorded on its
 * ledger entry by the node phase's poll (install) and the node rollback's poll (rollback).
 */
export interface NodeReport {
  /** `install` or `rollback`: which command this is the outcome of. */
  readonly action: 'install' | 'rollback';
  /** False when SSM never ran the command there (stopped by MaxErrors, never delivered): nothing changed. */
  readonly ran: boolean;
  /** The SSM invocation's Status / StatusDetails. */
  readonly ssmStatus: string;
  /** The script's `status` (SUCCEEDED, FAILED, REFUSED, RESTORE_INCOMPLETE), when its output parsed. */
  readonly scriptStatus?: string;
  /** What the node's own TLS handshake saw after the run (the script's `served`). */
  readonly servedSha256?: string;
  /** What its certificate file held before the run (the script's `previous`). */
  readonly previousSha256?: string;
  readonly message?: string;
  readonly at: string;
}

export interface LedgerEntry {
  readonly key: string;
  readonly target: LedgerTarget;
  /** Which phase made the change (`canary`, `edge`...). */
  readonly phase: string;
  /** IAM certificate ARN (ELB/ELBv2) or ServerCertificateId (CloudFront) served before. */
  readonly before: string;
  /** What the rotation put there. */
  readonly after: string;
  /** Fingerprints of the certificates behind `before` and `after`, for TLS verification. */
  readonly beforeSha256: string;
  readonly afterSha256: string;
  /**
   * The target's full certificate state before the change, as read just before it (the edge
   * phase: an ELBv2 listener's whole certificate list, a distribution's ViewerCertificate).
   */
  readonly prior?: PriorState;
  readonly status: LedgerStatus;
  readonly updatedAt: string;
  /** Why rollback left it alone, when it did. */
  readonly note?: string;
  /** A node's own report of its last command (nodes only). */
  readonly reported?: NodeReport;
}

/** One object under the ledger prefix as rollback reads it: the entry, or why it is not one. */
export interface LedgerRecord {
  readonly objectKey: string;
  readonly entry?: LedgerEntry;
  /** Set when the object is not a readable ledger entry (then `entry` is absent). */
  readonly problem?: string;
}

const STATUSES: readonly string[] = ['intended', 'applied', 'rolled-back', 'left-alone'];

/** The shape of a ledger entry, checked field by field (the object may have been written by anyone who could write there). */
function asLedgerEntry(value: unknown): LedgerEntry | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const e = value as Record<string, unknown>;
  const strings = ['key', 'phase', 'before', 'after', 'beforeSha256', 'afterSha256', 'updatedAt'];
  if (!strings.every((f) => typeof e[f] === 'string') || !STATUSES.includes(e.status as string)) return undefined;
  const t = e.target as Record<string, unknown> | null;
  if (typeof t !== 'object' || t === null || !['elb', 'elbv2', 'cloudfront', 'node'].includes(t.kind as string)) return undefined;
  try {
    if (targetKey(t as unknown as LedgerTarget) !== e.key || typeof targetLabel(t as unknown as LedgerTarget) !== 'string')
      return undefined;
  } catch {
    return undefined;
  }
  return value as LedgerEntry;
}

export class ChangeLedger {
  private readonly prefix: string;

  constructor(
    private readonly store: ArtifactStore,
    executionName: string,
  ) {
    this.prefix = `${ArtifactStore.executionPrefix(executionName)}ledger/`;
  }

  private objectKey(key: string): string {
    return `${this.prefix}${key.replace(/[^A-Za-z0-9._/-]/g, '_')}.json`;
  }

  async get(target: LedgerTarget): Promise<LedgerEntry | undefined> {
    return this.store.getJson<LedgerEntry>(this.objectKey(targetKey(target)));
  }

  /**
   * Records the intent to change a target. If an entry exists already (a retry), it is kept:
   * its `before` is the truth, whatever the target serves now.
   */
  async recordIntent(
    target: LedgerTarget,
    phase: string,
    before: string,
    after: string,
    now: Date,
    fingerprints: { readonly beforeSha256: string; readonly afterSha256: string },
    prior?: PriorState,
  ): Promise<LedgerEntry> {
    const existing = await this.get(target);
    if (existing) {
      // A retry of the same change finds its own entry, and keeps its `before` (the truth, even if
      // this attempt re-read another current certificate). One that records another `after` or
      // phase was not written by this switch: adopting it would act on a change nobody proved.
      if (existing.after !== after || existing.phase !== phase) {
        throw new LedgerConflict(
          `the ledger already records ${existing.phase} ${existing.before} -> ${existing.after} for ${targetLabel(target)}, ` +
            `not this ${phase} change to ${after}; stopping before changing it`,
        );
      }
      return existing;
    }
    const entry: LedgerEntry = {
      key: targetKey(target),
      target,
      phase,
      before,
      after,
      ...fingerprints,
      ...(prior ? { prior } : {}),
      status: 'intended',
      updatedAt: now.toISOString(),
    };
    await this.store.putJson(this.objectKey(entry.key), entry);
    return entry;
  }

  async update(entry: LedgerEntry, status: LedgerStatus, now: Date, note?: string, reported?: NodeReport): Promise<LedgerEntry> {
    const next: LedgerEntry = {
      ...entry,
      status,
      updatedAt: now.toISOString(),
      ...(note ? { note } : {}),
      ...(reported ? { reported } : {}),
    };
    await this.store.putJson(this.objectKey(entry.key), next);
    return next;
  }

  /** Whether `objectKey` is where the entry's own key says it belongs (an entry elsewhere was not written by the ledger). */
  isStoredAt(entry: LedgerEntry, objectKey: string): boolean {
    return this.objectKey(entry.key) === objectKey;
  }

  /** Every object under the prefix, each parsed and shape-checked; unreadable ones are reported, not thrown. */
  async records(): Promise<LedgerRecord[]> {
    const keys = await this.store.listKeys(this.prefix);
    return Promise.all(
      keys.map(async (objectKey): Promise<LedgerRecord> => {
        let value: unknown;
        try {
          value = await this.store.getJson<unknown>(objectKey);
        } catch (error) {
          if (error instanceof SyntaxError) return { objectKey, problem: 'not JSON' };
          throw error;
        }
        const entry = asLedgerEntry(value);
        return entry ? { objectKey, entry } : { objectKey, problem: 'not a ledger entry (fields missing or of the wrong type)' };
      }),
    );
  }

  async entries(): Promise<LedgerEntry[]> {
    const keys = await this.store.listKeys(this.prefix);
    const entries = await Promise.all(keys.map((k) => this.store.getJson<LedgerEntry>(k)));
    return entries.filter((e): e is LedgerEntry => e !== undefined);
  }
}
