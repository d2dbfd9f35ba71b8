/**
 * The worker pool: lanes, each with the repository's keys, fed from a queue (a thread holds the
 * task it runs and the next; the inline lane one). A lane is a worker thread, or (with
 * `inline`) the pool's own thread, which runs one lane's tasks between its other work: a
 * thread's heap, arena and buffers cost ~30 MiB, more than the pause. A backup lane's task
 * waits for compression on libuv's pool (worker.ts) without holding its thread. Written over
 * node:worker_threads rather than a pool library: the engine needs only run-a-task and close,
 * and each library thread carried ~15 MiB of its own code and heap, a large part of a backup's
 * memory budget (docs/benchmarks.md).
 *
 * Tasks and results cross as structured clones and are small: file contents never cross, as
 * each lane writes the chunks it stores into a pack of its own (worker.ts). A thread that dies
 * fails its task and is replaced; the run that owns the pool decides what a failed task means.
 * From source (tests, tsx) the worker is TypeScript, so threads load it through tsx too.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { CoreError } from '../../platform/errors.js';
import { stopped } from './messages.js';
import { ERROR_CODES, type ErrorCode } from '../../../../src-shared/errors.js';
import { collectYoung, exposeGc } from './gc.js';
import { endThread, startThread, THREAD_YOUNG_GENERATION_MB } from './threads.js';

/** Tasks a worker thread holds at once: the one it runs and the next. */
const THREAD_DEPTH = 2;
import type { Repository } from './repository.js';
import type { FinishedPack } from './pack-writer.js';
import { createLane, run, type Lane } from './worker.js';
import type {
  ChunkResult,
  ChunkTask,
  EndRequest,
  PackResult,
  RestoreResult,
  RestoreTask,
  Task,
  TaskReply,
  VerifyResult,
  VerifyTask,
  WorkerKeys,
} from './worker.js';

interface Job {
  task: Task;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface Slot {
  /** The thread, or null for the inline lane, which runs tasks on the pool's own thread. */
  worker: Worker | null;
  lane: Lane | null;
  /** Tasks handed to this lane and not yet answered, oldest first (a thread answers in order). */
  jobs: Job[];
  /** Tasks for this thread only (its own pack), run before the shared queue. */
  own: Job[];
}

export class WorkerPool {
  readonly threads: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly workerData: WorkerKeys;
  private closed = false;
  /** False once packs are being abandoned: shared tasks are refused. */
  private accepting = true;

  /**
   * `threads` lanes, each with a data pack of its own. With `inline`, one of them runs on this
   * thread between its other work instead of on a thread of its own: a thread's heap and buffers
   * cost more memory than the ~20-30 ms a task holds this thread's event loop.
   */
  constructor(repo: Repository, threads = Math.max(1, Math.min(availableParallelism(), 8)), options: { inline?: boolean } = {}) {
    this.threads = threads;
    this.workerData = {
      role: 'twofold-worker',
      data: new Uint8Array(repo.keys.data),
      id: new Uint8Array(repo.keys.id),
      chunker: new Uint8Array(repo.keys.chunker),
      gear: repo.gear,
      tmpDir: repo.stagingDir(),
      stop: new Int32Array(new SharedArrayBuffer(4)),
    };
    exposeGc(); // before the threads start, so each gets V8's gc (gc.ts)
    if (options.inline) this.slots.push({ worker: null, lane: createLane(this.workerData), jobs: [], own: [] });
    while (this.slots.length < threads) this.slots.push(this.spawn());
  }

  chunk(task: ChunkTask): Promise<ChunkResult> {
    return this.run(task) as Promise<ChunkResult>;
  }

  restore(task: RestoreTask): Promise<RestoreResult> {
    return this.run(task) as Promise<RestoreResult>;
  }

  verify(task: VerifyTask): Promise<VerifyResult> {
    return this.run(task) as Promise<VerifyResult>;
  }

  /**
   * Every thread's open pack, finished (after the tasks already queued): the end of a backup.
   * The packs that were finished come back even when another thread failed (`error`), so the
   * caller can install or delete each.
   */
  async finishPacks(): Promise<{ packs: FinishedPack[]; error?: unknown }> {
    const results = await Promise.allSettled(this.slots.map((slot) => this.runOn(slot, { kind: 'finish' }) as Promise<PackResult>));
    const packs = results.flatMap((r) => (r.status === 'fulfilled' ? r.value.packs : []));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    return failed ? { packs, error: failed.reason } : { packs };
  }

  /**
   * Every thread's open pack, closed and deleted: after a failed or cancelled backup. Tasks
   * still queued fail with CANCELLED and no new ones are taken, so no thread opens another pack.
   */
  async abandonPacks(): Promise<void> {
    this.accepting = false;
    for (const job of this.queue.splice(0)) job.reject(stopped.poolClosed());
    await Promise.allSettled(this.slots.map((slot) => this.runOn(slot, { kind: 'abandon' })));
  }

  /**
   * Stop every thread; tasks still queued or running fail with CANCELLED. A thread ends between
   * two files of the task it runs (the stop flag), never wherever it happens to be: resolves
   * once every thread has ended (threads.ts: endThread).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.workerData.stop, 0, 1);
    const cancelled = stopped.poolClosed;
    for (const job of this.queue.splice(0)) job.reject(cancelled());
    await Promise.all(
      this.slots.map(async (slot) => {
        for (const job of slot.jobs.splice(0)) job.reject(cancelled());
        for (const own of slot.own.splice(0)) own.reject(cancelled());
        const worker = slot.worker;
        if (worker) await endThread(worker, () => worker.postMessage({ kind: 'end' } satisfies EndRequest));
      }),
    );
  }

  private run(task: Task): Promise<unknown> {
    if (this.closed || !this.accepting) return Promise.reject(stopped.poolClosed());
    return new Promise((resolve, reject) => {
      this.queue.push({ task, resolve, reject });
      this.pump();
    });
  }

  private runOn(slot: Slot, task: Task): Promise<unknown> {
    if (this.closed) return Promise.reject(stopped.poolClosed());
    return new Promise((resolve, reject) => {
      slot.own.push({ task, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    for (const slot of this.slots) {
      // A thread holds its next task already, so it never waits for this thread to hand it one
      // (this thread may be busy with an inline task); the inline lane takes one at a time.
      while (slot.jobs.length < (slot.worker ? THREAD_DEPTH : 1)) {
        const job = slot.own.shift() ?? this.queue.shift();
        if (!job) break;
        slot.jobs.push(job);
        if (slot.worker) slot.worker.postMessage(job.task);
        else setImmediate(() => void this.runInline(slot, job));
      }
    }
  }

  /**
   * A task of the inline lane: run here, answered as a thread would answer it. It runs on this
   * thread but for its compression (worker.ts), which it waits for without holding the thread.
   */
  private async runInline(slot: Slot, job: Job): Promise<void> {
    if (slot.jobs[0] !== job) return; // the pool was closed meanwhile
    try {
      job.resolve(await run(slot.lane!, job.task));
    } catch (e) {
      job.reject(e);
    } finally {
      if (slot.jobs[0] === job) slot.jobs.shift();
      collectYoung();
    }
    this.pump();
  }

  private spawn(): Slot {
    const worker = startThread('worker', { workerData: this.workerData, resourceLimits: { maxYoungGenerationSizeMb: THREAD_YOUNG_GENERATION_MB } });
    const slot: Slot = { worker, lane: null, jobs: [], own: [] };
    worker.on('message', (reply: TaskReply) => {
      const job = slot.jobs.shift();
      if (job) {
        if (reply.ok) job.resolve(reply.result);
        else job.reject(threadError(reply));
      }
      this.pump();
    });
    const lost = (error: unknown) => {
      for (const job of slot.jobs.splice(0)) job.reject(error);
      // Tasks for this thread's own pack fail with it (the pack is lost; its temp file is left
      // for cleanTemp).
      for (const own of slot.own.splice(0)) own.reject(error);
      if (this.closed) return;
      // Replace the thread so the pool keeps its size; the run decides whether to go on.
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots[index] = this.spawn();
      this.pump();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => {
      if (!this.closed && this.slots.includes(slot)) lost(new Error(`a worker thread exited (${code})`));
    });
    return slot;
  }
}

/**
 * A task's failure as the thread reported it: an engine error again (its code and message are
 * the user's: messages.ts), else an Error carrying the errno code, for the run to word.
 */
function threadError(reply: { message: string; code?: string }): Error {
  if (reply.code && (ERROR_CODES as readonly string[]).includes(reply.code)) return new CoreError(reply.code as ErrorCode, reply.message);
  return Object.assign(new Error(reply.message), { code: reply.code });
}
