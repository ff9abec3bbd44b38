import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { ArtifactStore } from '../shared/artifacts';
import { defineHandler } from '../shared/handler';
import { ChangeLedger } from '../shared/ledger';
import { sendNodePhase, type NodePhaseRate, type NodeSendParams, type NodeSendResult } from './domain';

export type { NodeSendResult } from './domain';

/** The state's payload: these fields of {@link NodeSendParams}, and the phase by name (its targets and rate come from the deployed config). */
export type NodeSendEvent = Pick<NodeSendParams, 'executionName' | 'secretArn' | 'current' | 'uploaded' | 'newSha256'> & {
  /** The node phase's name (config `nodePhases[].name`). */
  readonly phase: string;
};

export const handler = defineHandler({
  name: 'node-send',
  deps: ({ requireEnv, requireJsonEnv, awsClient }) => ({
    store: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
    ssm: awsClient(SSMClient),
    phases: requireJsonEnv<NodePhaseRate[]>('NODE_PHASES'),
    documentName: requireEnv('DOCUMENT_NAME'),
    deliveryTimeoutSeconds: Number(requireEnv('DELIVERY_TIMEOUT_SECONDS')),
  }),
  run: (event: NodeSendEvent, d, { logger, now }): Promise<NodeSendResult> => {
    // The phase comes from the deployed config, never from the state: the state only names it.
    const phase = d.phases.find((p) => p.name === event.phase);
    if (!phase) throw new Error(`node phase "${event.phase}" is not configured`);
    return sendNodePhase({
      ssm: d.ssm,
      store: d.store,
      ledger: new ChangeLedger(d.store, event.executionName),
      logger,
      executionName: event.executionName,
      phase,
      documentName: d.documentName,
      deliveryTimeoutSeconds: d.deliveryTimeoutSeconds,
      secretArn: event.secretArn,
      current: event.current,
      uploaded: event.uploaded,
      newSha256: event.newSha256,
      now,
    });
  },
});
