import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src-main/core/backup/engine/storage/token-bucket.js';
import { ManualClock, settle } from '../helpers/manual-clock.js';

/** When `promise` settles, in the clock's milliseconds (null: not yet). */
function doneAt(clock: ManualClock, promise: Promise<unknown>): { at: number | null } {
  const seen: { at: number | null } = { at: null };
  void promise.then(() => (seen.at = clock.now()));
  return seen;
}

describe('the token bucket of a bandwidth limit', () => {
  it('lets one second’s worth through at once, without a wait', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(1000, clock);
    expect(bucket.burst).toBe(1000);
    const take = doneAt(clock, bucket.take(1000));
    await settle();
    expect(take.at).toBe(0);
  });

  it('makes a take beyond the allowance wait exactly until the rate has refilled it', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(1000, clock);
    await bucket.take(1000);
    const take = doneAt(clock, bucket.take(500));
    await clock.advance(499);
    expect(take.at).toBeNull();
    await clock.advance(1);
    expect(take.at).toBe(500);
    await expect(bucket.take(0)).resolves.toBe(0);
  });

  it('shares one rate among takes made at once, first come first served', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(2000, clock);
    await bucket.take(2000);
    const waits = [bucket.take(2000), bucket.take(1000), bucket.take(3000)];
    const seen = waits.map((w) => doneAt(clock, w));
    await clock.advance(5000);
    expect(seen.map((s) => s.at)).toEqual([1000, 1500, 3000]);
    expect(await Promise.all(waits)).toEqual([1000, 1500, 3000]);
  });

  it('keeps no more than the burst after a pause, however long', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(1000, clock);
    await clock.advance(60_000);
    expect(bucket.available()).toBe(1000);
    const take = doneAt(clock, bucket.take(3000));
    await clock.advance(3000);
    expect(take.at).toBe(60_000 + 2000);
  });

  it('makes a take larger than the burst wait for it rather than refusing it', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(100, clock, 50);
    expect(bucket.waitFor(1050)).toBe(10_000);
    const take = doneAt(clock, bucket.take(1050));
    await clock.advance(10_000);
    expect(take.at).toBe(10_000);
    expect(bucket.available()).toBe(0);
  });

  it('refuses a rate that is not a positive number', () => {
    for (const rate of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => new TokenBucket(rate)).toThrow(RangeError);
  });
});
