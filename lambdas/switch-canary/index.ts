import { S3Client } from '@aws-sdk/client-s3';
import { ArtifactStore } from '../shared/artifacts';
import { defineHandler } from '../shared/handler';
import { ChangeLedger } from '../shared/ledger';
import { createEdgeClients } from '../shared/target-ops';
import { switchCanary, type SwitchResult } from './domain';

export interface SwitchCanaryEvent {
  readonly executionName: string;
  readonly current: { readonly arn: string; readonly sha256: string };
  readonly uploaded: { readonly arn: string };
  readonly newSha256: string;
}

export const handler = defineHandler({
  name: 'switch-canary',
  deps: ({ requireEnv, awsClient }) => ({
    canary: { loadBalancerName: requireEnv('CANARY_LOAD_BALANCER'), port: Number(requireEnv('CANARY_PORT')) },
    store: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
    clients: createEdgeClients(),
  }),
  run: (event: SwitchCanaryEvent, d, { logger, now }): Promise<SwitchResult> =>
    switchCanary({
      clients: d.clients,
      ledger: new ChangeLedger(d.store, event.executionName),
      logger,
      canary: d.canary,
      current: event.current,
      uploaded: event.uploaded,
      newSha256: event.newSha256,
      now,
    }),
});
