/**
 * The worker pool: one thread per core, each started with the repository's keys, fed one task
 * at a time from a queue. Written over node:worker_threads rather than a pool library: the
 * engine needs only run-a-task and close, and each library thread carried ~15 MiB of its own
 * code and heap, a large part of a backup's memory budget (docs/benchmarks.md).
 *
 * Tasks and results cross as structured clones and are small: file contents never cross, as
 * each thread writes the chunks it stores into a pack of its own (worker.ts). A thread that dies
 * fails its task and is replaced; the run that owns the pool decides what a failed task means. From source (tests, tsx) the worker is TypeScript, so
 * threads load it through tsx too.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { CoreError } from '../errors.js';
import { exposeGc } from './gc.js';
import { startThread, THREAD_YOUNG_GENERATION_MB } from './threads.js';
import type { Repository } from './repository.js';
import type { FinishedPack } from './pack-writer.js';
import type { ChunkResult, ChunkTask, PackResult, PackTask, RestoreResult, RestoreTask, TaskReply, VerifyResult, VerifyTask, WorkerKeys } from './worker.js';

type Task = ChunkTask | PackTask | RestoreTask | VerifyTask;

interface Job {
  task: Task;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
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

  constructor(repo: Repository, threads = Math.max(1, Math.min(availableParallelism(), 8))) {
    this.threads = threads;
    this.workerData = {
      data: new Uint8Array(repo.keys.data),
      id: new Uint8Array(repo.keys.id),
      chunker: new Uint8Array(repo.keys.chunker),
      gear: repo.gear,
      tmpDir: repo.dir('tmp'),
    };
    exposeGc(); // before the threads start, so each gets V8's gc (gc.ts)
    for (let i = 0; i < threads; i++) this.slots.push(this.spawn());
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
    for (const job of this.queue.splice(0)) job.reject(new CoreError('CANCELLED', 'The worker pool was closed.'));
    await Promise.allSettled(this.slots.map((slot) => this.runOn(slot, { kind: 'abandon' })));
  }

  /** Stop every thread; tasks still queued or running fail with CANCELLED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const cancelled = () => new CoreError('CANCELLED', 'The worker pool was closed.');
    for (const job of this.queue.splice(0)) job.reject(cancelled());
    await Promise.all(
      this.slots.map(async (slot) => {
        const job = slot.job;
        slot.job = null;
        job?.reject(cancelled());
        for (const own of slot.own.splice(0)) own.reject(cancelled());
        await slot.worker.terminate();
      }),
    );
  }

  private run(task: Task): Promise<unknown> {
    if (this.closed || !this.accepting) return Promise.reject(new CoreError('CANCELLED', 'The worker pool was closed.'));
    return new Promise((resolve, reject) => {
      this.queue.push({ task, resolve, reject });
      this.pump();
    });
  }

  private runOn(slot: Slot, task: Task): Promise<unknown> {
    if (this.closed) return Promise.reject(new CoreError('CANCELLED', 'The worker pool was closed.'));
    return new Promise((resolve, reject) => {
      slot.own.push({ task, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.job) continue;
      const job = slot.own.shift() ?? this.queue.shift();
      if (!job) continue;
      slot.job = job;
      slot.worker.postMessage(job.task);
    }
  }

  private spawn(): Slot {
    const worker = startThread('worker', { workerData: this.workerData, resourceLimits: { maxYoungGenerationSizeMb: THREAD_YOUNG_GENERATION_MB } });
    const slot: Slot = { worker, job: null, own: [] };
    worker.on('message', (reply: TaskReply) => {
      const job = slot.job;
      slot.job = null;
      if (job) {
        if (reply.ok) job.resolve(reply.result);
        else job.reject(Object.assign(new Error(reply.message), { code: reply.code }));
      }
      this.pump();
    });
    const lost = (error: unknown) => {
      const job = slot.job;
      slot.job = null;
      job?.reject(error);
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
