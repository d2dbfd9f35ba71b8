/**
 * A token bucket: `rate` bytes per second, holding at most `burst` bytes of unused allowance (a
 * bandwidth limit lets about one second's worth go at once after a pause, no more). Pure: time
 * comes from the clock it is given, so its tests run on a clock they move themselves.
 *
 * Every `take` reserves its bytes at once, in the order the calls are made, and waits until the
 * bucket has refilled what it went below zero: callers in parallel share the one rate, first come
 * first served, and a take larger than the burst simply waits longer (no call is refused).
 */

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export class TokenBucket {
  /** Bytes of allowance left; below zero, what the takes reserved ahead of the refill. */
  private tokens: number;
  private at: number;
  readonly burst: number;

  constructor(
    /** Bytes per second; > 0. */
    readonly rate: number,
    private readonly clock: Clock = systemClock,
    /** The most unused allowance kept; one second's worth by default. */
    burst?: number,
  ) {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`a token bucket needs a positive rate, not ${rate}`);
    this.burst = Math.max(1, burst ?? rate);
    this.tokens = this.burst;
    this.at = clock.now();
  }

  /** The allowance now (negative while reservations are ahead of the refill). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** Milliseconds a take of `bytes` made now would wait; 0 when the allowance covers it. */
  waitFor(bytes: number): number {
    this.refill();
    const after = this.tokens - bytes;
    return after >= 0 ? 0 : (-after / this.rate) * 1000;
  }

  /** Reserves `bytes` and resolves once the bucket has refilled them; returns the milliseconds waited. */
  async take(bytes: number): Promise<number> {
    if (bytes <= 0) return 0;
    const wait = this.waitFor(bytes);
    this.tokens -= bytes;
    if (wait > 0) await this.clock.sleep(wait);
    return wait;
  }

  private refill(): void {
    const t = this.clock.now();
    const elapsed = Math.max(0, t - this.at);
    this.at = t;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.rate);
  }
}
