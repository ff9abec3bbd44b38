import type { SSMClient, Target } from '@aws-sdk/client-ssm';
import type { PlanDocument } from '../plan/domain';
import { ArtifactStore } from '../shared/artifacts';
import type { ChangeLedger } from '../shared/ledger';
import type { DomainLogger } from '../shared/logger';
import { commandComment, MAX_INSTANCE_IDS, nodeDocumentKeys, sendOnce, type Addressing } from '../shared/node-command';
import { mapLimit } from '../shared/pool';
import type { NodeTarget } from '../shared/targets';

/** A node phase as the config defines it (lib/config/sections/node-phases.ts). */
export interface NodePhaseRate {
  readonly name: string;
  readonly targets: { readonly tags?: Readonly<Record<string, readonly string[]>>; readonly instanceIds?: readonly string[] };
  readonly maxConcurrency: string;
  readonly maxErrors: string;
}

export interface NodeSendParams {
  readonly ssm: SSMClient;
  readonly store: ArtifactStore;
  readonly ledger: ChangeLedger;
  readonly logger: DomainLogger;
  readonly executionName: string;
  readonly phase: NodePhaseRate;
  readonly documentName: string;
  readonly deliveryTimeoutSeconds: number;
  /** The imported certificate secret: the node reads it itself with its instance role. */
  readonly secretArn: string;
  readonly current: { readonly arn: string; readonly sha256: string };
  readonly uploaded: { readonly arn: string };
  readonly newSha256: string;
  readonly now: () => Date;
  /** Ledger writes in flight. @default 16 */
  readonly concurrency?: number;
}

export interface NodeSendResult {
  readonly phase: string;
  readonly nodes: number;
  readonly commands: number;
  /** How SSM addresses the nodes: `InstanceIds` (at most 50) or the phase's tags (`Targets`). */
  readonly addressing: 'none' | 'instance-ids' | 'tags';
  readonly maxConcurrency: string;
  readonly maxErrors: string;
  /** Where the command ids are (`executions/<x>/nodes/install-<phase>/commands.json`). */
  readonly commandsKey: string;
  /** True when there is nothing to wait for (no node in this phase). */
  readonly done: boolean;
}

/** The SSM `Targets` of a phase's tags: `tag:<key>` with its values (SSM ANDs the keys, as the plan's EC2 filters do). */
export function tagTargets(tags: Readonly<Record<string, readonly string[]>>): Target[] {
  return Object.entries(tags).map(([k, v]) => ({ Key: `tag:${k}`, Values: [...v] }));
}

/**
 * How one phase's nodes are addressed. Up to 50: by instance id, exactly the plan's nodes. Beyond
 * 50 (SendCommand's `InstanceIds` limit): by the phase's tags in `Targets`, so that one command
 * (one MaxConcurrency, one MaxErrors) covers the phase; SSM then also reaches the nodes an earlier
 * phase claimed (the canary: a harmless re-run of the idempotent script), and the poll names any
 * instance it reached that the plan did not list.
 */
export function addressingOf(phase: NodePhaseRate, nodes: readonly NodeTarget[]): Addressing[] {
  if (nodes.length === 0) return [];
  if (nodes.length <= MAX_INSTANCE_IDS || !phase.targets.tags) return chunks(nodes.map((n) => n.instanceId));
  return [{ targets: tagTargets(phase.targets.tags) }];
}

function chunks(ids: string[]): Addressing[] {
  const out: Addressing[] = [];
  for (let i = 0; i < ids.length; i += MAX_INSTANCE_IDS) out.push({ instanceIds: ids.slice(i, i + MAX_INSTANCE_IDS) });
  return out;
}

/**
 * Phase 7-9, the send: one ledger entry per node of the phase first (what it served: the plan's
 * current certificate; what it will serve: this execution's), then SendCommand of the stack's
 * document with action `install`, the secret's ARN and the expected SHA-256 (never the key), and
 * the phase's MaxConcurrency / MaxErrors (default 1 / 0: one node at a time, stop sending on the
 * first error). The command ids go to S3; the state carries counts.
 */
export async function sendNodePhase(params: NodeSendParams): Promise<NodeSendResult> {
  const plan = await params.store.getJson<PlanDocument>(ArtifactStore.planKey(params.executionName));
  const nodes = plan?.nodePhases.find((p) => p.name === params.phase.name)?.nodes ?? [];
  const purpose = `install-${params.phase.name}`;
  const keys = nodeDocumentKeys(params.executionName, purpose);
  const batches = addressingOf(params.phase, nodes);
  const base = {
    phase: params.phase.name,
    nodes: nodes.length,
    maxConcurrency: params.phase.maxConcurrency,
    maxErrors: params.phase.maxErrors,
    commandsKey: keys.commands,
  };
  if (nodes.length === 0) {
    params.logger.info('node phase has no nodes', { phase: params.phase.name });
    return { ...base, commands: 0, addressing: 'none', done: true };
  }

  // Ledger first: a retry keeps each node's entry (and its before) as the first attempt wrote it.
  const at = params.now();
  await mapLimit(nodes, params.concurrency ?? 16, (node) =>
    params.ledger.recordIntent(node, `nodes-${params.phase.name}`, params.current.arn, params.uploaded.arn, at, {
      beforeSha256: params.current.sha256,
      afterSha256: params.newSha256,
    }),
  );

  const sent = await sendOnce({
    ssm: params.ssm,
    store: params.store,
    key: keys.commands,
    purpose,
    comment: commandComment(params.executionName, purpose),
    documentName: params.documentName,
    parameters: { action: ['install'], secretId: [params.secretArn], expectedSha256: [params.newSha256] },
    maxConcurrency: params.phase.maxConcurrency,
    maxErrors: params.phase.maxErrors,
    deliveryTimeoutSeconds: params.deliveryTimeoutSeconds,
    batches,
    now: params.now,
  });
  const addressing = 'targets' in batches[0] ? 'tags' : 'instance-ids';
  params.logger.info('node phase sent', { phase: params.phase.name, nodes: nodes.length, commands: sent.commands.length, addressing });
  return { ...base, commands: sent.commands.length, addressing, done: false };
}
