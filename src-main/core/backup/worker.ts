/**
 * The worker-thread side of the engine (one thread per core, pool.ts): read files with one large
 * reused buffer, chunk, hash, compress and encrypt them for backup; read, verify and write them
 * for restore; verify whole packs for check. The keys arrive once, in workerData.
 */
import { closeSync, fchmodSync, fstatSync, futimesSync, openSync, readSync, renameSync, rmSync, writeSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { createCipheriv, randomBytes } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { nextCut } from './chunker.js';
import { collectYoung } from './gc.js';
import { blobAad, blobId, CHUNK_MAX, fileId, NONCE_BYTES, TAG_BYTES, ZSTD_LEVEL, type RepoKeys } from './format.js';
import { openBlob } from './blob.js';

export interface WorkerKeys {
  data: Uint8Array;
  id: Uint8Array;
  chunker: Uint8Array;
  gear: Int32Array;
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
}
export interface ChunkedFile {
  ids: string[];
  sizes: number[];
  /** Offset after the last chunk; `eof` when the file ended there. */
  end: number;
  eof: boolean;
  error?: string;
}
export interface NewBlob {
  id: string;
  data: Uint8Array;
  rawLength: number;
  compressed: boolean;
}
export interface ChunkResult {
  files: ChunkedFile[];
  blobs: NewBlob[];
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
  badBlobs: string[];
}

const raw = workerData as WorkerKeys | undefined;
const keys: RepoKeys | null = raw
  ? { data: Buffer.from(raw.data), id: Buffer.from(raw.id), chunker: Buffer.from(raw.chunker) }
  : null;
const gear = raw ? new Int32Array(raw.gear) : new Int32Array(256);
/** One read buffer per worker, reused for every file: twice the largest chunk. */
const buffer = Buffer.allocUnsafe(CHUNK_MAX * 2);
/** zstd's native binding (CommonJS), for a decompression context we can reuse. */
const zstd = createRequire(import.meta.url)('zstd-napi/binding') as typeof import('zstd-napi/binding.js');
/** Decompression target and context, reused for every blob a restore or check opens. */
const scratch = { buffer: Buffer.allocUnsafe(CHUNK_MAX), dctx: new zstd.DCtx() };
/** Compression context and target, reused for every chunk a backup seals (no per-chunk garbage). */
const sealing = { cctx: new zstd.CCtx(), buffer: Buffer.allocUnsafe(zstd.compressBound(CHUNK_MAX)) };

/** What a thread answers to each task (pool.ts). */
export type TaskReply = { ok: true; result: ChunkResult | RestoreResult | VerifyResult } | { ok: false; message: string; code?: string };

export function run(task: ChunkTask | RestoreTask | VerifyTask): { result: ChunkResult | RestoreResult | VerifyResult; transfer: ArrayBuffer[] } {
  if (!keys) throw new Error('worker started without keys');
  const result = task.kind === 'chunk' ? chunkFiles(keys, task) : task.kind === 'restore' ? restoreFiles(keys, task) : verifyPack(keys, task);
  // Sealed blobs are moved to the main thread, not copied: each owns its whole ArrayBuffer (sealChunk).
  const transfer = task.kind === 'chunk' ? (result as ChunkResult).blobs.map((b) => b.data.buffer as ArrayBuffer) : [];
  return { result, transfer };
}

if (parentPort && keys) {
  const port = parentPort;
  port.on('message', (task: ChunkTask | RestoreTask | VerifyTask) => {
    let reply: TaskReply;
    let transfer: ArrayBuffer[] = [];
    try {
      const done = run(task);
      reply = { ok: true, result: done.result };
      transfer = done.transfer;
    } catch (e) {
      reply = { ok: false, message: e instanceof Error ? e.message : String(e), code: (e as NodeJS.ErrnoException)?.code };
    }
    port.postMessage(reply, transfer);
    // Each task leaves dead per-blob buffers (the cipher's output): free them now (gc.ts).
    collectYoung();
  });
}

function chunkFiles(k: RepoKeys, task: ChunkTask): ChunkResult {
  const blobs: NewBlob[] = [];
  const seen = new Set<string>();
  const files = task.files.map((f) => {
    try {
      return chunkOne(k, f, blobs, seen);
    } catch (e) {
      return { ids: [], sizes: [], end: f.start, eof: true, error: describe(e) };
    }
  });
  return { files, blobs };
}

function chunkOne(k: RepoKeys, f: ChunkFile, blobs: NewBlob[], seen: Set<string>): ChunkedFile {
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
      // Keep at least one maximal chunk ahead of the head, compacting rather than reallocating.
      if (!eof && filled - head < CHUNK_MAX) {
        if (head > 0) {
          buffer.copyWithin(0, head, filled);
          filled -= head;
          head = 0;
        }
        while (!eof && filled < buffer.length) {
          const n = readSync(fd, buffer, filled, buffer.length - filled, pos + filled);
          if (n === 0) eof = true;
          filled += n;
        }
      }
      if (head === filled) break;
      const cut = nextCut(gear, buffer, head, filled, eof);
      const chunk = buffer.subarray(head, head + cut);
      const id = blobId(k.id, chunk);
      const hex = id.toString('hex');
      ids.push(hex);
      sizes.push(cut);
      if (!seen.has(hex)) {
        seen.add(hex);
        blobs.push(sealChunk(k, id, hex, chunk));
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

/**
 * Compress when it helps, then seal under the blob's id and type: nonce | AES-256-GCM
 * ciphertext | tag (format.ts `encrypt`), written straight into one exactly-sized ArrayBuffer
 * of its own (never a slice of Node's shared pool, so it can be transferred).
 */
export function sealChunk(k: RepoKeys, id: Buffer, hex: string, chunk: Uint8Array): NewBlob {
  const packedLength = sealing.cctx.compress(sealing.buffer, chunk, ZSTD_LEVEL);
  const useZstd = packedLength < chunk.length;
  const plain = useZstd ? sealing.buffer.subarray(0, packedLength) : chunk;
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', k.data, nonce);
  cipher.setAAD(blobAad('data', id));
  const data = new Uint8Array(NONCE_BYTES + plain.length + TAG_BYTES);
  data.set(nonce, 0);
  let at = NONCE_BYTES;
  const head = cipher.update(plain);
  data.set(head, at);
  at += head.length;
  const tail = cipher.final();
  data.set(tail, at);
  at += tail.length;
  data.set(cipher.getAuthTag(), at);
  return { id: hex, data, rawLength: chunk.length, compressed: useZstd };
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
    return { packIdOk: false, readable: false, badBlobs: task.blobs.map((b) => b.id) };
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
    const badBlobs: string[] = [];
    for (const b of task.blobs) {
      try {
        if (b.offset + b.length > got) throw new Error('outside the pack');
        openBlob(k, b.id, b.type, b.compressed, b.rawLength, whole.subarray(b.offset, b.offset + b.length), task.packId, scratch);
      } catch {
        badBlobs.push(b.id);
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
