/**
 * States nested in a Map or Parallel run in the local engine exactly as top-level ones do: the
 * rehearsal's way in (localOverrides + startLocalExecution) gives a nested Task its local handler,
 * and a nested Wait and a nested Retry pause their override instead of their real length.
 */
import { localOverrides, startLocalExecution, type EngineState, type LocalHandler } from '../../local/local-engine';
import type { AslMachine } from '../../local/walk-states';

const INNER_FUNCTION = 'arn:aws:lambda:us-east-1:123456789012:function:Inner';
const HOUR = 3600;

/** A Parallel whose branch holds a Map whose iterator waits an hour, then runs a Task whose Retry pauses an hour. */
function definition(): AslMachine<EngineState> {
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
                ItemsPath: '$.items',
                ItemProcessor: {
                  ProcessorConfig: { Mode: 'INLINE' },
                  StartAt: 'Pause an hour',
                  States: {
                    'Pause an hour': { Type: 'Wait', Seconds: HOUR, Next: 'Work on the item' },
                    'Work on the item': {
                      Type: 'Task',
                      Resource: INNER_FUNCTION,
                      Retry: [{ ErrorEquals: ['Flaky'], IntervalSeconds: HOUR, MaxAttempts: 2 }],
                      End: true,
                    },
                  },
                },
                End: true,
              },
            },
          },
        ],
        End: true,
      },
    },
  } as unknown as AslMachine<EngineState>;
}

describe('nested states in the local engine', () => {
  test('a Task in a Map in a Parallel runs its local handler; its Wait and Retry take the override, not an hour', async () => {
    // Arrange: the handler fails each item's first attempt with a retried error.
    const calls: unknown[] = [];
    const attempts = new Map<number, number>();
    const inner: LocalHandler = (input) => {
      const item = input as number;
      calls.push(item);
      attempts.set(item, (attempts.get(item) ?? 0) + 1);
      if (attempts.get(item) === 1) {
        const err = new Error(`first attempt of ${item}`);
        err.name = 'Flaky';
        return Promise.reject(err);
      }
      return Promise.resolve({ done: item * 10 });
    };
    const handlerFor = (_name: string, state: EngineState) => (state.Resource === INNER_FUNCTION ? inner : undefined);
    const overrides = localOverrides(definition(), { pauseMs: 5, handlerFor });

    // Act: an hour's Wait or retry pause that took its real length would not end within a minute
    // (a bound far from both, so a loaded machine does not fail it: no timing is asserted).
    const execution = startLocalExecution(definition(), { items: [1, 2] }, { overrides });
    let timer: NodeJS.Timeout | undefined;
    const tooSlow = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('still running after 60 s: a nested Wait or Retry took its real length')), 60_000);
    });
    const result = await Promise.race([execution.result, tooSlow]).finally(() => {
      clearTimeout(timer);
      execution.abort();
    });

    // Assert
    expect(overrides).toEqual({
      taskResourceLocalHandlers: { 'Work on the item': inner },
      waitTimeOverrides: { 'Pause an hour': 5 },
      retryIntervalOverrides: { 'Work on the item': 5 },
    });
    expect(result).toEqual([[{ done: 10 }, { done: 20 }]]);
    expect(calls.sort()).toEqual([1, 1, 2, 2]);
  }, 90_000);

  test('a nested Task without a local handler stops the run before it starts, naming the state (the engine would call AWS)', () => {
    expect(() => localOverrides(definition(), { pauseMs: 5, handlerFor: () => undefined })).toThrow(
      `no local handler for Task state "Work on the item" (States.Fan out.Branches.0.States.Each item.ItemProcessor.States.Work on the item, Resource ${INNER_FUNCTION})`,
    );
  });
});
