/**
 * Field-by-field validation of the rehearsal's JSON files, into the one problem collector that the
 * deployment config uses too (lib/problems.ts: dependency-free, so local/sim stays independent of
 * lambdas/). What is particular to the rehearsal lives here: the UsageError naming the file.
 */
import { UsageError } from './errors';
import { SERVICE_PREFIXES, SIMULATED_OPERATIONS } from './registry';

export { DNS_NAME_RE, isDnsNameOrWildcard, isIntegerIn, isObject, Problems, type JsonObject } from '../../lib/problems';

/**
 * Turns the problems of the file `source` (a `what`: "fleet file", "faults file") into one UsageError,
 * for {@link Problems.throwIfAny}: one problem on one line, several as a list under a heading.
 */
export function usageError(source: string, what: string): (problems: readonly string[]) => UsageError {
  return (problems) => {
    const message =
      problems.length === 1 ? `${source}: ${problems[0]}` : `${source}: invalid ${what}:\n${problems.map((p) => `  - ${p}`).join('\n')}`;
    return new UsageError(message, problems);
  };
}

/** Why an operation pattern of the rehearsal's files names nothing the account simulates. */
export type OperationPatternProblem =
  /** Not `service:Operation`, `service:*` or `*`, or the service is not simulated. */
  | { readonly kind: 'service' }
  /** The service is simulated, the operation is not; `operations` are the service's own. */
  | { readonly kind: 'operation'; readonly service: string; readonly operations: readonly string[] };

/**
 * Checks an operation pattern (`service:Operation`, `service:*` or `*`) of the faults file or the
 * fleet's `apiRates` against what the account simulates: undefined when it names something simulated.
 */
export function operationPatternProblem(pattern: string): OperationPatternProblem | undefined {
  if (pattern === '*') return undefined;
  const m = /^([a-z0-9]+):(\*|[A-Za-z0-9]+)$/.exec(pattern);
  if (!m || !(SERVICE_PREFIXES as readonly string[]).includes(m[1])) return { kind: 'service' };
  if (m[2] === '*' || (SIMULATED_OPERATIONS as readonly string[]).includes(pattern)) return undefined;
  const operations = SIMULATED_OPERATIONS.filter((o) => o.startsWith(`${m[1]}:`)).map((o) => o.split(':')[1]);
  return { kind: 'operation', service: m[1], operations };
}
