import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { CurrentEvent } from '../../lambdas/current';
import type { ValidateEvent } from '../../lambdas/validate';
import { RotationFunction } from '../rotation-function';
import {
  DESCRIBE_LOAD_BALANCERS,
  EXECUTION_NAME,
  Phase,
  canaryEnvironment,
  STATE,
  allow,
  arns,
  payloadFor,
  task,
  type Functions,
  type PhaseContext,
  type PhaseProps,
} from '../workflow';

export interface ValidateProps extends PhaseProps {
  readonly functions: Functions<'current' | 'validate'>;
}

/**
 * Phase 2: find the certificate the canary listener serves today, then validate the new one
 * against it before anything changes (names, chain to a trusted root, key, dates, newer).
 *
 * Verified by: the validate handler's checks; it reads the new certificate from its secret.
 * Errors: go to the failure path; nothing has changed yet (an empty ledger).
 */
export class Validate extends Phase {
  /** Current reads the canary listener and IAM certificates; validate reads the rotation secrets. */
  static createFunctions(ctx: PhaseContext): Functions<'current' | 'validate'> {
    const c = ctx.config;
    const current = new RotationFunction(ctx.scope, 'Current', {
      handler: 'current',
      description: 'Finds the certificate the canary listener serves',
      environment: canaryEnvironment(c),
    });
    const validate = new RotationFunction(ctx.scope, 'Validate', {
      handler: 'validate',
      description: 'Validates the new certificate before anything changes',
      environment: { REQUIRED_NAMES: JSON.stringify(c.certificateNames), TRUSTED_ROOTS: c.trustedRootCertificates.join('\n') },
    });
    const a = arns(ctx);
    allow(current, [...DESCRIBE_LOAD_BALANCERS, 'iam:ListServerCertificates'], ['*']);
    allow(current, ['iam:GetServerCertificate'], [a.anyServerCert]);
    allow(validate, ['secretsmanager:GetSecretValue'], a.secrets);
    return { current, validate };
  }

  public readonly startState: sfn.State;

  constructor(ctx: PhaseContext, props: ValidateProps) {
    super('Validate', 'validate', [props.next, props.onError]);
    const current = task({
      scope: ctx.scope,
      id: 'Current',
      stateName: STATE.current,
      handler: props.functions.current,
      payload: payloadFor<CurrentEvent>({ executionName: EXECUTION_NAME }),
      resultPath: '$.current',
      timing: ctx.config.timing,
      onError: props.onError,
    });
    const validate = task({
      scope: ctx.scope,
      id: 'Validate',
      stateName: STATE.validate,
      handler: props.functions.validate,
      payload: payloadFor<ValidateEvent>({
        executionName: EXECUTION_NAME,
        secretArn: sfn.JsonPath.stringAt('$.certificate.secretArn'),
        current: sfn.JsonPath.objectAt('$.current'),
      }),
      resultPath: '$.validation',
      timing: ctx.config.timing,
      onError: props.onError,
    });
    current.next(validate).next(props.next);
    this.startState = current;
  }
}
