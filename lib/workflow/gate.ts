import { Annotations, Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { ApprovalEvent } from '../../lambdas/request-approval';
import { RotationFunction } from '../rotation-function';
import { ARTIFACTS } from '../storage';
import { allow, arns, type PhaseContext } from './context';
import { ERR, EXECUTION_NAME, STATE } from './names';
import { payloadFor } from './payload';
import { retryWithBackoff, type Timing } from './retry';

/** The approval-request function every gate invokes; it may write only the approval tokens. */
export function createApprovalFunction(ctx: PhaseContext): RotationFunction {
  const fn = new RotationFunction(ctx.scope, 'RequestApproval', {
    handler: 'request-approval',
    description: 'Emails an approval request and stores its callback token',
    environment: {
      DOMAIN: ctx.config.domain,
      ARTIFACT_BUCKET: ctx.storage.artifactBucket.bucketName,
      TOPIC_ARN: ctx.notifications.topic.topicArn,
    },
  });
  allow(fn, ['s3:PutObject'], [arns(ctx).artifacts(ARTIFACTS.approvals)]);
  ctx.notifications.grantPublish(fn.function);
  return fn;
}

/** A warning at synth when no one could answer a gate (every gate would time out and roll back). */
export function warnWithoutApprovers(ctx: PhaseContext): void {
  if (ctx.config.approvals.approverRoleArns.length === 0) {
    Annotations.of(ctx.scope).addWarningV2(
      'cert-rotation:no-approvers',
      "approvals.approverRoleArns is empty: no principal may read the approval tokens, so every gate times out and rolls back. List the approvers' IAM role ARNs.",
    );
  }
}

/**
 * No answer in time counts as a rejection (reported as such), then the same rollback. Built once
 * by the composer and passed to every gate.
 */
export function approvalTimedOut(scope: Construct, failure: sfn.IChainable): sfn.Pass {
  const timedOut = new sfn.Pass(scope, 'ApprovalTimedOut', {
    stateName: STATE.approvalTimedOut,
    result: sfn.Result.fromObject({ gateTimedOut: true }),
    resultPath: '$.approvalTimeout',
  });
  timedOut.next(failure);
  return timedOut;
}

export interface GateOptions {
  readonly scope: Construct;
  /** The construct id is `Step<id>`. */
  readonly id: string;
  readonly stateName: string;
  /** The gate's name: the approval is stored at `$.approvals.<gate>`. */
  readonly gate: string;
  /** What the approver reads. */
  readonly details: Record<string, unknown>;
  readonly handler: RotationFunction;
  readonly timeoutSeconds: number;
  readonly timing: Timing;
  /** Where a gate timeout goes (see `approvalTimedOut`). */
  readonly onTimeout: sfn.IChainable;
  /** Where a rejection or any other error goes. */
  readonly onError: sfn.IChainable;
}

/** A human gate: a callback task that waits for SendTaskSuccess/SendTaskFailure or times out. */
export function gate(o: GateOptions): tasks.LambdaInvoke {
  const t = new tasks.LambdaInvoke(o.scope, `Step${o.id}`, {
    stateName: o.stateName,
    lambdaFunction: o.handler.function,
    integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    payload: sfn.TaskInput.fromObject(
      payloadFor<ApprovalEvent>({
        taskToken: sfn.JsonPath.taskToken,
        gate: o.gate,
        title: o.stateName,
        executionName: EXECUTION_NAME,
        executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
        details: o.details,
      }),
    ),
    resultPath: `$.approvals.${o.gate}`,
    taskTimeout: sfn.Timeout.duration(Duration.seconds(o.timeoutSeconds)),
  });
  // A throttled request (email or token store) is asked again; a retry mints a new token.
  retryWithBackoff(t, ERR.transient, o.timing);
  t.addCatch(o.onTimeout, { errors: ['States.Timeout'], resultPath: '$.error' });
  t.addCatch(o.onError, { errors: ['States.ALL'], resultPath: '$.error' });
  return t;
}
