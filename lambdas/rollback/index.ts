import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { ArtifactStore } from '../shared/artifacts';
import { defineHandler } from '../shared/handler';
import { ChangeLedger } from '../shared/ledger';
import { createEdgeClients } from '../shared/target-ops';
import { rollBack, type RollbackResult } from './domain';

export interface RollbackEvent {
  readonly executionName: string;
  /**
   * The whole (small) state: `uploaded.name` is there when the upload happened. Only a hint of
   * where to look: rollback proves with IAM's tag and the plan what is this execution's.
   */
  readonly state: { readonly uploaded?: { readonly name?: unknown } };
}

/** Target names kept per list in the state (the ledger and the report hold every one). */
const NAMES_IN_STATE = 25;

/** The result as the state carries it: every list cut to {@link NAMES_IN_STATE}, with the full counts beside them. */
function boundedForState(r: RollbackResult): RollbackResult & { readonly counts: Record<string, number> } {
  return {
    ...r,
    restored: r.restored.slice(0, NAMES_IN_STATE),
    neverSwitched: r.neverSwitched.slice(0, NAMES_IN_STATE),
    leftAlone: r.leftAlone.slice(0, NAMES_IN_STATE),
    counts: { restored: r.restored.length, neverSwitched: r.neverSwitched.length, leftAlone: r.leftAlone.length },
  };
}

export const handler = defineHandler({
  name: 'rollback',
  deps: ({ requireEnv, awsClient }) => ({
    store: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
    iam: awsClient(IAMClient),
    clients: createEdgeClients(),
    budgetSeconds: Number(requireEnv('TIME_BUDGET_SECONDS')),
  }),
  run: async (event: RollbackEvent, d, { logger, now }): Promise<RollbackResult> => {
    const hint = event.state.uploaded?.name;
    const result = await rollBack({
      clients: d.clients,
      iam: d.iam,
      store: d.store,
      executionName: event.executionName,
      ledger: new ChangeLedger(d.store, event.executionName),
      logger,
      ...(typeof hint === 'string' ? { uploadedName: hint } : {}),
      now,
      budgetSeconds: d.budgetSeconds,
    });
    return boundedForState(result);
  },
});
