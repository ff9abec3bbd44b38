/**
 * The one problem collector: the deployment config (lib/config) and the rehearsal's fleet and
 * faults files (local/sim) validate field by field into it, so that an operator fixes a file in one
 * go; each problem names its field by path (`canary.port: ...`, `fleet.elbs[0].name: ...`).
 *
 * It lives here, imports nothing, and knows no error class: lib/ throws a ConfigError, local/sim a
 * UsageError, each through {@link Problems.throwIfAny}. local/sim imports this module and nothing
 * else from lib/, so the simulated account stays independent of lambdas/ (an oracle).
 */

/** A JSON object (not an array, not null). */
export type JsonObject = Record<string, unknown>;

/** True for a plain JSON object. */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An integer in [min, max]. */
export function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** The path of `key` inside the object at `path` (`''` is the top level): `canary.port`, `port`. */
export function fieldPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** How an unknown field is described: the rehearsal's files list what is allowed. */
export type UnknownFieldMessage = (allowed: readonly string[]) => string;

/** `unknown field (allowed: a, b)`. */
export const listAllowedFields: UnknownFieldMessage = (allowed) => `unknown field (allowed: ${allowed.join(', ')})`;

/** Collects problems, in the order found; {@link throwIfAny} throws them together as one error. */
export class Problems {
  readonly list: string[] = [];

  /** Records `path: message`. */
  add(path: string, message: string): void {
    this.list.push(`${path}: ${message}`);
  }

  /** True when nothing was recorded. */
  get empty(): boolean {
    return this.list.length === 0;
  }

  /** Reports every key of `obj` (the object at `path`) that is not in `allowed`. */
  unknownFields(obj: JsonObject, path: string, allowed: readonly string[], message: UnknownFieldMessage = listAllowedFields): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) this.add(fieldPath(path, key), message(allowed));
    }
  }

  /** Throws `toError(every problem)` when there is any. */
  throwIfAny(toError: (problems: readonly string[]) => Error): void {
    if (this.list.length > 0) throw toError([...this.list]);
  }
}
