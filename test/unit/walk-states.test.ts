/**
 * walkStates visits every state, nested ones included (Map iterators and Parallel branches, at any
 * depth), with its name, its place in the definition and the machine that holds it.
 */
import { statesByName, walkStates, type AslMachine } from '../../local/walk-states';

/** A Parallel whose first branch holds a Map (ItemProcessor), next to a top-level Map in the older Iterator form. */
function nestedDefinition(): AslMachine<Record<string, unknown>> {
  return {
    StartAt: 'Fan out',
    States: {
      'Fan out': {
        Type: 'Parallel',
        Branches: [
          {
            StartAt: 'Each item',
            States: {
              'Each item': {
                Type: 'Map',
                ItemProcessor: {
                  StartAt: 'Pause',
                  States: { Pause: { Type: 'Wait', Seconds: 60, Next: 'Work' }, Work: { Type: 'Task', Resource: 'arn:x', End: true } },
                },
                End: true,
              },
            },
          },
          { StartAt: 'Side', States: { Side: { Type: 'Pass', End: true } } },
        ],
        Next: 'Legacy map',
      },
      'Legacy map': { Type: 'Map', Iterator: { StartAt: 'Old work', States: { 'Old work': { Type: 'Pass', End: true } } }, Next: 'Done' },
      Done: { Type: 'Succeed' },
    },
  };
}

describe('walkStates', () => {
  test('visits the states of a Map nested in a Parallel branch, and of a top-level Iterator, with their paths and parents', () => {
    // Arrange
    const definition = nestedDefinition();

    // Act
    const walked = [...walkStates(definition)].map(({ name, path, parents }) => ({ name, path: path.join('/'), parents }));

    // Assert
    expect(walked).toEqual([
      { name: 'Fan out', path: 'States/Fan out', parents: [] },
      { name: 'Each item', path: 'States/Fan out/Branches/0/States/Each item', parents: ['Fan out'] },
      { name: 'Pause', path: 'States/Fan out/Branches/0/States/Each item/ItemProcessor/States/Pause', parents: ['Fan out', 'Each item'] },
      { name: 'Work', path: 'States/Fan out/Branches/0/States/Each item/ItemProcessor/States/Work', parents: ['Fan out', 'Each item'] },
      { name: 'Side', path: 'States/Fan out/Branches/1/States/Side', parents: ['Fan out'] },
      { name: 'Legacy map', path: 'States/Legacy map', parents: [] },
      { name: 'Old work', path: 'States/Legacy map/Iterator/States/Old work', parents: ['Legacy map'] },
      { name: 'Done', path: 'States/Done', parents: [] },
    ]);
  });

  test('each state comes with the machine that holds it (its StartAt and siblings), and the state object itself', () => {
    // Act
    const byName = new Map([...walkStates(nestedDefinition())].map((w) => [w.name, w]));

    // Assert
    expect(byName.get('Work')?.machine.StartAt).toBe('Pause');
    expect(Object.keys(byName.get('Work')?.machine.States ?? {})).toEqual(['Pause', 'Work']);
    expect(byName.get('Work')?.state).toEqual({ Type: 'Task', Resource: 'arn:x', End: true });
    expect(byName.get('Done')?.machine.StartAt).toBe('Fan out');
  });

  test('statesByName holds every state, nested ones included', () => {
    expect([...statesByName(nestedDefinition()).keys()].sort()).toEqual(
      ['Done', 'Each item', 'Fan out', 'Legacy map', 'Old work', 'Pause', 'Side', 'Work'].sort(),
    );
  });

  test('statesByName refuses a name used twice (the engine keys its overrides by name), naming both places', () => {
    // Arrange: a nested state named like a top-level one
    const definition = nestedDefinition();
    const legacy = definition.States?.['Legacy map'] as { Iterator: { States: Record<string, unknown> } };
    legacy.Iterator.States.Done = { Type: 'Pass', End: true };

    // Act / Assert
    expect(() => statesByName(definition)).toThrow(
      'state name "Done" is used twice: at States.Legacy map.Iterator.States.Done and at States.Done',
    );
  });
});
