/**
 * The engine's native addon (native/, built by `npm install`): zstd compression on libuv's
 * thread pool, so the lane's thread chunks and hashes on while a second core compresses (one
 * JavaScript thread then keeps two cores busy, instead of a worker thread per core with its own
 * heap and buffers), the chunker's inner loop in C, and a folder's lstat calls in one call
 * (docs/benchmarks.md).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreError } from '../errors.js';
import { DEFAULT_PARAMS, type ChunkerParams } from './chunker.js';

interface Binding {
  compress(src: Uint8Array, dst: Uint8Array, level: number): Promise<number>;
  nextCut(gear: Int32Array, data: Uint8Array, start: number, end: number, final: boolean, min: number, avg: number, max: number): number;
  tuneAllocator(): boolean;
  /** Absent on Windows (native/lstat-many.c). */
  lstatMany?(folder: string, names: string[], numbers: Float64Array, bigints: BigInt64Array, errnos: Int32Array): void;
}

const ADDON = join('build', 'Release', 'twofold_native.node');

/**
 * The addon sits in build/Release at the package's root: found by walking up from this module,
 * which runs from the sources, from dist/ or from a bundle under node_modules/.cache.
 */
function load(): Binding {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, ADDON);
    if (existsSync(candidate)) return createRequire(import.meta.url)(candidate) as Binding;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new CoreError('INTERNAL', `The engine's native addon (${ADDON}) is not built; run \`npm install\` again.`);
}

const binding = load();

/** chunker.ts's `nextCut`, in C: the same cut points (test/unit/chunker.test.ts compares them). */
export function nextCutNative(gear: Int32Array, data: Uint8Array, start: number, end: number, final: boolean, params: ChunkerParams = DEFAULT_PARAMS): number {
  return binding.nextCut(gear, data, start, end, final, params.min, params.avg, params.max);
}

/**
 * Compress `src` into `dst` (at least zstd's compressBound(src.length) long) at `level`, on
 * libuv's pool; resolves to the compressed length. Neither buffer may change until it settles.
 * Not rationed here: a limit kept on this thread would start the next compression only when
 * this thread, busy chunking, got round to it, and left the pool idle meanwhile.
 */
export function compressAsync(src: Uint8Array, dst: Uint8Array, level: number): Promise<number> {
  return binding.compress(src, dst, level);
}

/**
 * Keep glibc from moving multi-megabyte blocks into its heap once a few were freed, where their
 * space stays with the process (native/addon.c). Process-wide; true when applied (glibc).
 */
export function tuneAllocator(): boolean {
  return binding.tuneAllocator();
}

/**
 * lstat `${folder}/${name}` for every name, into a listing's arrays (walk.ts): per entry
 * mode, uid, gid, size in `numbers`; inode, mtime and ctime in nanoseconds in `bigints`; 0 or
 * the errno of a failed lstat in `errnos`. Null where the addon lacks it (Windows): walk.ts
 * then uses Node's lstat.
 */
export const lstatMany: NonNullable<Binding['lstatMany']> | null = binding.lstatMany ?? null;
