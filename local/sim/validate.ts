/**
 * Field-by-field validation of the rehearsal's JSON files. Problems are collected (not thrown one
 * by one) so that an operator fixes a file in one go; each names its field by path.
 */
import { UsageError } from './errors';

/** A JSON object (not an array, not null). */
export type JsonObject = Record<string, unknown>;

/** True for a plain JSON object. */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Collects problems; `fail()` throws them together as one UsageError. */
export class Problems {
  readonly list: string[] = [];

  add(path: string, message: string): void {
    this.list.push(`${path}: ${message}`);
  }

  /** Reports every key of `obj` that is not in `allowed`. */
  unknownFields(obj: JsonObject, path: string, allowed: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) this.add(`${path}.${key}`, `unknown field (allowed: ${allowed.join(', ')})`);
    }
  }

  /** Throws a UsageError naming `source` and every problem, when there is any. */
  throwIfAny(source: string, what: string): void {
    if (this.list.length === 0) return;
    const head = `${source}: invalid ${what}`;
    const message = this.list.length === 1 ? `${source}: ${this.list[0]}` : `${head}:\n${this.list.map((p) => `  - ${p}`).join('\n')}`;
    throw new UsageError(message, this.list);
  }
}

/** A lower-case DNS name (`gitter.im`, `irc.gitter.im`). */
export const DNS_NAME_RE = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** A DNS name, optionally a `*.` wildcard (CloudFront aliases may be wildcards). */
export function isDnsNameOrWildcard(value: string): boolean {
  return DNS_NAME_RE.test(value.startsWith('*.') ? value.slice(2) : value);
}

/** An integer in [min, max]. */
export function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}
