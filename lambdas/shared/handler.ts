import { awsClient } from './aws-clients';
import { classifyAwsErrors } from './aws-errors';
import { lazy, optionalEnv, requireEnv, requireJsonEnv } from './env';
import { createLogger, withExecution, type DomainLogger } from './logger';

/**
 * The one handler shape. A handler's `index.ts` says only what differs: its name, what it builds
 * per container (environment values, SDK clients) and how an event becomes the domain call.
 * Everything else is here, once:
 *  - the environment is read on the first invocation, synchronously (the local rehearsal sets a
 *    function's environment only for the synchronous part of the call), once per container, and
 *    again after `coldStartAll()`; a missing variable fails that invocation loudly;
 *  - SDK clients come from the shared factory (`awsClient`: retries, error annotation, standard
 *    region/endpoint settings);
 *  - one Powertools logger per handler, with the per-execution keys appended once per invocation;
 *    the domain gets the narrow `DomainLogger`;
 *  - a transient AWS error that survived the SDK's retries becomes `AwsTransient`;
 *  - one clock convention: `now: () => Date`, passed to every domain function that needs time.
 */

/**
 * What `deps` builds with: the functions of `env.ts` and `aws-clients.ts` under their own names, so
 * `requireEnv('X')` and `awsClient(XClient)` read the same everywhere (the construct tests find the
 * variables a handler requires by those calls in its `index.ts`).
 */
export interface DepsKit {
  /** A required variable; a missing or empty one throws naming it. */
  readonly requireEnv: typeof requireEnv;
  /** A required variable holding JSON. */
  readonly requireJsonEnv: typeof requireJsonEnv;
  /** An optional variable (undefined when unset or empty). */
  readonly optionalEnv: typeof optionalEnv;
  /** An SDK client built by the shared factory: `awsClient(IAMClient)`. */
  readonly awsClient: typeof awsClient;
}

/** What every invocation gets besides the event and the container's dependencies. */
export interface InvocationContext {
  readonly executionName: string;
  /** The handler's logger, with this execution's keys (and no other execution's). */
  readonly logger: DomainLogger;
  /** The clock. Domain functions take `now: () => Date` and call it when they need the time. */
  readonly now: () => Date;
}

/** Every event names the execution it belongs to (for the logger's keys). */
export interface ExecutionEvent {
  readonly executionName: string;
}

export interface HandlerSpec<E extends ExecutionEvent, D, R> {
  /** The handler folder's name; the logger's service is `cert-rotation-<name>`. */
  readonly name: string;
  /** Built once per container, synchronously, on the first invocation. */
  readonly deps: (kit: DepsKit) => D;
  /** The invocation: the event and what was built, to the domain call. */
  readonly run: (event: E, deps: D, ctx: InvocationContext) => Promise<R> | R;
}

const kit: DepsKit = { requireEnv, requireJsonEnv, optionalEnv, awsClient };

/** The system clock, the `now` of every invocation. */
const systemClock = (): Date => new Date();

/** Builds a Lambda handler (`export const handler = defineHandler({...})`) of the one shape. */
export function defineHandler<E extends ExecutionEvent, D, R>(spec: HandlerSpec<E, D, R>): (event: E) => Promise<R> {
  const container = lazy(() => ({ deps: spec.deps(kit), logger: createLogger(spec.name) }));
  return async (event) => {
    // Before any await: the environment may be there only for the synchronous part of the call.
    const { deps, logger } = container();
    const ctx: InvocationContext = {
      executionName: event.executionName,
      logger: withExecution(logger, event.executionName),
      now: systemClock,
    };
    return classifyAwsErrors(async () => spec.run(event, deps, ctx));
  };
}
