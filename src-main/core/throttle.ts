/** The throttle's persistence: one row per account, so it holds across restarts. */
import type { Store } from './store.js';
import { isHardStopped, retryAfterMs, type ThrottleState } from './throttle-policy.js';

export interface ThrottleView {
  failures: number;
  retryAfterMs: number;
  hardStop: boolean;
}

export class Throttle {
  constructor(private readonly store: Store) {}

  state(accountId: number): ThrottleState | null {
    const row = this.store.db
      .prepare('SELECT failures, last_failure_at AS lastFailureAt FROM throttle WHERE account_id = ?')
      .get(accountId) as ThrottleState | undefined;
    return row ?? null;
  }

  view(accountId: number, now: number): ThrottleView {
    const state = this.state(accountId);
    return { failures: state?.failures ?? 0, retryAfterMs: retryAfterMs(state, now), hardStop: isHardStopped(state) };
  }

  /** Count one failure; returns the new view (the caller reports the wait to the user). */
  recordFailure(accountId: number, now: number): ThrottleView {
    this.store.tx(() => {
      this.store.db
        .prepare(
          `INSERT INTO throttle (account_id, failures, last_failure_at) VALUES (?, 1, ?)
           ON CONFLICT (account_id) DO UPDATE SET failures = failures + 1, last_failure_at = excluded.last_failure_at`,
        )
        .run(accountId, now);
    });
    return this.view(accountId, now);
  }

  reset(accountId: number): void {
    this.store.db.prepare('DELETE FROM throttle WHERE account_id = ?').run(accountId);
  }
}
