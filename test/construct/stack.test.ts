/**
 * CertRotationStack synthesized from the example config in cdk.json (bundling skipped, nag off):
 * targeted checks of what matters (the workflow, the Lambda defaults, IAM scoping, storage,
 * notifications, alarms) plus one snapshot with asset hashes scrubbed.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { STATE } from '../../lib/cert-rotation';
import { nodeGateName } from '../../lib/phases/node-approval';
import { nodeStateNames } from '../../lib/phases/node-phase';
import { gateTimedOutName } from '../../lib/workflow';
import { RollbackIncomplete } from '../../lambdas/shared/errors';
import type { HandlerName } from '../../lib/rotation-function';
import {
  allStates,
  definitionOf,
  envReadBy,
  exampleConfig,
  flatten,
  handlerFolders,
  isXRay,
  logicalIdOf,
  policyStatements,
  scrubAssetHashes,
  stateMachineResource,
  stateNamed,
  synthesize,
  transitionProblems,
  type AslDefinition,
  type AslState,
  type CfnResource,
  type Statement,
  type Synthesized,
} from './synth-helpers';

let s: Synthesized;
let definition: AslDefinition;
/** Function logical id by handler. */
let fnId: Record<HandlerName, string>;
/** Role logical id by handler. */
let roleId: Record<HandlerName, string>;

beforeAll(() => {
  s = synthesize(exampleConfig());
  definition = definitionOf(s.json);
  // The workflow's functions and the expiry check (invoked by the schedule's rule, not by a state).
  const fns = { ...s.stack.rotation.functions, 'expiry-check': s.stack.schedule.function };
  fnId = Object.fromEntries(Object.entries(fns).map(([h, f]) => [h, logicalIdOf(f.function)])) as Record<HandlerName, string>;
  roleId = Object.fromEntries(Object.entries(fns).map(([h, f]) => [h, logicalIdOf(f.function.role!)])) as Record<HandlerName, string>;
});

const resource = (id: string): CfnResource => {
  const r = s.json.Resources[id];
  if (!r) throw new Error(`no resource ${id}`);
  return r;
};
const resourcesOfType = (type: string): Array<[string, CfnResource]> => Object.entries(s.json.Resources).filter(([, r]) => r.Type === type);
/** A state by name, nested ones included. */
const state = (name: string): AslState => stateNamed(definition, name);
/** The handler whose function a Lambda task invokes (direct ARN or `lambda:invoke*` with FunctionName). */
const handlerOfTask = (st: AslState): HandlerName | undefined => {
  const target = st.Resource?.startsWith('arn:') ? String(st.Parameters?.FunctionName) : st.Resource;
  return (Object.keys(fnId) as HandlerName[]).find((h) => target === `\${${fnId[h]}.Arn}`);
};
/** Every state, nested ones (Map iterators, Parallel branches) included, as [name, state]. */
const everyState = (): Array<[string, AslState]> => allStates(definition).map((w) => [w.name, w.state]);
const taskStates = (): Array<[string, AslState]> => everyState().filter(([, st]) => st.Type === 'Task');
/** The statements of a function's role, without CDK's X-Ray statement. */
const statementsOf = (h: HandlerName): Statement[] => policyStatements(s.json, roleId[h]).filter((st) => !isXRay(st));
const functionsWithAction = (action: string): HandlerName[] =>
  (Object.keys(roleId) as HandlerName[]).filter((h) => statementsOf(h).some((st) => st.actions.includes(action)));

const ROTATION_CERTS = 'arn:${AWS::Partition}:iam::${AWS::AccountId}:server-certificate/cloudfront/gitter-production/*';
const SECRETS = 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:cert-rotation/gitter.im/*';
const STATE_MACHINE_ARN = 'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:CertRotation-gitter-im';

describe('state machine', () => {
  test('is a Standard state machine, traced, logging ALL without execution data to a vended log group', () => {
    // Arrange
    const logGroupId = logicalIdOf(s.stack.rotation.logGroup);

    // Assert
    s.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'CertRotation-gitter-im',
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: false,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [logGroupId, 'Arn'] } } }],
      },
    });
    expect(resource(logGroupId)).toMatchObject({
      Type: 'AWS::Logs::LogGroup',
      Properties: { LogGroupName: '/aws/vendedlogs/states/CertRotation-gitter-im', RetentionInDays: expect.any(Number) },
    });
  });

  test("the definition holds every STATE name and each node phase's states, and no other state", () => {
    const phases = s.config.nodePhases.map((p) => p.name);
    const nodeStates = phases.flatMap((p) => Object.values(nodeStateNames(p)));
    const nodeGates = phases.slice(0, -1).map((p, i) => nodeGateName(4 + i, p));
    expect(
      everyState()
        .map(([name]) => name)
        .sort(),
    ).toEqual(
      [
        ...Object.values(STATE),
        ...nodeStates,
        ...nodeGates,
        // Each gate records its own timeout; the stop path (STOP_STATE) exists only with approvals.onTimeout: stop.
        ...[STATE.gateStart, STATE.gateCanary, STATE.gateEdge, ...nodeGates].map(gateTimedOutName),
      ].sort(),
    );
    expect(definition.StartAt).toBe(STATE.receiveInput);
  });

  test('the trust boundary comes first: the raw input is checked, the checked input replaces it, a refusal keeps only the error', () => {
    // Arrange
    const receive = state(STATE.receiveInput);
    const check = state(STATE.checkInput);
    const refused = state(STATE.inputRefused);

    // Assert: the whole raw input goes to the check, and nowhere else.
    expect(receive).toEqual({ Type: 'Pass', Parameters: { 'input.$': '$' }, Next: STATE.checkInput });
    expect(handlerOfTask(check)).toBe('check-input');
    expect(check.Parameters?.Payload ?? check.Parameters).toMatchObject({ 'input.$': '$.input' });
    // Its result overwrites the raw input: later states see the checked fields only.
    expect(check.ResultPath).toBe('$.input');
    expect(check.Next).toBe(STATE.guard);
    expect(check.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: STATE.inputRefused }]);
    expect(refused).toEqual({ Type: 'Pass', Parameters: { 'error.$': '$.error' }, Next: STATE.rollback });
    // No state but the first reads the raw input ($$.Execution.Input) or hands the whole state to a handler before the check.
    expect(JSON.stringify(definition)).not.toContain('$$.Execution.Input');
    expect(state(STATE.obtain).Parameters?.Payload ?? state(STATE.obtain).Parameters).toMatchObject({ 'input.$': '$.input' });
  });

  test('every transition goes to an existing state of its own machine, and every state is reachable from its StartAt (nested ones too)', () => {
    expect(transitionProblems(definition)).toEqual([]);
  });

  test('uses JSONPath only: no QueryLanguage, no JSONata-only fields, no {% %} expressions (the local engine needs JSONPath)', () => {
    expect(definition).not.toHaveProperty('QueryLanguage');
    for (const [name, st] of everyState()) {
      expect({ name, fields: Object.keys(st).filter((k) => ['QueryLanguage', 'Arguments', 'Output'].includes(k)) }).toEqual({
        name,
        fields: [],
      });
    }
    expect(JSON.stringify(definition)).not.toMatch(/\{%/);
  });

  test('every Task has a TimeoutSeconds, and a Lambda task waits longer than its function may run', () => {
    const tasks = taskStates();
    expect(tasks.length).toBeGreaterThanOrEqual(12);
    for (const [name, st] of tasks) {
      expect({ name, timeout: typeof st.TimeoutSeconds }).toEqual({ name, timeout: 'number' });
      const h = handlerOfTask(st);
      expect({ name, invokesARotationFunction: h !== undefined }).toEqual({ name, invokesARotationFunction: true });
      const fnTimeout = resource(fnId[h as HandlerName]).Properties?.Timeout as number;
      expect({ name, longerThanTheFunction: (st.TimeoutSeconds as number) > fnTimeout }).toEqual({ name, longerThanTheFunction: true });
    }
  });

  // The rollback chain and the reports have their own catch targets; every other Lambda task
  // goes to the rollback when anything fails.
  const OWN_CATCH: Record<string, { readonly next: string; readonly resultPath: string }> = {
    // The edge's rollback failing still rolls the nodes back; a node rollback failure still waits for and verifies the edge.
    [STATE.rollback]: { next: STATE.nodeRollback, resultPath: '$.rollbackError' },
    [STATE.nodeRollback]: { next: STATE.rollbackDeployStart, resultPath: '$.rollbackError' },
    [STATE.nodeRollbackPoll]: { next: STATE.rollbackDeployStart, resultPath: '$.rollbackError' },
    [STATE.verifyRollback]: { next: STATE.finishFailure, resultPath: '$.rollbackError' },
    [STATE.finishFailure]: { next: STATE.rollbackVerified, resultPath: '$.reportError' },
    [STATE.finishSuccess]: { next: STATE.reportFailed, resultPath: '$.error' },
    // The rollback's CloudFront wait reports a deadline as a rollback error.
    [STATE.rollbackPoll]: { next: STATE.finishFailure, resultPath: '$.rollbackError' },
    // After a successful rotation: a pruning failure is reported by finish, never rolled back.
    [STATE.prune]: { next: STATE.finishSuccess, resultPath: '$.pruneError' },
  };
  /** Tasks inside a Map iteration (the edge batches): a nested task cannot leave its iteration; its Map or Parallel catches. */
  const NESTED = [STATE.edgeSwitchElbBatch, STATE.edgeSwitchElbv2Batch, STATE.edgeSwitchCloudfrontBatch, STATE.edgeVerifyBatch] as string[];

  test('every Lambda task retries AwsTransient with the configured backoff, and never retries States.ALL', () => {
    const t = s.config.timing;
    for (const [name, st] of taskStates()) {
      expect({ name, retry: st.Retry }).toEqual({
        name,
        retry: expect.arrayContaining([
          { ErrorEquals: ['AwsTransient'], IntervalSeconds: t.retryIntervalSeconds, MaxAttempts: t.retryMaxAttempts, BackoffRate: 2 },
        ]),
      });
      const retried = (st.Retry ?? []).flatMap((r) => r.ErrorEquals);
      expect({ name, retriesEverything: retried.includes('States.ALL') || retried.includes('States.TaskFailed') }).toEqual({
        name,
        retriesEverything: false,
      });
    }
  });

  test('every Lambda task outside the rollback chain catches States.ALL into the rollback, keeping the state ($.error)', () => {
    const phases = s.config.nodePhases.map((p) => p.name);
    const nodeTasks = phases.flatMap((p) => [nodeStateNames(p).send, nodeStateNames(p).poll]);
    const nodeGates = phases.slice(0, -1).map((p, i) => nodeGateName(4 + i, p));
    const ordinary = taskStates().filter(([name]) => !(name in OWN_CATCH) && name !== STATE.checkInput && !NESTED.includes(name));
    expect(ordinary.map(([name]) => name).sort()).toEqual(
      [
        STATE.guard,
        STATE.obtain,
        STATE.current,
        STATE.validate,
        STATE.plan,
        STATE.notifyStart,
        STATE.gateStart,
        STATE.upload,
        STATE.canarySwitch,
        STATE.canaryVerify,
        STATE.gateCanary,
        STATE.edgePrepare,
        STATE.edgePoll,
        STATE.gateEdge,
        ...nodeTasks,
        ...nodeGates,
      ].sort(),
    );
    const gates: string[] = [STATE.gateStart, STATE.gateCanary, STATE.gateEdge, ...nodeGates];
    for (const [name, st] of ordinary) {
      expect({ name, catch: st.Catch }).toEqual({
        name,
        catch: [
          // A gate's timeout is marked as "no answer" at that gate (reported as a timeout) before the same rollback.
          ...(gates.includes(name) ? [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: gateTimedOutName(name) }] : []),
          { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: STATE.rollback },
        ],
      });
    }
  });

  test('the edge batches run inside Maps (one per service in a Parallel, and the verification Map) that catch States.ALL into the rollback', () => {
    const nestedFound = taskStates()
      .map(([n]) => n)
      .filter((n) => NESTED.includes(n));
    expect(nestedFound.sort()).toEqual([...NESTED].sort());
    for (const name of [STATE.edgeSwitch, STATE.edgeVerify]) {
      expect({ name, catch: state(name).Catch }).toEqual({
        name,
        catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: STATE.rollback }],
      });
    }
    for (const name of NESTED) expect({ name, catch: state(name).Catch }).toEqual({ name, catch: undefined });
    const edge = s.config.edge;
    expect(state(STATE.edgeSwitchElb)).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.edgeBatches.elb',
      MaxConcurrency: edge.maxConcurrency.elb,
    });
    expect(state(STATE.edgeSwitchElbv2)).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.edgeBatches.elbv2',
      MaxConcurrency: edge.maxConcurrency.elbv2,
    });
    expect(state(STATE.edgeSwitchCloudfront)).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.edgeBatches.cloudfront',
      MaxConcurrency: edge.maxConcurrency.cloudfront,
    });
    // A batch whose time budget ran out is invoked again (it resumes from the ledger).
    expect(state(STATE.edgeSwitchElbChoice)).toMatchObject({
      Choices: [{ Variable: '$.result.done', BooleanEquals: true, Next: STATE.edgeSwitchElbDone }],
      Default: STATE.edgeSwitchElbBatch,
    });
  });

  test('the CloudFront wait is one Wait/Choice loop over one poll per round, with the configured interval and deadline', () => {
    const edge = s.config.edge;
    expect(state(STATE.edgeSwitch).Next).toBe(STATE.edgeDeployStart);
    expect(state(STATE.edgeDeployStart)).toMatchObject({
      Type: 'Pass',
      Result: { rounds: 0 },
      ResultPath: '$.edgeDeploy',
      Next: STATE.edgePoll,
    });
    expect(state(STATE.edgePoll)).toMatchObject({ ResultPath: '$.edgeDeploy', Next: STATE.edgeDeployChoice });
    expect(state(STATE.edgePoll).Parameters).toMatchObject({
      'previous.$': '$.edgeDeploy',
      maxRounds: Math.ceil(edge.deployTimeoutSeconds / edge.deployPollSeconds) + 1,
    });
    expect(state(STATE.edgeDeployChoice)).toMatchObject({
      Choices: [{ Variable: '$.edgeDeploy.done', BooleanEquals: true, Next: STATE.edgeVerify }],
      Default: STATE.edgeDeployWait,
    });
    expect(state(STATE.edgeDeployWait)).toEqual({ Type: 'Wait', Seconds: edge.deployPollSeconds, Next: STATE.edgePoll });
    expect(state(STATE.edgeVerify).Next).toBe(STATE.gateEdge);
  });

  test.each([
    [STATE.gateStart, 'start'],
    [STATE.gateCanary, 'canary'],
    [STATE.gateEdge, 'edge'],
    [nodeGateName(4, 'beta'), 'nodesBeta'],
    [nodeGateName(5, 'prod-canary'), 'nodesProdCanary'],
  ])('no answer at "%s" is marked with that gate and its timeout, then rolled back (onTimeout: rollback)', (gate, name) => {
    expect(state(gate).TimeoutSeconds).toBe(86400);
    expect(state(gateTimedOutName(gate))).toEqual({
      Type: 'Pass',
      Parameters: {
        gateTimedOut: true,
        gate: name,
        stateName: gate,
        timeoutSeconds: 86400,
        onTimeout: 'rollback',
        'stateMachineArn.$': '$$.StateMachine.Id',
      },
      ResultPath: '$.approvalTimeout',
      Next: STATE.rollback,
    });
  });

  test.each(Object.keys(OWN_CATCH))('"%s" catches States.ALL into its own next step, not into the rollback', (name) => {
    const { next, resultPath } = OWN_CATCH[name];
    expect(state(name).Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: resultPath, Next: next }]);
  });

  test('the upload, the canary switch, the edge batches and the rollback retry IAM propagation (CertificateNotPropagated)', () => {
    for (const name of [
      STATE.upload,
      STATE.canarySwitch,
      STATE.rollback,
      STATE.edgeSwitchElbBatch,
      STATE.edgeSwitchElbv2Batch,
      STATE.edgeSwitchCloudfrontBatch,
    ]) {
      expect({ name, retried: (state(name).Retry ?? []).some((r) => r.ErrorEquals.includes('CertificateNotPropagated')) }).toEqual({
        name,
        retried: true,
      });
    }
  });

  test.each([
    [STATE.gateStart, 'start'],
    [STATE.gateCanary, 'canary'],
    [STATE.gateEdge, 'edge'],
  ])('approval gate "%s" is a callback task with the configured timeout that passes $$.Task.Token', (name, gate) => {
    // Arrange
    const st = state(name);
    const payload = st.Parameters?.Payload as Record<string, unknown>;

    // Assert
    expect(st.Resource).toBe('arn:${AWS::Partition}:states:::lambda:invoke.waitForTaskToken');
    expect(st.TimeoutSeconds).toBe(s.config.approvals.timeoutSeconds);
    expect(st.Parameters?.FunctionName).toBe(`\${${fnId['request-approval']}.Arn}`);
    expect(payload).toMatchObject({ 'taskToken.$': '$$.Task.Token', gate, title: name, 'executionName.$': '$$.Execution.Name' });
    expect(st.ResultPath).toBe(`$.approvals.${gate}`);
  });

  test('no other state waits for a task token', () => {
    const callbacks = everyState()
      .filter(([, st]) => (st.Resource ?? '').endsWith('.waitForTaskToken'))
      .map(([n]) => n);
    expect(callbacks.sort()).toEqual(
      [STATE.gateStart, STATE.gateCanary, STATE.gateEdge, nodeGateName(4, 'beta'), nodeGateName(5, 'prod-canary')].sort(),
    );
  });

  test('the canary check loops Choice -> Wait -> verify until the canary serves the new certificate', () => {
    // Arrange
    const t = s.config.timing;
    const prepare = state(STATE.canaryPrepare);
    const verify = state(STATE.canaryVerify);
    const choice = state(STATE.canaryChoice);
    const wait = state(STATE.canaryWait);

    // Assert
    expect(state(STATE.canarySwitch).Next).toBe(STATE.canaryPrepare);
    expect(prepare).toMatchObject({
      Type: 'Pass',
      Result: { attempts: 0, matches: false },
      ResultPath: '$.canaryCheck',
      Next: STATE.canaryVerify,
    });
    expect(verify).toMatchObject({ Type: 'Task', ResultPath: '$.canaryCheck', Next: STATE.canaryChoice });
    expect(handlerOfTask(verify)).toBe('verify-tls');
    expect(verify.Parameters).toMatchObject({
      endpoint: 'irc.gitter.im:6667',
      'previous.$': '$.canaryCheck',
      maxAttempts: Math.ceil(t.verifyTimeoutSeconds / t.verifyIntervalSeconds) + 1,
      intervalSeconds: t.verifyIntervalSeconds,
    });
    expect(choice).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.canaryCheck.matches', BooleanEquals: true, Next: STATE.gateCanary }],
      Default: STATE.canaryWait,
    });
    expect(wait).toEqual({ Type: 'Wait', Seconds: t.verifyIntervalSeconds, Next: STATE.canaryVerify });
  });

  test('success: the canary gate leads to the edge rollout, its gate to the node phases (a gate between two), then pruning, the report and the Succeed state', () => {
    expect(state(STATE.gateCanary).Next).toBe(STATE.edgePrepare);
    const [beta, canary, prod] = ['beta', 'prod-canary', 'prod'].map(nodeStateNames);
    expect(state(STATE.gateEdge).Next).toBe(beta.send);
    expect(state(beta.done)).toMatchObject({ Choices: [{ BooleanEquals: true, Next: nodeGateName(4, 'beta') }] });
    expect(state(beta.anything)).toMatchObject({ Choices: [{ BooleanEquals: true, Next: beta.none }], Default: beta.start });
    expect(state(beta.none).Next).toBe(nodeGateName(4, 'beta'));
    expect(state(nodeGateName(4, 'beta')).Next).toBe(canary.send);
    expect(state(canary.done)).toMatchObject({ Choices: [{ BooleanEquals: true, Next: nodeGateName(5, 'prod-canary') }] });
    expect(state(nodeGateName(5, 'prod-canary')).Next).toBe(prod.send);
    expect(state(prod.done)).toMatchObject({ Choices: [{ BooleanEquals: true, Next: STATE.prune }] });
    expect(handlerOfTask(state(STATE.prune))).toBe('prune');
    expect(state(STATE.prune).Next).toBe(STATE.finishSuccess);
    expect(state(STATE.finishSuccess).Next).toBe(STATE.succeeded);
    expect(state(STATE.succeeded).Type).toBe('Succeed');
    expect(state(STATE.reportFailed)).toMatchObject({ Type: 'Fail', Error: 'ReportFailed' });
  });

  test('the rollback chain restores, verifies, reports and ends in a Fail carrying the original error', () => {
    expect(handlerOfTask(state(STATE.rollback))).toBe('rollback');
    // Restore until every proven entry is handled (a time budget may cut a round short), wait for CloudFront, verify.
    expect(state(STATE.rollback).Next).toBe(STATE.rollbackChoice);
    expect(state(STATE.rollbackChoice)).toMatchObject({
      Choices: [{ Variable: '$.rollback.done', BooleanEquals: false, Next: STATE.rollback }],
      Default: STATE.nodeRollback,
    });
    // Then the nodes the ledger proves changed, in their own Wait/Choice loop, while CloudFront deploys.
    expect(handlerOfTask(state(STATE.nodeRollback))).toBe('node-rollback');
    expect(state(STATE.nodeRollback).Next).toBe(STATE.nodeRollbackAny);
    expect(state(STATE.nodeRollbackAny)).toMatchObject({
      Choices: [{ Variable: '$.nodeRollback.done', BooleanEquals: true, Next: STATE.rollbackDeployStart }],
      Default: STATE.nodeRollbackStart,
    });
    expect(state(STATE.nodeRollbackStart).Next).toBe(STATE.nodeRollbackWait);
    expect(state(STATE.nodeRollbackWait)).toEqual({
      Type: 'Wait',
      Seconds: s.config.nodeRollout.pollSeconds,
      Next: STATE.nodeRollbackPoll,
    });
    expect(handlerOfTask(state(STATE.nodeRollbackPoll))).toBe('node-poll');
    expect(state(STATE.nodeRollbackPoll).Next).toBe(STATE.nodeRollbackDone);
    expect(state(STATE.nodeRollbackDone)).toMatchObject({
      Choices: [{ Variable: '$.nodeRollbackPoll.done', BooleanEquals: true, Next: STATE.rollbackDeployStart }],
      Default: STATE.nodeRollbackWait,
    });
    expect(state(STATE.rollbackDeployStart).Next).toBe(STATE.rollbackPoll);
    expect(state(STATE.rollbackPoll).Next).toBe(STATE.rollbackDeployChoice);
    expect(state(STATE.rollbackDeployChoice)).toMatchObject({
      Choices: [{ Variable: '$.rollbackDeploy.done', BooleanEquals: true, Next: STATE.verifyRollback }],
      Default: STATE.rollbackDeployWait,
    });
    expect(handlerOfTask(state(STATE.verifyRollback))).toBe('verify-rollback');
    expect(state(STATE.verifyRollback).Next).toBe(STATE.finishFailure);
    expect((state(STATE.verifyRollback).Retry ?? []).some((r) => r.ErrorEquals.includes('VerificationFailed'))).toBe(true);
    expect(handlerOfTask(state(STATE.finishFailure))).toBe('finish');
    expect(state(STATE.finishFailure).Next).toBe(STATE.rollbackVerified);
    expect(state(STATE.rollbackVerified).Default).toBe(STATE.failed);
    expect(state(STATE.failed)).toEqual({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
    // ErrorPath/CausePath resolve because every way into the rollback writes the error to $.error.
    const intoRollback = everyState().flatMap(([, st]) => (st.Catch ?? []).filter((c) => c.Next === STATE.rollback));
    expect(intoRollback.length).toBeGreaterThan(0);
    for (const c of intoRollback) expect(c.ResultPath).toBe('$.error');
  });

  test('a rollback that is not verified ends in a Fail with error RollbackIncomplete, reported or not', () => {
    // Arrange
    const choice = state(STATE.rollbackVerified);

    // Assert: the report says ROLLBACK_INCOMPLETE (verify-rollback gave up, rollback failed or left targets alone)...
    expect(choice.Type).toBe('Choice');
    expect(choice.Choices).toEqual([
      {
        And: [
          { Variable: '$.report.status', IsPresent: true },
          { Variable: '$.report.status', StringEquals: 'ROLLBACK_INCOMPLETE' },
        ],
        Next: STATE.rollbackIncomplete,
      },
      // ...or the report could not be written, after a rollback error.
      { Variable: '$.rollbackError', IsPresent: true, Next: STATE.rollbackIncompleteUnreported },
    ]);
    expect(state(STATE.rollbackIncomplete)).toEqual({ Type: 'Fail', Error: 'RollbackIncomplete', CausePath: '$.report.rollbackCause' });
    expect(state(STATE.rollbackIncompleteUnreported)).toMatchObject({ Type: 'Fail', Error: 'RollbackIncomplete' });
    expect(state(STATE.rollbackIncompleteUnreported).Cause).toMatch(/could not be verified/);
    // Every way out of a failed verification reaches that choice: verify-rollback's Catch goes to the report, whose Next and Catch go to it.
    expect(state(STATE.verifyRollback).Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.rollbackError', Next: STATE.finishFailure },
    ]);
    expect(state(STATE.finishFailure).Next).toBe(STATE.rollbackVerified);
    expect(state(STATE.finishFailure).Catch?.map((c) => c.Next)).toEqual([STATE.rollbackVerified]);
    // The error class the handlers would throw carries the same name.
    expect(new RollbackIncomplete('x').name).toBe(state(STATE.rollbackIncomplete).Error);
  });

  test('no state throws its input away: every ResultPath is a named path', () => {
    for (const [name, st] of everyState()) {
      for (const rp of [st.ResultPath, ...(st.Catch ?? []).map((c) => c.ResultPath)]) {
        if (rp === undefined) continue;
        expect({ name, resultPath: rp }).toEqual({ name, resultPath: expect.stringMatching(/^\$\.[A-Za-z]/) });
      }
    }
  });
});

/**
 * Handler folders whose function exists only when their config section does (the example config
 * has no `pagerDuty`): test/construct/pager-duty.test.ts checks them with a config that has it.
 */
const CONFIG_ONLY_HANDLERS: readonly string[] = ['maintenance-window'];
const defaultHandlers = () => handlerFolders().filter((h) => !CONFIG_ONLY_HANDLERS.includes(h));

describe('Lambda functions', () => {
  test('there is one function per handler folder under lambdas/ (but those of optional config sections)', () => {
    expect(Object.keys(fnId).sort()).toEqual(defaultHandlers());
    expect(resourcesOfType('AWS::Lambda::Function')).toHaveLength(defaultHandlers().length);
  });

  test.each(defaultHandlers())('%s: nodejs22.x on arm64, X-Ray active, its own log group, source maps', (h) => {
    // Arrange
    const fn = resource(fnId[h]);
    const logGroupId = logicalIdOf(({ ...s.stack.rotation.functions, 'expiry-check': s.stack.schedule.function } as const)[h].logGroup);

    // Assert
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogGroup: { Ref: logGroupId } },
      Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps' } },
    });
    expect(resource(logGroupId)).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: expect.any(Number) } });
  });

  test('each function has its own log group', () => {
    const groups = Object.values(fnId).map((id) => JSON.stringify(resource(id).Properties?.LoggingConfig));
    expect(new Set(groups).size).toBe(groups.length);
  });

  test.each(defaultHandlers())('%s: every environment variable the handler requires is set (JSON ones parse)', (h) => {
    // Arrange
    const env = (resource(fnId[h]).Properties?.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
    const { required, json, optional } = envReadBy(h);

    // Assert
    for (const name of required) {
      expect({ name, value: env[name] }).toEqual({ name, value: expect.anything() });
      expect({ name, empty: env[name] === '' }).toEqual({ name, empty: false });
    }
    for (const name of json) expect(() => JSON.parse(String(env[name])) as unknown).not.toThrow();
    for (const name of optional) expect(Object.keys(env)).toContain(name);
  });

  test('environment values come from the config and the stack resources', () => {
    // Arrange
    const env = (h: HandlerName) =>
      flatten((resource(fnId[h]).Properties?.Environment as { Variables: unknown }).Variables) as Record<string, string>;
    const staging = logicalIdOf(s.stack.node.findChild('Storage').node.findChild('Staging'));
    const artifacts = logicalIdOf(s.stack.node.findChild('Storage').node.findChild('Artifacts'));
    const topic = logicalIdOf(s.stack.node.findChild('Notifications').node.findChild('Topic'));

    // Assert
    expect(env('guard')).toMatchObject({ DOMAIN: 'gitter.im' });
    expect(env('obtain')).toMatchObject({
      DOMAIN: 'gitter.im',
      STAGING_BUCKET: `\${${staging}}`,
      SECRET_PREFIX: 'cert-rotation/gitter.im/',
    });
    expect(env('current')).toMatchObject({ CANARY_LOAD_BALANCER: 'apps-servers-elb-prod', CANARY_PORT: '6667' });
    expect(JSON.parse(env('validate').REQUIRED_NAMES)).toEqual(['*.gitter.im', 'gitter.im']);
    expect(env('validate').TRUSTED_ROOTS).toBe('');
    expect(env('plan')).toMatchObject({
      CANARY_LOAD_BALANCER: 'apps-servers-elb-prod',
      CANARY_PORT: '6667',
      ARTIFACT_BUCKET: `\${${artifacts}}`,
    });
    expect(JSON.parse(env('plan').EDGE_SELECTION)).toEqual({ include: [], exclude: [] });
    expect(JSON.parse(env('plan').NODE_PHASES)).toEqual(s.config.nodePhases.map((p) => ({ name: p.name, targets: p.targets })));
    expect(env('request-approval')).toMatchObject({
      DOMAIN: 'gitter.im',
      ARTIFACT_BUCKET: `\${${artifacts}}`,
      TOPIC_ARN: `\${${topic}}`,
      ON_TIMEOUT: 'rollback',
    });
    expect(env('upload')).toMatchObject({
      DOMAIN: 'gitter.im',
      IAM_PATH: '/cloudfront/gitter-production/',
      CERTIFICATE_NAME_PREFIX: 'STAR.gitter.im',
    });
    expect(env('switch-canary')).toMatchObject({
      CANARY_LOAD_BALANCER: 'apps-servers-elb-prod',
      CANARY_PORT: '6667',
      ARTIFACT_BUCKET: `\${${artifacts}}`,
    });
    expect(env('rollback')).toMatchObject({ ARTIFACT_BUCKET: `\${${artifacts}}` });
    expect(env('verify-rollback')).toMatchObject({ DOMAIN: 'gitter.im', ARTIFACT_BUCKET: `\${${artifacts}}` });
    expect(env('finish')).toMatchObject({ DOMAIN: 'gitter.im', ARTIFACT_BUCKET: `\${${artifacts}}`, TOPIC_ARN: `\${${topic}}` });
  });
});

describe('IAM: least privilege', () => {
  test('the guard may only states:ListExecutions, on this state machine', () => {
    // Arrange
    const name = stateMachineResource(s.json).Properties?.StateMachineName;

    // Assert
    expect(statementsOf('guard').map(({ effect, actions, resources }) => ({ effect, actions, resources }))).toEqual([
      { effect: 'Allow', actions: ['states:ListExecutions'], resources: [STATE_MACHINE_ARN] },
    ]);
    expect(STATE_MACHINE_ARN.endsWith(`:stateMachine:${String(name)}`)).toBe(true);
  });

  test('the upload may only write IAM server certificates under the configured /cloudfront/ path; on * it only reads the quota and uses', () => {
    const iamStatements = statementsOf('upload').filter((st) => st.actions.some((a) => a.startsWith('iam:')));
    expect(iamStatements.map(({ actions, resources }) => ({ actions: [...actions].sort(), resources }))).toEqual([
      { actions: ['iam:GetServerCertificate', 'iam:TagServerCertificate', 'iam:UploadServerCertificate'], resources: [ROTATION_CERTS] },
      {
        actions: [
          'cloudfront:ListDistributions',
          'ec2:DescribeSecurityGroups',
          'elasticloadbalancing:DescribeListenerCertificates',
          'elasticloadbalancing:DescribeListeners',
          'elasticloadbalancing:DescribeLoadBalancers',
          'iam:GetAccountSummary',
          'iam:ListServerCertificates',
        ],
        resources: ['*'],
      },
    ]);
  });

  test('every function that calls classic DescribeLoadBalancers may also DescribeSecurityGroups (ELB API permissions page)', () => {
    const describers = functionsWithAction('elasticloadbalancing:DescribeLoadBalancers');
    expect(describers.length).toBeGreaterThan(0);
    expect(describers.filter((fn) => !functionsWithAction('ec2:DescribeSecurityGroups').includes(fn))).toEqual([]);
  });

  test('IAM certificate writes and deletes anywhere are scoped to the configured path', () => {
    const writes = policyStatements(s.json).filter((st) =>
      st.actions.some((a) =>
        ['iam:UploadServerCertificate', 'iam:DeleteServerCertificate', 'iam:UpdateServerCertificate', 'iam:TagServerCertificate'].includes(
          a,
        ),
      ),
    );
    expect(writes.length).toBeGreaterThan(0);
    for (const st of writes) expect(st.resources).toEqual([ROTATION_CERTS]);
    expect(functionsWithAction('iam:UploadServerCertificate')).toEqual(['upload']);
    expect(functionsWithAction('iam:DeleteServerCertificate').sort()).toEqual(['prune', 'rollback']);
  });

  test('prune may delete IAM server certificates under the configured path only; on * it only lists and reads uses', () => {
    expect(statementsOf('prune').map(({ actions, resources }) => ({ actions: [...actions].sort(), resources }))).toEqual(
      expect.arrayContaining([
        { actions: ['iam:DeleteServerCertificate'], resources: [ROTATION_CERTS] },
        {
          actions: [
            'cloudfront:ListDistributions',
            'ec2:DescribeSecurityGroups',
            'elasticloadbalancing:DescribeListenerCertificates',
            'elasticloadbalancing:DescribeListeners',
            'elasticloadbalancing:DescribeLoadBalancers',
            'iam:ListServerCertificates',
          ],
          resources: ['*'],
        },
      ]),
    );
    const mutating = statementsOf('prune')
      .flatMap((st) => st.actions)
      .filter((a) => !/:(Describe|List|Get)/.test(a) && !a.startsWith('xray:'));
    expect(mutating.sort()).toEqual(['iam:DeleteServerCertificate', 's3:PutObject']);
  });

  test('the canary switch may set the listener certificate of the canary load balancer only', () => {
    const switches = statementsOf('switch-canary').filter((st) =>
      st.actions.includes('elasticloadbalancing:SetLoadBalancerListenerSSLCertificate'),
    );
    expect(switches.map((st) => st.resources)).toEqual([
      ['arn:${AWS::Partition}:elasticloadbalancing:${AWS::Region}:${AWS::AccountId}:loadbalancer/apps-servers-elb-prod'],
    ]);
    const mutating = statementsOf('switch-canary')
      .flatMap((st) => st.actions)
      .filter((a) => a.startsWith('elasticloadbalancing:') && !/:Describe/.test(a));
    expect(mutating).toEqual(['elasticloadbalancing:SetLoadBalancerListenerSSLCertificate']);
  });

  test('no statement grants a service-wide or global wildcard action (*, iam:*, s3:*, secretsmanager:*, ...)', () => {
    const all = policyStatements(s.json);
    expect(all.length).toBeGreaterThan(20);
    const wildcards = all.flatMap((st) =>
      st.actions.filter((a) => a === '*' || /^[a-z0-9-]+:\*$/.test(a)).map((a) => `${a} in ${st.policyLogicalId}`),
    );
    expect(wildcards).toEqual([]);
    for (const role of resourcesOfType('AWS::IAM::Role')) {
      expect(role[1].Properties).not.toHaveProperty('Policies');
    }
  });

  test('statements on resource "*" hold only read-only calls that have no resource-level scoping (plus X-Ray and log delivery)', () => {
    const readOnly =
      /^(xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets)|[a-z0-9-]+:(Describe|List|Get)[A-Za-z]*|logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups))$/;
    // cloudwatch:PutMetricData has no resources; it is allowed only conditioned on one namespace.
    const ownNamespace = (st: Statement, a: string) =>
      a === 'cloudwatch:PutMetricData' &&
      JSON.stringify(st.conditions) === JSON.stringify({ StringEquals: { 'cloudwatch:namespace': 'CertRotation' } });
    const offenders = policyStatements(s.json)
      .filter((st) => st.resources.includes('*'))
      .flatMap((st) => st.actions.filter((a) => !readOnly.test(a) && !ownNamespace(st, a)).map((a) => `${a} in ${st.policyLogicalId}`));
    expect(offenders).toEqual([]);
    // ... and no secret, object or parameter is read on "*" (Run Command's own records of commands and nodes may be).
    const runCommandReads = /^ssm:(ListCommands|ListCommandInvocations|GetCommandInvocation|DescribeInstanceInformation)$/;
    const starReads = policyStatements(s.json)
      .filter((st) => st.resources.includes('*'))
      .flatMap((st) =>
        st.actions.filter((a) => (/^(secretsmanager|s3|kms|ssm):/.test(a) && !runCommandReads.test(a)) || a === 'iam:GetServerCertificate'),
      );
    expect(starReads).toEqual([]);
  });

  test('secrets access is scoped to secret:cert-rotation/gitter.im/*, for obtain, validate and upload only', () => {
    const secretStatements = policyStatements(s.json).filter((st) => st.actions.some((a) => a.startsWith('secretsmanager:')));
    expect(secretStatements.length).toBeGreaterThan(0);
    for (const st of secretStatements) expect(st.resources).toEqual([SECRETS]);
    const withSecrets = (Object.keys(roleId) as HandlerName[]).filter((h) =>
      statementsOf(h).some((st) => st.actions.some((a) => a.startsWith('secretsmanager:'))),
    );
    expect(withSecrets.sort()).toEqual(['obtain', 'upload', 'validate']);
    // Only obtain creates secrets.
    expect(functionsWithAction('secretsmanager:CreateSecret')).toEqual(['obtain']);
  });

  test('only obtain can read (or touch) the staging bucket, where operators stage private keys', () => {
    const staging = logicalIdOf(s.stack.node.findChild('Storage').node.findChild('Staging'));
    const touching = policyStatements(s.json).filter((st) => st.resources.some((r) => r.includes(`\${${staging}.Arn}`)));
    expect(touching.length).toBeGreaterThan(0);
    expect([...new Set(touching.map((st) => st.policyLogicalId))]).toEqual([
      logicalIdOf(s.stack.rotation.functions.obtain.function.role!.node.findChild('DefaultPolicy')),
    ]);
    expect(touching.flatMap((st) => st.actions).filter((a) => /^s3:(Put|Abort)/.test(a))).toEqual([]);
  });

  test('the state machine role may invoke the rotation functions and nothing else in Lambda', () => {
    const smRole = logicalIdOf(s.stack.rotation.stateMachine.role);
    const invokes = policyStatements(s.json, smRole).filter((st) => st.actions.some((a) => a.startsWith('lambda:')));
    // Not the expiry check: only its rule invokes it.
    const rotationFns = Object.entries(fnId)
      .filter(([h]) => h !== 'expiry-check' && h !== 'approval-page')
      .map(([, id]) => id);
    const allowed = new Set(rotationFns.flatMap((id) => [`\${${id}.Arn}`, `\${${id}.Arn}:*`]));
    for (const st of invokes) {
      expect(st.actions).toEqual(['lambda:InvokeFunction']);
      for (const r of st.resources) expect({ resource: r, allowed: allowed.has(r) }).toEqual({ resource: r, allowed: true });
    }
    const invoked = new Set(invokes.flatMap((st) => st.resources).filter((r) => !r.endsWith(':*')));
    expect(invoked.size).toBe(rotationFns.length);
    // The approval page is invoked only through its function URL.
    expect(invoked.has(`\${${fnId['approval-page']}.Arn}`)).toBe(false);
  });

  test('each function role uses only the basic Lambda execution managed policy', () => {
    for (const h of Object.keys(roleId) as HandlerName[]) {
      expect(flatten(resource(roleId[h]).Properties?.ManagedPolicyArns)).toEqual([
        'arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
      ]);
    }
  });
});

describe('storage', () => {
  const bucketId = (name: 'Staging' | 'Artifacts' | 'AccessLogs') => logicalIdOf(s.stack.node.findChild('Storage').node.findChild(name));

  test('there are three buckets: staging, artifacts and their access logs', () => {
    expect(resourcesOfType('AWS::S3::Bucket')).toHaveLength(3);
  });

  test.each(['Staging', 'Artifacts', 'AccessLogs'] as const)('%s bucket: encrypted, public access blocked, retained, TLS-only', (name) => {
    // Arrange
    const id = bucketId(name);

    // Assert
    expect(resource(id)).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: expect.stringMatching(/^(AES256|aws:kms|aws:kms:dsse)$/) } },
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      },
    });
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: [{ 'Fn::GetAtt': [id, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id, 'Arn'] }, '/*']] }],
          }),
        ]),
      },
    });
  });

  test.each([
    ['Staging', 'staging/'],
    ['Artifacts', 'artifacts/'],
  ] as const)('%s bucket: versioned, bucket owner enforced, access logs to the log bucket under %s', (name, prefix) => {
    expect(resource(bucketId(name)).Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: { DestinationBucketName: { Ref: bucketId('AccessLogs') }, LogFilePrefix: prefix },
    });
  });

  test('staged files (a private key among them) expire after 7 days, old versions after 1', () => {
    expect(resource(bucketId('Staging')).Properties?.LifecycleConfiguration).toEqual({
      Rules: [{ ExpirationInDays: 7, NoncurrentVersionExpiration: { NoncurrentDays: 1 }, Status: 'Enabled' }],
    });
  });

  test('old versions of artifacts and access logs expire', () => {
    expect(resource(bucketId('Artifacts')).Properties).toMatchObject({
      LifecycleConfiguration: {
        Rules: [expect.objectContaining({ NoncurrentVersionExpiration: expect.objectContaining({ NoncurrentDays: expect.any(Number) }) })],
      },
    });
    expect(resource(bucketId('AccessLogs')).Properties).toMatchObject({
      LifecycleConfiguration: { Rules: [expect.objectContaining({ ExpirationInDays: expect.any(Number) })] },
    });
  });
});

describe('notifications and alarms', () => {
  const topicId = () => logicalIdOf(s.stack.node.findChild('Notifications').node.findChild('Topic'));
  const keyId = () => logicalIdOf(s.stack.node.findChild('Notifications').node.findChild('Key'));

  test('the topic is encrypted with its own rotating KMS key, which CloudWatch may use', () => {
    s.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId(), 'Arn'] } });
    expect(resource(keyId()).Properties).toMatchObject({ EnableKeyRotation: true });
    s.template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: Match.arrayWith(['kms:Decrypt', 'kms:GenerateDataKey*']),
          }),
        ]),
      },
    });
  });

  test('the topic only accepts TLS', () => {
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId() }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  test('every notification email is subscribed, and nothing else', () => {
    const subs = resourcesOfType('AWS::SNS::Subscription').map(([, r]) => r.Properties);
    expect(subs).toEqual(
      s.config.notificationEmails.map((email) => ({ Protocol: 'email', Endpoint: email, TopicArn: { Ref: topicId() } })),
    );
  });

  test('three alarms: failed, timed-out and aborted executions, each notifying the topic', () => {
    const smId = logicalIdOf(s.stack.rotation.stateMachine);
    expect(resourcesOfType('AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties?.Namespace === 'AWS/States')).toHaveLength(3);
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metric,
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: smId } }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: topicId() }],
      });
    }
  });
});

describe('snapshot', () => {
  test('the template (bundling skipped, asset hashes scrubbed)', () => {
    const scrubbed = scrubAssetHashes(s.json);
    expect(JSON.stringify(scrubbed)).not.toMatch(/[0-9a-f]{64}/);
    expect(scrubbed).toMatchSnapshot();
  });
});
