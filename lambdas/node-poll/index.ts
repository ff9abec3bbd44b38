import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { ArtifactStore } from '../shared/artifacts';
import { defineHandler } from '../shared/handler';
import { ChangeLedger } from '../shared/ledger';
import { roundsBefore, type PollRoundEvent } from '../shared/poll-round';
import { pollNodes, type NodePollParams, type NodePollResult } from './domain';

export type { NodePollResult } from './domain';

/** The state's payload: these fields of {@link NodePollParams}, and the previous round's count (`{ rounds: 0 }` first). */
export type NodePollEvent = Pick<NodePollParams, 'executionName' | 'purpose' | 'phase' | 'newSha256' | 'maxRounds'> & PollRoundEvent;

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
      rounds: roundsBefore(event),
      maxRounds: event.maxRounds,
      now,
    }),
});
