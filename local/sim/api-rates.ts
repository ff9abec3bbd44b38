/**
 * Request rates of the simulated account (fleet field `apiRates`): each `service:Operation` has a
 * token bucket in simulated time, refilled at its rate (requests per second) and holding at most
 * {@link BURST_SECONDS} seconds of it (ELB documents a bucket of 40 refilled at 10 per second for
 * its Describe calls). A call that finds the bucket empty is throttled with the service's own
 * throttling error, as AWS does. The default rates and throttling codes are the services' own
 * (`defaultRates`, `throttlingCode` in each service file's definition).
 */
import type { SimClock } from './clock';
import { DEFAULT_API_RATES, throttlingCodeOf } from './registry';

export { DEFAULT_API_RATES } from './registry';

/** How many seconds of its rate a bucket holds (its burst). */
export const BURST_SECONDS = 4;

/** The rate of an operation: its own entry, else its service's `service:*`, else `*`, else unlimited. */
export function rateFor(rates: Readonly<Record<string, number>>, operation: string): number | undefined {
  return rates[operation] ?? rates[`${operation.split(':')[0]}:*`] ?? rates['*'];
}

/** Token buckets per operation in simulated time. */
export class ApiRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();
  private readonly rates: Readonly<Record<string, number>>;

  /** `overrides` (the fleet's `apiRates`) replace the defaults they name. */
  constructor(
    private readonly clock: SimClock,
    overrides: Readonly<Record<string, number>> = {},
  ) {
    this.rates = { ...DEFAULT_API_RATES, ...overrides };
  }

  /** Requests per second allowed for `operation` (Infinity when unlimited). */
  rateOf(operation: string): number {
    return rateFor(this.rates, operation) ?? Number.POSITIVE_INFINITY;
  }

  /** Takes a token for one call: undefined when it may go ahead, else the throttling error code to answer with. */
  take(operation: string): string | undefined {
    const rate = this.rateOf(operation);
    if (!Number.isFinite(rate)) return undefined;
    const now = this.clock.nowMs();
    const capacity = Math.max(1, rate * BURST_SECONDS);
    const bucket = this.buckets.get(operation) ?? { tokens: capacity, atMs: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.atMs) / 1000) * rate);
    bucket.atMs = now;
    this.buckets.set(operation, bucket);
    if (bucket.tokens < 1) return throttlingCodeOf(operation.split(':')[0]);
    bucket.tokens -= 1;
    return undefined;
  }
}
