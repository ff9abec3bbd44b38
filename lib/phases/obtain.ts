import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { ObtainEvent } from '../../lambdas/obtain';
import { RotationFunction } from '../rotation-function';
import {
  EXECUTION_NAME,
  Phase,
  STATE,
  ERR_ACME,
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
 * The DNS-01 record names of the certificate's names (`*.gitter.im` and `gitter.im` share
 * `_acme-challenge.gitter.im`), normalized as Route53's condition keys compare them.
 */
export function challengeRecordNames(names: readonly string[]): string[] {
  return [...new Set(names.map((n) => `_acme-challenge.${n.toLowerCase().replace(/\.$/, '').replace(/^\*\./, '')}`))];
}

/**
 * Phase 1: obtain the new certificate into a secret of this rotation: read the staged one
 * (Secrets Manager or S3, then delete the staged private key, so the key exists in one place
 * only), or, when configured (`certificateSource`), issue it over ACME DNS-01 with Route53 or
 * export it from ACM. Only the secret ARN and public facts enter the state.
 *
 * Verified by: the obtain handler checks the key matches the certificate; the staging bucket
 * policy lets only this function's role read staged keys; validation (phase 2) checks the rest.
 * Errors: go to the failure path; nothing has changed yet (an empty ledger). ACME server errors
 * (AcmeUnavailable) are retried with backoff, a Route53 change not INSYNC in time
 * (DnsChangeTimeout) once; rate limits, refused challenges and accounts, and a certificate ACM
 * cannot export are named errors that stop here.
 */
export class Obtain extends Phase {
  /** The obtain function: its secrets, the staged files, and deleting every version of key.pem. */
  static createFunctions(ctx: PhaseContext): Functions<'obtain'> {
    const { stagingBucket } = ctx.storage;
    const fn = new RotationFunction(ctx.scope, 'Obtain', {
      handler: 'obtain',
      description: 'Reads the staged certificate (Secrets Manager or S3) into a secret',
      environment: {
        DOMAIN: ctx.config.domain,
        STAGING_BUCKET: stagingBucket.bucketName,
        SECRET_PREFIX: secretPrefix(ctx.config),
        CERTIFICATE_SOURCES: JSON.stringify(ctx.config.certificateSource),
        CERTIFICATE_NAMES: JSON.stringify(ctx.config.certificateNames),
      },
      // ACME: the order, the Route53 wait (certificateSource.acme.dnsTimeoutSeconds) and the CA's validation in one invocation.
      ...(ctx.config.certificateSource.acme ? { timeout: Duration.minutes(10) } : {}),
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
    Obtain.grantAutomaticSources(ctx, fn);
    return { obtain: fn };
  }

  /**
   * ACME: the EAB HMAC secret (read only); ListHostedZones (no resource-level permissions);
   * GetChange; and in each configured zone only reading and changing TXT record sets of this
   * domain's `_acme-challenge` names (UPSERT and DELETE). ACM: describe and export the one
   * configured certificate. The account key secret is under the rotation's prefix (granted above).
   */
  private static grantAutomaticSources(ctx: PhaseContext, fn: RotationFunction): void {
    const { acme, acm } = ctx.config.certificateSource;
    const stack = Stack.of(ctx.scope);
    if (acme) {
      if (acme.eab) {
        const eabSecret = stack.formatArn({
          service: 'secretsmanager',
          resource: 'secret',
          resourceName: `${acme.eab.hmacSecretName}-??????`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        });
        allow(fn, ['secretsmanager:GetSecretValue'], [eabSecret]);
      }
      allow(fn, ['route53:ListHostedZones'], ['*']);
      allow(
        fn,
        ['route53:GetChange'],
        [stack.formatArn({ service: 'route53', region: '', account: '', resource: 'change', resourceName: '*' })],
      );
      const zones = acme.hostedZoneIds.map((id) =>
        stack.formatArn({ service: 'route53', region: '', account: '', resource: 'hostedzone', resourceName: id }),
      );
      allow(fn, ['route53:ListResourceRecordSets'], zones);
      fn.function.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['route53:ChangeResourceRecordSets'],
          resources: zones,
          conditions: {
            'ForAllValues:StringEquals': {
              'route53:ChangeResourceRecordSetsNormalizedRecordNames': challengeRecordNames(ctx.config.certificateNames),
              'route53:ChangeResourceRecordSetsRecordTypes': ['TXT'],
              'route53:ChangeResourceRecordSetsActions': ['UPSERT', 'DELETE'],
            },
          },
        }),
      );
    }
    if (acm) allow(fn, ['acm:DescribeCertificate', 'acm:ExportCertificate'], [acm.certificateArn]);
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
    if (ctx.config.certificateSource.acme) {
      // Before the task's catch-all: Retry is tried first, in order.
      obtain.addRetry({ errors: [ERR_ACME.unavailable], interval: Duration.seconds(30), maxAttempts: 3, backoffRate: 2 });
      obtain.addRetry({ errors: [ERR_ACME.dnsTimeout], interval: Duration.seconds(30), maxAttempts: 1 });
    }
    obtain.next(props.next);
    this.startState = obtain;
  }
}
