import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { GuardEvent } from '../../lambdas/guard';
import { RotationFunction } from '../rotation-function';
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

export interface GuardProps extends PhaseProps {
  readonly functions: Functions<'guard'>;
}

/**
 * Phase 0: refuse to start while another execution of this state machine runs (two rotations
 * would fight over the same listeners and ledger).
 *
 * Verified by: the guard handler lists the running executions of this state machine.
 * Errors: a refusal goes to the failure path; nothing has changed, so it rolls back an empty ledger.
 */
export class Guard extends Phase {
  /** The guard function: it may list the executions of this state machine only. */
  static createFunctions(ctx: PhaseContext): Functions<'guard'> {
    const fn = new RotationFunction(ctx.scope, 'Guard', {
      handler: 'guard',
      description: 'Refuses to start while another rotation runs',
      environment: { DOMAIN: ctx.config.domain },
    });
    allow(fn, ['states:ListExecutions'], [arns(ctx).stateMachine]);
    return { guard: fn };
  }

  public readonly startState: sfn.State;

  constructor(ctx: PhaseContext, props: GuardProps) {
    super('Guard', 'guard', [props.next, props.onError]);
    const guard = task({
      scope: ctx.scope,
      id: 'Guard',
      stateName: STATE.guard,
      handler: props.functions.guard,
      payload: payloadFor<GuardEvent>({
        executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
        executionName: EXECUTION_NAME,
        stateMachineArn: sfn.JsonPath.stringAt('$$.StateMachine.Id'),
      }),
      resultPath: '$.guard',
      timing: ctx.config.timing,
      onError: props.onError,
    });
    guard.next(props.next);
    this.startState = guard;
  }
}
