/**
 * The PagerDuty maintenance window (config `pagerDuty`) and monit's fingerprint parameter in the
 * synthesized stack: where the states sit in the flow, who may read the token (exactly one
 * function, exactly that secret), who may write the parameter, and that without `pagerDuty` none
 * of it exists.
 */
import { resolveConfig } from '../../lib/config';
import { MAINTENANCE_STATE, windowMinutes } from '../../lib/phases/maintenance-window';
import { STATE } from '../../lib/cert-rotation';
import { STOP_STATE } from '../../lib/workflow';
import { REHEARSAL_API_URL_VARIABLE } from '../../lambdas/shared/pager-duty-maintenance';
import { RotationFunction } from '../../lib/rotation-function';
import {
  definitionOf,
  envReadBy,
  exampleConfig,
  exampleRawConfig,
  isXRay,
  logicalIdOf,
  policyStatements,
  stateNamed,
  successors,
  synthesize,
  transitionProblems,
  allStates,
  buildStack,
  type AslDefinition,
  type Synthesized,
} from './synth-helpers';

const PAGER_DUTY = {
  serviceName: 'monit-prod-critical',
  serviceIds: ['PQ8QK9U', 'PABC123'],
  apiTokenSecretName: 'pagerduty/api-token',
  fromEmail: 'sre@example.com',
};
const TOKEN_ARN = 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:pagerduty/api-token-??????';
const MONIT_ARN = 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/gitter/monit/certificate-md5';

const withPagerDuty = () => resolveConfig({ ...exampleRawConfig(), pagerDuty: PAGER_DUTY });

let s: Synthesized;
let definition: AslDefinition;
let plain: Synthesized;

beforeAll(() => {
  s = synthesize(withPagerDuty());
  definition = definitionOf(s.json);
  plain = synthesize(exampleConfig());
});

const maintenanceFunction = (x: Synthesized): RotationFunction => x.stack.rotation.node.findChild('MaintenanceWindow') as RotationFunction;
const functionsOf = (x: Synthesized): RotationFunction[] =>
  x.stack.node.findAll().filter((c): c is RotationFunction => c instanceof RotationFunction);
const statementsOfFn = (x: Synthesized, fn: RotationFunction) =>
  policyStatements(x.json, logicalIdOf(fn.function.role!)).filter((st) => !isXRay(st));
const envOf = (x: Synthesized, fn: RotationFunction): Record<string, unknown> =>
  (x.json.Resources[logicalIdOf(fn.function)]?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
  {};
const fnArn = (fn: RotationFunction) => `\${${logicalIdOf(fn.function)}.Arn}`;

describe('the maintenance window in the flow (config with pagerDuty)', () => {
  test('Approval 1 -> open the window -> upload: the window opens before the first change', () => {
    // Arrange
    const gate = stateNamed(definition, STATE.gateStart);
    const open = stateNamed(definition, MAINTENANCE_STATE.open);

    // Assert
    expect(gate.Next).toBe(MAINTENANCE_STATE.open);
    expect(open.Next).toBe(STATE.upload);
    expect(open.ResultPath).toBe('$.maintenance');
    expect(open.Resource).toBe(fnArn(maintenanceFunction(s)));
    expect(open.Parameters).toEqual({ 'executionName.$': '$$.Execution.Name', action: 'open' });
    // A failure to open goes to the failure path (an empty ledger: nothing changed yet), never on to the upload.
    expect(open.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: STATE.rollback }]);
    // The only way to the upload is through the open state.
    const intoUpload = allStates(definition)
      .filter((w) => successors(w.state).includes(STATE.upload))
      .map((w) => w.name);
    expect(intoUpload).toEqual([MAINTENANCE_STATE.open]);
  });

  test('success: prune -> close -> finish; a close failure goes on to finish too (a warning, never a failure)', () => {
    // Arrange
    const prune = stateNamed(definition, STATE.prune);
    const close = stateNamed(definition, MAINTENANCE_STATE.closeOnSuccess);

    // Assert
    expect(prune.Next).toBe(MAINTENANCE_STATE.closeOnSuccess);
    expect(prune.Catch?.map((c) => c.Next)).toEqual([MAINTENANCE_STATE.closeOnSuccess]);
    expect(close.Next).toBe(STATE.finishSuccess);
    expect(close.Resource).toBe(fnArn(maintenanceFunction(s)));
    expect(close.Parameters).toEqual({ 'executionName.$': '$$.Execution.Name', action: 'close' });
    expect(close.ResultPath).toBe('$.maintenanceClose');
    expect(close.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.maintenanceCloseError', Next: STATE.finishSuccess }]);
    const intoFinish = allStates(definition)
      .filter((w) => successors(w.state).includes(STATE.finishSuccess))
      .map((w) => w.name);
    expect(intoFinish).toEqual([MAINTENANCE_STATE.closeOnSuccess]);
  });

  test('failure path (rejection, error, gate timeout): every way to the failure report passes the close first', () => {
    // Arrange
    const close = stateNamed(definition, MAINTENANCE_STATE.closeOnFailure);
    const intoReport = allStates(definition)
      .filter((w) => successors(w.state).includes(STATE.finishFailure))
      .map((w) => w.name);
    const intoClose = allStates(definition)
      .filter((w) => successors(w.state).includes(MAINTENANCE_STATE.closeOnFailure))
      .map((w) => w.name)
      .sort();

    // Assert
    expect(intoReport).toEqual([MAINTENANCE_STATE.closeOnFailure]);
    expect(close.Next).toBe(STATE.finishFailure);
    expect(close.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.maintenanceCloseError', Next: STATE.finishFailure }]);
    // After the rollback was verified or could not be (its Next and Catch), or CloudFront's restores did not deploy.
    expect(intoClose).toEqual([STATE.rollbackPoll, STATE.verifyRollback].sort());
    expect(transitionProblems(definition)).toEqual([]);
  });

  test('onTimeout: stop: a gate timeout passes the close before the stop report (the rotation ends there)', () => {
    // Arrange
    const stop = synthesize(
      resolveConfig({ ...exampleRawConfig(), pagerDuty: PAGER_DUTY, approvals: { timeoutSeconds: 3600, onTimeout: 'stop' } }),
    );
    const d = definitionOf(stop.json);
    const into = (name: string) =>
      allStates(d)
        .filter((w) => successors(w.state).includes(name))
        .map((w) => w.name);

    // Assert
    expect(stateNamed(d, MAINTENANCE_STATE.closeOnStop).Next).toBe(STOP_STATE.finishStopped);
    expect(into(STOP_STATE.finishStopped)).toEqual([MAINTENANCE_STATE.closeOnStop]);
    expect(into(MAINTENANCE_STATE.closeOnStop).every((n) => n.endsWith('no answer in time'))).toBe(true);
    expect(into(MAINTENANCE_STATE.closeOnStop).length).toBeGreaterThan(0);
    expect(stop.stack.rotation.phases.find((p) => p.name === 'maintenance window')?.states).toContain(MAINTENANCE_STATE.closeOnStop);
    expect(transitionProblems(d)).toEqual([]);
  });

  test('the report phases: open and both closes report as "maintenance window", not as rollback or finish', () => {
    const phase = (name: string) => s.stack.rotation.phases.find((p) => p.name === name)?.states ?? [];
    expect([...phase('maintenance window')].sort()).toEqual(
      [MAINTENANCE_STATE.open, MAINTENANCE_STATE.closeOnSuccess, MAINTENANCE_STATE.closeOnFailure].sort(),
    );
    expect(phase('rollback')).not.toContain(MAINTENANCE_STATE.closeOnFailure);
    expect(phase('finish')).not.toContain(MAINTENANCE_STATE.closeOnFailure);
  });

  test("the window lasts the longest the rest of an execution can run (every later gate's timeout plus a day)", () => {
    // Arrange: canary, edge, and one gate between two of the three node phases, 86400 s each
    const env = JSON.parse(String(envOf(s, maintenanceFunction(s)).PAGER_DUTY)) as { windowMinutes: number };

    // Assert
    expect(windowMinutes(s.config)).toBe((4 * 86_400 + 86_400) / 60);
    expect(env.windowMinutes).toBe(windowMinutes(s.config));
    // A gate's own timeout counts for that gate; Approval 1's does not (the window opens after it).
    const own = resolveConfig({
      ...exampleRawConfig(),
      pagerDuty: PAGER_DUTY,
      approvals: { timeoutSeconds: 3600, gates: { start: { timeoutSeconds: 600 }, edge: { timeoutSeconds: 7200 } } },
    });
    expect(windowMinutes(own)).toBe((3600 + 7200 + 3600 + 3600 + 86_400) / 60);
  });
});

describe('least privilege (config with pagerDuty)', () => {
  test('the maintenance-window function may read exactly the token secret, and nothing else', () => {
    // Arrange
    const statements = statementsOfFn(s, maintenanceFunction(s));

    // Assert
    expect(statements.map(({ actions, resources }) => ({ actions, resources }))).toEqual([
      { actions: ['secretsmanager:GetSecretValue'], resources: [TOKEN_ARN] },
    ]);
  });

  test('no other function may touch the token secret, and no statement anywhere names it but that one', () => {
    // Arrange
    const naming = policyStatements(s.json).filter((st) => st.resources.some((r) => r.includes('pagerduty')));
    const others = functionsOf(s).filter((fn) => fn !== maintenanceFunction(s));

    // Assert
    expect(naming.map((st) => st.policyLogicalId)).toEqual([
      logicalIdOf(maintenanceFunction(s).function.role!.node.findChild('DefaultPolicy')),
    ]);
    for (const fn of others) {
      const secretResources = statementsOfFn(s, fn)
        .filter((st) => st.actions.some((a) => a.startsWith('secretsmanager:')))
        .flatMap((st) => st.resources);
      expect({
        fn: fn.handlerName,
        secretResources: secretResources.filter((r) => !r.includes(':secret:cert-rotation/gitter.im/*') && !r.includes('acme')),
      }).toEqual({
        fn: fn.handlerName,
        secretResources: [],
      });
    }
  });

  test('only the state machine invokes the maintenance-window function; its environment holds the settings, never a token', () => {
    // Arrange
    const env = envOf(s, maintenanceFunction(s));
    const pd = JSON.parse(String(env.PAGER_DUTY)) as Record<string, unknown>;

    // Assert
    expect(pd).toEqual({
      serviceName: 'monit-prod-critical',
      serviceIds: ['PQ8QK9U', 'PABC123'],
      apiUrl: 'https://api.pagerduty.com',
      fromEmail: 'sre@example.com',
      tokenSecretId: 'pagerduty/api-token',
      windowMinutes: windowMinutes(s.config),
    });
    expect(env.DOMAIN).toBe('gitter.im');
    const { required, json } = envReadBy('maintenance-window' as never);
    for (const name of required) expect(Object.keys(env)).toContain(name);
    for (const name of json) expect(() => JSON.parse(String(env[name])) as unknown).not.toThrow();
    const fn = s.json.Resources[logicalIdOf(maintenanceFunction(s).function)]?.Properties ?? {};
    expect(fn).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } });
  });

  test("no function of either stack is given the rehearsal's stand-in variable (production stays https)", () => {
    for (const x of [s, plain]) {
      for (const fn of functionsOf(x)) expect(Object.keys(envOf(x, fn))).not.toContain(REHEARSAL_API_URL_VARIABLE);
    }
  });

  test('monit: finish (and only finish) may put exactly the fingerprint parameter', () => {
    for (const x of [s, plain]) {
      const putters = functionsOf(x).filter((fn) => statementsOfFn(x, fn).some((st) => st.actions.includes('ssm:PutParameter')));
      expect(putters.map((fn) => fn.handlerName)).toEqual(['finish']);
      const st = statementsOfFn(x, putters[0]).filter((st) => st.actions.includes('ssm:PutParameter'));
      expect(st.map(({ actions, resources }) => ({ actions, resources }))).toEqual([
        { actions: ['ssm:PutParameter'], resources: [MONIT_ARN] },
      ]);
    }
  });

  test('without monit in the config, no function may put any parameter', () => {
    // Arrange
    const raw = exampleRawConfig();
    delete raw.monit;
    const x = synthesize(resolveConfig(raw));

    // Assert
    expect(policyStatements(x.json).filter((st) => st.actions.includes('ssm:PutParameter'))).toEqual([]);
  });

  test('cdk-nag: the app with pagerDuty synthesizes with nag on (no unacknowledged finding)', () => {
    const { app } = buildStack(withPagerDuty(), { nag: true });
    expect(() => app.synth()).not.toThrow();
  });
});

describe('without pagerDuty (the example config)', () => {
  test('no maintenance-window function, no PagerDuty state, no grant on a PagerDuty secret', () => {
    expect(plain.stack.rotation.node.tryFindChild('MaintenanceWindow')).toBeUndefined();
    expect(functionsOf(plain).map((f) => f.handlerName)).not.toContain('maintenance-window');
    const names = allStates(definitionOf(plain.json)).map((w) => w.name);
    expect(names.filter((n) => /PagerDuty|maintenance/i.test(n))).toEqual([]);
    expect(stateNamed(definitionOf(plain.json), STATE.gateStart).Next).toBe(STATE.upload);
    expect(policyStatements(plain.json).filter((st) => st.resources.some((r) => /pagerduty/i.test(r)))).toEqual([]);
  });
});

describe('config', () => {
  test('a token secret under cert-rotation/ is refused (obtain, validate and upload read the secrets there)', () => {
    expect(() =>
      resolveConfig({ ...exampleRawConfig(), pagerDuty: { ...PAGER_DUTY, apiTokenSecretName: 'cert-rotation/gitter.im/pd' } }),
    ).toThrow(/pagerDuty\.apiTokenSecretName.*must not be under cert-rotation\//);
  });

  test('an http apiUrl is refused by the config (the rehearsal reaches its stand-in another way)', () => {
    expect(() => resolveConfig({ ...exampleRawConfig(), pagerDuty: { ...PAGER_DUTY, apiUrl: 'http://127.0.0.1:8080' } })).toThrow(
      /pagerDuty\.apiUrl/,
    );
  });
});
