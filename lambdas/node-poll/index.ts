import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { ArtifactStore } from '../shared/artifacts';
import { defineHandler } from '../shared/handler';
import { ChangeLedger } from '../shared/ledger';
import { pollNodes, type NodePollResult } from './domain';

export type { NodePollResult } from './domain';

export interface NodePollEvent {
  readonly executionName: string;
  readonly purpose: 'install' | 'rollback';
  /** The node phase (install); absent for the rollback. */
  readonly phase?: string;
  /** What the nodes must serve after the install (absent for the rollback: each node's previous one). */
  readonly newSha256?: string;
  /** The previous round's result (`rounds`), or `{ rounds: 0 }`. */
  readonly previous: { readonly rounds: number };
  readonly maxRounds: number;
}

export const handler = defineHandler({
  name: 'node-poll',
  deps: ({ requireEnv, awsClient }) => ({
    store: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
    ssm: awsClient(SSMClient),
  }),
  run: (event: NodePollEvent, d, { logger, now }): Promise<NodePollResult> =>
    pollNodes({
      ssm: d.ssm,
      store: d.store,
      ledger: new ChangeLedger(d.store, event.executionName),
      logger,
      executionName: event.executionName,
      purpose: event.purpose === 'rollback' ? 'rollback' : 'install',
      ...(event.phase !== undefined ? { phase: event.phase } : {}),
      ...(event.newSha256 !== undefined ? { newSha256: event.newSha256 } : {}),
      rounds: typeof event.previous?.rounds === 'number' ? event.previous.rounds : 0,
      maxRounds: event.maxRounds,
      now,
    }),
});
