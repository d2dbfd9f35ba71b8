/**
 * The files of a restore on their way through the worker pool, in batches: every task's
 * answer, or its failure, reaches the restore's summary (a thread that dies fails the files it
 * held, each named, and the restore goes on with the rest). A full disk at the target stops
 * the restore: every further file would fail the same way.
 */
import type { CoreError } from '../../platform/errors.js';
import { storageError, taskProblem, toUserError } from './messages.js';
import type { WorkerPool } from './pool.js';
import type { TreeNode } from './tree.js';
import type { RestoreFile, RestoreResult } from './worker.js';

const BATCH_FILES = 64;
const BATCH_BYTES = 8 * 1024 * 1024;

export interface BatchedFile {
  file: RestoreFile;
  target: string;
  node: TreeNode;
}

export interface BatchEvents {
  /** A file's task answered (restored, existed, or failed with a reason). */
  result(item: BatchedFile, result: RestoreResult['files'][number]): void;
  /** A batch is done: for the progress. */
  batchDone(last: BatchedFile): void;
}

export class RestoreBatches {
  private batch: BatchedFile[] = [];
  private batchBytes = 0;
  private readonly inFlight = new Set<Promise<void>>();
  /** What stops the restore (a full disk at the target): thrown by the restore at its next step. */
  fatal: CoreError | null = null;

  constructor(
    private readonly pool: WorkerPool,
    private readonly events: BatchEvents,
  ) {}

  /** Queue a file; a full batch goes to the pool (waiting for room first). */
  async add(item: BatchedFile): Promise<void> {
    this.batch.push(item);
    this.batchBytes += item.node.size;
    if (this.batch.length >= BATCH_FILES || this.batchBytes >= BATCH_BYTES) await this.flush();
  }

  /** Send what is queued. */
  async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const mine = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    while (this.inFlight.size >= this.pool.threads * 2) await Promise.race(this.inFlight);
    const task = this.pool.restore({ kind: 'restore', files: mine.map((m) => m.file) }).then(
      (r) => mine.forEach((item, i) => this.answer(item, r.files[i]!)),
      // The task failed as a whole (its thread died, the pool closed): each of its files says so.
      (e: unknown) => mine.forEach((item) => this.answer(item, { bytes: 0, error: taskProblem(e) })),
    );
    const tracked: Promise<void> = task
      .then(() => this.events.batchDone(mine[mine.length - 1]!))
      .catch((e: unknown) => {
        this.fatal ??= toUserError(e, 'target');
      })
      .finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  /** Wait until every task sent has answered. Never throws: each answer is in the summary. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private answer(item: BatchedFile, result: RestoreResult['files'][number]): void {
    if (result.code === 'ENOSPC' || result.code === 'EDQUOT') this.fatal ??= storageError(result, 'target');
    this.events.result(item, result);
  }
}
