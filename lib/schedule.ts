import * as path from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DAYS_TO_EXPIRY, type ExpiryCheckEvent } from '../lambdas/expiry-check';
import type { ResolvedConfig } from './config';
import type { RotationNotifications } from './notifications';
import { RotationFunction } from './rotation-function';
import type { AutomaticSource } from './schedule-source';
import type { RotationStorage } from './storage';
import { DESCRIBE_LOAD_BALANCERS, secretPrefix } from './workflow';

export interface ExpiryScheduleProps {
  readonly config: ResolvedConfig;
  readonly stateMachine: sfn.IStateMachine;
  readonly notifications: RotationNotifications;
  readonly storage: RotationStorage;
  /** The source scheduled rotations start with. @default none: the check emails the operator the steps */
  readonly automaticSource?: AutomaticSource;
}

/**
 * The daily expiry check (`schedule` in the config): an EventBridge rule runs the expiry-check
 * function, which reads the certificate in use (IAM and a TLS handshake to the canary endpoint),
 * publishes `DaysToExpiry` per domain, and under `daysBeforeExpiry` starts a rotation named
 * `scheduled-<date>` (with an automatic source) or emails the operator the steps.
 *
 * Alarms: `DaysToExpiry` below half the threshold (a rotation that should have happened has
 * not), and the check itself failing (a day without a decision is never silent).
 * Least privilege: it lists this state machine's executions, starts it only when an automatic
 * source is configured, and publishes its metric only in its own namespace.
 */
export class ExpirySchedule extends Construct {
  public readonly function: RotationFunction;
  public readonly rule: events.Rule;
  public readonly daysToExpiryAlarm: cloudwatch.Alarm;
  public readonly checkFailedAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ExpiryScheduleProps) {
    super(scope, id);
    const { config } = props;
    this.function = new RotationFunction(this, 'ExpiryCheck', {
      // Not a task of the workflow (HandlerName lists those): the rule invokes it.
      handler: { name: 'expiry-check', entry: path.join(__dirname, '..', 'lambdas', 'expiry-check', 'index.ts') },
      description: 'Daily: days left on the certificate in use; starts a rotation or emails the steps',
      environment: {
        DOMAIN: config.domain,
        CANARY_LOAD_BALANCER: config.canary.loadBalancerName,
        CANARY_PORT: String(config.canary.port),
        CANARY_ENDPOINT: config.canary.endpoint,
        STATE_MACHINE_ARN: props.stateMachine.stateMachineArn,
        TOPIC_ARN: props.notifications.topic.topicArn,
        DAYS_BEFORE_EXPIRY: String(config.schedule.daysBeforeExpiry),
        SECRET_PREFIX: secretPrefix(config),
        STAGING_BUCKET: props.storage.stagingBucket.bucketName,
        // null: no automatic source (the check emails the steps instead of starting a rotation).
        AUTOMATIC_SOURCE: JSON.stringify(props.automaticSource ?? null),
      },
    });
    const fn = this.function.function;
    const allow = (actionsList: string[], resources: string[], conditions?: Record<string, unknown>) =>
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: actionsList, resources, ...(conditions ? { conditions } : {}) }));
    allow(['states:ListExecutions'], [props.stateMachine.stateMachineArn]);
    if (props.automaticSource) allow(['states:StartExecution'], [props.stateMachine.stateMachineArn]);
    // The certificate in use, as the validate phase's "current" function reads it.
    allow([...DESCRIBE_LOAD_BALANCERS, 'iam:ListServerCertificates'], ['*']);
    allow(
      ['iam:GetServerCertificate'],
      [Stack.of(this).formatArn({ service: 'iam', region: '', resource: 'server-certificate', resourceName: '*' })],
    );
    allow(['cloudwatch:PutMetricData'], ['*'], { StringEquals: { 'cloudwatch:namespace': DAYS_TO_EXPIRY.namespace } });
    props.notifications.grantPublish(fn);

    this.rule = new events.Rule(this, 'Rule', {
      description: `Daily expiry check of the ${config.domain} certificate`,
      schedule: events.Schedule.expression(config.schedule.expression),
      enabled: config.schedule.enabled,
    });
    const input: ExpiryCheckEvent = { executionName: 'expiry-check', time: events.EventField.time };
    this.rule.addTarget(
      new targets.LambdaFunction(fn, {
        event: events.RuleTargetInput.fromObject(input),
        retryAttempts: 2,
        maxEventAge: Duration.hours(6),
      }),
    );

    const topicAction = new actions.SnsAction(props.notifications.topic);
    const half = config.schedule.daysBeforeExpiry / 2;
    this.daysToExpiryAlarm = new cloudwatch.Alarm(this, 'DaysToExpiryAlarm', {
      alarmDescription: `The ${config.domain} certificate in use has fewer than ${half} days left (half the ${config.schedule.daysBeforeExpiry}-day threshold): a rotation that should have happened has not`,
      metric: new cloudwatch.Metric({
        namespace: DAYS_TO_EXPIRY.namespace,
        metricName: DAYS_TO_EXPIRY.metricName,
        dimensionsMap: { [DAYS_TO_EXPIRY.dimension]: config.domain },
        statistic: 'Minimum',
        period: Duration.days(1),
      }),
      threshold: half,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      // No data is INSUFFICIENT_DATA, not OK: a check that stopped running is caught by the errors alarm or seen here.
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });
    this.daysToExpiryAlarm.addAlarmAction(topicAction);
    this.checkFailedAlarm = new cloudwatch.Alarm(this, 'CheckFailedAlarm', {
      alarmDescription: `The daily expiry check of ${config.domain} failed: no decision was made today (see its log group)`,
      metric: fn.metricErrors({ period: Duration.hours(1), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.checkFailedAlarm.addAlarmAction(topicAction);
  }
}
