/**
 * Simulated time: real time plus an offset that the rehearsal advances instead of sleeping (a
 * CloudFront deployment takes minutes in real life, `clock.advance(120)` here).
 */
export class SimClock {
  private offsetMs = 0;
  private readonly startedAtMs = Date.now();

  /** The simulated current time. */
  now(): Date {
    return new Date(this.nowMs());
  }

  /** The simulated current time in epoch milliseconds. */
  nowMs(): number {
    return Date.now() + this.offsetMs;
  }

  /** Moves simulated time forward by `seconds` (finite, >= 0). */
  advance(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new RangeError(`clock.advance: seconds must be a finite number >= 0, got ${seconds}`);
    }
    this.offsetMs += seconds * 1000;
  }

  /** Seconds of simulated time since the account was created (real elapsed time + advanced seconds). */
  simulatedSeconds(): number {
    return (this.nowMs() - this.startedAtMs) / 1000;
  }

  /** Seconds added with {@link advance} so far. */
  advancedSeconds(): number {
    return this.offsetMs / 1000;
  }
}
