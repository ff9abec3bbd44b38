/**
 * Field-by-field validation of the rehearsal's JSON files, into the one problem collector that the
 * deployment config uses too (lib/problems.ts: dependency-free, so local/sim stays independent of
 * lambdas/). What is particular to the rehearsal lives here: the UsageError naming the file, and
 * the DNS names of the fleet.
 */
import { UsageError } from './errors';

export { isIntegerIn, isObject, Problems, type JsonObject } from '../../lib/problems';

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

/** A lower-case DNS name (`gitter.im`, `irc.gitter.im`). */
export const DNS_NAME_RE = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** A DNS name, optionally a `*.` wildcard (CloudFront aliases may be wildcards). */
export function isDnsNameOrWildcard(value: string): boolean {
  return DNS_NAME_RE.test(value.startsWith('*.') ? value.slice(2) : value);
}
