/**
 * Prompt collection of short-lived buffers. A worker allocates buffers for every chunk (the
 * cipher's output, in slices) but few JavaScript objects, so V8 starts a young
 * collection rarely and lets up to its external-memory limit (~64 MiB per thread) of dead
 * buffers stay resident. A minor collection after each batch frees them for well under a
 * millisecond. `gc` is V8's own, exposed with --expose-gc (set here, process-wide, once: threads
 * started afterwards see it too); where that is refused, this does nothing.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { tuneAllocator } from './native.js';

/**
 * V8 told to favour memory over speed, process-wide: it then sizes heaps closer to what they
 * hold and collects sooner. A backup runs beside whatever else the machine does, often while
 * nobody watches; this costs its JavaScript ~5-10% more time and lowers a first backup's and a
 * restore's peak by ~25-30 MiB, an incremental one's by ~30 MiB (docs/benchmarks.md). V8 reads
 * the flag as it goes, so setting it as the process starts (composition.ts) covers every thread
 * started after it. The C allocator is told to give large blocks back as they are freed, too
 * (native.ts: a restore's peak ~15-20 MiB lower).
 */
export function favourMemory(): void {
  try {
    setFlagsFromString('--optimize-for-size');
  } catch {
    // a runtime that refuses flags keeps V8's defaults
  }
  tuneAllocator();
}

type GcFunction = (options?: { type?: 'minor' | 'major' }) => void;
let gc: GcFunction | null | undefined;

/** Expose V8's gc before worker threads start, so they get it as a global. */
export function exposeGc(): GcFunction | null {
  if (gc !== undefined) return gc;
  try {
    const global = (globalThis as { gc?: GcFunction }).gc;
    if (global) gc = global;
    else {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as GcFunction;
    }
  } catch {
    gc = null;
  }
  if (typeof gc !== 'function') gc = null;
  return gc;
}

/** A young-generation collection (a scavenge): frees the batch's dead buffers. */
export function collectYoung(): void {
  exposeGc()?.({ type: 'minor' });
}

/** Bytes of short-lived buffers a thread may leave before it collects them (collectAfter). */
const GARBAGE_LIMIT = 2 * 1024 * 1024;
let garbage = 0;

/**
 * Count `bytes` of buffers just made dead (a blob's decrypted copy) and collect once they add
 * up to a few megabytes, so a task that opens many blobs holds no more than that.
 */
export function collectAfter(bytes: number): void {
  garbage += bytes;
  if (garbage < GARBAGE_LIMIT) return;
  garbage = 0;
  collectYoung();
}
