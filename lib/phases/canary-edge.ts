import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { SwitchCanaryEvent } from '../../lambdas/switch-canary';
import type { VerifyTlsEvent } from '../../lambdas/verify-tls';
import { RotationFunction } from '../rotation-function';
import { ARTIFACTS } from '../storage';
import {
  EXECUTION_NAME,
  Phase,
  DESCRIBE_LOAD_BALANCERS,
  STATE,
  allow,
  arns,
  canaryEnvironment,
  listArtifacts,
  payloadFor,
  retryPropagation,
  task,
  verifyAttempts,
  type Functions,
  type PhaseContext,
  type PhaseProps,
} from '../workflow';

export interface CanaryEdgeProps extends PhaseProps {
  readonly functions: Functions<'switch-canary' | 'verify-tls'>;
}

/**
 * Phase 5: switch the IRC (canary) ELB listener to the new certificate, ledger first, then
 * handshake with the canary endpoint until it serves the new certificate.
 *
 * Verified by: a TLS handshake with the endpoint compares the served certificate's SHA-256, every
 * `verifyIntervalSeconds` for up to `verifyTimeoutSeconds`.
 * Errors: IAM propagation on the switch is retried with backoff; a check that never matches, or
 * any other error, goes to the failure path, which switches back what the ledger records.
 */
export class CanaryEdge extends Phase {
  /** Switch-canary may switch the canary listener only, and keep the ledger; verify-tls needs no permission. */
  static createFunctions(ctx: PhaseContext): Functions<'switch-canary' | 'verify-tls'> {
    const switchCanary = new RotationFunction(ctx.scope, 'SwitchCanary', {
      handler: 'switch-canary',
      description: 'Switches the canary ELB listener, ledger first',
      environment: { ...canaryEnvironment(ctx.config), ARTIFACT_BUCKET: ctx.storage.artifactBucket.bucketName },
    });
    const verifyTls = new RotationFunction(ctx.scope, 'VerifyTls', {
      handler: 'verify-tls',
      description: 'TLS handshake: is the expected certificate served?',
    });
    const a = arns(ctx);
    allow(switchCanary, DESCRIBE_LOAD_BALANCERS, ['*']);
    allow(switchCanary, ['elasticloadbalancing:SetLoadBalancerListenerSSLCertificate'], [a.canaryElb]);
    allow(switchCanary, ['s3:GetObject', 's3:PutObject'], [a.artifacts(ARTIFACTS.ledger)]);
    listArtifacts(ctx, switchCanary);
    return { 'switch-canary': switchCanary, 'verify-tls': verifyTls };
  }

  public readonly startState: sfn.State;

  constructor(ctx: PhaseContext, props: CanaryEdgeProps) {
    super('CanaryEdge', 'canary edge', [props.next, props.onError]);
    const t = ctx.config.timing;
    const switchCanary = task({
      scope: ctx.scope,
      id: 'CanarySwitch',
      stateName: STATE.canarySwitch,
      handler: props.functions['switch-canary'],
      payload: payloadFor<SwitchCanaryEvent>({
        executionName: EXECUTION_NAME,
        current: { arn: sfn.JsonPath.stringAt('$.current.arn'), sha256: sfn.JsonPath.stringAt('$.current.sha256') },
        uploaded: { arn: sfn.JsonPath.stringAt('$.uploaded.arn') },
        newSha256: sfn.JsonPath.stringAt('$.validation.summary.sha256'),
      }),
      resultPath: '$.canarySwitch',
      timing: t,
      onError: props.onError,
    });
    retryPropagation(switchCanary, t);

    const prepare = new sfn.Pass(ctx.scope, 'CanaryPrepare', {
      stateName: STATE.canaryPrepare,
      result: sfn.Result.fromObject({ attempts: 0, matches: false }),
      resultPath: '$.canaryCheck',
    });
    const verify = task({
      scope: ctx.scope,
      id: 'CanaryVerify',
      stateName: STATE.canaryVerify,
      handler: props.functions['verify-tls'],
      payload: payloadFor<VerifyTlsEvent>({
        executionName: EXECUTION_NAME,
        endpoint: ctx.config.canary.endpoint,
        expectedSha256: sfn.JsonPath.stringAt('$.validation.summary.sha256'),
        previous: sfn.JsonPath.objectAt('$.canaryCheck'),
        maxAttempts: verifyAttempts(t),
        intervalSeconds: t.verifyIntervalSeconds,
      }),
      resultPath: '$.canaryCheck',
      timing: t,
      onError: props.onError,
    });
    const wait = new sfn.Wait(ctx.scope, 'CanaryWait', {
      stateName: STATE.canaryWait,
      time: sfn.WaitTime.duration(Duration.seconds(t.verifyIntervalSeconds)),
    });
    const choice = new sfn.Choice(ctx.scope, 'CanaryChoice', { stateName: STATE.canaryChoice })
      .when(sfn.Condition.booleanEquals('$.canaryCheck.matches', true), props.next)
      .otherwise(wait.next(verify));
    switchCanary.next(prepare).next(verify).next(choice);
    this.startState = switchCanary;
  }
}
