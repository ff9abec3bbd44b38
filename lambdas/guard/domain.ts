import { paginateListExecutions, type ExecutionListItem, type SFNClient } from '@aws-sdk/client-sfn';
import { MAX_PAGE_SIZE, pages } from '../shared/aws-clients';
import { ConcurrentRotation } from '../shared/errors';
import type { DomainLogger } from '../shared/logger';

export interface GuardParams {
  readonly sfn: SFNClient;
  readonly logger: DomainLogger;
  readonly domain: string;
  readonly stateMachineArn: string;
  readonly executionArn: string;
}

export interface GuardResult {
  readonly domain: string;
  readonly otherRunning: number;
}

/** Orders executions by start time, then name, so that of two racing starts exactly one goes on. */
function startedBefore(a: ExecutionListItem, b: { startDate?: Date; name?: string }): boolean {
  const ta = a.startDate?.getTime() ?? 0;
  const tb = b.startDate?.getTime() ?? 0;
  return ta < tb || (ta === tb && (a.name ?? '') < (b.name ?? ''));
}

/**
 * Refuses to start when another rotation of this state machine (one per domain) is running.
 * The one that started first goes on; this one stops before any change.
 */
export async function guardAgainstConcurrentRotation(params: GuardParams): Promise<GuardResult> {
  const running: ExecutionListItem[] = [];
  const paging = pages(params.sfn, MAX_PAGE_SIZE.sfnListExecutions);
  for await (const out of paginateListExecutions(paging, { stateMachineArn: params.stateMachineArn, statusFilter: 'RUNNING' })) {
    running.push(...(out.executions ?? []));
  }

  const self = running.find((e) => e.executionArn === params.executionArn);
  const others = running.filter((e) => e.executionArn !== params.executionArn);
  const earlier = others.filter((e) => !self || startedBefore(e, self)).sort((a, b) => (startedBefore(a, b) ? -1 : 1));
  if (earlier.length > 0) {
    const first = earlier[0];
    throw new ConcurrentRotation(
      `rotation "${first.name}" (started ${first.startDate?.toISOString() ?? 'earlier'}) is already running for ${params.domain}; ` +
        'this execution stops without changing anything',
    );
  }
  params.logger.info('no other rotation running', { otherRunning: others.length });
  return { domain: params.domain, otherRunning: others.length };
}
