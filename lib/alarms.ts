import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface RotationAlarmsProps {
  readonly stateMachine: sfn.StateMachine;
  readonly topic: sns.ITopic;
}

/** Alarms on failed, timed-out and aborted executions, to the notifications topic. */
export class RotationAlarms extends Construct {
  public readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: RotationAlarmsProps) {
    super(scope, id);
    const sm = props.stateMachine;
    const metrics: Array<[string, cloudwatch.Metric]> = [
      ['Failed', sm.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' })],
      ['TimedOut', sm.metricTimedOut({ period: Duration.minutes(5), statistic: 'Sum' })],
      ['Aborted', sm.metricAborted({ period: Duration.minutes(5), statistic: 'Sum' })],
    ];
    this.alarms = metrics.map(([name, metric]) => {
      const alarm = new cloudwatch.Alarm(this, name, {
        alarmDescription: `A certificate rotation execution ${name.toLowerCase()}: check the report and the targets`,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(new actions.SnsAction(props.topic));
      return alarm;
    });
  }
}
