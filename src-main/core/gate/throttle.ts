/** The throttle's persistence: one row per account, so it holds across restarts. */
import type { Store } from '../platform/store.js';
import { isHardStopped, retryAfterMs, type ThrottleState } from './throttle-policy.js';

/** A wait in words, for the audit log: "1 s", "8 min", "1 h". */
export function waitText(ms: number): string {
  if (ms < 60_000) return `${Math.ceil(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}

/** The audit detail of the throttle step a failure started (every failure that brings a wait), or null. */
export function throttleStepDetail(before: ThrottleView, after: ThrottleView): string | null {
  if (after.hardStop && !before.hardStop) {
    return `${after.failures} failed attempts in a row: hard stop; one attempt an hour, and only a recovery code finishes an unlock`;
  }
  if (after.retryAfterMs > 0) return `${after.failures} failed attempts in a row: next attempt in ${waitText(after.retryAfterMs)}`;
  return null;
}

export interface ThrottleView {
  failures: number;
  retryAfterMs: number;
  hardStop: boolean;
}

export class Throttle {
  constructor(private readonly store: Store) {}

  state(accountId: number): ThrottleState | null {
    const row = this.store.db.prepare('SELECT failures, last_failure_at AS lastFailureAt FROM throttle WHERE account_id = ?').get(accountId) as
      ThrottleState | undefined;
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
    this.store.tx(() => this.store.db.prepare('DELETE FROM throttle WHERE account_id = ?').run(accountId));
  }
}
