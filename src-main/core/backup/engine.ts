/**
 * First backups on a thread of their own. A first backup reads everything and runs for
 * minutes; on an engine thread the caller's thread (the app's main thread, which also serves
 * the UI) keeps only the repository lock and a progress relay. The engine thread's heap is
 * capped below 1 GiB, which also makes V8 collect it at twice its live size rather than four
 * times (its growing factor depends on the cap): a first backup of the benchmark data peaks
 * ~50 MiB lower (docs/benchmarks.md). With the index at ~70 bytes a blob that cap holds
 * millions of blobs; should a thread still run out of memory, the backup runs again on the
 * calling thread, reusing every pack already written. An incremental backup (a parent snapshot
 * exists) mostly compares and takes a second or so, a tenth of which a new thread would cost
 * (loading the engine's modules again), so it runs on the calling thread, its walk on a
 * walker thread (walk.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CoreError } from '../errors.js';
import type { ErrorCode } from '../../../src-shared/errors.js';
import { backupHoldingLock, findParent, type BackupOptions, type BackupResult, type Progress } from './backup.js';
import { RepoLock } from './lock.js';
import { Repository } from './repository.js';
import { startThread, THREAD_YOUNG_GENERATION_MB } from './threads.js';

/** The engine thread's old-generation cap (MiB): below 1 GiB, where V8 lets a heap grow 4x. */
export const ENGINE_HEAP_MB = 1000;

type EngineOptions = Omit<BackupOptions, 'signal' | 'onProgress' | 'parent'>;

interface EngineRequest {
  role: 'twofold-engine';
  path: string;
  repoId: string;
  keys: { data: Uint8Array; id: Uint8Array; chunker: Uint8Array };
  options: EngineOptions;
}

type EngineMessage = { progress: Progress } | { result: BackupResult } | { error: { code?: string; message: string } };

/**
 * `backup()`, a first one on an engine thread: same options, result, progress and errors.
 * `heapMb` is for tests (a tiny cap proves the fall-back).
 */
export async function backupInThread(repo: Repository, options: BackupOptions, heapMb = ENGINE_HEAP_MB): Promise<BackupResult> {
  if (options.parent !== undefined) throw new CoreError('INTERNAL', 'An engine-thread backup finds its own parent snapshot.');
  const lock = await RepoLock.acquire(repo, false);
  try {
    const parent = await findParent(repo, options.sources);
    if (parent) return await backupHoldingLock(repo, { ...options, parent });
    return await runThread(repo, options, heapMb);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_WORKER_OUT_OF_MEMORY') throw e;
    // Packs the thread wrote are indexed and reused by this run (recoverUnindexedPacks).
    return await backupHoldingLock(repo, options);
  } finally {
    await lock.release();
  }
}

function runThread(repo: Repository, options: BackupOptions, heapMb: number): Promise<BackupResult> {
  const { signal, onProgress, ...rest } = options;
  const request: EngineRequest = {
    role: 'twofold-engine',
    path: repo.path,
    repoId: repo.id,
    keys: { data: new Uint8Array(repo.keys.data), id: new Uint8Array(repo.keys.id), chunker: new Uint8Array(repo.keys.chunker) },
    options: rest,
  };
  const thread = startThread('engine', {
    workerData: request,
    resourceLimits: { maxYoungGenerationSizeMb: THREAD_YOUNG_GENERATION_MB * 2, maxOldGenerationSizeMb: heapMb },
  });
  const cancel = () => thread.postMessage('cancel');
  return new Promise<BackupResult>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
    };
    signal?.addEventListener('abort', cancel, { once: true });
    if (signal?.aborted) cancel();
    thread.on('message', (m: EngineMessage) => {
      if ('progress' in m) onProgress?.(m.progress);
      else if ('result' in m) settle(() => resolve(m.result));
      else settle(() => reject(m.error.code ? new CoreError(m.error.code as ErrorCode, m.error.message) : new Error(m.error.message)));
    });
    thread.once('error', (e) => settle(() => reject(e)));
    thread.once('exit', () => settle(() => reject(new CoreError('INTERNAL', 'The backup thread stopped unexpectedly.'))));
  }).finally(() => {
    signal?.removeEventListener('abort', cancel);
    void thread.terminate();
  });
}

// ---- the engine thread ----

const request = workerData as EngineRequest | undefined;
if (parentPort && request?.role === 'twofold-engine') {
  const port = parentPort;
  const controller = new AbortController();
  port.on('message', (m: unknown) => {
    if (m === 'cancel') controller.abort();
  });
  const send = (m: EngineMessage) => port.postMessage(m);
  void (async () => {
    try {
      const keys = { data: Buffer.from(request.keys.data), id: Buffer.from(request.keys.id), chunker: Buffer.from(request.keys.chunker) };
      const repo = Repository.openWithKeys(request.path, request.repoId, keys);
      const result = await backupHoldingLock(repo, { ...request.options, signal: controller.signal, onProgress: (progress) => send({ progress }) });
      send({ result });
    } catch (e) {
      send({ error: { code: e instanceof CoreError ? e.code : undefined, message: e instanceof Error ? e.message : String(e) } });
    } finally {
      port.close();
    }
  })();
}
