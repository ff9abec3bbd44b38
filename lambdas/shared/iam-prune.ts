import { paginateListServerCertificates, type IAMClient, type ServerCertificateMetadata } from '@aws-sdk/client-iam';
import { MAX_PAGE_SIZE, pages } from './aws-clients';
import { findCertificateUses, type EdgeReadClients } from './certificate-uses';

/**
 * Which IAM server certificates of this domain may be deleted (pruned). The upload names them
 * when the account's quota is full; the prune phase deletes them after a successful rotation.
 *
 * A certificate is prunable only when all of these hold:
 *  - it is this domain's: its name is `<certificateNamePrefix>_<yyyy-mm-dd>...` (the dated names
 *    the rotation and the runbook give) and its path is exactly the configured `iamPath`;
 *  - it is neither the new certificate nor the previous one (the one the rotation replaces, kept
 *    for rollback), and was uploaded before the previous one;
 *  - it is not among the `keep - 1` newest of those older ones (`prune.keep` counts the previous);
 *  - no classic ELB listener, ELBv2 listener (default or SNI) or CloudFront distribution uses it,
 *    every one of them read first.
 * Everything else of the domain is kept, each with its reason. Certificates of other domains or
 * paths are not considered at all.
 */
export interface PruneSelection {
  readonly iam: IAMClient;
  readonly clients: EdgeReadClients;
  readonly iamPath: string;
  readonly namePrefix: string;
  /** The certificate the rotation replaces (before the switch) or replaced (after it). */
  readonly previousArn: string;
  /** The new certificate's IAM name, when uploaded (never pruned). */
  readonly newName?: string;
  /** How many of the domain's certificates older than the new one are kept, the previous one included (>= 1). */
  readonly keep: number;
}

/** A certificate the selection names (identifiers and dates only). */
export interface PrunableCertificate {
  readonly name: string;
  readonly arn: string;
  readonly id: string;
  readonly uploadDate: string;
}

export interface KeptCertificate {
  readonly name: string;
  readonly reason: string;
}

export interface PruneDecision {
  readonly prunable: PrunableCertificate[];
  readonly kept: KeptCertificate[];
  /** What the in-use check read; absent when nothing was old enough to need it. */
  readonly checked?: { readonly elbListeners: number; readonly elbv2Listeners: number; readonly distributions: number };
}

/** At most this many users are named in a kept certificate's reason. */
const USERS_NAMED = 3;

/** Whether `name` is one of the domain's dated names: `<prefix>_<yyyy-mm-dd>`, optionally followed by `-`, `_` or `.` and more. */
export function isDomainCertificateName(name: string, prefix: string): boolean {
  if (!name.startsWith(`${prefix}_`)) return false;
  return /^\d{4}-\d{2}-\d{2}([-_.].*)?$/.test(name.slice(prefix.length + 1));
}

/** Every IAM server certificate of the account (all paths), in one listing. */
export async function listServerCertificates(iam: IAMClient): Promise<ServerCertificateMetadata[]> {
  const all: ServerCertificateMetadata[] = [];
  for await (const out of paginateListServerCertificates(pages(iam, MAX_PAGE_SIZE.iamListServerCertificates), {})) {
    all.push(...(out.ServerCertificateMetadataList ?? []));
  }
  return all;
}

/** Decides what may be pruned (see {@link PruneSelection}); reads only, changes nothing. */
export async function selectPrunable(params: PruneSelection, listed?: readonly ServerCertificateMetadata[]): Promise<PruneDecision> {
  if (!Number.isInteger(params.keep) || params.keep < 1) throw new Error(`prune keep must be an integer >= 1, got ${params.keep}`);
  const all = listed ?? (await listServerCertificates(params.iam));
  const previous = all.find((m) => m.Arn === params.previousArn);
  const ours = all
    .filter(
      (m) => m.Path === params.iamPath && m.ServerCertificateName && isDomainCertificateName(m.ServerCertificateName, params.namePrefix),
    )
    .sort((a, b) => time(b) - time(a));
  const kept: KeptCertificate[] = [];
  const keep = (m: ServerCertificateMetadata, reason: string) => kept.push({ name: m.ServerCertificateName ?? '?', reason });

  if (!previous) {
    // Without the previous certificate nothing can be called older than it: keep everything.
    for (const m of ours) keep(m, `the previous certificate ${params.previousArn} is not in IAM, so nothing counts as older`);
    return { prunable: [], kept };
  }
  const older: ServerCertificateMetadata[] = [];
  for (const m of ours) {
    if (m.ServerCertificateName === params.newName) keep(m, 'the new certificate');
    else if (m.Arn === previous.Arn) keep(m, 'the previous certificate (kept for rollback)');
    else if (!m.UploadDate || !previous.UploadDate) keep(m, 'IAM gives no upload date to compare with the previous certificate');
    else if (time(m) >= time(previous)) keep(m, `not older than the previous certificate ${previous.ServerCertificateName ?? ''}`);
    else older.push(m);
  }
  // Newest first: the previous one is the first of the `keep` kept.
  const keptByCount = older.slice(0, params.keep - 1);
  for (const m of keptByCount) keep(m, `among the ${params.keep} newest kept (prune.keep = ${params.keep}, the previous one included)`);
  const rest = older.slice(keptByCount.length);
  if (rest.length === 0) return { prunable: [], kept };

  // Every listener and distribution is read before anything is called unused.
  const uses = await findCertificateUses(params.clients);
  const prunable: PrunableCertificate[] = [];
  for (const m of rest) {
    const users = [...(uses.byArn.get(m.Arn ?? '') ?? []), ...(uses.byId.get(m.ServerCertificateId ?? '') ?? [])];
    if (users.length > 0) {
      const more = users.length > USERS_NAMED ? ` and ${users.length - USERS_NAMED} more` : '';
      keep(m, `in use by ${users.slice(0, USERS_NAMED).join(', ')}${more}`);
    } else {
      prunable.push({
        name: m.ServerCertificateName ?? '',
        arn: m.Arn ?? '',
        id: m.ServerCertificateId ?? '',
        uploadDate: m.UploadDate ? new Date(m.UploadDate).toISOString() : '',
      });
    }
  }
  return { prunable, kept, checked: uses.checked };
}

function time(m: ServerCertificateMetadata): number {
  return m.UploadDate ? new Date(m.UploadDate).getTime() : 0;
}
