import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { UploadEvent } from '../../lambdas/upload';
import { RotationFunction } from '../rotation-function';
import {
  DESCRIBE_EDGE,
  EXECUTION_NAME,
  Phase,
  STATE,
  allow,
  arns,
  payloadFor,
  retryPropagation,
  task,
  type Functions,
  type PhaseContext,
  type PhaseProps,
} from '../workflow';

export interface UploadProps extends PhaseProps {
  readonly functions: Functions<'upload'>;
}

/**
 * Phase 4: upload the new certificate to IAM under the rotation path, tagged as this execution's
 * (idempotent: a retry finds its own upload). The first change; from here rollback has work.
 *
 * Verified by: the upload handler reads the certificate back and compares its SHA-256 and
 * notBefore with what validation saw.
 * Errors: IAM propagation is retried with backoff; anything else goes to the failure path, which
 * deletes the upload only when IAM's tag proves it is this execution's. A full server-certificate
 * quota is `ServerCertificateQuotaExceeded` before anything is uploaded, naming what pruning could
 * delete (a retry that finds its own upload does not check the quota again).
 */
export class Upload extends Phase {
  /**
   * The upload function: the rotation secrets, and IAM server certificates under the rotation path
   * only. Before uploading it checks the quota (GetAccountSummary); when it is full it lists the
   * certificates and reads where they are in use, to name the ones pruning could delete.
   */
  static createFunctions(ctx: PhaseContext): Functions<'upload'> {
    const c = ctx.config;
    const fn = new RotationFunction(ctx.scope, 'Upload', {
      handler: 'upload',
      description: 'Uploads the new certificate to IAM (idempotent)',
      environment: {
        DOMAIN: c.domain,
        IAM_PATH: c.iamPath,
        CERTIFICATE_NAME_PREFIX: c.certificateNamePrefix,
        PRUNE_KEEP: String(c.prune.keep),
      },
    });
    const a = arns(ctx);
    allow(fn, ['secretsmanager:GetSecretValue'], a.secrets);
    allow(fn, ['iam:UploadServerCertificate', 'iam:TagServerCertificate', 'iam:GetServerCertificate'], [a.rotationCerts]);
    // Quota and in-use reads (no resource-level permissions; reasons in lib/nag.ts).
    allow(fn, ['iam:GetAccountSummary', 'iam:ListServerCertificates', ...DESCRIBE_EDGE, 'cloudfront:ListDistributions'], ['*']);
    return { upload: fn };
  }

  public readonly startState: sfn.State;

  constructor(ctx: PhaseContext, props: UploadProps) {
    super('Upload', 'upload', [props.next, props.onError]);
    const upload = task({
      scope: ctx.scope,
      id: 'Upload',
      stateName: STATE.upload,
      handler: props.functions.upload,
      payload: payloadFor<UploadEvent>({
        executionName: EXECUTION_NAME,
        secretArn: sfn.JsonPath.stringAt('$.certificate.secretArn'),
        currentArn: sfn.JsonPath.stringAt('$.current.arn'),
        expected: {
          sha256: sfn.JsonPath.stringAt('$.validation.summary.sha256'),
          notBefore: sfn.JsonPath.stringAt('$.validation.summary.notBefore'),
        },
      }),
      resultPath: '$.uploaded',
      timing: ctx.config.timing,
      onError: props.onError,
    });
    retryPropagation(upload, ctx.config.timing);
    upload.next(props.next);
    this.startState = upload;
  }
}
