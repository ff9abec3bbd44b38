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

/** How an unknown field is described: the rehearsal's files list what is allowed, the config does not. */
export type UnknownFieldMessage = (allowed: readonly string[]) => string;

/** `unknown field (allowed: a, b)`. */
export const listAllowedFields: UnknownFieldMessage = (allowed) => `unknown field (allowed: ${allowed.join(', ')})`;

/** A lower-case DNS name (`gitter.im`, `irc.gitter.im`): labels of 1-63 letters, digits and inner hyphens, 253 at most. */
export const DNS_NAME_RE = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** A DNS name, optionally a `*.` wildcard (certificate names and CloudFront aliases may be wildcards). */
export function isDnsNameOrWildcard(value: string): boolean {
  return DNS_NAME_RE.test(value.startsWith('*.') ? value.slice(2) : value);
}

export interface ProblemsOptions {
  /** @default {@link listAllowedFields} */
  readonly unknownField?: UnknownFieldMessage;
}

/** Collects problems, in the order found; {@link throwIfAny} throws them together as one error. */
export class Problems {
  readonly list: string[] = [];
  private readonly unknownField: UnknownFieldMessage;

  constructor(options: ProblemsOptions = {}) {
    this.unknownField = options.unknownField ?? listAllowedFields;
  }

  /** Records `path: message`. */
  add(path: string, message: string): void {
    this.list.push(`${path}: ${message}`);
  }

  /** True when nothing was recorded. */
  get empty(): boolean {
    return this.list.length === 0;
  }

  /** Reports every key of `obj` (the object at `path`) that is not in `allowed`. */
  unknownFields(obj: JsonObject, path: string, allowed: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) this.add(fieldPath(path, key), this.unknownField(allowed));
    }
  }

  /**
   * `value` as the object at `path`, its unknown fields reported; undefined, recording `notObject`,
   * when it is not an object.
   */
  object(value: unknown, path: string, allowed: readonly string[], notObject = 'must be an object'): JsonObject | undefined {
    if (!isObject(value)) {
      this.add(path, notObject);
      return undefined;
    }
    this.unknownFields(value, path, allowed);
    return value;
  }

  /** Throws `toError(every problem)` when there is any. */
  throwIfAny(toError: (problems: readonly string[]) => Error): void {
    if (this.list.length > 0) throw toError([...this.list]);
  }
}
