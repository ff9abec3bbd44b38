import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { RotationFunction } from '../rotation-function';
import { ERR } from './names';
import { retryWithBackoff, type Timing } from './retry';

export interface TaskOptions {
  /** The CertRotation construct (the construct id is `Step<id>`). */
  readonly scope: Construct;
  readonly id: string;
  readonly stateName: string;
  readonly handler: RotationFunction;
  /** Build it with `payloadFor<HandlerEvent>(...)`. */
  readonly payload: Record<string, unknown>;
  readonly resultPath: string;
  readonly timing: Timing;
  /** Where every error not retried goes (`$.error` holds it). @default not caught */
  readonly onError?: sfn.IChainable;
  /** What the state passes on (a Map iteration's last task: just its result). @default the whole state */
  readonly outputPath?: string;
}

/** A Lambda task: payload only, a named result path, transient AWS errors retried, everything else caught. */
export function task(o: TaskOptions): tasks.LambdaInvoke {
  const fn = o.handler.function;
  const t = new tasks.LambdaInvoke(o.scope, `Step${o.id}`, {
    stateName: o.stateName,
    lambdaFunction: fn,
    payload: sfn.TaskInput.fromObject(o.payload),
    payloadResponseOnly: true,
    resultPath: o.resultPath,
    ...(o.outputPath ? { outputPath: o.outputPath } : {}),
    taskTimeout: sfn.Timeout.duration(fn.timeout ? Duration.seconds(fn.timeout.toSeconds() + 30) : Duration.minutes(2)),
  });
  retryWithBackoff(t, ERR.transient, o.timing);
  if (o.onError) t.addCatch(o.onError, { errors: ['States.ALL'], resultPath: '$.error' });
  return t;
}
