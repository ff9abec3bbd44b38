import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { AcmSourceConfig } from '../lambdas/shared/source-config';

export interface AcmRenewalTriggerProps {
  /** The configured ACM source (`certificateSource.acm`). */
  readonly acm: AcmSourceConfig;
  readonly stateMachine: sfn.IStateMachine;
}

/**
 * Starts a rotation with `{"source": {"acm": {}}}` when ACM has renewed the configured certificate:
 * EventBridge's `ACM Certificate Available` event (source `aws.acm`) with `detail.Action` RENEWAL,
 * for that certificate's ARN only. The guard phase refuses a second rotation while one runs.
 */
export class AcmRenewalTrigger extends Construct {
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: AcmRenewalTriggerProps) {
    super(scope, id);
    this.rule = new events.Rule(this, 'Rule', {
      description: `Rotate when ACM has renewed ${props.acm.certificateArn}`,
      eventPattern: {
        source: ['aws.acm'],
        detailType: ['ACM Certificate Available'],
        resources: [props.acm.certificateArn],
        detail: { Action: ['RENEWAL'] },
      },
      targets: [new targets.SfnStateMachine(props.stateMachine, { input: events.RuleTargetInput.fromObject({ source: { acm: {} } }) })],
    });
  }
}
