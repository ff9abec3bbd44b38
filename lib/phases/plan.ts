import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Duration } from 'aws-cdk-lib';
import type { PlanEvent } from '../../lambdas/plan';
import { RotationFunction } from '../rotation-function';
import { ARTIFACTS } from '../storage';
import {
  DESCRIBE_EDGE,
  EXECUTION_NAME,
  Phase,
  STATE,
  allow,
  arns,
  canaryEnvironment,
  listArtifacts,
  payloadFor,
  task,
  type Functions,
  type PhaseContext,
  type PhaseProps,
} from '../workflow';

export interface PlanProps extends PhaseProps {
  readonly functions: Functions<'plan'>;
}

/**
 * Phase 3: find every listener, distribution and node that serves the current certificate, and
 * write the plan (the targets the later phases may change, and what rollback may touch).
 *
 * Verified by: the plan handler's discovery (describe calls only) and the plan document it writes.
 * Errors: go to the failure path; nothing has changed yet (an empty ledger).
 */
export class Plan extends Phase {
  /** The plan function: describe calls, the plan document, and its own discovery results. */
  static createFunctions(ctx: PhaseContext): Functions<'plan'> {
    const c = ctx.config;
    const fn = new RotationFunction(ctx.scope, 'Plan', {
      handler: 'plan',
      description: 'Finds every listener, distribution and node to rotate',
      timeout: Duration.minutes(5),
      environment: {
        ...canaryEnvironment(c),
        ARTIFACT_BUCKET: ctx.storage.artifactBucket.bucketName,
        EDGE_SELECTION: JSON.stringify({ include: c.edge.include, exclude: c.edge.exclude }),
        NODE_PHASES: JSON.stringify(c.nodePhases.map((p) => ({ name: p.name, targets: p.targets }))),
        UNAVAILABLE_NODES: c.nodeRollout.unavailableNodes,
      },
    });
    const a = arns(ctx);
    // ssm:DescribeInstanceInformation: which nodes SSM manages and are Online (no resource-level scoping).
    allow(fn, [...DESCRIBE_EDGE, 'cloudfront:ListDistributions', 'ec2:DescribeInstances', 'ssm:DescribeInstanceInformation'], ['*']);
    allow(fn, ['s3:PutObject'], [a.artifacts(ARTIFACTS.plan)]);
    // Its own discovery results, so that a retried Plan resumes (lambdas/plan/domain.ts discoverOnce).
    allow(fn, ['s3:GetObject', 's3:PutObject'], [a.artifacts(ARTIFACTS.discovery)]);
    listArtifacts(ctx, fn);
    return { plan: fn };
  }

  public readonly startState: sfn.State;

  constructor(ctx: PhaseContext, props: PlanProps) {
    super('Plan', 'plan', [props.next, props.onError]);
    const plan = task({
      scope: ctx.scope,
      id: 'Plan',
      stateName: STATE.plan,
      handler: props.functions.plan,
      payload: payloadFor<PlanEvent>({
        executionName: EXECUTION_NAME,
        current: sfn.JsonPath.objectAt('$.current'),
      }),
      resultPath: '$.plan',
      timing: ctx.config.timing,
      onError: props.onError,
    });
    plan.next(props.next);
    this.startState = plan;
  }
}
