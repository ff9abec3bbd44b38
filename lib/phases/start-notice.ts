import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { StartNoticeEvent } from '../../lambdas/notify-start';
import { RotationFunction } from '../rotation-function';
import { ARTIFACTS } from '../storage';
import {
  EXECUTION_NAME,
  Phase,
  STATE,
  allow,
  arns,
  payloadFor,
  task,
  type Functions,
  type PhaseContext,
  type PhaseProps,
} from '../workflow';

export interface StartNoticeProps extends PhaseProps {
  readonly functions: Functions<'notify-start'>;
  /** The state name of the approval gate that follows, named in the email. @default none: the email says the rotation goes on */
  readonly approvalFollows?: string;
}

/**
 * The start email: once the plan is made, the approvers learn that a rotation started and what it
 * will touch (both certificates, counts and the first 20 names per phase from the plan in S3,
 * skipped nodes, validation warnings) and that Approval 1 follows. Reported with the plan.
 *
 * Verified by: the email is built from the execution's own plan document, not from the input.
 * Errors: transient ones are retried; any other goes to the failure path (nothing has changed yet).
 */
export class StartNotice extends Phase {
  /** Reads this execution's plan and publishes to the notifications topic; nothing else. */
  static createFunctions(ctx: PhaseContext): Functions<'notify-start'> {
    const fn = new RotationFunction(ctx.scope, 'NotifyStart', {
      handler: 'notify-start',
      description: 'Emails the start of a rotation: both certificates and the plan',
      environment: {
        DOMAIN: ctx.config.domain,
        ARTIFACT_BUCKET: ctx.storage.artifactBucket.bucketName,
        TOPIC_ARN: ctx.notifications.topic.topicArn,
      },
    });
    allow(fn, ['s3:GetObject'], [arns(ctx).artifacts(ARTIFACTS.plan)]);
    ctx.notifications.grantPublish(fn.function);
    return { 'notify-start': fn };
  }

  public readonly startState: sfn.State;

  constructor(ctx: PhaseContext, props: StartNoticeProps) {
    super('StartNotice', 'plan', [props.next, props.onError]);
    const notice = task({
      scope: ctx.scope,
      id: 'NotifyStart',
      stateName: STATE.notifyStart,
      handler: props.functions['notify-start'],
      payload: payloadFor<StartNoticeEvent>({
        executionName: EXECUTION_NAME,
        certificates: {
          new: sfn.JsonPath.objectAt('$.validation.summary'),
          previous: sfn.JsonPath.objectAt('$.current'),
        },
        ...(props.approvalFollows ? { approvalFollows: props.approvalFollows } : {}),
        warnings: sfn.JsonPath.listAt('$.validation.warnings'),
      }),
      resultPath: '$.startNotice',
      timing: ctx.config.timing,
      onError: props.onError,
    });
    notice.next(props.next);
    this.startState = notice;
  }
}
