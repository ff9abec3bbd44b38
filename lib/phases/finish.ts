import { Stack } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { FinishEvent } from '../../lambdas/finish';
import { RotationFunction } from '../rotation-function';
import { ARTIFACTS } from '../storage';
import { EXECUTION_NAME, Phase, STATE, allow, arns, listArtifacts, payloadFor, task, type Functions, type PhaseContext } from '../workflow';

/** An SSM parameter's ARN: `parameter` followed by its name (a name that starts with `/` gives no second slash). */
export function monitParameterArn(ctx: PhaseContext, name: string): string {
  return Stack.of(ctx.scope).formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.replace(/^\//, '') });
}

export interface FinishProps {
  readonly functions: Functions<'finish'>;
}

/**
 * The end of a successful rotation: write monit's fingerprint parameter (config `monit`), the
 * report, notify, succeed.
 *
 * Verified by: the finish handler builds the report from the ledger (what changed), not from
 * the state alone.
 * Errors: the rotation is complete by then, so a failed report or notification does not roll
 * back: the execution fails as `ReportFailed`, saying so.
 */
export class Finish extends Phase {
  /** The finish function (the success and the failure report): reads the ledger, writes the report, publishes. */
  static createFunctions(ctx: PhaseContext): Functions<'finish'> {
    const fn = new RotationFunction(ctx.scope, 'Finish', {
      handler: 'finish',
      description: 'Writes the report and notifies',
      environment: {
        DOMAIN: ctx.config.domain,
        ARTIFACT_BUCKET: ctx.storage.artifactBucket.bucketName,
        TOPIC_ARN: ctx.notifications.topic.topicArn,
        // null when not configured: named in the success email.
        MONIT_PARAMETER: JSON.stringify(ctx.config.monit?.fingerprintParameterName ?? null),
        CONFIGURATION_MANAGEMENT: JSON.stringify(ctx.config.configurationManagement ?? null),
      },
    });
    const a = arns(ctx);
    allow(fn, ['s3:GetObject'], [a.artifacts(ARTIFACTS.ledger)]);
    allow(fn, ['s3:PutObject'], [a.artifacts(ARTIFACTS.report)]);
    // The success email's public PEM: read back only what this rotation uploads, under its path.
    allow(fn, ['iam:GetServerCertificate'], [a.rotationCerts]);
    listArtifacts(ctx, fn);
    ctx.notifications.grantPublish(fn.function);
    // After a success, monit's fingerprint (an MD5: public) goes to exactly its SSM parameter.
    const monit = ctx.config.monit?.fingerprintParameterName;
    if (monit) allow(fn, ['ssm:PutParameter'], [monitParameterArn(ctx, monit)]);
    return { finish: fn };
  }

  public readonly startState: sfn.State;

  constructor(ctx: PhaseContext, props: FinishProps) {
    super('Finish', 'finish');
    const finish = task({
      scope: ctx.scope,
      id: 'FinishSuccess',
      stateName: STATE.finishSuccess,
      handler: props.functions.finish,
      payload: payloadFor<FinishEvent>({
        executionName: EXECUTION_NAME,
        succeeded: true,
        state: sfn.JsonPath.entirePayload,
      }),
      resultPath: '$.report',
      timing: ctx.config.timing,
    });
    finish.addCatch(
      new sfn.Fail(ctx.scope, 'ReportFailed', {
        stateName: STATE.reportFailed,
        error: 'ReportFailed',
        cause: 'the rotation completed; writing the report or the notification failed',
      }),
      { errors: ['States.ALL'], resultPath: '$.error' },
    );
    finish.next(new sfn.Succeed(ctx.scope, 'Succeeded', { stateName: STATE.succeeded }));
    this.startState = finish;
  }
}
