import { S3Client } from '@aws-sdk/client-s3';
import { ArtifactStore } from '../shared/artifacts';
import { classifyAwsErrors } from '../shared/aws-errors';
import { lazy, requireEnv } from '../shared/env';
import { ChangeLedger } from '../shared/ledger';
import { createLogger, withExecution } from '../shared/logger';
import { createEdgeClients } from '../shared/target-ops';
import { switchCanary, type SwitchResult } from './domain';
import { awsClient } from '../shared/aws-clients';

export interface SwitchCanaryEvent {
  readonly executionName: string;
  readonly current: { readonly arn: string; readonly sha256: string };
  readonly uploaded: { readonly arn: string };
  readonly newSha256: string;
}

const deps = lazy(() => ({
  canary: { loadBalancerName: requireEnv('CANARY_LOAD_BALANCER'), port: Number(requireEnv('CANARY_PORT')) },
  store: new ArtifactStore(awsClient(S3Client), requireEnv('ARTIFACT_BUCKET')),
  clients: createEdgeClients(),
  logger: createLogger('switch-canary'),
}));

export const handler = async (event: SwitchCanaryEvent): Promise<SwitchResult> => {
  const d = deps();
  return classifyAwsErrors(() =>
    switchCanary({
      clients: d.clients,
      ledger: new ChangeLedger(d.store, event.executionName),
      logger: withExecution(d.logger, event.executionName),
      canary: d.canary,
      current: event.current,
      uploaded: event.uploaded,
      newSha256: event.newSha256,
      now: () => new Date(),
    }),
  );
};
