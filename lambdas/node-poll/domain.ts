import { ListCommandsCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { PlanDocument } from '../plan/domain';
import { ArtifactStore } from '../shared/artifacts';
import { NodeDeploymentFailed } from '../shared/errors';
import type { ChangeLedger, LedgerEntry, NodeReport } from '../shared/ledger';
import type { DomainLogger } from '../shared/logger';
import { nodeDocumentKeys, readInvocations, type CommandsDocument, type Invocation } from '../shared/node-command';
import { mapLimit } from '../shared/pool';
import { targetKey, type NodeTarget } from '../shared/targets';

/** Where one node stands in its phase (or in the rollback). */
export type NodeOutcome = 'pending' | 'succeeded' | 'failed' | 'not-run' | 'unplanned';

/** One node's result, as the per-node results document in S3 holds it. */
export interface NodeResult {
  readonly instanceId: string;
  readonly name: string;
  readonly outcome: NodeOutcome;
  readonly ssmStatus?: string;
  readonly scriptStatus?: string;
  /** What the node's own TLS handshake saw after the run. */
  readonly servedSha256?: string;
  readonly previousSha256?: string;
  readonly message?: string;
}

export interface NodeResultsDocument {
  readonly purpose: string;
  readonly updatedAt: string;
  readonly counts: Record<NodeOutcome, number>;
  readonly nodes: NodeResult[];
}

export interface NodePollParams {
  readonly ssm: SSMClient;
  readonly store: ArtifactStore;
  readonly ledger: ChangeLedger;
  readonly logger: DomainLogger;
  readonly executionName: string;
  /** `install` of one phase, or the `rollback` of every changed node. */
  readonly purpose: 'install' | 'rollback';
  /** The node phase (install only). */
  readonly phase?: string;
  /** What a node must serve after the install (rollback: each node's own `beforeSha256`). */
  readonly newSha256?: string;
  /** Rounds polled before this one. */
  readonly rounds: number;
  /** The deadline in rounds (nodeRollout.timeoutSeconds / pollSeconds). */
  readonly maxRounds: number;
  readonly now: () => Date;
}

/** What the state carries: counts, failures by name (bounded), where the per-node results are. */
export interface NodePollResult {
  readonly rounds: number;
  readonly done: boolean;
  readonly counts: Record<NodeOutcome, number>;
  readonly failures: string[];
  readonly resultsKey: string;
}

/** Names kept in the state and the email (the results document has every node). */
const NAMES_IN_STATE = 25;

const describe = (r: NodeResult) =>
  `${r.name} (${r.instanceId}): ${r.outcome}${r.scriptStatus ? ` ${r.scriptStatus}` : ''}${r.ssmStatus ? ` [SSM ${r.ssmStatus}]` : ''}${r.message ? `: ${r.message}` : ''}`;

function resultOf(node: { instanceId: string; name: string }, inv: Invocation, expected: string): NodeResult {
  const s = inv.script;
  const base = {
    instanceId: node.instanceId,
    name: node.name,
    ssmStatus: inv.statusDetails || inv.status,
    ...(s?.status ? { scriptStatus: s.status } : {}),
    ...(s?.served ? { servedSha256: s.served } : {}),
    ...(s?.previous ? { previousSha256: s.previous } : {}),
    ...(s?.message ? { message: s.message.slice(0, 300) } : {}),
  };
  if (!inv.final) return { ...base, outcome: 'pending' };
  if (!inv.ran) return { ...base, outcome: 'not-run' };
  const ok = inv.status === 'Success' && s?.status === 'SUCCEEDED' && s.served === expected;
  if (ok) return { ...base, outcome: 'succeeded' };
  const why = !s ? 'no result line in its output' : s.served !== expected ? `serves ${s.served ?? 'nothing'}, expected ${expected}` : '';
  return { ...base, outcome: 'failed', ...(base.message || !why ? {} : { message: why }) };
}

function reportOf(action: 'install' | 'rollback', r: NodeResult, at: Date): NodeReport {
  return {
    action,
    ran: r.outcome !== 'not-run',
    ssmStatus: r.ssmStatus ?? '',
    ...(r.scriptStatus ? { scriptStatus: r.scriptStatus } : {}),
    ...(r.servedSha256 ? { servedSha256: r.servedSha256 } : {}),
    ...(r.previousSha256 ? { previousSha256: r.previousSha256 } : {}),
    ...(r.message ? { message: r.message } : {}),
    at: at.toISOString(),
  };
}

/** Whether a command sent by tag has reached a final status (a planned node it never listed then was not targeted). */
async function commandFinal(ssm: SSMClient, commandId: string): Promise<boolean> {
  const out = await ssm.send(new ListCommandsCommand({ CommandId: commandId }));
  const status = out.Commands?.[0]?.Status ?? 'Pending';
  return !['Pending', 'InProgress', 'Cancelling'].includes(status);
}

/**
 * One round of a node phase's (or the node rollback's) Wait/Choice loop; nothing sleeps here.
 * Reads every node's invocation back (see readInvocations), records each node's own report on its
 * ledger entry once it is final (install: `applied` when the node serves the new certificate;
 * rollback: `rolled-back` when it serves its previous one again, else `left-alone`), and writes
 * every node's result to S3. The phase is done when every node is final. A phase with a node that
 * failed, was never reached, or an instance the plan did not list, is NodeDeploymentFailed naming
 * them (then rollback); so is one still running at the deadline.
 */
export async function pollNodes(params: NodePollParams): Promise<NodePollResult> {
  const purpose = params.purpose === 'install' ? `install-${params.phase ?? ''}` : 'rollback';
  const keys = nodeDocumentKeys(params.executionName, purpose);
  const rounds = params.rounds + 1;
  const [sent, plan, before] = await Promise.all([
    params.store.getJson<CommandsDocument>(keys.commands),
    params.store.getJson<PlanDocument>(ArtifactStore.planKey(params.executionName)),
    params.store.getJson<NodeResultsDocument>(keys.results),
  ]);
  const allNodes = new Map((plan?.nodePhases ?? []).flatMap((p) => p.nodes.map((n) => [n.instanceId, n] as const)));
  // The nodes this poll waits for: the phase's (install), or the ones the rollback sent to.
  const expectedIds =
    params.purpose === 'install'
      ? (plan?.nodePhases.find((p) => p.name === params.phase)?.nodes ?? []).map((n) => n.instanceId)
      : (sent?.commands ?? []).flatMap((c) => c.instanceIds ?? []);
  const results = new Map((before?.nodes ?? []).map((r) => [r.instanceId, r]));
  const entries = new Map<string, LedgerEntry>();
  if (params.purpose === 'rollback') {
    for (const e of await params.ledger.entries()) if (e.target.kind === 'node') entries.set(e.target.instanceId, e);
  }
  const expectedOf = (id: string) => (params.purpose === 'install' ? (params.newSha256 ?? '') : (entries.get(id)?.beforeSha256 ?? ''));
  const open = new Set(expectedIds.filter((id) => !results.has(id) || results.get(id)?.outcome === 'pending'));
  const phaseIds = new Set(expectedIds);
  const now = params.now();

  const invocations: Invocation[] = [];
  let targetedFinal = true;
  for (const command of sent?.commands ?? []) {
    invocations.push(...(await readInvocations(params.ssm, command, open, (ids, fn) => mapLimit(ids, 8, fn))));
    if (!command.instanceIds) targetedFinal = targetedFinal && (await commandFinal(params.ssm, command.commandId));
  }

  const newlyFinal: NodeResult[] = [];
  for (const inv of invocations) {
    const planned = phaseIds.has(inv.instanceId);
    const node = allNodes.get(inv.instanceId) ?? { instanceId: inv.instanceId, name: inv.instanceId };
    if (!planned) {
      // Sent by tag: SSM also reached nodes of earlier phases (a harmless re-run) or instances the plan never listed.
      const earlier = allNodes.has(inv.instanceId);
      const r = resultOf(node, inv, params.newSha256 ?? '');
      if (!inv.ran || (earlier && r.outcome !== 'failed') || results.get(inv.instanceId)?.outcome === 'unplanned') continue;
      const unplanned: NodeResult = earlier
        ? { ...r, message: `an earlier phase's node, reached again by tag: ${r.message ?? r.outcome}` }
        : { ...r, outcome: 'unplanned', message: 'SSM ran the command here, but the plan did not list this instance' };
      results.set(inv.instanceId, unplanned);
      if (!earlier) await recordUnplanned(params, inv.instanceId, now);
      continue;
    }
    if (!open.has(inv.instanceId)) continue;
    const r = resultOf(node, inv, expectedOf(inv.instanceId));
    results.set(inv.instanceId, r);
    if (r.outcome !== 'pending') newlyFinal.push(r);
  }
  // Sent by tag and finished: a planned node SSM never listed was not targeted (its tags changed?).
  if (targetedFinal && (sent?.commands ?? []).some((c) => !c.instanceIds)) {
    for (const id of expectedIds) {
      if (results.has(id)) continue;
      const r: NodeResult = {
        instanceId: id,
        name: allNodes.get(id)?.name ?? id,
        outcome: 'not-run',
        message: 'SSM did not target it (do its tags still match the phase?)',
      };
      results.set(id, r);
      newlyFinal.push(r);
    }
  }
  await recordOnLedger(params, newlyFinal, entries, allNodes, now);

  const nodes = [...results.values()];
  for (const id of expectedIds)
    if (!results.has(id)) nodes.push({ instanceId: id, name: allNodes.get(id)?.name ?? id, outcome: 'pending' });
  const counts: Record<NodeOutcome, number> = { pending: 0, succeeded: 0, failed: 0, 'not-run': 0, unplanned: 0 };
  for (const r of nodes) counts[r.outcome] += 1;
  await params.store.putJson(keys.results, { purpose, updatedAt: now.toISOString(), counts, nodes } satisfies NodeResultsDocument);
  const bad = nodes.filter((r) => r.outcome === 'failed' || r.outcome === 'unplanned' || r.outcome === 'not-run');
  const failures = bad.slice(0, NAMES_IN_STATE).map(describe);
  const done = counts.pending === 0;
  params.logger.info('node poll', { purpose, rounds, ...counts });
  if (params.purpose === 'install' && done && bad.length > 0) {
    const more = bad.length > NAMES_IN_STATE ? `; and ${bad.length - NAMES_IN_STATE} more` : '';
    throw new NodeDeploymentFailed(
      `node phase ${params.phase ?? ''}: ${counts.succeeded} of ${expectedIds.length} node(s) serve the new certificate; ` +
        `${counts.failed} failed, ${counts['not-run']} not run, ${counts.unplanned} not in the plan: ${failures.join('; ')}${more}. ` +
        `Every node's result: ${keys.results}`,
    );
  }
  if (!done && rounds >= params.maxRounds) {
    const pending = nodes.filter((r) => r.outcome === 'pending');
    if (params.purpose === 'rollback') {
      await recordOnLedger(
        params,
        pending.map((r) => ({ ...r, outcome: 'failed', message: 'the rollback did not finish before the deadline' })),
        entries,
        allNodes,
        now,
      );
      return { rounds, done: true, counts, failures: pending.slice(0, NAMES_IN_STATE).map(describe), resultsKey: keys.results };
    }
    throw new NodeDeploymentFailed(
      `node phase ${params.phase ?? ''}: the command has not finished after ${rounds} polls (the deadline) on ${pending.length} node(s): ` +
        `${pending
          .slice(0, NAMES_IN_STATE)
          .map((r) => `${r.name} (${r.instanceId})`)
          .join(', ')}. Every node's result: ${keys.results}`,
    );
  }
  return { rounds, done, counts, failures, resultsKey: keys.results };
}

/** Each node's own report on its ledger entry, once its invocation is final. */
async function recordOnLedger(
  params: NodePollParams,
  final: readonly NodeResult[],
  entries: Map<string, LedgerEntry>,
  allNodes: ReadonlyMap<string, NodeTarget>,
  now: Date,
): Promise<void> {
  await mapLimit(final, 16, async (r) => {
    const target = allNodes.get(r.instanceId);
    const entry = entries.get(r.instanceId) ?? (target ? await params.ledger.get(target) : undefined);
    if (!entry) return;
    const report = reportOf(params.purpose, r, now);
    if (params.purpose === 'install') {
      await params.ledger.update(entry, r.outcome === 'succeeded' ? 'applied' : entry.status, now, undefined, report);
    } else if (r.outcome === 'succeeded') {
      await params.ledger.update(entry, 'rolled-back', now, undefined, report);
    } else {
      await params.ledger.update(entry, 'left-alone', now, `node rollback: ${r.message ?? r.scriptStatus ?? r.outcome}`, report);
    }
  });
}

/** An instance SSM reached that the plan never listed: recorded as left alone, so the report names it as not proven. */
async function recordUnplanned(params: NodePollParams, instanceId: string, now: Date): Promise<void> {
  const target: NodeTarget = { kind: 'node', instanceId, name: instanceId, phase: params.phase ?? 'unplanned' };
  const entry = await params.ledger.get(target);
  if (entry) return;
  const created = await params.ledger.recordIntent(target, `nodes-${target.phase}`, '', '', now, {
    beforeSha256: '',
    afterSha256: params.newSha256 ?? '',
  });
  await params.ledger.update(
    created,
    'left-alone',
    now,
    `SSM ran the deploy command on ${targetKey(target)}, which the plan did not list; check it by hand`,
  );
}
