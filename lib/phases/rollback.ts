import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { FinishEvent } from '../../lambdas/finish';
import type { NodePollEvent } from '../../lambdas/node-poll';
import type { NodeRollbackEvent } from '../../lambdas/node-rollback';
import type { RollbackEvent } from '../../lambdas/rollback';
import type { VerifyRollbackEvent } from '../../lambdas/verify-rollback';
import { RotationFunction } from '../rotation-function';
import { SWITCH_BUDGET_SECONDS, cloudFrontWait } from './edge';
import { documentEnvironment, nodePollRounds, sendCommandResources } from './node-phase';
import { ARTIFACTS } from '../storage';
import {
  DESCRIBE_EDGE,
  ERR,
  EXECUTION_NAME,
  Phase,
  STATE,
  allow,
  arns,
  gateTimeoutPath,
  listArtifacts,
  payloadFor,
  retryPropagation,
  task,
  verifyAttempts,
  type Functions,
  type PhaseContext,
} from '../workflow';

export interface RollbackProps {
  readonly functions: Functions<'rollback' | 'verify-rollback' | 'finish' | 'edge-poll' | 'node-rollback' | 'node-poll'>;
  /**
   * A phase that runs after the rollback, right before its report (the PagerDuty window's close),
   * built with the report as its `next`. @default none
   */
  readonly beforeReport?: (report: sfn.State, path: 'failure' | 'stopped') => Phase;
}

/**
 * The failure path: rollback (edge, then nodes) -> verify -> [close the PagerDuty window] -> report -> fail. Every phase's errors,
 * rejections and gate timeouts come here. Rollback restores exactly what the change ledger records
 * (nothing before the upload changes anything, so a refusal there rolls back an empty ledger): the
 * edge first (switches are quick; CloudFront deploys them while the nodes go back), then every node
 * the ledger proves changed gets the deploy document's `rollback` action (by instance id), polled
 * in a Wait/Choice loop.
 *
 * Verified by: verify-rollback checks every restored edge target over the API and TLS, and every
 * node by its own report (its handshake to its local nginx) and a TLS handshake where reachable,
 * retried while a target may still be switching back.
 * Errors: rollback problems are reported, never hidden: when the rollback failed, left targets
 * alone or could not be verified, the execution fails with `RollbackIncomplete` (its Cause names
 * every target not back and the original error), else with the original error. When the report
 * itself fails, a rollback error still fails as `RollbackIncomplete`.
 */
export class Rollback extends Phase {
  /**
   * Rollback may switch back exactly what the phases that exist can change: the canary and the
   * edge phase's classic listeners, ELBv2 listeners (default and SNI) and distributions, which
   * are discovered at run time (so any of them; reasons in lib/nag.ts). What it acts on is still
   * only what the ledger can prove against this execution's plan and upload (lambdas/rollback).
   */
  static createFunctions(ctx: PhaseContext): Functions<'rollback' | 'verify-rollback' | 'node-rollback'> {
    const bucket = ctx.storage.artifactBucket.bucketName;
    const rollback = new RotationFunction(ctx.scope, 'Rollback', {
      handler: 'rollback',
      description: 'Restores every target the change ledger records',
      timeout: Duration.minutes(15),
      // Work stops starting new targets after this; the state machine invokes rollback again.
      environment: { ARTIFACT_BUCKET: bucket, TIME_BUDGET_SECONDS: String(SWITCH_BUDGET_SECONDS) },
    });
    const verifyRollback = new RotationFunction(ctx.scope, 'VerifyRollback', {
      handler: 'verify-rollback',
      description: 'Verifies restored targets over the API and TLS',
      timeout: Duration.minutes(5),
      environment: { DOMAIN: ctx.config.domain, ARTIFACT_BUCKET: bucket },
    });
    const a = arns(ctx);
    allow(rollback, [...DESCRIBE_EDGE], ['*']);
    allow(rollback, ['elasticloadbalancing:SetLoadBalancerListenerSSLCertificate'], [a.anyClassicElb]);
    allow(
      rollback,
      [
        'elasticloadbalancing:ModifyListener',
        'elasticloadbalancing:AddListenerCertificates',
        'elasticloadbalancing:RemoveListenerCertificates',
      ],
      [a.anyV2Listener],
    );
    allow(rollback, ['cloudfront:GetDistributionConfig', 'cloudfront:UpdateDistribution'], [a.anyDistribution]);
    // Proves ownership by IAM's tag (GetServerCertificate) before deleting; only under the rotation path.
    allow(rollback, ['iam:GetServerCertificate', 'iam:DeleteServerCertificate'], [a.rotationCerts]);
    allow(rollback, ['s3:GetObject', 's3:PutObject'], [a.artifacts(ARTIFACTS.ledger)]);
    allow(rollback, ['s3:GetObject'], [a.artifacts(ARTIFACTS.plan)]);
    listArtifacts(ctx, rollback);

    allow(verifyRollback, [...DESCRIBE_EDGE, 'cloudfront:GetDistributionConfig'], ['*']);
    allow(verifyRollback, ['s3:GetObject'], [a.artifacts(ARTIFACTS.ledger)]);
    listArtifacts(ctx, verifyRollback);

    // The node part: the deploy document's rollback action, by instance id, to the nodes the ledger proves changed.
    const nodeRollback = new RotationFunction(ctx.scope, 'NodeRollback', {
      handler: 'node-rollback',
      description: 'Sends the rollback action of the deploy document to every node the ledger proves changed',
      timeout: Duration.minutes(5),
      environment: {
        ARTIFACT_BUCKET: bucket,
        NODE_MAX_CONCURRENCY: JSON.stringify(Object.fromEntries(ctx.config.nodePhases.map((p) => [p.name, p.maxConcurrency]))),
        ...documentEnvironment(ctx),
      },
    });
    allow(nodeRollback, ['ssm:SendCommand'], sendCommandResources(ctx));
    allow(nodeRollback, ['ssm:ListCommands'], ['*']);
    allow(nodeRollback, ['iam:GetServerCertificate'], [a.rotationCerts]);
    allow(nodeRollback, ['s3:GetObject', 's3:PutObject'], [a.artifacts(ARTIFACTS.ledger), a.artifacts(ARTIFACTS.nodes)]);
    allow(nodeRollback, ['s3:GetObject'], [a.artifacts(ARTIFACTS.plan)]);
    listArtifacts(ctx, nodeRollback);
    return { rollback, 'verify-rollback': verifyRollback, 'node-rollback': nodeRollback };
  }

  public readonly startState: sfn.State;
  /** Where a gate timeout goes (`approvals.onTimeout`): the rollback, or the stop report that keeps every change. */
  public readonly onTimeout: sfn.State;
  private readonly report: sfn.State;
  private readonly beforeReport: Phase | undefined;
  /** With `approvals.onTimeout: stop`: the stop report, and the phase before it (when there is one). */
  private readonly stopReport: sfn.State | undefined;
  private readonly beforeStop: Phase | undefined;

  constructor(ctx: PhaseContext, props: RollbackProps) {
    super('Rollback', 'rollback');
    const scope = ctx.scope;
    const t = ctx.config.timing;
    const report = task({
      scope,
      id: 'FinishFailure',
      stateName: STATE.finishFailure,
      handler: props.functions.finish,
      payload: payloadFor<FinishEvent>({
        executionName: EXECUTION_NAME,
        succeeded: false,
        state: sfn.JsonPath.entirePayload,
      }),
      resultPath: '$.report',
      timing: t,
    });
    const fail = new sfn.Fail(scope, 'Failed', { stateName: STATE.failed, errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const rollbackVerified = new sfn.Choice(scope, 'RollbackVerified', { stateName: STATE.rollbackVerified })
      .when(
        sfn.Condition.and(sfn.Condition.isPresent('$.report.status'), sfn.Condition.stringEquals('$.report.status', 'ROLLBACK_INCOMPLETE')),
        new sfn.Fail(scope, 'RollbackIncomplete', {
          stateName: STATE.rollbackIncomplete,
          error: ERR.rollbackIncomplete,
          causePath: '$.report.rollbackCause',
        }),
      )
      // The report could not be written (so it could not decide): a rollback error still means incomplete.
      .when(
        sfn.Condition.isPresent('$.rollbackError'),
        new sfn.Fail(scope, 'RollbackIncompleteUnreported', {
          stateName: STATE.rollbackIncompleteUnreported,
          error: ERR.rollbackIncomplete,
          cause:
            'the rollback failed or could not be verified, and the report could not be written: see the rollback states in the execution history',
        }),
      )
      .otherwise(fail);
    report.addCatch(rollbackVerified, { errors: ['States.ALL'], resultPath: '$.reportError' });
    // Every way to the report passes the phase before it (when there is one).
    const beforeReport = props.beforeReport?.(report, 'failure');
    const toReport = beforeReport ?? report;

    const rollback = task({
      scope,
      id: 'Rollback',
      stateName: STATE.rollback,
      handler: props.functions.rollback,
      payload: payloadFor<RollbackEvent>({
        executionName: EXECUTION_NAME,
        state: sfn.JsonPath.entirePayload,
      }),
      resultPath: '$.rollback',
      timing: t,
    });
    retryPropagation(rollback, t);
    // Its time budget ran out with targets left: invoke it again (it resumes from the ledger).
    const rollbackDone = new sfn.Choice(scope, 'RollbackChoice', { stateName: STATE.rollbackChoice });

    const verify = task({
      scope,
      id: 'VerifyRollback',
      stateName: STATE.verifyRollback,
      handler: props.functions['verify-rollback'],
      payload: payloadFor<VerifyRollbackEvent>({ executionName: EXECUTION_NAME }),
      resultPath: '$.rollbackVerification',
      timing: t,
    });
    verify.addRetry({
      errors: [ERR.verification],
      interval: Duration.seconds(t.verifyIntervalSeconds),
      maxAttempts: verifyAttempts(t),
      backoffRate: 1,
    });
    verify.addCatch(toReport, { errors: ['States.ALL'], resultPath: '$.rollbackError' });

    // CloudFront restores are Deployed before they are verified (the same wait loop as the rollout).
    const waitForCloudFront = cloudFrontWait({
      scope,
      ids: { start: 'RollbackDeployStart', poll: 'RollbackPoll', choice: 'RollbackDeployChoice', wait: 'RollbackDeployWait' },
      names: {
        start: STATE.rollbackDeployStart,
        poll: STATE.rollbackPoll,
        choice: STATE.rollbackDeployChoice,
        wait: STATE.rollbackDeployWait,
      },
      handler: props.functions['edge-poll'],
      edge: ctx.config.edge,
      timing: t,
      purpose: 'rollback',
      resultPath: '$.rollbackDeploy',
      next: verify,
      onError: toReport,
      errorPath: '$.rollbackError',
    });
    // Then the nodes (while CloudFront deploys the edge's restores): the deploy document's rollback
    // action to the nodes the ledger proves changed, polled in a Wait/Choice loop. A rollback error
    // (edge or nodes) is kept in $.rollbackError, and what can still go back goes back.
    const nodeRollback = task({
      scope,
      id: 'NodeRollback',
      stateName: STATE.nodeRollback,
      handler: props.functions['node-rollback'],
      payload: payloadFor<NodeRollbackEvent>({ executionName: EXECUTION_NAME }),
      resultPath: '$.nodeRollback',
      timing: t,
    });
    rollback.addCatch(nodeRollback, { errors: ['States.ALL'], resultPath: '$.rollbackError' });
    nodeRollback.addCatch(waitForCloudFront, { errors: ['States.ALL'], resultPath: '$.rollbackError' });
    const nodeStart = new sfn.Pass(scope, 'NodeRollbackPollStart', {
      stateName: STATE.nodeRollbackStart,
      result: sfn.Result.fromObject({ rounds: 0 }),
      resultPath: '$.nodeRollbackPoll',
    });
    const nodeWait = new sfn.Wait(scope, 'NodeRollbackWait', {
      stateName: STATE.nodeRollbackWait,
      time: sfn.WaitTime.duration(Duration.seconds(ctx.config.nodeRollout.pollSeconds)),
    });
    const nodePoll = task({
      scope,
      id: 'NodeRollbackPoll',
      stateName: STATE.nodeRollbackPoll,
      handler: props.functions['node-poll'],
      payload: payloadFor<NodePollEvent>({
        executionName: EXECUTION_NAME,
        purpose: 'rollback',
        previous: sfn.JsonPath.objectAt('$.nodeRollbackPoll'),
        maxRounds: nodePollRounds(ctx.config),
      }),
      resultPath: '$.nodeRollbackPoll',
      timing: t,
    });
    nodePoll.addCatch(waitForCloudFront, { errors: ['States.ALL'], resultPath: '$.rollbackError' });
    const nodeDone = new sfn.Choice(scope, 'NodeRollbackDone', { stateName: STATE.nodeRollbackDone })
      .when(sfn.Condition.booleanEquals('$.nodeRollbackPoll.done', true), waitForCloudFront)
      .otherwise(nodeWait);
    const nodeAny = new sfn.Choice(scope, 'NodeRollbackAny', { stateName: STATE.nodeRollbackAny })
      .when(sfn.Condition.booleanEquals('$.nodeRollback.done', true), waitForCloudFront)
      .otherwise(nodeStart);
    nodeRollback.next(nodeAny);
    nodeStart.next(nodeWait);
    nodeWait.next(nodePoll);
    nodePoll.next(nodeDone);

    rollback.next(rollbackDone);
    rollbackDone.when(sfn.Condition.booleanEquals('$.rollback.done', false), rollback).otherwise(nodeRollback);
    verify.next(toReport);
    report.next(rollbackVerified);
    this.startState = rollback;
    const timeoutPath = gateTimeoutPath({
      scope,
      onTimeout: ctx.config.approvals.onTimeout,
      rollback,
      finish: props.functions.finish,
      timing: t,
    });
    // A stop keeps every change and ends there: its report gets the phase before it too.
    this.stopReport = timeoutPath === rollback ? undefined : timeoutPath;
    this.beforeStop = this.stopReport ? props.beforeReport?.(this.stopReport, 'stopped') : undefined;
    this.onTimeout = this.beforeStop?.startState ?? timeoutPath;
    this.report = report;
    this.beforeReport = beforeReport;
  }

  /** Its restore reports as `rollback`; the failure report, the stop report (onTimeout: stop) and the Fail states as `finish`. */
  protected override parts() {
    const stop = this.stopReport ? [this.stopReport] : [];
    const before = [
      ...(this.beforeReport ? [{ phase: this.beforeReport, until: [this.report] }] : []),
      ...(this.beforeStop ? [{ phase: this.beforeStop, until: stop }] : []),
    ];
    return [
      { name: 'rollback', starts: [this.startState], until: [this.beforeReport ?? this.report, this.report] },
      ...before.map((b) => ({ name: b.phase.reportPhase, starts: [b.phase.startState], until: b.until })),
      { name: 'finish', starts: [this.report, ...stop], until: [] },
    ];
  }
}
