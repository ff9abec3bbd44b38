/**
 * Every state of the workflow belongs to a report phase; one that does not (nested ones included)
 * stops the rehearsal before it starts, naming it, instead of dropping out of the report.
 */
import { exampleConfig } from '../construct/synth-helpers';
import { phasesOfStates } from '../../local/rehearsal';
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

describe('phasesOfStates', () => {
  test('gives every state, nested ones included, its phase', () => {
    // Act
    const phases = phasesOfStates(definition, { Top: 'a', Each: 'b', Inner: 'b' }, ['a', 'b']);

    // Assert
    expect(Object.fromEntries(phases)).toEqual({ Top: 'a', Each: 'b', Inner: 'b' });
  });

  test('a nested state in no phase is an error naming it and where it is', () => {
    expect(() => phasesOfStates(definition, { Top: 'a', Each: 'b' }, ['a', 'b'])).toThrow(
      'state "Inner" (States.Each.ItemProcessor.States.Inner) belongs to no report phase (PHASE_OF and PHASE_ORDER in local/rehearsal.ts)',
    );
  });

  test('a state whose phase the report does not list is an error naming both', () => {
    expect(() => phasesOfStates(definition, { Top: 'a', Each: 'b', Inner: 'c' }, ['a', 'b'])).toThrow(
      'state "Inner" belongs to phase "c", which the report does not list',
    );
  });

  test('a state named like an Object.prototype member is not given a phase by accident', () => {
    const odd: AslMachine<Record<string, unknown>> = { StartAt: 'constructor', States: { constructor: { Type: 'Pass' } } };
    expect(() => phasesOfStates(odd, {}, [])).toThrow('state "constructor" (States.constructor) belongs to no report phase');
  });

  test('the synthesized workflow: every state, its Succeed and Fail states included, has a report phase', () => {
    // Arrange
    const workflow = synthesizeWorkflow(exampleConfig());

    // Act
    const phases = phasesOfStates(workflow.definition);

    // Assert
    expect([...phases.keys()].sort()).toEqual([...walkStates(workflow.definition as AslMachine)].map((w) => w.name).sort());
  });
});
