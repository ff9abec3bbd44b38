/**
 * The construct invariants walk nested states too: a Map iterator or Parallel branch that leaves
 * its own machine, has a dead end or an unreachable state is found, as at the top level.
 */
import { allStates, stateNamed, transitionProblems, type AslDefinition } from './synth-helpers';

/** A Parallel whose branch holds a Map; `inner` are the iterator's states. */
function withInner(inner: Record<string, unknown>): AslDefinition {
  return {
    StartAt: 'Fan out',
    States: {
      'Fan out': {
        Type: 'Parallel',
        Branches: [{ StartAt: 'Each', States: { Each: { Type: 'Map', ItemProcessor: { StartAt: 'Work', States: inner }, End: true } } }],
        Next: 'Done',
      },
      Done: { Type: 'Succeed' },
    },
  };
}

describe('construct invariants over nested states', () => {
  test('a well-formed nested definition has no transition problems, and its nested states are seen', () => {
    // Arrange
    const definition = withInner({
      Work: { Type: 'Task', Resource: 'arn:x', Next: 'Pause' },
      Pause: { Type: 'Wait', Seconds: 1, End: true },
    });

    // Assert
    expect(transitionProblems(definition)).toEqual([]);
    expect(allStates(definition).map((w) => w.name)).toEqual(['Fan out', 'Each', 'Work', 'Pause', 'Done']);
    expect(stateNamed(definition, 'Pause')).toEqual({ Type: 'Wait', Seconds: 1, End: true });
  });

  test('a nested state that leaves its machine, one with no way out and one never reached are each named', () => {
    // Arrange: Work jumps to the top-level Done; Stuck has no Next; Orphan is never reached.
    const definition = withInner({
      Work: { Type: 'Task', Resource: 'arn:x', Next: 'Done' },
      Stuck: { Type: 'Pass' },
      Orphan: { Type: 'Pass', End: true },
    });

    // Act
    const problems = transitionProblems(definition);

    // Assert
    expect(problems).toEqual([
      '"Work" goes to "Done", not a state of its machine',
      '"Stuck" has no way out',
      '"Stuck" is not reachable from "Work"',
      '"Orphan" is not reachable from "Work"',
    ]);
  });
});
