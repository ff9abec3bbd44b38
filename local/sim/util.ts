/**
 * Helpers shared by the simulated services: ids, opaque pagination markers, deep copies.
 */
import { createHash, randomBytes } from 'node:crypto';
import { awsError } from './errors';

const ALNUM_UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const ALNUM_MIXED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `length` random characters from `alphabet`. */
export function randomChars(length: number, alphabet: string = ALNUM_UPPER): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[bytes[i] % alphabet.length];
  return out;
}

/** `length` random mixed-case alphanumerics (Secrets Manager ARN suffixes). */
export function randomMixed(length: number): string {
  return randomChars(length, ALNUM_MIXED);
}

/** A stable pseudo-random hex string derived from `seed` (ARNs, DNS names). */
export function stableHex(seed: string, length: number): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, length);
}

/** A stable pseudo-random decimal string derived from `seed` (classic ELB DNS names). */
export function stableDigits(seed: string, length: number): string {
  const n = BigInt(`0x${createHash('sha256').update(seed).digest('hex').slice(0, 15)}`);
  return (n % 10n ** BigInt(length)).toString().padStart(length, '1');
}

/** An opaque pagination marker for position `index` of listing `kind`. */
export function encodeMarker(kind: string, index: number): string {
  return Buffer.from(JSON.stringify({ k: kind, i: index })).toString('base64');
}

/** Decodes a marker made by {@link encodeMarker}; throws `errorCode` when it is not one of ours. */
export function decodeMarker(marker: string, kind: string, errorCode: string): number {
  try {
    const v = JSON.parse(Buffer.from(marker, 'base64').toString('utf8')) as { k?: unknown; i?: unknown };
    if (v.k === kind && typeof v.i === 'number' && Number.isInteger(v.i) && v.i >= 0) return v.i;
  } catch {
    // fall through
  }
  throw awsError(errorCode, `Invalid pagination marker "${marker}"`);
}

/** One page of `items` from `marker`, `pageSize` long, with the next marker when more follow. */
export function paginate<T>(
  items: readonly T[],
  opts: { marker?: string; pageSize: number; kind: string; errorCode: string },
): { page: T[]; next?: string } {
  const start = opts.marker ? decodeMarker(opts.marker, opts.kind, opts.errorCode) : 0;
  const page = items.slice(start, start + opts.pageSize);
  const end = start + page.length;
  return end < items.length ? { page, next: encodeMarker(opts.kind, end) } : { page };
}

/** Deep copy of plain data (Dates kept), so callers never hold references into simulated state. */
export function copy<T>(value: T): T {
  return structuredClone(value);
}

/** Checks an optional page size against [min, max]; returns it or `fallback`. */
export function pageSize(value: number | undefined, fallback: number, min: number, max: number, errorCode: string, field: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw awsError(errorCode, `${field} must be an integer between ${min} and ${max}`);
  }
  return value;
}
