/**
 * The engine's native addon (native/, built by `npm install`): zstd compression on libuv's
 * thread pool, so the lane's thread chunks and hashes on while a second core compresses (one
 * JavaScript thread then keeps two cores busy, instead of a worker thread per core with its own
 * heap and buffers), the chunker's inner loop in C, a folder's lstat calls in one call
 * (docs/benchmarks.md), and what Node's fs lacks for keeping a file system's metadata:
 * extended attributes, times to the nanosecond (and before 1970), mknod, and a rename that never
 * replaces. POSIX only for the file system parts: on Windows they are null and callers fall back.
 */
import { existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreError } from '../../platform/errors.js';
import { DEFAULT_PARAMS, type ChunkerParams } from './chunker.js';
import { errnoError } from './errno.js';

/** A path or a name as the addon takes it: a string, or its bytes when it is not valid UTF-8 (fs-names.ts). */
export type PathArg = string | Uint8Array;

interface Binding {
  compress(src: Uint8Array, dst: Uint8Array, level: number): Promise<number>;
  nextCut(gear: Int32Array, data: Uint8Array, start: number, end: number, final: boolean, min: number, avg: number, max: number): number;
  tuneAllocator(): boolean;
  hardenProcess(): ProcessHardening;
  /** Absent on Windows (native/lstat-many.c), as are the others below. */
  lstatMany?(folder: PathArg, names: PathArg[], numbers: Float64Array, bigints: BigInt64Array, errnos: Int32Array, xattrs?: XattrSlot[]): void;
  readXattrs?(path: PathArg): Buffer[] | null | number;
  setXattr?(target: number | PathArg, name: PathArg, value: Uint8Array): number;
  setTimes?(target: number | PathArg, atimeNs: bigint, mtimeNs: bigint): number;
  makeNode?(path: PathArg, mode: number, rdev: bigint): number;
  renameNoReplace?(from: PathArg, to: PathArg): number;
}

/** What lstatMany leaves for one entry's extended attributes: [name, value, ...], an errno, or nothing. */
export type XattrSlot = Buffer[] | number | undefined;

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

/** What hardenProcess leaves: true where core files or same-user memory reads are still possible. */
export interface ProcessHardening {
  /** A crash may still write a core file (the limit could not be set to zero: Windows). */
  readonly coreDumps: boolean;
  /** Other processes of the same user may still ptrace this one or read its memory (not Linux). */
  readonly dumpable: boolean;
}

/**
 * No core files and, on Linux, no same-user ptrace or /proc/<pid>/mem for the process that holds
 * the keys (native/harden.c). Process-wide and inherited by children; the shells call it at start.
 */
export function hardenProcess(): ProcessHardening {
  return binding.hardenProcess();
}

/**
 * lstat `${folder}/${name}` for every name, into a listing's arrays (walk.ts): per entry mode,
 * uid, gid, size and link count in `numbers`; inode, mtime and ctime in nanoseconds, device and
 * rdev in `bigints`; 0 or the errno of a failed lstat in `errnos`; with `xattrs`, each entry's
 * extended attributes. Null where the addon lacks it (Windows): walk.ts then uses Node's lstat.
 */
export const lstatMany: NonNullable<Binding['lstatMany']> | null = binding.lstatMany ?? null;

/** Whether this platform's addon keeps extended attributes, device nodes and exact times. */
export const hasFileMeta = binding.readXattrs !== undefined;

/**
 * An entry's extended attributes as [name, value, ...] (raw bytes), not following a symlink; []
 * when it has none, or where there are none to read (Windows, a file system without them).
 * Throws an error with the errno's `code` when they cannot be read.
 */
export function readXattrs(path: PathArg): Buffer[] {
  const r = binding.readXattrs?.(path) ?? null;
  if (typeof r === 'number') throw errnoError(r, 'reading extended attributes');
  return r ?? [];
}

/** Set one extended attribute on an open file (a descriptor) or a path (not followed). */
export function setXattr(target: number | PathArg, name: PathArg, value: Uint8Array): void {
  if (!binding.setXattr) throw errnoError('ENOTSUP', 'setting an extended attribute');
  const e = binding.setXattr(target, name, value);
  if (e !== 0) throw errnoError(e, 'setting an extended attribute');
}

/**
 * Access and modification times to the nanosecond, before 1970 too, on an open file or a path
 * (a symlink itself, not its target). Null on Windows, where callers use Node's utimes.
 */
export const setTimes: ((target: number | PathArg, atimeNs: bigint, mtimeNs: bigint) => void) | null = binding.setTimes
  ? (target, atimeNs, mtimeNs) => {
      const e = binding.setTimes!(target, atimeNs, mtimeNs);
      if (e !== 0) throw errnoError(e, 'setting times');
    }
  : null;

/** mknod: a FIFO or a socket (anyone), a device node (root). `mode` holds the type bits. */
export function makeNode(path: PathArg, mode: number, rdev: bigint): void {
  if (!binding.makeNode) throw errnoError('ENOTSUP', 'making a special file');
  const e = binding.makeNode(path, mode, rdev);
  if (e !== 0) throw errnoError(e, 'making a special file');
}

/**
 * Rename `from` to `to` unless something is at `to` (EEXIST then). False where the system or the
 * file system cannot do it in one step (the caller then falls back).
 */
export function renameNoReplace(from: PathArg, to: PathArg): boolean {
  const e = binding.renameNoReplace?.(from, to) ?? osConstants.errno.ENOSYS;
  if (e === 0) return true;
  if (e === osConstants.errno.ENOSYS || e === osConstants.errno.EINVAL || e === osConstants.errno.ENOTSUP) return false;
  throw errnoError(e, 'renaming');
}
