/**
 * Field readers the config sections share: each reads one field, records what is wrong with it in
 * the problem collector (naming the field by its full path) and returns the value, or undefined
 * when it is missing or bad.
 */
import { isIntegerIn, type JsonObject, type Problems } from '../problems';

/** A non-empty string at `obj[key]`. */
export function str(p: Problems, obj: JsonObject, key: string, field: string, required: boolean): string | undefined {
  const v = obj[key];
  if (v === undefined) {
    if (required) p.add(field, 'is required');
    return undefined;
  }
  if (typeof v !== 'string' || v.trim() === '') {
    p.add(field, 'must be a non-empty string');
    return undefined;
  }
  return v;
}

/** An integer in [min, max] at `obj[key]`; required unless there is a default. */
export function int(p: Problems, obj: JsonObject, key: string, field: string, min: number, max: number, dflt?: number): number | undefined {
  const v = obj[key];
  if (v === undefined) {
    if (dflt === undefined) p.add(field, 'is required');
    return dflt;
  }
  if (!isIntegerIn(v, min, max)) {
    p.add(field, `must be an integer from ${min} to ${max}`);
    return dflt;
  }
  return v;
}

/** A list of non-empty strings at `obj[key]`, or undefined when absent. */
export function strList(p: Problems, obj: JsonObject, key: string, field: string): string[] | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '')) {
    p.add(field, 'must be a list of non-empty strings');
    return undefined;
  }
  return v as string[];
}

/** The object at top-level `key` of the config, its unknown fields reported; undefined when absent or not an object. */
export function objectAt(p: Problems, raw: JsonObject, key: string, required: boolean, fields: readonly string[]): JsonObject | undefined {
  const v = raw[key];
  if (v === undefined) {
    if (required) p.add(key, 'is required');
    return undefined;
  }
  return p.object(v, key, fields);
}
