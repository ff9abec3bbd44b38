import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { CheckInputEvent } from '../../lambdas/check-input';
import { RotationFunction } from '../rotation-function';
import { EXECUTION_NAME, Phase, STATE, payloadFor, task, type Functions, type PhaseContext, type PhaseProps } from '../workflow';

export interface InputCheckProps extends PhaseProps {
  readonly functions: Functions<'check-input'>;
}

/**
 * The trust boundary. The first state wraps the caller's whole input as `$.input` (so the state
 * is an object whatever JSON the caller sent); the check's result (the documented fields,
 * validated) then REPLACES `$.input`, so nothing else the caller wrote survives.
 *
 * Verified by: the check-input handler refuses any undocumented or invalid field by name.
 * Errors: a refusal must not carry the raw input into the failure path (rollback and the report
 * read the state): a Pass keeps only the error, then the failure path (an empty ledger).
 */
export class InputCheck extends Phase {
  /** The check-input function; it needs no permission (it reads only its event). */
  static createFunctions(ctx: PhaseContext): Functions<'check-input'> {
    return {
      'check-input': new RotationFunction(ctx.scope, 'CheckInput', {
        handler: 'check-input',
        description: 'Keeps only the documented execution-input fields, validated; refuses anything else by name',
      }),
    };
  }

  public readonly startState: sfn.State;

  constructor(ctx: PhaseContext, props: InputCheckProps) {
    super('InputCheck', 'input', [props.next, props.onError]);
    const receive = new sfn.Pass(ctx.scope, 'ReceiveInput', {
      stateName: STATE.receiveInput,
      parameters: { input: sfn.JsonPath.entirePayload },
    });
    const check = task({
      scope: ctx.scope,
      id: 'CheckInput',
      stateName: STATE.checkInput,
      handler: props.functions['check-input'],
      payload: payloadFor<CheckInputEvent>({ executionName: EXECUTION_NAME, input: sfn.JsonPath.objectAt('$.input') }),
      resultPath: '$.input',
      timing: ctx.config.timing,
    });
    const refused = new sfn.Pass(ctx.scope, 'InputRefused', {
      stateName: STATE.inputRefused,
      parameters: { error: sfn.JsonPath.objectAt('$.error') },
    });
    refused.next(props.onError);
    check.addCatch(refused, { errors: ['States.ALL'], resultPath: '$.error' });
    receive.next(check).next(props.next);
    this.startState = receive;
  }
}
