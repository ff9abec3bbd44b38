/**
 * Every state of the workflow belongs to a report phase its phase declares; one that no phase
 * declares (nested ones included) stops the rehearsal before it starts, naming it, instead of
 * dropping out of the report.
 */
import { STATE } from '../../lib/cert-rotation';
import { nodeGateName } from '../../lib/phases/node-approval';
import { nodeStateNames } from '../../lib/phases/node-phase';
import { exampleConfig } from '../construct/synth-helpers';
import { phasesOfStates, type DeclaredPhases } from '../../local/rehearsal';
import { synthesizeWorkflow } from '../../local/template';
import { walkStates, type AslMachine } from '../../local/walk-states';

/** A top-level Task and a Map whose iterator holds a nested Task. */
const definition: AslMachine<Record<string, unknown>> = {
  StartAt: 'Top',
  States: {
    Top: { Type: 'Task', Next: 'Each' },
    Each: { Type: 'Map', ItemProcessor: { StartAt: 'Inner', States: { Inner: { Type: 'Task' } } } },
  },
};

/** The report phases and their states as they were when a hand map listed them (issue 6 keeps them; issue 7 adds the edge). */
const HAND_MAP: Record<string, string> = {
  [STATE.receiveInput]: 'input',
  [STATE.checkInput]: 'input',
  [STATE.inputRefused]: 'input',
  [STATE.guard]: 'guard',
  [STATE.obtain]: 'obtain',
  [STATE.current]: 'validate',
  [STATE.validate]: 'validate',
  [STATE.plan]: 'plan',
  // Issue 9: the start email, reported with the plan.
  [STATE.notifyStart]: 'plan',
  [STATE.gateStart]: 'approval: start',
  // Each gate records its own timeout (which gate, how long) before the timeout path.
  'Approval 1: no answer in time': 'approval: start',
  'Approval 2: no answer in time': 'approval: canary',
  'Approval 3: no answer in time': 'approval: edge',
  'Approval 4: no answer in time': 'approval: nodes beta',
  'Approval 5: no answer in time': 'approval: nodes prod-canary',
  [STATE.upload]: 'upload',
  [STATE.canarySwitch]: 'canary edge',
  [STATE.canaryPrepare]: 'canary edge',
  [STATE.canaryVerify]: 'canary edge',
  [STATE.canaryChoice]: 'canary edge',
  [STATE.canaryWait]: 'canary edge',
  [STATE.gateCanary]: 'approval: canary',
  // Issue 7: the edge rollout, nested Map/Parallel states included, and its gate.
  ...Object.fromEntries(
    (Object.keys(STATE) as Array<keyof typeof STATE>).filter((k) => k.startsWith('edge')).map((k) => [STATE[k], 'edge']),
  ),
  [STATE.gateEdge]: 'approval: edge',
  [STATE.rollbackChoice]: 'rollback',
  [STATE.rollbackDeployStart]: 'rollback',
  [STATE.rollbackPoll]: 'rollback',
  [STATE.rollbackDeployChoice]: 'rollback',
  [STATE.rollbackDeployWait]: 'rollback',
  [STATE.nodeRollback]: 'rollback',
  [STATE.nodeRollbackAny]: 'rollback',
  [STATE.nodeRollbackStart]: 'rollback',
  [STATE.nodeRollbackWait]: 'rollback',
  [STATE.nodeRollbackPoll]: 'rollback',
  [STATE.nodeRollbackDone]: 'rollback',
  // Each node phase's states, and the gate after beta and after the prod canary.
  ...Object.fromEntries(
    ['beta', 'prod-canary', 'prod'].flatMap((p) => Object.values(nodeStateNames(p)).map((name) => [name, `nodes: ${p}`])),
  ),
  [nodeGateName(4, 'beta')]: 'approval: nodes beta',
  [nodeGateName(5, 'prod-canary')]: 'approval: nodes prod-canary',
  [STATE.prune]: 'prune',
  [STATE.finishSuccess]: 'finish',
  [STATE.rollback]: 'rollback',
  [STATE.verifyRollback]: 'rollback',
  [STATE.finishFailure]: 'finish',
  [STATE.rollbackVerified]: 'finish',
  // The ends of the execution (Succeed and Fail states).
  [STATE.succeeded]: 'finish',
  [STATE.reportFailed]: 'finish',
  [STATE.failed]: 'finish',
  [STATE.rollbackIncomplete]: 'finish',
  [STATE.rollbackIncompleteUnreported]: 'finish',
};

describe('phasesOfStates', () => {
  test('gives every state, nested ones included, the phase that declares it', () => {
    // Act
    const phases = phasesOfStates(definition, [
      { name: 'a', states: ['Top'] },
      { name: 'b', states: ['Each', 'Inner'] },
    ]);

    // Assert
    expect(Object.fromEntries(phases)).toEqual({ Top: 'a', Each: 'b', Inner: 'b' });
  });

  test('a nested state no phase declares is an error naming it and where it is', () => {
    expect(() => phasesOfStates(definition, [{ name: 'a', states: ['Top', 'Each'] }])).toThrow(
      'state "Inner" (States.Each.ItemProcessor.States.Inner) belongs to no report phase (each phase in lib/phases/ declares its states',
    );
  });

  test('a state two phases claim is an error naming both', () => {
    const declared: DeclaredPhases = [
      { name: 'a', states: ['Top', 'Each', 'Inner'] },
      { name: 'b', states: ['Inner'] },
    ];
    expect(() => phasesOfStates(definition, declared)).toThrow('state "Inner" is declared by phases "a" and "b"');
  });

  test('a state named like an Object.prototype member is not given a phase by accident', () => {
    const odd: AslMachine<Record<string, unknown>> = { StartAt: 'constructor', States: { constructor: { Type: 'Pass' } } };
    expect(() => phasesOfStates(odd, [])).toThrow('state "constructor" (States.constructor) belongs to no report phase');
  });

  test('the synthesized workflow: every state, its Succeed and Fail states included, has the phase it had in the hand map', () => {
    // Arrange
    const workflow = synthesizeWorkflow(exampleConfig());

    // Act
    const phases = phasesOfStates(workflow.definition, workflow.phases);

    // Assert
    expect(workflow.phases.map((p) => p.name)).toEqual([
      'input',
      'guard',
      'obtain',
      'validate',
      'plan',
      'approval: start',
      'upload',
      'canary edge',
      'approval: canary',
      'edge',
      'approval: edge',
      'nodes: beta',
      'approval: nodes beta',
      'nodes: prod-canary',
      'approval: nodes prod-canary',
      'nodes: prod',
      'prune',
      'rollback',
      'finish',
    ]);
    expect([...phases.keys()].sort()).toEqual([...walkStates(workflow.definition as AslMachine)].map((w) => w.name).sort());
    expect(Object.fromEntries(phases)).toEqual(HAND_MAP);
  });

  test('the synthesized workflow with a state no phase declares: stops, naming it', () => {
    // Arrange: a state added to the definition that no phase's builder created
    const workflow = synthesizeWorkflow(exampleConfig());
    const def = workflow.definition as AslMachine<Record<string, unknown>>;
    const tampered = { ...def, States: { ...def.States, Undeclared: { Type: 'Pass', End: true } } };

    // Act / Assert
    expect(() => phasesOfStates(tampered, workflow.phases)).toThrow('state "Undeclared" (States.Undeclared) belongs to no report phase');
  });
});
