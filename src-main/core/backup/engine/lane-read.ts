/**
 * The reading tasks of a lane (worker.ts): restore files (read their chunks from the packs,
 * verify them, write them in place) and verify whole packs for check.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { openBlob } from './blob.js';
import type { CoreError } from '../../platform/errors.js';
import { CHUNK_MAX, fileId, type RepoKeys } from './format.js';
import { collectAfter } from './gc.js';
import { damage, stopped, writeProblem } from './messages.js';
import { writeRestoredFile, type RestoreFile, type RestoredFile } from './restore-file.js';

export type { RestoreBlob, RestoreFile } from './restore-file.js';
export interface RestoreTask {
  kind: 'restore';
  files: RestoreFile[];
}
export interface RestoreResult {
  /** Per file; `code` is the errno or engine code behind `error` (a full disk stops the restore). */
  files: RestoredFile[];
}

export interface VerifyTask {
  kind: 'verify';
  path: string;
  packId: string;
  blobs: { id: string; type: 'data' | 'tree'; offset: number; length: number; rawLength: number; compressed: boolean }[];
}
export interface VerifyResult {
  packIdOk: boolean;
  readable: boolean;
  /** The blobs that fail their check, as the task listed them. */
  badBlobs: { id: string; type: 'data' | 'tree' }[];
}

/** What a reading task uses of its lane (worker.ts): the keys, the read buffer it reuses, the pool's stop flag. */
export interface ReadLane {
  keys: RepoKeys;
  buffer: Buffer;
  stop: Int32Array;
}

/** Whether the pool that owns the lane is closing (pool.ts): its tasks stop between two files. */
export const poolClosing = (lane: { stop: Int32Array }): boolean => Atomics.load(lane.stop, 0) !== 0;

/** zstd's native binding (CommonJS), for a context we can reuse. */
const zstd = createRequire(import.meta.url)('zstd-napi/binding') as typeof import('zstd-napi/binding.js');
/**
 * Decompression target and context, reused for every blob a restore or check opens. Made on
 * first use, so a thread carries only what its tasks need; used synchronously only, so one per
 * thread suffices.
 */
let scratchInstance: { buffer: Buffer; dctx: InstanceType<typeof zstd.DCtx>; inPlace: true } | null = null;
// In place: each blob is read into the lane's buffer (restore) or the task's pack (check) and
// used up before the next one, so it may be decrypted over itself (blob.ts).
const scratch = () => (scratchInstance ??= { buffer: Buffer.allocUnsafe(CHUNK_MAX), dctx: new zstd.DCtx(), inPlace: true });

export function restoreFiles(lane: ReadLane, task: RestoreTask): RestoreResult {
  const fds = new Map<string, number>();
  const packFd = (p: string) => {
    let fd = fds.get(p);
    if (fd === undefined) {
      if (fds.size > 16) closeAll();
      try {
        fd = openSync(p, 'r');
      } catch (e) {
        const pack = p.slice(-64);
        throw (e as NodeJS.ErrnoException).code === 'ENOENT' ? damage.packMissing(pack) : damage.packUnreadable(pack, e);
      }
      fds.set(p, fd);
    }
    return fd;
  };
  const closeAll = () => {
    for (const fd of fds.values()) closeSync(fd);
    fds.clear();
  };
  try {
    return {
      files: task.files.map((f) => {
        if (poolClosing(lane)) throw stopped.poolClosed();
        try {
          return restoreOne(lane, f, packFd);
        } catch (e) {
          if (poolClosing(lane)) throw stopped.poolClosed();
          const code = (e as NodeJS.ErrnoException | CoreError)?.code;
          return typeof code === 'string' ? { bytes: 0, error: writeProblem(e), code } : { bytes: 0, error: writeProblem(e) };
        }
      }),
    };
  } finally {
    closeAll();
  }
}

/** One file: its chunks read, verified and written into a temporary file, then put in place (restore-file.ts). */
function restoreOne(lane: ReadLane, f: RestoreFile, packFd: (p: string) => number): RestoredFile {
  const buffer = lane.buffer;
  return writeRestoredFile(f, (out) => {
    let bytes = 0;
    for (const b of f.blobs) {
      // A large file is many chunks: a closing pool does not wait for all of them.
      if (poolClosing(lane)) throw stopped.poolClosed();
      const blob = b.length <= buffer.length ? buffer.subarray(0, b.length) : Buffer.allocUnsafe(b.length);
      const n = readSync(packFd(b.pack), blob, 0, b.length, b.offset);
      if (n !== b.length) throw damage.packTruncated(b.pack.slice(-64));
      const plain = openBlob(lane.keys, b.id, 'data', b.compressed, b.rawLength, blob, b.pack.slice(-64), scratch());
      let done = 0;
      while (done < plain.length) done += writeSync(out, plain, done, plain.length - done);
      bytes += plain.length;
      collectAfter(b.length);
    }
    return bytes;
  });
}

export function verifyPack(k: RepoKeys, task: VerifyTask): VerifyResult {
  let fd: number;
  try {
    fd = openSync(task.path, 'r');
  } catch {
    return { packIdOk: false, readable: false, badBlobs: task.blobs.map(({ id, type }) => ({ id, type })) };
  }
  try {
    const size = fstatSync(fd).size;
    const whole = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, whole, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    const packIdOk = got === size && fileId(whole) === task.packId;
    const badBlobs: VerifyResult['badBlobs'] = [];
    for (const b of task.blobs) {
      try {
        if (b.offset + b.length > got) throw new Error('outside the pack');
        openBlob(k, b.id, b.type, b.compressed, b.rawLength, whole.subarray(b.offset, b.offset + b.length), task.packId, scratch());
      } catch {
        badBlobs.push({ id: b.id, type: b.type });
      }
    }
    return { packIdOk, readable: true, badBlobs };
  } finally {
    closeSync(fd);
  }
}
