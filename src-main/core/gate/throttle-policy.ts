/**
 * The throttle policy, as pure functions of the count of consecutive failures. One counter per
 * account covers every gate attempt (password and second factors) and only a full unlock resets
 * it, so knowing the password does not reset the second factor's throttle.
 *
 *   failures 1-4   no wait
 *   failures 5-19  1 s, doubling with each failure, at most 15 min
 *   failures 20+   hard stop: one attempt an hour, and only a recovery code completes an unlock
 *
 * 20 is well under NIST SP 800-63B's ceiling of 100 consecutive failures.
 */
export const FREE_FAILURES = 4;
export const BASE_DELAY_MS = 1_000;
export const MAX_DELAY_MS = 15 * 60_000;
export const HARD_STOP_FAILURES = 20;
export const HARD_STOP_DELAY_MS = 60 * 60_000;

export interface ThrottleState {
  failures: number;
  lastFailureAt: number;
}

export function delayAfter(failures: number): number {
  if (failures >= HARD_STOP_FAILURES) return HARD_STOP_DELAY_MS;
  if (failures <= FREE_FAILURES) return 0;
  return Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (failures - FREE_FAILURES - 1));
}

export function isHardStopped(state: ThrottleState | null): boolean {
  return state !== null && state.failures >= HARD_STOP_FAILURES;
}

/** How long the caller must still wait before the next attempt is even looked at. */
export function retryAfterMs(state: ThrottleState | null, now: number): number {
  if (!state) return 0;
  return Math.max(0, state.lastFailureAt + delayAfter(state.failures) - now);
}
