/**
 * The worker pool: one thread per core (piscina), each started with the repository's keys.
 * From source (tests, tsx) the worker is TypeScript, so threads load it through tsx too.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { exposeGc } from './gc.js';
import type { Repository } from './repository.js';
import type { ChunkResult, ChunkTask, RestoreResult, RestoreTask, VerifyResult, VerifyTask, WorkerKeys } from './worker.js';

export class WorkerPool {
  private readonly piscina: Piscina;
  readonly threads: number;

  constructor(repo: Repository, threads = Math.max(1, Math.min(availableParallelism(), 8))) {
    const fromSource = import.meta.url.endsWith('.ts');
    const workerData: WorkerKeys = {
      data: new Uint8Array(repo.keys.data),
      id: new Uint8Array(repo.keys.id),
      chunker: new Uint8Array(repo.keys.chunker),
      gear: repo.gear,
    };
    this.threads = threads;
    exposeGc(); // before the threads start, so each gets V8's gc (gc.ts)
    this.piscina = new Piscina({
      filename: new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      execArgv: fromSource ? ['--import', 'tsx'] : [],
      workerData,
    });
  }

  chunk(task: ChunkTask): Promise<ChunkResult> {
    return this.piscina.run(task) as Promise<ChunkResult>;
  }

  restore(task: RestoreTask): Promise<RestoreResult> {
    return this.piscina.run(task) as Promise<RestoreResult>;
  }

  verify(task: VerifyTask): Promise<VerifyResult> {
    return this.piscina.run(task) as Promise<VerifyResult>;
  }

  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}
