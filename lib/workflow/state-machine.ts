import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { ResolvedConfig } from '../config';
import type { Phase } from './phase';

export interface RotationStateMachineProps {
  readonly stateMachineName: string;
  readonly config: ResolvedConfig;
  /** The first phase. */
  readonly start: sfn.IChainable;
  /** Every phase (their gates set the execution timeout). */
  readonly phases: readonly Phase[];
}

/**
 * The Standard state machine and its execution log group, created in `scope` under the ids
 * `ExecutionLogs` and `StateMachine` (stable logical ids).
 */
export function rotationStateMachine(
  scope: Construct,
  props: RotationStateMachineProps,
): { readonly stateMachine: sfn.StateMachine; readonly logGroup: logs.LogGroup } {
  const logGroup = new logs.LogGroup(scope, 'ExecutionLogs', {
    logGroupName: `/aws/vendedlogs/states/${props.stateMachineName}`,
    retention: logs.RetentionDays.SIX_MONTHS,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  // Each gate's own timeout (approvals.gates.<gate>, else approvals.timeoutSeconds).
  const gateSeconds = props.phases.reduce((n, p) => n + p.gateTimeoutSeconds, 0);
  const stateMachine = new sfn.StateMachine(scope, 'StateMachine', {
    stateMachineName: props.stateMachineName,
    stateMachineType: sfn.StateMachineType.STANDARD,
    definitionBody: sfn.DefinitionBody.fromChainable(props.start),
    comment: `Rotates the ${props.config.domain} TLS certificate across ELB, ELBv2, CloudFront and nginx nodes`,
    tracingEnabled: true,
    logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    // Long enough for every gate to wait its full timeout (a gate timeout is caught and rolled
    // back or stopped as configured; an execution timeout could not be), plus a day for the work itself.
    timeout: Duration.seconds(gateSeconds + 86_400),
  });
  return { stateMachine, logGroup };
}
