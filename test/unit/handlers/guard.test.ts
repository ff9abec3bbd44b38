import { ListExecutionsCommand, SFNClient, type ExecutionListItem } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { guardAgainstConcurrentRotation, type GuardParams } from '../../../lambdas/guard/domain';
import { ConcurrentRotation } from '../../../lambdas/shared/errors';
import { silentLogger } from '../../../lambdas/shared/logger';
import { caught } from '../../support/handler-support';

const sfnMock = mockClient(SFNClient);
const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:CertRotation-gitter-im';
const execArn = (name: string) => `arn:aws:states:eu-west-1:123456789012:execution:CertRotation-gitter-im:${name}`;

function execution(name: string, startedAt: string): ExecutionListItem {
  return { executionArn: execArn(name), stateMachineArn: STATE_MACHINE, name, status: 'RUNNING', startDate: new Date(startedAt) };
}

const SELF = execution('rotate-2026-11-27', '2026-11-27T10:00:00.000Z');

function makeParams(overrides: Partial<GuardParams> = {}): GuardParams {
  return {
    sfn: new SFNClient({ region: 'eu-west-1' }),
    logger: silentLogger,
    domain: 'gitter.im',
    stateMachineArn: STATE_MACHINE,
    executionArn: SELF.executionArn!,
    ...overrides,
  };
}

beforeEach(() => {
  sfnMock.reset();
});

describe('guardAgainstConcurrentRotation', () => {
  test('goes on when this execution is the only one running, asking only for RUNNING executions of this state machine', async () => {
    // Arrange
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [SELF] });

    // Act
    const result = await guardAgainstConcurrentRotation(makeParams());

    // Assert
    expect(result).toEqual({ domain: 'gitter.im', otherRunning: 0 });
    const calls = sfnMock.commandCalls(ListExecutionsCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input).toMatchObject({ stateMachineArn: STATE_MACHINE, statusFilter: 'RUNNING' });
  });

  test('an execution that started earlier wins: ConcurrentRotation naming it and the domain', async () => {
    // Arrange
    const earlier = execution('rotate-manual-2026-11-26', '2026-11-27T09:59:00.000Z');
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [SELF, earlier] });

    // Act
    const thrown = await caught(() => guardAgainstConcurrentRotation(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(ConcurrentRotation);
    expect(thrown.name).toBe('ConcurrentRotation');
    expect(thrown.message).toContain('rotate-manual-2026-11-26');
    expect(thrown.message).toContain('2026-11-27T09:59:00.000Z');
    expect(thrown.message).toContain('gitter.im');
  });

  test('an execution that started later does not stop this one (the earlier one wins)', async () => {
    // Arrange
    const later = execution('rotate-scheduled', '2026-11-27T10:00:05.000Z');
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [later, SELF] });

    // Act
    const result = await guardAgainstConcurrentRotation(makeParams());

    // Assert
    expect(result).toEqual({ domain: 'gitter.im', otherRunning: 1 });
  });

  test('of two executions started in the same millisecond exactly one goes on', async () => {
    // Arrange
    const a = execution('rotate-a', '2026-11-27T10:00:00.000Z');
    const b = execution('rotate-b', '2026-11-27T10:00:00.000Z');
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [b, a] });

    // Act
    const outcomes = await Promise.all(
      [a, b].map((self) =>
        guardAgainstConcurrentRotation(makeParams({ executionArn: self.executionArn! })).then(
          () => 'goes on',
          (e: Error) => e.name,
        ),
      ),
    );

    // Assert
    expect(outcomes.sort()).toEqual(['ConcurrentRotation', 'goes on']);
  });

  test('follows nextToken: an earlier execution on the second page still stops this one', async () => {
    // Arrange
    const later = execution('rotate-later', '2026-11-27T11:00:00.000Z');
    const earlier = execution('rotate-earlier', '2026-11-27T08:00:00.000Z');
    sfnMock
      .on(ListExecutionsCommand)
      .resolvesOnce({ executions: [later, SELF], nextToken: 'page-2' })
      .resolvesOnce({ executions: [earlier] });

    // Act
    const thrown = await caught(() => guardAgainstConcurrentRotation(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(ConcurrentRotation);
    expect(thrown.message).toContain('rotate-earlier');
    const calls = sfnMock.commandCalls(ListExecutionsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1].args[0].input).toMatchObject({ stateMachineArn: STATE_MACHINE, statusFilter: 'RUNNING', nextToken: 'page-2' });
  });

  test('counts running executions across pages when none started earlier', async () => {
    // Arrange
    sfnMock
      .on(ListExecutionsCommand)
      .resolvesOnce({ executions: [execution('later-1', '2026-11-27T10:01:00.000Z')], nextToken: 't2' })
      .resolvesOnce({ executions: [execution('later-2', '2026-11-27T10:02:00.000Z')], nextToken: 't3' })
      .resolvesOnce({ executions: [SELF] });

    // Act
    const result = await guardAgainstConcurrentRotation(makeParams());

    // Assert
    expect(result.otherRunning).toBe(2);
    expect(sfnMock.commandCalls(ListExecutionsCommand)).toHaveLength(3);
  });

  test('when the listing does not show this execution yet, any other running one stops it (safe side)', async () => {
    // Arrange
    sfnMock.on(ListExecutionsCommand).resolves({ executions: [execution('rotate-other', '2026-11-27T10:30:00.000Z')] });

    // Act
    const thrown = await caught(() => guardAgainstConcurrentRotation(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(ConcurrentRotation);
    expect(thrown.message).toContain('rotate-other');
  });
});
