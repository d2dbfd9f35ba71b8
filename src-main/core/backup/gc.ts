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
