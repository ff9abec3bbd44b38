import { paginateListDistributions, type CloudFrontClient } from '@aws-sdk/client-cloudfront';
import type { PlanDocument } from '../plan/domain';
import { ArtifactStore } from '../shared/artifacts';
import { MAX_PAGE_SIZE, pages } from '../shared/aws-clients';
import { CloudFrontNotDeployed } from '../shared/errors';
import type { DomainLogger } from '../shared/logger';

export interface EdgePollParams {
  readonly cloudfront: CloudFrontClient;
  readonly store: ArtifactStore;
  readonly executionName: string;
  /** Rounds polled before this one (0 on the first). */
  readonly rounds: number;
  /** The deadline, in rounds: after this many, a distribution still InProgress is an error. */
  readonly maxRounds: number;
  /** `rollout` or `rollback`: only for the messages (both wait for the plan's distributions). */
  readonly purpose: string;
  readonly logger: DomainLogger;
}

export interface EdgePollResult {
  readonly rounds: number;
  readonly distributions: number;
  readonly pending: number;
  /** At most 10 ids of distributions still InProgress, for the console. */
  readonly pendingIds: string[];
  readonly done: boolean;
}

/**
 * One round of the CloudFront wait (the state machine's Wait/Choice loop; nothing sleeps here):
 * one ListDistributions pass (100 per page) gives the status of every distribution at once,
 * instead of one GetDistribution per distribution. The plan's distributions are the ones the
 * rollout changed (or the rollback restores); one still InProgress after `maxRounds` rounds is
 * CloudFrontNotDeployed, naming them.
 */
export async function pollDistributions(params: EdgePollParams): Promise<EdgePollResult> {
  // No plan: the rotation stopped before planning (a rollback then has no distribution to wait for).
  const plan = await params.store.getJson<PlanDocument>(ArtifactStore.planKey(params.executionName));
  const edge = plan && Array.isArray(plan.edge) ? plan.edge : [];
  const ids = new Set(edge.flatMap((t) => (t.kind === 'cloudfront' ? [t.distributionId] : [])));
  const rounds = params.rounds + 1;
  if (ids.size === 0) return { rounds, distributions: 0, pending: 0, pendingIds: [], done: true };
  const status = new Map<string, string>();
  for await (const out of paginateListDistributions(pages(params.cloudfront, MAX_PAGE_SIZE.cloudfrontListDistributions), {})) {
    for (const d of out.DistributionList?.Items ?? []) if (d.Id && ids.has(d.Id)) status.set(d.Id, d.Status ?? '');
  }
  // A distribution the list no longer shows is not InProgress any more (deleted): verification will say so.
  const pending = [...ids].filter((id) => status.has(id) && status.get(id) !== 'Deployed');
  const result: EdgePollResult = {
    rounds,
    distributions: ids.size,
    pending: pending.length,
    pendingIds: pending.slice(0, 10),
    done: pending.length === 0,
  };
  params.logger.info('CloudFront status', { purpose: params.purpose, rounds, pending: pending.length, distributions: ids.size });
  if (!result.done && rounds >= params.maxRounds) {
    throw new CloudFrontNotDeployed(
      `${pending.length} of ${ids.size} distribution(s) still InProgress after ${rounds} polls (the ${params.purpose} deadline): ${pending.slice(0, 20).join(', ')}`,
    );
  }
  return result;
}
