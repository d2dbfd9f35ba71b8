/**
 * Long work (backup, restore, check, prune) runs as a job: start returns an id at once, the UI
 * polls `get` for progress and state, and `cancel` aborts it through its AbortSignal.
 */
import { randomUUID } from 'node:crypto';
import { emptyProgress } from './engine/backup-progress.js';
import type { Clock } from '../platform/clock.js';
import { CoreError } from '../platform/errors.js';
import type { Progress } from './engine/backup.js';
import { toUserError } from './engine/messages.js';
import { BACKUP_MESSAGES } from './messages.js';

export type JobKind = 'backup' | 'restore' | 'check' | 'prune' | 'repair';
export type JobState = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobView<R = unknown> {
  id: string;
  kind: JobKind;
  repositoryId: string;
  setId: string | null;
  state: JobState;
  startedAt: number;
  finishedAt: number | null;
  progress: Progress;
  result: R | null;
  error: { code: string; message: string } | null;
}

interface Job extends JobView {
  controller: AbortController;
  done: Promise<void>;
}

const KEEP_FINISHED = 50;

export const EMPTY_PROGRESS: Progress = emptyProgress();

export class JobRegistry {
  private readonly jobs = new Map<string, Job>();

  constructor(private readonly clock: Clock) {}

  start(
    meta: { kind: JobKind; repositoryId: string; setId?: string | null },
    work: (signal: AbortSignal, progress: (p: Progress) => void) => Promise<unknown>,
  ): string {
    const controller = new AbortController();
    const job: Job = {
      id: randomUUID(),
      kind: meta.kind,
      repositoryId: meta.repositoryId,
      setId: meta.setId ?? null,
      state: 'running',
      startedAt: this.clock.now(),
      finishedAt: null,
      progress: { ...EMPTY_PROGRESS },
      result: null,
      error: null,
      controller,
      done: Promise.resolve(),
    };
    this.jobs.set(job.id, job);
    job.done = (async () => {
      try {
        job.result = await work(controller.signal, (p) => (job.progress = p));
        job.state = 'succeeded';
      } catch (e) {
        // A full disk, a drive that went away: worded for a person (messages.ts), with its code.
        // Only a restore writes outside the repository, and what fills up there is its target.
        const full = ['ENOSPC', 'EDQUOT'].includes((e as NodeJS.ErrnoException)?.code ?? '');
        const error = toUserError(e, meta.kind === 'restore' && full ? 'target' : 'repository');
        job.state = error.code === 'CANCELLED' ? 'cancelled' : 'failed';
        job.error = { code: error.code, message: error.message };
      } finally {
        job.finishedAt = this.clock.now();
        this.trim();
      }
    })();
    return job.id;
  }

  get(id: string): JobView {
    const job = this.jobs.get(id);
    if (!job) throw new CoreError('NOT_FOUND', BACKUP_MESSAGES.noSuchJobKept);
    return view(job);
  }

  list(): JobView[] {
    return [...this.jobs.values()].map(view).sort((a, b) => b.startedAt - a.startedAt);
  }

  running(predicate: (j: JobView) => boolean): boolean {
    return [...this.jobs.values()].some((j) => j.state === 'running' && predicate(j));
  }

  cancel(id: string): JobView {
    const job = this.jobs.get(id);
    if (!job) throw new CoreError('NOT_FOUND', BACKUP_MESSAGES.noSuchJobKept);
    job.controller.abort();
    return view(job);
  }

  /** Wait for a job to end (tests and shutdown). */
  async settled(id: string): Promise<JobView> {
    const job = this.jobs.get(id);
    if (!job) throw new CoreError('NOT_FOUND', BACKUP_MESSAGES.noSuchJob);
    await job.done;
    return view(job);
  }

  async stopAll(): Promise<void> {
    for (const job of this.jobs.values()) job.controller.abort();
    await Promise.all([...this.jobs.values()].map((j) => j.done));
  }

  private trim(): void {
    const finished = [...this.jobs.values()].filter((j) => j.state !== 'running').sort((a, b) => a.startedAt - b.startedAt);
    for (const j of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(j.id);
  }
}

function view(job: Job): JobView {
  const { controller: _c, done: _d, ...rest } = job;
  return { ...rest, progress: { ...rest.progress } };
}
