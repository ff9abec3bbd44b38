import { IAMClient } from '@aws-sdk/client-iam';
import { coldStartAll } from '../../../lambdas/shared/env';
import { AwsTransient, CertificateInvalid } from '../../../lambdas/shared/errors';
import { defineHandler, type InvocationContext } from '../../../lambdas/shared/handler';
import { awsError, caught } from '../../support/handler-support';

/** Variables only these tests use (restored after each test). */
const VAR = 'HANDLER_TEST_DOMAIN';
const OTHER = 'HANDLER_TEST_MISSING';

interface TestEvent {
  readonly executionName: string;
}

/** A handler whose deps read VAR and count how often they were built; `run` defaults to returning the deps. */
function makeHandler(run?: (event: TestEvent, deps: { domain: string }, ctx: InvocationContext) => unknown) {
  const built = { count: 0 };
  const handler = defineHandler({
    name: 'handler-test',
    deps: ({ requireEnv }) => {
      built.count += 1;
      return { domain: requireEnv(VAR) };
    },
    run: (event: TestEvent, deps, ctx) => (run ? run(event, deps, ctx) : deps),
  });
  return { handler, built };
}

/** Every JSON line the Powertools logger writes to stdout during `act`. */
async function logLines(act: () => Promise<unknown>): Promise<Array<Record<string, unknown>>> {
  const written: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    await act();
  } finally {
    spy.mockRestore();
  }
  return written
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

beforeEach(() => {
  delete process.env[VAR];
  delete process.env[OTHER];
});

afterAll(() => {
  delete process.env[VAR];
  delete process.env[OTHER];
});

describe('defineHandler: environment', () => {
  test('a missing variable fails the invocation, naming it', async () => {
    // Arrange
    const handler = defineHandler({
      name: 'handler-test',
      deps: ({ requireEnv }) => ({ missing: requireEnv(OTHER) }),
      run: (_event: TestEvent, deps) => deps,
    });

    // Act
    const thrown = await caught(() => handler({ executionName: 'rotate-1' }));

    // Assert
    expect(thrown.message).toBe(`environment variable ${OTHER} is not set (it is set by the CDK stack)`);
  });

  test('is read once per container: a warm invocation does not read it again', async () => {
    // Arrange
    const { handler, built } = makeHandler();
    process.env[VAR] = 'first.example';
    await handler({ executionName: 'rotate-1' });
    process.env[VAR] = 'second.example';

    // Act
    const warm = await handler({ executionName: 'rotate-2' });

    // Assert
    expect(warm).toEqual({ domain: 'first.example' });
    expect(built.count).toBe(1);
  });

  test('coldStartAll() makes the next invocation read it again', async () => {
    // Arrange
    const { handler, built } = makeHandler();
    process.env[VAR] = 'first.example';
    await handler({ executionName: 'rotate-1' });
    process.env[VAR] = 'second.example';

    // Act
    coldStartAll();
    const cold = await handler({ executionName: 'rotate-2' });

    // Assert
    expect(cold).toEqual({ domain: 'second.example' });
    expect(built.count).toBe(2);
  });

  test('is read during the synchronous part of the first invocation (local/invoke.ts sets it only then)', async () => {
    // Arrange
    const { handler } = makeHandler();
    process.env[VAR] = 'sync.example';

    // Act: as invokeHandler does, the variable is gone before the first await resumes.
    const pending = handler({ executionName: 'rotate-1' });
    delete process.env[VAR];
    const result = await pending;

    // Assert
    expect(result).toEqual({ domain: 'sync.example' });
  });

  test('clients come from the shared factory (its error-annotating middleware is on them)', async () => {
    // Arrange
    const handler = defineHandler({
      name: 'handler-test',
      deps: ({ awsClient }) => ({ iam: awsClient(IAMClient) }),
      run: (_event: TestEvent, deps) => deps.iam.middlewareStack.identify(),
    });

    // Act
    const middleware = await handler({ executionName: 'rotate-1' });

    // Assert
    expect(middleware.join('\n')).toContain('annotateAwsCallErrors');
  });
});

describe('defineHandler: errors', () => {
  beforeEach(() => {
    process.env[VAR] = 'gitter.im';
  });

  test('a transient AWS error from the domain call becomes AwsTransient naming it', async () => {
    // Arrange
    const { handler } = makeHandler(() => Promise.reject(awsError('Throttling', { message: 'Rate exceeded' })));

    // Act
    const thrown = await caught(() => handler({ executionName: 'rotate-1' }));

    // Assert
    expect(thrown).toBeInstanceOf(AwsTransient);
    expect(thrown.name).toBe('AwsTransient');
    expect(thrown.message).toBe('Throttling: Rate exceeded');
  });

  test('a transient AWS error thrown synchronously by run is classified too', async () => {
    // Arrange
    const { handler } = makeHandler(() => {
      throw awsError('ServiceUnavailable', { status: 503, message: 'try later' });
    });

    // Act
    const thrown = await caught(() => handler({ executionName: 'rotate-1' }));

    // Assert
    expect(thrown).toBeInstanceOf(AwsTransient);
    expect(thrown.message).toBe('ServiceUnavailable: try later');
  });

  test('a domain error passes unchanged', async () => {
    // Arrange
    const error = new CertificateInvalid('expired', 'the staged certificate has expired');
    const { handler } = makeHandler(() => Promise.reject(error));

    // Act
    const thrown = await caught(() => handler({ executionName: 'rotate-1' }));

    // Assert
    expect(thrown).toBe(error);
  });
});

describe('defineHandler: logger and clock', () => {
  beforeEach(() => {
    process.env[VAR] = 'gitter.im';
  });

  test("each invocation logs with its own execution's key, as the handler's service", async () => {
    // Arrange
    const { handler } = makeHandler((event, _deps, { logger }) => {
      logger.info('step', { seen: event.executionName });
      return undefined;
    });

    // Act
    const lines = await logLines(async () => {
      await handler({ executionName: 'rotate-a' });
      await handler({ executionName: 'rotate-b' });
    });

    // Assert
    const steps = lines.filter((l) => l.message === 'step');
    expect(steps.map((l) => ({ execution: l.execution, seen: l.seen, service: l.service }))).toEqual([
      { execution: 'rotate-a', seen: 'rotate-a', service: 'cert-rotation-handler-test' },
      { execution: 'rotate-b', seen: 'rotate-b', service: 'cert-rotation-handler-test' },
    ]);
  });

  test('the context carries the execution name and a clock that reads the time when called', async () => {
    // Arrange
    const { handler } = makeHandler((_event, _deps, ctx) => ({ executionName: ctx.executionName, first: ctx.now(), clock: ctx.now }));
    const before = Date.now();

    // Act
    const result = (await handler({ executionName: 'rotate-1' })) as { executionName: string; first: Date; clock: () => Date };
    await new Promise((resolve) => setTimeout(resolve, 5));
    const later = result.clock();

    // Assert
    expect(result.executionName).toBe('rotate-1');
    expect(result.first.getTime()).toBeGreaterThanOrEqual(before);
    expect(later.getTime()).toBeGreaterThan(result.first.getTime());
  });
});
