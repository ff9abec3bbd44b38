import { Duration } from 'aws-cdk-lib';
import type * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { ResolvedConfig } from '../config';
import { ERR } from './names';

export type Timing = ResolvedConfig['timing'];

/** Exponential backoff from the configured timing, for errors a later attempt may not hit. */
export function retryWithBackoff(task: tasks.LambdaInvoke, error: string, timing: Timing): void {
  task.addRetry({
    errors: [error],
    interval: Duration.seconds(timing.retryIntervalSeconds),
    maxAttempts: timing.retryMaxAttempts,
    backoffRate: 2,
  });
}

/** IAM propagation delay: a load balancer may not see a just-uploaded certificate yet. */
export function retryPropagation(task: tasks.LambdaInvoke, timing: Timing): void {
  retryWithBackoff(task, ERR.notPropagated, timing);
}

/** TLS checks before giving up: the timeout divided by the interval, plus the first one. */
export function verifyAttempts(timing: Timing): number {
  return Math.ceil(timing.verifyTimeoutSeconds / timing.verifyIntervalSeconds) + 1;
}
