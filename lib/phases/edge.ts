import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { ResolvedEdge } from '../config';
import type { EdgePollEvent } from '../../lambdas/edge-poll';
import type { EdgePrepareEvent } from '../../lambdas/edge-prepare';
import type { EdgeSwitchEvent } from '../../lambdas/edge-switch';
import type { EdgeVerifyEvent } from '../../lambdas/edge-verify';
import { RotationFunction } from '../rotation-function';
import { ARTIFACTS } from '../storage';
import {
  DESCRIBE_EDGE,
  ERR,
  EXECUTION_NAME,
  Phase,
  STATE,
  allow,
  arns,
  listArtifacts,
  payloadFor,
  task,
  verifyAttempts,
  type Functions,
  type PhaseContext,
  type PhaseProps,
  type Timing,
} from '../workflow';

type EdgeHandlers = 'edge-prepare' | 'edge-switch' | 'edge-poll' | 'edge-verify';

export interface EdgeProps extends PhaseProps {
  readonly functions: Functions<EdgeHandlers>;
}

/** Seconds of work after which a batch invocation starts no new target (the Lambda timeout is 15 minutes). */
export const SWITCH_BUDGET_SECONDS = 600;

/** Polls of the CloudFront wait before its deadline: the timeout divided by the interval, plus the first one. */
export function deployRounds(edge: ResolvedEdge): number {
  return Math.ceil(edge.deployTimeoutSeconds / edge.deployPollSeconds) + 1;
}

/**
 * IAM propagation to ELB/ELBv2: AWS's ELB troubleshooting page says to allow up to about 15
 * minutes before `CertificateNotFound` is final. 15 s doubling over 6 attempts waits 945 s.
 */
function retryIamPropagation(t: sfn.TaskStateBase): void {
  t.addRetry({ errors: [ERR.notPropagated], interval: Duration.seconds(15), maxAttempts: 6, backoffRate: 2 });
}

/** The Wait/Choice loop that polls every distribution of the plan at once until all are Deployed. */
export function cloudFrontWait(o: {
  readonly scope: Construct;
  readonly ids: { readonly start: string; readonly poll: string; readonly choice: string; readonly wait: string };
  readonly names: { readonly start: string; readonly poll: string; readonly choice: string; readonly wait: string };
  readonly handler: RotationFunction;
  readonly edge: ResolvedEdge;
  readonly timing: Timing;
  readonly purpose: 'rollout' | 'rollback';
  readonly resultPath: string;
  readonly next: sfn.IChainable;
  readonly onError: sfn.IChainable;
  readonly errorPath: string;
}): sfn.State {
  const start = new sfn.Pass(o.scope, o.ids.start, {
    stateName: o.names.start,
    result: sfn.Result.fromObject({ rounds: 0 }),
    resultPath: o.resultPath,
  });
  const poll = task({
    scope: o.scope,
    id: o.ids.poll,
    stateName: o.names.poll,
    handler: o.handler,
    payload: payloadFor<EdgePollEvent>({
      executionName: EXECUTION_NAME,
      previous: sfn.JsonPath.objectAt(o.resultPath),
      maxRounds: deployRounds(o.edge),
      purpose: o.purpose,
    }),
    resultPath: o.resultPath,
    timing: o.timing,
  });
  poll.addCatch(o.onError, { errors: ['States.ALL'], resultPath: o.errorPath });
  const wait = new sfn.Wait(o.scope, o.ids.wait, {
    stateName: o.names.wait,
    time: sfn.WaitTime.duration(Duration.seconds(o.edge.deployPollSeconds)),
  });
  const choice = new sfn.Choice(o.scope, o.ids.choice, { stateName: o.names.choice })
    .when(sfn.Condition.booleanEquals(`${o.resultPath}.done`, true), o.next)
    .otherwise(wait.next(poll));
  start.next(poll).next(choice);
  return start;
}

/**
 * Phase 6: every other classic ELB listener, ELBv2 listener (default and SNI certificates) and
 * CloudFront distribution that served the old certificate switches to the new one, in parallel
 * per service, then waits until CloudFront is Deployed, then is verified.
 *
 * Scale: the targets stay in plan.json; a batch is a position in it. Each service is an inline
 * Map over a few coarse batches (MaxConcurrency per service), each batch a Lambda that works
 * through its targets with bounded concurrency, ledger first, and returns `done: false` when its
 * time budget runs out (the Choice invokes it again; the ledger is its progress, so nothing is
 * changed twice). The CloudFront wait is one Wait/Choice loop that polls every distribution at
 * once per round, up to a configurable deadline.
 *
 * Verified by: every target of every batch read back from the API and handshaken over TLS (SNI
 * per alias or the domain, none for a listener's default); details in S3, counts in the state.
 * Errors: IAM propagation is retried for up to ~15 minutes, transient AWS errors with backoff; a
 * verification that does not pass in time, the CloudFront deadline or any other error goes to the
 * failure path, which restores exactly what the ledger records.
 */
export class Edge extends Phase {
  /** What the edge switch may change: any listener and distribution (targets are discovered at run time; see lib/nag.ts). */
  static createFunctions(ctx: PhaseContext): Functions<EdgeHandlers> {
    const c = ctx.config;
    const bucket = ctx.storage.artifactBucket.bucketName;
    const sizes = JSON.stringify(c.edge.batchSize);
    const prepare = new RotationFunction(ctx.scope, 'EdgePrepare', {
      handler: 'edge-prepare',
      description: 'Splits the planned edge targets into batches',
      environment: { ARTIFACT_BUCKET: bucket, EDGE_BATCH_SIZES: sizes },
    });
    const switchFn = new RotationFunction(ctx.scope, 'EdgeSwitch', {
      handler: 'edge-switch',
      description: 'Switches one batch of edge targets, ledger first',
      timeout: Duration.minutes(15),
      environment: {
        ARTIFACT_BUCKET: bucket,
        EDGE_BATCH_SIZES: sizes,
        EDGE_CALL_CONCURRENCY: JSON.stringify(c.edge.callConcurrency),
        TIME_BUDGET_SECONDS: String(SWITCH_BUDGET_SECONDS),
      },
    });
    const poll = new RotationFunction(ctx.scope, 'EdgePoll', {
      handler: 'edge-poll',
      description: 'One round of the CloudFront deployment wait',
      environment: { ARTIFACT_BUCKET: bucket },
    });
    const verify = new RotationFunction(ctx.scope, 'EdgeVerify', {
      handler: 'edge-verify',
      description: 'Verifies one batch of edge targets over the API and TLS',
      timeout: Duration.minutes(5),
      environment: { ARTIFACT_BUCKET: bucket, EDGE_BATCH_SIZES: sizes, DOMAIN: c.domain },
    });
    const a = arns(ctx);
    allow(prepare, ['s3:GetObject'], [a.artifacts(ARTIFACTS.plan)]);
    listArtifacts(ctx, prepare);

    allow(switchFn, [...DESCRIBE_EDGE], ['*']);
    allow(switchFn, ['elasticloadbalancing:SetLoadBalancerListenerSSLCertificate'], [a.anyClassicElb]);
    allow(
      switchFn,
      [
        'elasticloadbalancing:ModifyListener',
        'elasticloadbalancing:AddListenerCertificates',
        'elasticloadbalancing:RemoveListenerCertificates',
      ],
      [a.anyV2Listener],
    );
    allow(switchFn, ['cloudfront:GetDistributionConfig', 'cloudfront:UpdateDistribution'], [a.anyDistribution]);
    allow(switchFn, ['s3:GetObject'], [a.artifacts(ARTIFACTS.plan)]);
    allow(switchFn, ['s3:GetObject', 's3:PutObject'], [a.artifacts(ARTIFACTS.ledger), a.artifacts(ARTIFACTS.edge)]);
    listArtifacts(ctx, switchFn);

    allow(poll, ['cloudfront:ListDistributions'], ['*']);
    allow(poll, ['s3:GetObject'], [a.artifacts(ARTIFACTS.plan)]);
    listArtifacts(ctx, poll);

    allow(verify, [...DESCRIBE_EDGE, 'cloudfront:ListDistributions'], ['*']);
    allow(verify, ['s3:GetObject'], [a.artifacts(ARTIFACTS.plan), a.artifacts(ARTIFACTS.ledger)]);
    allow(verify, ['s3:PutObject'], [a.artifacts(ARTIFACTS.edge)]);
    listArtifacts(ctx, verify);
    return { 'edge-prepare': prepare, 'edge-switch': switchFn, 'edge-poll': poll, 'edge-verify': verify };
  }

  public readonly startState: sfn.State;

  constructor(ctx: PhaseContext, props: EdgeProps) {
    super('Edge', 'edge', [props.next, props.onError]);
    const scope = ctx.scope;
    const c = ctx.config;
    const t = c.timing;
    const prepare = task({
      scope,
      id: 'EdgePrepare',
      stateName: STATE.edgePrepare,
      handler: props.functions['edge-prepare'],
      payload: payloadFor<EdgePrepareEvent>({ executionName: EXECUTION_NAME }),
      resultPath: '$.edgeBatches',
      timing: t,
      onError: props.onError,
    });

    // What every batch needs besides its id (the batch's targets come from plan.json).
    const itemSelector = {
      executionName: EXECUTION_NAME,
      batch: sfn.JsonPath.objectAt('$$.Map.Item.Value'),
      current: {
        arn: sfn.JsonPath.stringAt('$.current.arn'),
        id: sfn.JsonPath.stringAt('$.current.id'),
        sha256: sfn.JsonPath.stringAt('$.current.sha256'),
      },
      uploaded: { arn: sfn.JsonPath.stringAt('$.uploaded.arn'), id: sfn.JsonPath.stringAt('$.uploaded.id') },
      newSha256: sfn.JsonPath.stringAt('$.validation.summary.sha256'),
    };
    const batchEvent = {
      executionName: sfn.JsonPath.stringAt('$.executionName'),
      batch: sfn.JsonPath.objectAt('$.batch'),
      current: {
        arn: sfn.JsonPath.stringAt('$.current.arn'),
        id: sfn.JsonPath.stringAt('$.current.id'),
        sha256: sfn.JsonPath.stringAt('$.current.sha256'),
      },
      uploaded: { arn: sfn.JsonPath.stringAt('$.uploaded.arn'), id: sfn.JsonPath.stringAt('$.uploaded.id') },
      newSha256: sfn.JsonPath.stringAt('$.newSha256'),
    };
    const service = (
      kind: 'elb' | 'elbv2' | 'cloudfront',
      id: string,
      names: { map: string; batch: string; choice: string; done: string },
    ) => {
      const batch = task({
        scope,
        id: `EdgeSwitch${id}Batch`,
        stateName: names.batch,
        handler: props.functions['edge-switch'],
        payload: payloadFor<EdgeSwitchEvent>(batchEvent),
        resultPath: '$.result',
        timing: t,
      });
      retryIamPropagation(batch);
      const done = new sfn.Succeed(scope, `EdgeSwitch${id}Done`, { stateName: names.done, outputPath: '$.result' });
      const choice = new sfn.Choice(scope, `EdgeSwitch${id}Choice`, { stateName: names.choice })
        .when(sfn.Condition.booleanEquals('$.result.done', true), done)
        // Its time budget ran out: the same batch again, which resumes from the ledger.
        .otherwise(batch);
      batch.next(choice);
      return new sfn.Map(scope, `EdgeSwitch${id}Map`, {
        stateName: names.map,
        itemsPath: `$.edgeBatches.${kind}`,
        itemSelector,
        maxConcurrency: c.edge.maxConcurrency[kind],
      }).itemProcessor(batch);
    };
    const parallel = new sfn.Parallel(scope, 'EdgeSwitchAll', { stateName: STATE.edgeSwitch, resultPath: '$.edgeSwitch' })
      .branch(
        service('elb', 'Elb', {
          map: STATE.edgeSwitchElb,
          batch: STATE.edgeSwitchElbBatch,
          choice: STATE.edgeSwitchElbChoice,
          done: STATE.edgeSwitchElbDone,
        }),
      )
      .branch(
        service('elbv2', 'Elbv2', {
          map: STATE.edgeSwitchElbv2,
          batch: STATE.edgeSwitchElbv2Batch,
          choice: STATE.edgeSwitchElbv2Choice,
          done: STATE.edgeSwitchElbv2Done,
        }),
      )
      .branch(
        service('cloudfront', 'Cloudfront', {
          map: STATE.edgeSwitchCloudfront,
          batch: STATE.edgeSwitchCloudfrontBatch,
          choice: STATE.edgeSwitchCloudfrontChoice,
          done: STATE.edgeSwitchCloudfrontDone,
        }),
      );
    parallel.addCatch(props.onError, { errors: ['States.ALL'], resultPath: '$.error' });

    const verifyBatch = task({
      scope,
      id: 'EdgeVerifyBatch',
      stateName: STATE.edgeVerifyBatch,
      handler: props.functions['edge-verify'],
      payload: payloadFor<EdgeVerifyEvent>({
        executionName: batchEvent.executionName,
        batch: batchEvent.batch,
        current: { arn: sfn.JsonPath.stringAt('$.current.arn'), id: sfn.JsonPath.stringAt('$.current.id') },
        uploaded: batchEvent.uploaded,
        newSha256: batchEvent.newSha256,
      }),
      resultPath: '$.result',
      // The iteration's output: only what was seen (counts and where the details are).
      outputPath: '$.result',
      timing: t,
    });
    verifyBatch.addRetry({
      errors: [ERR.verification],
      interval: Duration.seconds(t.verifyIntervalSeconds),
      maxAttempts: verifyAttempts(t),
      backoffRate: 1,
    });
    const verify = new sfn.Map(scope, 'EdgeVerifyMap', {
      stateName: STATE.edgeVerify,
      itemsPath: '$.edgeBatches.all',
      itemSelector,
      maxConcurrency: c.edge.maxConcurrency.elb + c.edge.maxConcurrency.elbv2 + c.edge.maxConcurrency.cloudfront,
      resultPath: '$.edgeVerify',
    }).itemProcessor(verifyBatch);
    verify.addCatch(props.onError, { errors: ['States.ALL'], resultPath: '$.error' });
    verify.next(props.next);

    const wait = cloudFrontWait({
      scope,
      ids: { start: 'EdgeDeployStart', poll: 'EdgePoll', choice: 'EdgeDeployChoice', wait: 'EdgeDeployWait' },
      names: { start: STATE.edgeDeployStart, poll: STATE.edgePoll, choice: STATE.edgeDeployChoice, wait: STATE.edgeDeployWait },
      handler: props.functions['edge-poll'],
      edge: c.edge,
      timing: t,
      purpose: 'rollout',
      resultPath: '$.edgeDeploy',
      next: verify,
      onError: props.onError,
      errorPath: '$.error',
    });
    prepare.next(parallel).next(wait);
    this.startState = prepare;
  }
}
