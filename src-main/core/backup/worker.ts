/**
 * The lanes of the engine (one per core, pool.ts), on worker threads or inline: read files with
 * one large reused buffer, chunk and hash them, and compress, encrypt and write the chunks no
 * other lane has stored into a data pack of the lane's own (pack-writer.ts) for backup; read,
 * verify and write them for restore; verify whole packs for check. A worker thread gets the
 * keys once, in workerData.
 */
import { closeSync, fchmodSync, fstatSync, futimesSync, openSync, readSync, renameSync, rmSync, writeSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { nextCut } from './chunker.js';
import { collectAfter, collectYoung } from './gc.js';
import { blobAad, blobId, CHUNK_MAX, fileId, PACK_TARGET_BYTES, ZSTD_LEVEL, type RepoKeys } from './format.js';
import { openBlob } from './blob.js';
import { ClaimTable } from './claims.js';
import { tempName } from './atomic.js';
import { PackWriter, type FinishedPack } from './pack-writer.js';

export interface WorkerKeys {
  role: 'twofold-worker';
  data: Uint8Array;
  id: Uint8Array;
  chunker: Uint8Array;
  gear: Int32Array;
  /** The repository's tmp/ folder, where this thread's packs are written. */
  tmpDir: string;
}

export interface ChunkFile {
  path: string;
  /** Offset to start at (a chunk boundary of an earlier segment), and bytes after which to stop. */
  start: number;
  limit: number;
}
export interface ChunkTask {
  kind: 'chunk';
  files: ChunkFile[];
  /** The run's claim table (claims.ts): a chunk is stored by the thread that claims it first. */
  claims: SharedArrayBuffer;
  /** Store every chunk, claimed or not: for a file whose skipped chunks turned out missing. */
  storeAll?: boolean;
}
/** Finish this thread's open pack (end of a backup), or drop it (a failed or cancelled one). */
export interface PackTask {
  kind: 'finish' | 'abandon';
}
export interface ChunkedFile {
  ids: string[];
  sizes: number[];
  /** Offset after the last chunk; `eof` when the file ended there. */
  end: number;
  eof: boolean;
  error?: string;
}
export interface ChunkResult {
  files: ChunkedFile[];
  /** Ids of the chunks this task stored, in this thread's open pack or one it finished. */
  stored: string[];
  /** Packs this task filled: written whole, for the engine to fsync, rename and index. */
  packs: FinishedPack[];
}
export interface PackResult {
  packs: FinishedPack[];
}

export interface RestoreBlob {
  id: string;
  pack: string;
  offset: number;
  length: number;
  rawLength: number;
  compressed: boolean;
}
export interface RestoreFile {
  target: string;
  /**
   * null: create `target` itself with O_EXCL (never replaces anything; a file already there is
   * reported as `existed`). A path: write there, then rename over `target` (overwrite chosen).
   */
  tmp: string | null;
  mode: number;
  atimeSec: number;
  mtimeSec: number;
  blobs: RestoreBlob[];
}
export interface RestoreTask {
  kind: 'restore';
  files: RestoreFile[];
}
export interface RestoreResult {
  files: { bytes: number; existed?: boolean; error?: string }[];
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

/**
 * What one lane of the pool works with: a worker thread's, or the inline lane that runs on the
 * pool's own thread (pool.ts). Each lane has a data pack of its own.
 */
export interface Lane {
  keys: RepoKeys;
  /** This lane's data pack, opened on the first chunk it stores. */
  packs: PackWriter;
  gear: Int32Array;
}

export function createLane(raw: WorkerKeys): Lane {
  const keys: RepoKeys = { data: Buffer.from(raw.data), id: Buffer.from(raw.id), chunker: Buffer.from(raw.chunker) };
  return { keys, packs: new PackWriter(keys.data, () => tempName(raw.tmpDir)), gear: new Int32Array(raw.gear) };
}

/**
 * One read buffer per thread, reused for every file: the largest chunk plus one read. The
 * chunker finds a cut in whatever is read so far; only a chunk that runs past the end of the
 * buffer is moved to its front before reading on (about half a chunk per buffer filled).
 */
const buffer = Buffer.allocUnsafe(CHUNK_MAX + 1024 * 1024);
/** zstd's native binding (CommonJS), for a decompression context we can reuse. */
const zstd = createRequire(import.meta.url)('zstd-napi/binding') as typeof import('zstd-napi/binding.js');
/** Decompression target and context, reused for every blob a restore or check opens. */
const scratch = { buffer: Buffer.allocUnsafe(CHUNK_MAX), dctx: new zstd.DCtx() };
/** Compression context and target, reused for every chunk a backup stores (no per-chunk garbage). */
const sealing = { cctx: new zstd.CCtx(), buffer: Buffer.allocUnsafe(zstd.compressBound(CHUNK_MAX)) };

/** What a thread answers to each task (pool.ts). */
export type TaskResult = ChunkResult | PackResult | RestoreResult | VerifyResult;
export type TaskReply = { ok: true; result: TaskResult } | { ok: false; message: string; code?: string };

export type Task = ChunkTask | PackTask | RestoreTask | VerifyTask;

export function run(lane: Lane, task: Task): TaskResult {
  switch (task.kind) {
    case 'chunk':
      return chunkFiles(lane, task);
    case 'finish': {
      const pack = lane.packs.finish();
      return { packs: pack ? [pack] : [] };
    }
    case 'abandon':
      lane.packs.abandon();
      return { packs: [] };
    case 'restore':
      return restoreFiles(lane.keys, task);
    case 'verify':
      return verifyPack(lane.keys, task);
  }
}

const request = workerData as Partial<WorkerKeys> | undefined;
if (parentPort && request?.role === 'twofold-worker') {
  const port = parentPort;
  const lane = createLane(request as WorkerKeys);
  port.on('message', (task: Task) => {
    let reply: TaskReply;
    try {
      reply = { ok: true, result: run(lane, task) };
    } catch (e) {
      reply = { ok: false, message: e instanceof Error ? e.message : String(e), code: (e as NodeJS.ErrnoException)?.code };
    }
    port.postMessage(reply);
    // Each task leaves dead buffers (the cipher's output, in slices): free them now (gc.ts).
    collectYoung();
  });
}

/** Where a task's stored chunks go: this thread's pack, and the lists the engine gets back. */
interface Store {
  writer: PackWriter;
  gear: Int32Array;
  claims: ClaimTable;
  storeAll: boolean;
  /** Ids stored by this task (in storeAll mode also what keeps one task from storing a chunk twice). */
  stored: Set<string>;
  packs: FinishedPack[];
}

function chunkFiles(lane: Lane, task: ChunkTask): ChunkResult {
  const k = lane.keys;
  const store: Store = { writer: lane.packs, gear: lane.gear, claims: ClaimTable.from(task.claims), storeAll: task.storeAll === true, stored: new Set(), packs: [] };
  const files = task.files.map((f) => {
    try {
      return chunkOne(k, f, store);
    } catch (e) {
      // A file that cannot be read is reported and skipped; a pack that cannot be written fails
      // the task, and the packs it filled go too (the engine never hears of their chunks).
      if (e instanceof PackWriteFailure) {
        for (const pack of store.packs) rmSync(pack.tmp, { force: true });
        throw e.cause;
      }
      return { ids: [], sizes: [], end: f.start, eof: true, error: describe(e) };
    }
  });
  return { files, stored: [...store.stored], packs: store.packs };
}

/** An error of the repository's side (writing this thread's pack), not of the file being read. */
class PackWriteFailure extends Error {
  constructor(override readonly cause: unknown) {
    super('a pack could not be written');
  }
}

function chunkOne(k: RepoKeys, f: ChunkFile, store: Store): ChunkedFile {
  const fd = openSync(f.path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  try {
    if (!fstatSync(fd).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
    const ids: string[] = [];
    const sizes: number[] = [];
    let pos = f.start; // file offset of buffer[head]
    let head = 0;
    let filled = 0;
    let eof = false;
    for (;;) {
      const cut = nextCut(store.gear, buffer, head, filled, eof);
      if (cut === -1) {
        // The next cut lies past what is read (-1 only while fewer than CHUNK_MAX bytes are
        // left, so there is room): move them to the front and fill the buffer.
        buffer.copyWithin(0, head, filled);
        filled -= head;
        head = 0;
        while (!eof && filled < buffer.length) {
          const n = readSync(fd, buffer, filled, buffer.length - filled, pos + filled);
          if (n === 0) eof = true;
          filled += n;
        }
        continue;
      }
      if (cut === 0) break; // end of file
      const chunk = buffer.subarray(head, head + cut);
      const id = blobId(k.id, chunk);
      const hex = id.toString('hex');
      ids.push(hex);
      sizes.push(cut);
      // Claim first in either mode, so the other threads learn of the chunk.
      const claimed = store.claims.claim(id);
      if (store.storeAll ? !store.stored.has(hex) : claimed) {
        store.stored.add(hex);
        try {
          storeChunk(store, id, chunk);
        } catch (e) {
          throw new PackWriteFailure(e);
        }
      }
      head += cut;
      pos += cut;
      if (pos - f.start >= f.limit && head < filled) return { ids, sizes, end: pos, eof: false };
    }
    return { ids, sizes, end: pos, eof: true };
  } finally {
    closeSync(fd);
  }
}

/** Compress when it helps, seal into this thread's pack, and start a new pack when it is full. */
function storeChunk(store: Store, id: Buffer, chunk: Uint8Array): void {
  const packedLength = sealing.cctx.compress(sealing.buffer, chunk, ZSTD_LEVEL);
  const useZstd = packedLength < chunk.length;
  const plain = useZstd ? sealing.buffer.subarray(0, packedLength) : chunk;
  store.writer.add(id, 'data', plain, chunk.length, useZstd, blobAad('data', id));
  collectAfter(plain.length); // the cipher's output slices
  if (store.writer.size >= PACK_TARGET_BYTES) store.packs.push(store.writer.finish()!);
}

function restoreFiles(k: RepoKeys, task: RestoreTask): RestoreResult {
  const fds = new Map<string, number>();
  const packFd = (p: string) => {
    let fd = fds.get(p);
    if (fd === undefined) {
      if (fds.size > 16) closeAll();
      fd = openSync(p, 'r');
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
        try {
          return restoreOne(k, f, packFd);
        } catch (e) {
          return { bytes: 0, error: describe(e) };
        }
      }),
    };
  } finally {
    closeAll();
  }
}

function restoreOne(k: RepoKeys, f: RestoreFile, packFd: (p: string) => number): { bytes: number; existed?: boolean } {
  const path = f.tmp ?? f.target;
  let out: number;
  try {
    out = openSync(path, 'wx', 0o600);
  } catch (e) {
    if (f.tmp === null && (e as NodeJS.ErrnoException).code === 'EEXIST') return { bytes: 0, existed: true };
    throw e;
  }
  let bytes = 0;
  try {
    try {
      for (const b of f.blobs) {
        const sealed = b.length <= buffer.length ? buffer.subarray(0, b.length) : Buffer.allocUnsafe(b.length);
        const n = readSync(packFd(b.pack), sealed, 0, b.length, b.offset);
        if (n !== b.length) throw new Error('a pack is truncated');
        const plain = openBlob(k, b.id, 'data', b.compressed, b.rawLength, sealed, b.pack.slice(-64), scratch);
        let done = 0;
        while (done < plain.length) done += writeSync(out, plain, done, plain.length - done);
        bytes += plain.length;
        collectAfter(b.length);
      }
      fchmodSync(out, f.mode & 0o7777);
      futimesSync(out, f.atimeSec, f.mtimeSec);
    } finally {
      closeSync(out);
    }
    if (f.tmp !== null) renameSync(f.tmp, f.target);
  } catch (e) {
    // We created this file (O_EXCL), so removing what we half-wrote touches nothing of the user's.
    rmSync(path, { force: true });
    throw e;
  }
  return { bytes };
}

function verifyPack(k: RepoKeys, task: VerifyTask): VerifyResult {
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
        openBlob(k, b.id, b.type, b.compressed, b.rawLength, whole.subarray(b.offset, b.offset + b.length), task.packId, scratch);
      } catch {
        badBlobs.push({ id: b.id, type: b.type });
      }
    }
    return { packIdOk, readable: true, badBlobs };
  } finally {
    closeSync(fd);
  }
}

/** A short reason for a person: the errno code, never file content. */
function describe(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'vanished before it could be read';
  if (code === 'ELOOP') return 'became a symlink while being read';
  if (code === 'ENOTFILE') return 'is no longer a regular file';
  if (code === 'EEXIST') return 'a file appeared at the target while restoring';
  if (code) return `cannot be read (${code})`;
  return e instanceof Error ? e.message : 'unknown error';
}
