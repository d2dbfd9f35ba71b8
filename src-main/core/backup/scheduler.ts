/**
 * The scheduler: runs backup sets when their cron schedule says, whether or not anyone has
 * unlocked the app (the service opens repositories with the vault-wrapped key). A run missed
 * while the app was closed is caught up once at start, not once per missed time.
 */
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';
import { nextDue } from './backup-sets.js';
import type { BackupService } from './service.js';

export interface SchedulerOptions {
  service: BackupService;
  clock: Clock;
  logger: Logger;
  /** How often to look for due sets; 0 leaves it to the caller (tests call tick). */
  intervalMs: number;
}

export class Scheduler {
  private timer: NodeJS.Timeout | null = null;
  private started = 0;

  constructor(private readonly options: SchedulerOptions) {}

  start(): void {
    this.started = this.options.clock.now();
    this.tick();
    if (this.options.intervalMs > 0) {
      this.timer = setInterval(() => this.tick(), this.options.intervalMs);
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Start every due set that is not already running; returns the job ids started. */
  tick(): string[] {
    const { service, clock, logger } = this.options;
    const now = clock.now();
    const started: string[] = [];
    for (const set of service.sets.sets()) {
      const due = nextDue(set.schedule, set.lastScheduledAt ?? set.createdAt);
      if (due === null || due > now || service.isRunning(set.id)) continue;
      // Due before this process started: it was missed while the app was closed.
      const trigger = due < this.started ? 'catch-up' : 'schedule';
      service.sets.markScheduled(set.id, now);
      try {
        started.push(service.runSet(set.id, trigger));
        logger.info('scheduled backup started', { set: set.id, trigger });
      } catch (e) {
        logger.warn('scheduled backup could not start', { set: set.id, error: e instanceof Error ? e.name : 'unknown' });
      }
    }
    return started;
  }
}
