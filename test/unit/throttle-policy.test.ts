import { describe, expect, it } from 'vitest';
import { delayAfter, HARD_STOP_FAILURES, isHardStopped, retryAfterMs } from '../../src-main/core/gate/throttle-policy.js';

describe('the throttle policy', () => {
  it('lets the first four failures through without a wait', () => {
    expect([0, 1, 2, 3, 4].map(delayAfter)).toEqual([0, 0, 0, 0, 0]);
  });

  it('waits 1 s after the fifth failure and doubles up to 15 minutes', () => {
    expect([5, 6, 7, 13, 14, 15, 19].map(delayAfter)).toEqual([1000, 2000, 4000, 256000, 512000, 900000, 900000]);
  });

  it('hard-stops at 20 consecutive failures, far below NIST SP 800-63B’s 100, with an hour between tries', () => {
    expect(HARD_STOP_FAILURES).toBe(20);
    expect(delayAfter(20)).toBe(3_600_000);
    expect(delayAfter(99)).toBe(3_600_000);
    expect(isHardStopped({ failures: 19, lastFailureAt: 0 })).toBe(false);
    expect(isHardStopped({ failures: 20, lastFailureAt: 0 })).toBe(true);
    expect(isHardStopped(null)).toBe(false);
  });

  it('reports the remaining wait, never a negative one', () => {
    expect(retryAfterMs(null, 1000)).toBe(0);
    expect(retryAfterMs({ failures: 6, lastFailureAt: 10_000 }, 10_500)).toBe(1500);
    expect(retryAfterMs({ failures: 6, lastFailureAt: 10_000 }, 99_999)).toBe(0);
  });
});
