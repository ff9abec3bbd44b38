import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { FinishEvent } from '../../lambdas/finish';
import type { ApprovalEvent, GateNext } from '../../lambdas/request-approval';
import { RotationFunction } from '../rotation-function';
import { ARTIFACTS } from '../storage';
import { allow, arns, type PhaseContext } from './context';
import { ERR, EXECUTION_NAME, STOP_STATE } from './names';
import { payloadFor } from './payload';
import { retryWithBackoff, type Timing } from './retry';
import { task } from './task';

/** The approval functions: the request every gate invokes, and the page that decides. */
export interface ApprovalFunctions {
  readonly 'request-approval': RotationFunction;
  readonly 'approval-page': RotationFunction;
}

/**
 * The approval path. request-approval stores each gate's request (the SHA-256 of a fresh approval
 * id, the task token, the execution, the gate, the expiry) in the approval store and emails the
 * link; it may only add items (PutItem), read the plan and publish. The approval page (a Lambda
 * function URL) is the only reader of the store (the table's resource policy) and the only holder
 * of states:SendTaskSuccess/SendTaskFailure.
 *
 * Why a function URL and not an API Gateway HTTP API: the page is one function with three
 * methods on one path; a function URL is HTTPS with nothing in between that could log the path
 * (an HTTP API's access logs would hold the approval ids), no stage, route or integration to
 * keep in step, and no extra cost. What an HTTP API adds (custom domain, throttling, JWT
 * authorizers) is not needed: the 256-bit id in the path is the capability, and the page
 * changes nothing on GET or HEAD.
 */
export function createApprovalFunctions(ctx: PhaseContext): ApprovalFunctions {
  const table = ctx.storage.approvalTable;
  const a = arns(ctx);
  const page = new RotationFunction(ctx.scope, 'ApprovalPage', {
    handler: 'approval-page',
    description: 'The approval page: shows a gate on GET, decides it on POST (SendTaskSuccess/SendTaskFailure)',
    environment: { APPROVAL_TABLE: table.tableName },
    timeout: Duration.seconds(15),
  });
  allow(page, ['dynamodb:GetItem', 'dynamodb:UpdateItem'], [table.tableArn]);
  allow(page, ['states:DescribeExecution', 'states:GetExecutionHistory'], [a.executions]);
  allow(page, ['states:SendTaskSuccess', 'states:SendTaskFailure'], [a.stateMachine]);
  // Public on purpose: the link is opened from an email on a phone, where no AWS credentials
  // are. The approval id (256 random bits) is the capability; GET and HEAD change nothing.
  const url = page.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
  ctx.storage.onlyThisRoleReadsApprovals(page.function.role!);

  const request = new RotationFunction(ctx.scope, 'RequestApproval', {
    handler: 'request-approval',
    description: 'Stores an approval request (hashed id, task token) and emails the link to the approval page',
    environment: {
      DOMAIN: ctx.config.domain,
      ARTIFACT_BUCKET: ctx.storage.artifactBucket.bucketName,
      TOPIC_ARN: ctx.notifications.topic.topicArn,
      APPROVAL_TABLE: table.tableName,
      APPROVAL_PAGE_URL: url.url,
      ON_TIMEOUT: ctx.config.approvals.onTimeout,
    },
  });
  allow(request, ['dynamodb:PutItem'], [table.tableArn]);
  allow(request, ['s3:GetObject'], [a.artifacts(ARTIFACTS.plan)]);
  ctx.notifications.grantPublish(request.function);
  new CfnOutput(Stack.of(ctx.scope), 'ApprovalPageUrl', {
    value: url.url,
    description: 'The approval page (links in the approval emails)',
  });
  return { 'request-approval': request, 'approval-page': page };
}

/** What a gate's timeout path records at `$.approvalTimeout` (the finish report reads it). */
export interface GateTimeoutRecord {
  readonly gateTimedOut: true;
  readonly gate: string;
  readonly stateName: string;
  readonly timeoutSeconds: number;
  readonly onTimeout: 'rollback' | 'stop';
  readonly stateMachineArn: string;
}

/**
 * Where every gate's timeout goes, per `approvals.onTimeout` (built once, by the failure path):
 * - `rollback`: the rollback itself (restore, verify, report; the report says the gate timed out);
 * - `stop`: the stop report (the finish function: what is on which certificate, how to finish or
 *   undo, emailed), then the execution fails as `GateTimedOut` with every change kept. Nothing is
 *   switched back: each change was verified by its phase before the gate was reached, so every
 *   target serves a valid certificate, the new or the previous one. A report that cannot be
 *   written still ends as `GateTimedOut` (the execution history holds the record).
 */
export function gateTimeoutPath(o: {
  readonly scope: Construct;
  readonly onTimeout: 'rollback' | 'stop';
  readonly rollback: sfn.State;
  readonly finish: RotationFunction;
  readonly timing: Timing;
}): sfn.State {
  if (o.onTimeout === 'rollback') return o.rollback;
  const report = task({
    scope: o.scope,
    id: 'FinishStopped',
    stateName: STOP_STATE.finishStopped,
    handler: o.finish,
    payload: payloadFor<FinishEvent>({ executionName: EXECUTION_NAME, succeeded: false, state: sfn.JsonPath.entirePayload }),
    resultPath: '$.report',
    timing: o.timing,
  });
  report.addCatch(
    new sfn.Fail(o.scope, 'StoppedAtGateUnreported', {
      stateName: STOP_STATE.stoppedAtGateUnreported,
      error: ERR.gateTimedOut,
      cause:
        'a gate timed out and approvals.onTimeout is stop: every change was kept (nothing rolled back), and the report could not be written; see $.approvalTimeout in the execution history',
    }),
    { errors: ['States.ALL'], resultPath: '$.reportError' },
  );
  report.next(
    new sfn.Fail(o.scope, 'StoppedAtGate', {
      stateName: STOP_STATE.stoppedAtGate,
      error: ERR.gateTimedOut,
      causePath: '$.report.stopCause',
    }),
  );
  return report;
}

/** `Approval 2: no answer in time` from `Approval 2: canary edge OK, continue?`. */
export function gateTimedOutName(stateName: string): string {
  const colon = stateName.indexOf(':');
  return `${colon > 0 ? stateName.slice(0, colon) : stateName}: no answer in time`;
}

export interface GateOptions {
  readonly scope: Construct;
  /** The construct id is `Step<id>`. */
  readonly id: string;
  readonly stateName: string;
  /** The gate's name: the approval is stored at `$.approvals.<gate>`. */
  readonly gate: string;
  /** What was just done and verified (the approver reads it). */
  readonly details: Record<string, unknown>;
  /** What the next phase does and which planned targets it touches. @default "the next phase", none listed */
  readonly next?: GateNext;
  readonly handler: RotationFunction;
  /** This gate's timeout (`approvals.gates.<gate>.timeoutSeconds`, else `approvals.timeoutSeconds`). */
  readonly timeoutSeconds: number;
  /** What a timeout does (`approvals.onTimeout`), recorded with it. */
  readonly onTimeoutMode: 'rollback' | 'stop';
  readonly timing: Timing;
  /** Where a gate timeout goes, after this gate records which gate it was (see `gateTimeoutPath`). */
  readonly onTimeout: sfn.IChainable;
  /** Where a rejection or any other error goes. */
  readonly onError: sfn.IChainable;
}

/**
 * A human gate: a callback task that waits for SendTaskSuccess/SendTaskFailure or times out. A
 * timeout (`States.Timeout`) first records which gate it was (`Approval N: no answer in time`,
 * at `$.approvalTimeout`), then goes to `onTimeout`.
 */
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
        // Every gate names both certificates (serial, SHA-256, expiry) in its email and page.
        certificates: {
          new: sfn.JsonPath.objectAt('$.validation.summary'),
          previous: sfn.JsonPath.objectAt('$.current'),
        },
        next: o.next ?? { description: 'the next phase of the rotation' },
        timeoutSeconds: o.timeoutSeconds,
      }),
    ),
    resultPath: `$.approvals.${o.gate}`,
    taskTimeout: sfn.Timeout.duration(Duration.seconds(o.timeoutSeconds)),
  });
  // A throttled request (email or store) is asked again; a retry gets a new task token, and a new id.
  retryWithBackoff(t, ERR.transient, o.timing);
  const timedOut = new sfn.Pass(o.scope, `Step${o.id}TimedOut`, {
    stateName: gateTimedOutName(o.stateName),
    parameters: {
      gateTimedOut: true,
      gate: o.gate,
      stateName: o.stateName,
      timeoutSeconds: o.timeoutSeconds,
      onTimeout: o.onTimeoutMode,
      stateMachineArn: sfn.JsonPath.stringAt('$$.StateMachine.Id'),
    } satisfies Record<keyof GateTimeoutRecord, unknown>,
    resultPath: '$.approvalTimeout',
  });
  timedOut.next(o.onTimeout);
  t.addCatch(timedOut, { errors: ['States.Timeout'], resultPath: '$.error' });
  t.addCatch(o.onError, { errors: ['States.ALL'], resultPath: '$.error' });
  return t;
}
