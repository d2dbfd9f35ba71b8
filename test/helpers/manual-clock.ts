/**
 * A clock the test moves itself (token-bucket.ts's Clock): `sleep` resolves only when `advance`
 * passes its time, so a test of a rate says exactly when each wait ends without a wall clock.
 */
import type { Clock } from '../../src-main/core/backup/engine/storage/token-bucket.js';

/** Lets every promise callback and I/O callback queued so far run. */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class ManualClock implements Clock {
  private t = 0;
  private sleepers: { at: number; wake: () => void }[] = [];

  now(): number {
    return this.t;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((wake) => this.sleepers.push({ at: this.t + ms, wake }));
  }

  /** Moves time on by `ms`, waking each sleeper at its time and letting what it starts run before the next. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const due = this.sleepers.filter((s) => s.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.sleepers.splice(this.sleepers.indexOf(due), 1);
      this.t = due.at;
      due.wake();
    }
    this.t = end;
    await settle();
  }
}
