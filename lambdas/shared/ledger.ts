import { ArtifactStore } from './artifacts';
import { targetKey, type EdgeTarget } from './targets';

/**
 * The change ledger: one S3 document per changed target, written BEFORE the change ("intended")
 * and updated after it ("applied"). Rollback restores exactly these targets. Because the entry
 * is keyed by target and its `before` is never overwritten, a retried or re-run task cannot lose
 * what the target served before the rotation touched it.
 */
export type LedgerStatus = 'intended' | 'applied' | 'rolled-back' | 'left-alone';

export interface LedgerEntry {
  readonly key: string;
  readonly target: EdgeTarget;
  /** Which phase made the change (`canary`, `edge`...). */
  readonly phase: string;
  /** IAM certificate ARN (ELB/ELBv2) or ServerCertificateId (CloudFront) served before. */
  readonly before: string;
  /** What the rotation put there. */
  readonly after: string;
  /** Fingerprints of the certificates behind `before` and `after`, for TLS verification. */
  readonly beforeSha256: string;
  readonly afterSha256: string;
  readonly status: LedgerStatus;
  readonly updatedAt: string;
  /** Why rollback left it alone, when it did. */
  readonly note?: string;
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

  async get(target: EdgeTarget): Promise<LedgerEntry | undefined> {
    return this.store.getJson<LedgerEntry>(this.objectKey(targetKey(target)));
  }

  /**
   * Records the intent to change a target. If an entry exists already (a retry), it is kept:
   * its `before` is the truth, whatever the target serves now.
   */
  async recordIntent(
    target: EdgeTarget,
    phase: string,
    before: string,
    after: string,
    now: Date,
    fingerprints: { readonly beforeSha256: string; readonly afterSha256: string },
  ): Promise<LedgerEntry> {
    const existing = await this.get(target);
    if (existing) return existing;
    const entry: LedgerEntry = {
      key: targetKey(target),
      target,
      phase,
      before,
      after,
      ...fingerprints,
      status: 'intended',
      updatedAt: now.toISOString(),
    };
    await this.store.putJson(this.objectKey(entry.key), entry);
    return entry;
  }

  async update(entry: LedgerEntry, status: LedgerStatus, now: Date, note?: string): Promise<LedgerEntry> {
    const next: LedgerEntry = { ...entry, status, updatedAt: now.toISOString(), ...(note ? { note } : {}) };
    await this.store.putJson(this.objectKey(entry.key), next);
    return next;
  }

  async entries(): Promise<LedgerEntry[]> {
    const keys = await this.store.listKeys(this.prefix);
    const entries = await Promise.all(keys.map((k) => this.store.getJson<LedgerEntry>(k)));
    return entries.filter((e): e is LedgerEntry => e !== undefined);
  }
}
