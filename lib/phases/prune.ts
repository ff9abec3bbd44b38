import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { PruneEvent } from '../../lambdas/prune';
import { RotationFunction } from '../rotation-function';
import { ARTIFACTS } from '../storage';
import {
  DESCRIBE_EDGE,
  EXECUTION_NAME,
  Phase,
  STATE,
  allow,
  arns,
  listArtifacts,
  payloadFor,
  task,
  type Functions,
  type PhaseContext,
} from '../workflow';

export interface PruneProps {
  readonly functions: Functions<'prune'>;
  /** The end of the successful rotation (finish), whether pruning worked or not. */
  readonly next: sfn.IChainable;
}

/**
 * After a successful rotation, before finish: delete the IAM server certificates of this domain
 * (dated name `<certificateNamePrefix>_<yyyy-mm-dd>`, exactly the configured path) that are older
 * than the previous one, beyond `prune.keep`, and used by no classic ELB listener, ELBv2 listener
 * (default or SNI) or CloudFront distribution: every one is read before anything is deleted. The
 * previous certificate always stays, for a rollback by hand.
 *
 * Verified by: the handler's own listing (what IAM no longer lists is what was pruned), and IAM
 * refusing to delete a certificate in use (kept, with the reason).
 * Errors: the rotation is complete by then, so a pruning failure never rolls it back: the error
 * goes to `$.pruneError`, the phase is FAILED, and finish reports it as a warning (report, email
 * subject) while the execution still succeeds.
 */
export class Prune extends Phase {
  /** The prune function: DeleteServerCertificate only under the configured path; the reads it decides from. */
  static createFunctions(ctx: PhaseContext): Functions<'prune'> {
    const c = ctx.config;
    const fn = new RotationFunction(ctx.scope, 'Prune', {
      handler: 'prune',
      description: 'Deletes unused old IAM certificates of the domain after a successful rotation',
      timeout: Duration.minutes(5),
      environment: {
        IAM_PATH: c.iamPath,
        CERTIFICATE_NAME_PREFIX: c.certificateNamePrefix,
        PRUNE_KEEP: String(c.prune.keep),
        ARTIFACT_BUCKET: ctx.storage.artifactBucket.bucketName,
      },
    });
    const a = arns(ctx);
    allow(fn, ['iam:DeleteServerCertificate'], [a.rotationCerts]);
    // Listing and in-use reads support no resource-level permissions (reasons in lib/nag.ts).
    allow(fn, ['iam:ListServerCertificates', ...DESCRIBE_EDGE, 'cloudfront:ListDistributions'], ['*']);
    allow(fn, ['s3:GetObject', 's3:PutObject'], [a.artifacts(ARTIFACTS.prune)]);
    listArtifacts(ctx, fn);
    return { prune: fn };
  }

  public readonly startState: sfn.State;

  constructor(ctx: PhaseContext, props: PruneProps) {
    super('Prune', 'prune', [props.next]);
    const prune = task({
      scope: ctx.scope,
      id: 'Prune',
      stateName: STATE.prune,
      handler: props.functions.prune,
      payload: payloadFor<PruneEvent>({
        executionName: EXECUTION_NAME,
        previousArn: sfn.JsonPath.stringAt('$.current.arn'),
        newName: sfn.JsonPath.stringAt('$.uploaded.name'),
      }),
      resultPath: '$.prune',
      timing: ctx.config.timing,
    });
    // Not the rollback path: the rotation succeeded. Finish reports the error as a warning.
    prune.addCatch(props.next, { errors: ['States.ALL'], resultPath: '$.pruneError' });
    prune.next(props.next);
    this.startState = prune;
  }
}
