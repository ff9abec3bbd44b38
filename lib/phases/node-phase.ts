import { Duration, Stack } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { NodePollEvent } from '../../lambdas/node-poll';
import type { NodeSendEvent } from '../../lambdas/node-send';
import type { ResolvedConfig } from '../config';
import { defaultDocumentName } from '../node-deployment';
import { RotationFunction } from '../rotation-function';
import { ARTIFACTS } from '../storage';
import {
  EXECUTION_NAME,
  Phase,
  allow,
  arns,
  listArtifacts,
  payloadFor,
  task,
  type Functions,
  type PhaseContext,
  type PhaseProps,
} from '../workflow';

type NodeHandlers = 'node-send' | 'node-poll';

/** A config node phase's name as an identifier: `prod-canary` -> `ProdCanary` (construct ids, JSONPath keys). */
export function pascalOf(name: string): string {
  return name
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

/** Where a node phase keeps its results in the state: `$.nodes.<camelCase name>`. */
export function nodeStatePath(name: string): string {
  const p = pascalOf(name);
  return `$.nodes.${p.charAt(0).toLowerCase()}${p.slice(1)}`;
}

/** The console names of one node phase's states. */
export function nodeStateNames(name: string) {
  return {
    send: `Nodes ${name}: record the ledger and send the deploy command`,
    anything: `Nodes ${name}: any node to deploy to?`,
    none: `Nodes ${name}: no node in this phase`,
    start: `Nodes ${name}: start polling the command`,
    wait: `Nodes ${name}: wait for the deploy command`,
    poll: `Nodes ${name}: read every node's result`,
    done: `Nodes ${name}: every node finished?`,
  };
}

/** Polls of a node phase before its deadline: the timeout divided by the interval, plus the first. */
export function nodePollRounds(config: ResolvedConfig): number {
  return Math.ceil(config.nodeRollout.timeoutSeconds / config.nodeRollout.pollSeconds) + 1;
}

/** The ARNs SendCommand is authorized on: the deploy document, and the instances (discovered at run time). */
export function sendCommandResources(ctx: PhaseContext): string[] {
  const stack = Stack.of(ctx.scope);
  return [
    stack.formatArn({ service: 'ssm', resource: 'document', resourceName: defaultDocumentName(ctx.config) }),
    stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' }),
  ];
}

/** The environment of the functions that send the deploy document. */
export function documentEnvironment(ctx: PhaseContext): Record<string, string> {
  return {
    DOCUMENT_NAME: defaultDocumentName(ctx.config),
    // SSM keeps trying to deliver to an unreachable node this long (the phase's own deadline).
    DELIVERY_TIMEOUT_SECONDS: String(ctx.config.nodeRollout.timeoutSeconds),
  };
}

export interface NodePhaseProps extends PhaseProps {
  readonly functions: Functions<NodeHandlers>;
  /** The config's node phase this builds. */
  readonly phase: ResolvedConfig['nodePhases'][number];
}

/**
 * Phases 7-9 (one per `nodePhases` entry: beta, the prod canary `ws-01`, the prod fleet): deploy
 * the certificate to the phase's nginx nodes with SSM Run Command. The send records one ledger
 * entry per node first, then sends the stack's deploy document (action `install`, the secret's ARN
 * and the expected SHA-256 as parameters, never the key) with the phase's MaxConcurrency and
 * MaxErrors (default "1" / "0": one node at a time, stop sending on the first error); by instance
 * id up to 50 nodes, by the phase's tags (`Targets`) beyond. Then a Wait/Choice loop polls the
 * command every `nodeRollout.pollSeconds` (nothing sleeps in a Lambda) until every node is final.
 *
 * Verified by: each node's own result (the script's TLS handshake to its local nginx must see the
 * new SHA-256), per node in `executions/<x>/nodes/install-<phase>/results.json`; the state and the
 * next gate's email carry the counts and the failures by name.
 * Errors: a node that failed, was never reached, or an instance the plan did not list stops the
 * phase (`NodeDeploymentFailed`, naming them) and goes to the failure path, which rolls back the
 * nodes that changed (document action `rollback`) and the edge. So does the deadline
 * (`nodeRollout.timeoutSeconds`).
 */
export class NodePhase extends Phase {
  /** The send and poll functions every node phase shares (SendCommand on the document and the instances; see lib/nag.ts). */
  static createFunctions(ctx: PhaseContext): Functions<NodeHandlers> {
    const c = ctx.config;
    const bucket = ctx.storage.artifactBucket.bucketName;
    const send = new RotationFunction(ctx.scope, 'NodeSend', {
      handler: 'node-send',
      description: 'Records the ledger and sends the deploy document to one node phase',
      timeout: Duration.minutes(5),
      environment: {
        ARTIFACT_BUCKET: bucket,
        NODE_PHASES: JSON.stringify(c.nodePhases),
        ...documentEnvironment(ctx),
      },
    });
    const poll = new RotationFunction(ctx.scope, 'NodePoll', {
      handler: 'node-poll',
      description: "One round of a node phase's (or the node rollback's) command poll",
      timeout: Duration.minutes(5),
      environment: { ARTIFACT_BUCKET: bucket },
    });
    const a = arns(ctx);
    allow(send, ['ssm:SendCommand'], sendCommandResources(ctx));
    // ListCommands (a retried send finds its own command) supports no resource-level scoping.
    allow(send, ['ssm:ListCommands'], ['*']);
    allow(send, ['s3:GetObject'], [a.artifacts(ARTIFACTS.plan)]);
    allow(send, ['s3:GetObject', 's3:PutObject'], [a.artifacts(ARTIFACTS.ledger), a.artifacts(ARTIFACTS.nodes)]);
    listArtifacts(ctx, send);

    allow(poll, ['ssm:GetCommandInvocation', 'ssm:ListCommandInvocations', 'ssm:ListCommands'], ['*']);
    allow(poll, ['s3:GetObject'], [a.artifacts(ARTIFACTS.plan)]);
    allow(poll, ['s3:GetObject', 's3:PutObject'], [a.artifacts(ARTIFACTS.ledger), a.artifacts(ARTIFACTS.nodes)]);
    listArtifacts(ctx, poll);
    return { 'node-send': send, 'node-poll': poll };
  }

  public readonly startState: sfn.State;

  constructor(ctx: PhaseContext, props: NodePhaseProps) {
    const name = props.phase.name;
    super(`Nodes${pascalOf(name)}`, `nodes: ${name}`, [props.next, props.onError]);
    const scope = ctx.scope;
    const t = ctx.config.timing;
    const id = `Node${pascalOf(name)}`;
    const names = nodeStateNames(name);
    const path = nodeStatePath(name);
    const send = task({
      scope,
      id: `${id}Send`,
      stateName: names.send,
      handler: props.functions['node-send'],
      payload: payloadFor<NodeSendEvent>({
        executionName: EXECUTION_NAME,
        phase: name,
        secretArn: sfn.JsonPath.stringAt('$.certificate.secretArn'),
        current: { arn: sfn.JsonPath.stringAt('$.current.arn'), sha256: sfn.JsonPath.stringAt('$.current.sha256') },
        uploaded: { arn: sfn.JsonPath.stringAt('$.uploaded.arn') },
        newSha256: sfn.JsonPath.stringAt('$.validation.summary.sha256'),
      }),
      resultPath: `${path}.send`,
      timing: t,
      onError: props.onError,
    });
    const start = new sfn.Pass(scope, `${id}PollStart`, {
      stateName: names.start,
      result: sfn.Result.fromObject({ rounds: 0 }),
      resultPath: `${path}.poll`,
    });
    const wait = new sfn.Wait(scope, `${id}Wait`, {
      stateName: names.wait,
      time: sfn.WaitTime.duration(Duration.seconds(ctx.config.nodeRollout.pollSeconds)),
    });
    const poll = task({
      scope,
      id: `${id}Poll`,
      stateName: names.poll,
      handler: props.functions['node-poll'],
      payload: payloadFor<NodePollEvent>({
        executionName: EXECUTION_NAME,
        purpose: 'install',
        phase: name,
        newSha256: sfn.JsonPath.stringAt('$.validation.summary.sha256'),
        previous: sfn.JsonPath.objectAt(`${path}.poll`),
        maxRounds: nodePollRounds(ctx.config),
      }),
      resultPath: `${path}.poll`,
      timing: t,
      onError: props.onError,
    });
    const done = new sfn.Choice(scope, `${id}Done`, { stateName: names.done })
      .when(sfn.Condition.booleanEquals(`${path}.poll.done`, true), props.next)
      .otherwise(wait);
    // No node in the phase: nothing sent; the gate email still finds a (zero) result.
    const none = new sfn.Pass(scope, `${id}None`, {
      stateName: names.none,
      result: sfn.Result.fromObject({
        rounds: 0,
        done: true,
        counts: { pending: 0, succeeded: 0, failed: 0, 'not-run': 0, unplanned: 0 },
        failures: [],
        resultsKey: '',
      }),
      resultPath: `${path}.poll`,
    });
    none.next(props.next);
    const anything = new sfn.Choice(scope, `${id}Anything`, { stateName: names.anything })
      .when(sfn.Condition.booleanEquals(`${path}.send.done`, true), none)
      .otherwise(start);
    send.next(anything);
    start.next(wait);
    wait.next(poll);
    poll.next(done);
    this.startState = send;
  }
}
