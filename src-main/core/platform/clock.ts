/** Time, injected so tests can move it; everything that expires or throttles reads this. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
