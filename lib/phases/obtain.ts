import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { ObtainEvent } from '../../lambdas/obtain';
import { RotationFunction } from '../rotation-function';
import {
  EXECUTION_NAME,
  Phase,
  STATE,
  allow,
  arns,
  payloadFor,
  secretPrefix,
  task,
  type Functions,
  type PhaseContext,
  type PhaseProps,
} from '../workflow';

export interface ObtainProps extends PhaseProps {
  readonly functions: Functions<'obtain'>;
}

/**
 * Phase 1: read the staged certificate (Secrets Manager or S3) into a secret of this rotation,
 * and delete the staged private key, so the key exists in one place only.
 *
 * Verified by: the obtain handler checks the key matches the certificate; the staging bucket
 * policy lets only this function's role read staged keys.
 * Errors: go to the failure path; nothing has changed yet (an empty ledger).
 */
export class Obtain extends Phase {
  /** The obtain function: its secrets, the staged files, and deleting every version of key.pem. */
  static createFunctions(ctx: PhaseContext): Functions<'obtain'> {
    const { stagingBucket } = ctx.storage;
    const fn = new RotationFunction(ctx.scope, 'Obtain', {
      handler: 'obtain',
      description: 'Reads the staged certificate (Secrets Manager or S3) into a secret',
      environment: { DOMAIN: ctx.config.domain, STAGING_BUCKET: stagingBucket.bucketName, SECRET_PREFIX: secretPrefix(ctx.config) },
    });
    allow(
      fn,
      ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:CreateSecret', 'secretsmanager:TagResource'],
      arns(ctx).secrets,
    );
    // Staged files: read cert.pem/chain.pem/key.pem; then delete every version of key.pem, found by
    // listing the versions of that key (a listing whose prefix is not a key.pem is refused).
    allow(fn, ['s3:GetObject'], [stagingBucket.arnForObjects('*')]);
    fn.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucketVersions'],
        resources: [stagingBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': '*key.pem' } },
      }),
    );
    allow(fn, ['s3:DeleteObjectVersion'], [stagingBucket.arnForObjects('*key.pem')]);
    ctx.storage.onlyThisRoleReadsStagedKeys(fn.function.role!);
    return { obtain: fn };
  }

  public readonly startState: sfn.State;

  constructor(ctx: PhaseContext, props: ObtainProps) {
    super('Obtain', 'obtain', [props.next, props.onError]);
    const obtain = task({
      scope: ctx.scope,
      id: 'Obtain',
      stateName: STATE.obtain,
      handler: props.functions.obtain,
      payload: payloadFor<ObtainEvent>({
        executionName: EXECUTION_NAME,
        // The checked input (the first state's result), never the caller's raw input.
        input: sfn.JsonPath.objectAt('$.input'),
      }),
      resultPath: '$.certificate',
      timing: ctx.config.timing,
      onError: props.onError,
    });
    obtain.next(props.next);
    this.startState = obtain;
  }
}
