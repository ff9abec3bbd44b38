import type { IAMClient } from '@aws-sdk/client-iam';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { PlanDocument } from '../plan/domain';
import { findOurCertificates, nameInArn } from '../rollback/domain';
import { ArtifactStore } from '../shared/artifacts';
import type { ChangeLedger, LedgerEntry } from '../shared/ledger';
import type { DomainLogger } from '../shared/logger';
import { commandComment, MAX_INSTANCE_IDS, nodeDocumentKeys, sendOnce, type Addressing } from '../shared/node-command';
import { mapLimit } from '../shared/pool';
import { targetKey, type NodeTarget } from '../shared/targets';

export interface NodeRollbackParams {
  readonly ssm: SSMClient;
  readonly iam: IAMClient;
  readonly store: ArtifactStore;
  readonly ledger: ChangeLedger;
  readonly logger: DomainLogger;
  readonly executionName: string;
  readonly documentName: string;
  readonly deliveryTimeoutSeconds: number;
  /** Each phase's MaxConcurrency (rollback is as bounded as the rollout); MaxErrors is 100%: every changed node is tried. */
  readonly maxConcurrency: Readonly<Record<string, string>>;
  readonly now: () => Date;
}

export interface NodeRollbackResult {
  /** Nodes the rollback command was sent to (the poll waits for them). */
  readonly nodes: number;
  readonly commands: number;
  /** Nodes SSM never ran the install on, or that restored themselves: nothing to send. */
  readonly notSwitched: number;
  readonly restoredByNode: number;
  /** Ledger entries not proven this execution's, with the reason (bounded). */
  readonly leftAlone: string[];
  readonly done: boolean;
}

/** What to do with a proven node: nothing (and why), or send the rollback. */
function decide(entry: LedgerEntry): 'not-switched' | 'restored-by-node' | 'send' {
  const r = entry.reported;
  if (r?.action === 'install' && !r.ran) return 'not-switched';
  // REFUSED: the script changed nothing. FAILED (exit 1): it restored what it changed and verified it.
  if (r?.action === 'install' && r.scriptStatus === 'REFUSED') return 'not-switched';
  if (r?.action === 'install' && r.scriptStatus === 'FAILED' && r.servedSha256 === entry.beforeSha256) return 'restored-by-node';
  return 'send';
}

/**
 * The node part of the rollback, before the edge's (nodes changed last): every node entry of the
 * ledger that this execution can prove (stored at its own key, its node in this execution's plan,
 * its before the certificate the plan found in use, its after the certificate IAM shows tagged with
 * this execution) and that may have changed gets the document's `rollback` action, with the
 * previous certificate's SHA-256 as `expectedSha256` (the script refuses a backup of another
 * certificate), by instance id only, never by tag: exactly those nodes. A node SSM never ran the
 * install on, that refused, or that restored itself (and said it serves the previous certificate
 * again) gets nothing. Any other entry is left alone and reported.
 */
export async function rollBackNodes(params: NodeRollbackParams): Promise<NodeRollbackResult> {
  const keys = nodeDocumentKeys(params.executionName, 'rollback');
  const [records, plan] = await Promise.all([
    params.ledger.records(),
    params.store.getJson<PlanDocument>(ArtifactStore.planKey(params.executionName)),
  ]);
  const nodeRecords = records.filter((r) => r.entry?.target.kind === 'node');
  const none: NodeRollbackResult = { nodes: 0, commands: 0, notSwitched: 0, restoredByNode: 0, leftAlone: [], done: true };
  if (nodeRecords.length === 0) return none;
  const planned = new Map<string, NodeTarget>(
    (plan?.nodePhases ?? []).flatMap((p) => (Array.isArray(p.nodes) ? p.nodes : []).map((n) => [targetKey(n), n] as const)),
  );
  const hints = nodeRecords.map((r) => nameInArn(r.entry?.after ?? '')).filter((n): n is string => n !== undefined);
  const ours = await findOurCertificates(params.iam, params.executionName, hints);
  const now = params.now();
  const leftAlone: string[] = [];
  const toSend: Array<{ entry: LedgerEntry; node: NodeTarget }> = [];
  let notSwitched = 0;
  let restoredByNode = 0;
  await mapLimit(nodeRecords, 16, async (record) => {
    const entry = record.entry!;
    const node = planned.get(entry.key);
    const problem = !params.ledger.isStoredAt(entry, record.objectKey)
      ? `stored at ${record.objectKey}, not where the ledger writes ${entry.key}`
      : !plan
        ? 'this execution wrote no plan'
        : !node
          ? `${entry.key} is not a node of this execution's plan`
          : entry.before !== plan.current.arn
            ? `its before ${entry.before} is not the certificate the plan found in use`
            : !ours.values.has(entry.after)
              ? `its after ${entry.after} is not the certificate this execution uploaded`
              : undefined;
    if (problem || !node) {
      leftAlone.push(`${entry.key}: ${problem ?? 'not proven'}; left alone`);
      return;
    }
    if (entry.status === 'rolled-back' || entry.status === 'left-alone') return;
    const decision = decide(entry);
    if (decision === 'send') toSend.push({ entry, node });
    else if (decision === 'not-switched') {
      notSwitched += 1;
      await params.ledger.update(entry, 'rolled-back', now, 'was not switched');
    } else {
      restoredByNode += 1;
      await params.ledger.update(entry, 'rolled-back', now, 'the node restored it itself');
    }
  });
  // A retried rollback resends nothing: sendOnce finds its commands. By phase, ordered, 50 ids per command.
  const byPhase = new Map<string, string[]>();
  for (const { node } of toSend.sort((a, b) => a.node.instanceId.localeCompare(b.node.instanceId))) {
    byPhase.set(node.phase, [...(byPhase.get(node.phase) ?? []), node.instanceId]);
  }
  const existing = await params.store.getJson<{ commands: unknown[] }>(keys.commands);
  if (toSend.length === 0 && !existing) return { ...none, notSwitched, restoredByNode, leftAlone: leftAlone.slice(0, 25) };
  const batches: Addressing[] = [];
  for (const ids of byPhase.values()) {
    for (let i = 0; i < ids.length; i += MAX_INSTANCE_IDS) batches.push({ instanceIds: ids.slice(i, i + MAX_INSTANCE_IDS) });
  }
  // Each command's MaxConcurrency: the most cautious of the phases rolled back (as bounded as their rollout).
  const rate = [...byPhase.keys()].map((p) => params.maxConcurrency[p] ?? '1').sort(cautiousFirst)[0] ?? '1';
  const sent = await sendOnce({
    ssm: params.ssm,
    store: params.store,
    key: keys.commands,
    purpose: 'rollback',
    comment: commandComment(params.executionName, 'rollback'),
    documentName: params.documentName,
    // Every node entry's before is the plan's current certificate: the backup must hold exactly that one.
    parameters: { action: ['rollback'], expectedSha256: [toSend[0]?.entry.beforeSha256 ?? ''] },
    maxConcurrency: rate,
    maxErrors: '100%',
    deliveryTimeoutSeconds: params.deliveryTimeoutSeconds,
    batches,
    now: params.now,
  });
  const nodes = sent.commands.reduce((n, c) => n + (c.instanceIds?.length ?? 0), 0);
  params.logger.info('node rollback sent', { nodes, commands: sent.commands.length, notSwitched, restoredByNode });
  return { nodes, commands: sent.commands.length, notSwitched, restoredByNode, leftAlone: leftAlone.slice(0, 25), done: nodes === 0 };
}

/** "1" before "2" before "10%" ...: a count is more cautious than a percentage of a large fleet. */
function cautiousFirst(a: string, b: string): number {
  const n = (x: string) => (x.endsWith('%') ? 1e9 + Number(x.slice(0, -1)) : Number(x));
  return n(a) - n(b);
}
