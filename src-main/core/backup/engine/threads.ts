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
