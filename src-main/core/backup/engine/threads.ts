/** Starting the engine's threads, compiled or from source. */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * The young generation of each of the engine's threads, capped: a thread's work leaves megabytes of
 * short-lived garbage (stat results, cipher output), and V8 would otherwise grow every
 * thread's young space to 32 MiB, all of it resident.
 */
export const THREAD_YOUNG_GENERATION_MB = 4;

/**
 * Start one of the engine's thread modules (`worker`, `scan`, `walk`) next to this file. From source
 * (tests, tsx) the module is TypeScript and a thread's entry loads before any --import hook
 * applies, so a one-line script registers tsx in the thread, then imports the module.
 */
export function startThread(module: 'worker' | 'scan' | 'walk', options: WorkerOptions): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(`./${module}.js`, import.meta.url), options);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const entry = JSON.stringify(new URL(`./${module}.ts`, import.meta.url).href);
  return new Worker(`import(${tsx}).then((api) => { api.register(); return import(${entry}); })`, { ...options, eval: true });
}

/** How long a thread asked to end is waited for, before it is left to end by itself. */
export const END_GRACE_MS = 10_000;

/**
 * Ask one of the engine's threads to end (`ask`: its own way, a flag or a message it answers
 * between two pieces of work) and wait until it has. Never `worker.terminate()`: that stops a
 * thread wherever it is, and when that is inside zstd-napi, node-addon-api throws into the
 * ending environment and the whole process aborts ("terminate called after throwing an instance
 * of 'Napi::Error'"; test/integration/thread-end.test.ts). A thread still busy after `graceMs`
 * (a read stuck on a hung network share) is unref'd, so it holds nothing up, and ends by itself
 * once its work does.
 */
export function endThread(worker: Worker, ask: () => void, graceMs = END_GRACE_MS): Promise<void> {
  // An ended thread's id is -1 (Node sets it before the 'exit' event).
  if (worker.threadId === -1) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      worker.unref();
      resolve();
    }, graceMs);
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    ask();
  });
}
