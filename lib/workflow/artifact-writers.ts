import type { HandlerName, RotationFunction } from '../rotation-function';
import type { RotationStorage } from '../storage';

/**
 * Which functions may write which rotation artifacts (see {@link RotationStorage.restrictArtifacts}):
 * the ledger only by the functions that change targets and by rollback, the node records only by
 * the node phases and the node rollback, the plan only by plan.
 */
export function restrictArtifactWriters(storage: RotationStorage, fns: Readonly<Record<HandlerName, RotationFunction>>): void {
  const role = (name: HandlerName) => fns[name].function.role!;
  storage.restrictArtifacts({
    ledgerWriters: (['switch-canary', 'edge-switch', 'rollback', 'node-send', 'node-poll', 'node-rollback'] as const).map(role),
    nodeRecordWriters: (['node-send', 'node-poll', 'node-rollback'] as const).map(role),
    planWriters: [role('plan')],
  });
}
