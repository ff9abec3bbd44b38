/**
 * The expiry schedule (lib/schedule.ts): the EventBridge rule, the DaysToExpiry alarm, the check's
 * alarm on its own errors, and least privilege of the check's role.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { RotationNotifications } from '../../lib/notifications';
import { ExpirySchedule } from '../../lib/schedule';
import { RotationStorage } from '../../lib/storage';
import { resolveConfig } from '../../lib/config';
import {
  exampleConfig,
  exampleRawConfig,
  isXRay,
  logicalIdOf,
  policyStatements,
  synthesize,
  type CfnTemplate,
  type Statement,
  type Synthesized,
} from './synth-helpers';

let s: Synthesized;

beforeAll(() => {
  s = synthesize(exampleConfig());
});

const checkStatements = (json: CfnTemplate, schedule: ExpirySchedule): Statement[] =>
  policyStatements(json, logicalIdOf(schedule.function.function.role!)).filter((st) => !isXRay(st));

/** A schedule alone in a stack, with or without an automatic source. */
function standalone(automaticSource?: { kind: string; input: Record<string, unknown> }) {
  const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Standalone');
  const schedule = new ExpirySchedule(stack, 'Schedule', {
    config: exampleConfig(),
    stateMachine: sfn.StateMachine.fromStateMachineArn(
      stack,
      'Sm',
      'arn:aws:states:eu-west-1:123456789012:stateMachine:CertRotation-gitter-im',
    ),
    notifications: new RotationNotifications(stack, 'Notifications', { emails: ['ops@example.com'] }),
    storage: new RotationStorage(stack, 'Storage'),
    ...(automaticSource ? { automaticSource } : {}),
  });
  const template = Template.fromStack(stack);
  return { schedule, template, json: template.toJSON() as CfnTemplate };
}

describe('the rule', () => {
  test('runs the expiry check on the configured expression, with a fixed name and the event time as input', () => {
    const fnId = logicalIdOf(s.stack.schedule.function.function);
    s.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 9 * * ? *)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [fnId, 'Arn'] },
          InputTransformer: { InputPathsMap: { time: '$.time' }, InputTemplate: '{"executionName":"expiry-check","time":<time>}' },
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }),
        }),
      ],
    });
  });

  test('schedule.enabled false keeps the rule, disabled (and schedule.expression is used as written)', () => {
    const raw = { ...exampleRawConfig(), schedule: { enabled: false, expression: 'rate(12 hours)' } };
    const disabled = synthesize(resolveConfig(raw));
    disabled.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(12 hours)', State: 'DISABLED' });
  });
});

describe('alarms', () => {
  test('DaysToExpiry of the domain below half the threshold notifies the topic', () => {
    const topic = logicalIdOf(s.stack.node.findChild('Notifications').node.findChild('Topic'));
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CertRotation',
      MetricName: 'DaysToExpiry',
      Dimensions: [{ Name: 'Domain', Value: 'gitter.im' }],
      Statistic: 'Minimum',
      Period: 86400,
      Threshold: 15,
      ComparisonOperator: 'LessThanThreshold',
      AlarmActions: [{ Ref: topic }],
    });
  });

  test('the threshold follows schedule.daysBeforeExpiry', () => {
    const raw = { ...exampleRawConfig(), schedule: { daysBeforeExpiry: 21 } };
    synthesize(resolveConfig(raw)).template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DaysToExpiry',
      Threshold: 10.5,
    });
  });

  test('the check failing (Lambda errors) notifies the topic', () => {
    const fnId = logicalIdOf(s.stack.schedule.function.function);
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });
});

describe('least privilege of the expiry check', () => {
  test('without an automatic source: lists its own state machine, never starts it; reads the canary; its own metric namespace; publishes', () => {
    const statements = checkStatements(s.json, s.stack.schedule).map(({ actions, resources, conditions }) => ({
      actions: [...actions].sort(),
      resources,
      ...(conditions ? { conditions } : {}),
    }));
    const smId = logicalIdOf(s.stack.rotation.stateMachine);
    expect(statements).toEqual(
      expect.arrayContaining([
        { actions: ['states:ListExecutions'], resources: [`\${${smId}}`] },
        {
          actions: ['ec2:DescribeSecurityGroups', 'elasticloadbalancing:DescribeLoadBalancers', 'iam:ListServerCertificates'],
          resources: ['*'],
        },
        { actions: ['iam:GetServerCertificate'], resources: ['arn:${AWS::Partition}:iam::${AWS::AccountId}:server-certificate/*'] },
        {
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          conditions: { StringEquals: { 'cloudwatch:namespace': 'CertRotation' } },
        },
      ]),
    );
    const actions = statements.flatMap((st) => st.actions);
    expect(actions).not.toContain('states:StartExecution');
    expect(
      actions.filter(
        (a) =>
          !/^(states:ListExecutions|elasticloadbalancing:DescribeLoadBalancers|ec2:DescribeSecurityGroups|iam:(List|Get)ServerCertificates?|cloudwatch:PutMetricData|sns:Publish|kms:(Decrypt|GenerateDataKey\*))$/.test(
            a,
          ),
      ),
    ).toEqual([]);
  });

  test('with an automatic source: may start exactly its state machine, and the source is in its environment', () => {
    const { schedule, json } = standalone({ kind: 'acme', input: { acme: {} } });
    const starts = checkStatements(json, schedule).filter((st) => st.actions.includes('states:StartExecution'));
    expect(starts.map((st) => ({ actions: st.actions, resources: st.resources }))).toEqual([
      { actions: ['states:StartExecution'], resources: ['arn:aws:states:eu-west-1:123456789012:stateMachine:CertRotation-gitter-im'] },
    ]);
    const fn = json.Resources[logicalIdOf(schedule.function.function)];
    expect((fn.Properties?.Environment as { Variables: Record<string, string> }).Variables.AUTOMATIC_SOURCE).toBe(
      '{"kind":"acme","input":{"acme":{}}}',
    );
  });
});
