/**
 * Field-by-field validation of the rehearsal's JSON files, into the one problem collector that the
 * deployment config uses too (lib/problems.ts: dependency-free, so local/sim stays independent of
 * lambdas/). What is particular to the rehearsal lives here: the UsageError naming the file.
 */
import { UsageError } from './errors';

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
