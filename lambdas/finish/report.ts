import type { LedgerEntry } from '../shared/ledger';
import { targetLabel } from '../shared/targets';
import type { FinishParams, FinishState } from './domain';

/**
 * What every report of an execution holds, whatever its outcome (finished, rolled back, stopped at
 * a gate): the rotation, both certificates, the upload, the plan, the canary check and every change
 * of the ledger.
 */
export function reportCommon(
  params: Pick<FinishParams, 'domain' | 'executionName' | 'now'>,
  state: Pick<FinishState, 'validation' | 'current' | 'uploaded' | 'plan' | 'canaryCheck'>,
  ledger: readonly LedgerEntry[],
): Record<string, unknown> {
  return {
    domain: params.domain,
    execution: params.executionName,
    finishedAt: params.now().toISOString(),
    certificate: { new: state.validation?.summary ?? null, previous: state.current ?? null },
    uploaded: state.uploaded ?? null,
    plan: state.plan ?? null,
    canaryCheck: state.canaryCheck ?? null,
    changes: ledger.map((e) => ({ target: targetLabel(e.target), phase: e.phase, status: e.status, note: e.note ?? null })),
  };
}
