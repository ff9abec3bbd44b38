import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { ApprovalEvent, GateNext } from '../../lambdas/request-approval';
import { RotationFunction } from '../rotation-function';
import { ARTIFACTS } from '../storage';
import { allow, arns, type PhaseContext } from './context';
import { ERR, EXECUTION_NAME, STATE } from './names';
import { payloadFor } from './payload';
import { retryWithBackoff, type Timing } from './retry';

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
      TIMEOUT_SECONDS: String(ctx.config.approvals.timeoutSeconds),
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
  /** What was just done and verified (the approver reads it). */
  readonly details: Record<string, unknown>;
  /** What the next phase does and which planned targets it touches. @default "the next phase", none listed */
  readonly next?: GateNext;
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
        // Every gate names both certificates (serial, SHA-256, expiry) in its email and page.
        certificates: {
          new: sfn.JsonPath.objectAt('$.validation.summary'),
          previous: sfn.JsonPath.objectAt('$.current'),
        },
        next: o.next ?? { description: 'the next phase of the rotation' },
      }),
    ),
    resultPath: `$.approvals.${o.gate}`,
    taskTimeout: sfn.Timeout.duration(Duration.seconds(o.timeoutSeconds)),
  });
  // A throttled request (email or store) is asked again; a retry gets a new task token, and a new id.
  retryWithBackoff(t, ERR.transient, o.timing);
  t.addCatch(o.onTimeout, { errors: ['States.Timeout'], resultPath: '$.error' });
  t.addCatch(o.onError, { errors: ['States.ALL'], resultPath: '$.error' });
  return t;
}
