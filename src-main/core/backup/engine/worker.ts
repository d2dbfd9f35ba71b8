/**
 * The lanes of the engine (pool.ts), on worker threads or inline: read files with one large
 * reused buffer, chunk and hash them, and compress, encrypt and write the chunks no other lane
 * has stored into a data pack of the lane's own (pack-writer.ts) for backup; read, verify and
 * write them for restore; verify whole packs for check (those two: lane-read.ts). A worker
 * thread gets the keys once, in workerData. A backup lane compresses its larger chunks on
 * libuv's thread pool (native.ts) while it chunks on, so one lane keeps two cores busy.
 */
import { closeSync, fstatSync, openSync, readSync, rmSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { collectAfter, collectYoung } from './gc.js';
import { blobAad, blobId, CHUNK_MAX, PACK_TARGET_BYTES, ZSTD_LEVEL, type RepoKeys } from './format.js';
import { ClaimTable } from './claims.js';
import { tempName } from './atomic.js';
import { PackWriter, type FinishedPack } from './pack-writer.js';
import { compressAsync, nextCutNative } from './native.js';
import { fsPath } from './fs-names.js';
import { poolClosing, restoreFiles, verifyPack, type RestoreResult, type RestoreTask, type VerifyResult, type VerifyTask } from './lane-read.js';
import { stateChange, type FileState } from './file-state.js';
import { readProblem, stopped } from './messages.js';

export interface WorkerKeys {
  role: 'twofold-worker';
  data: Uint8Array;
  id: Uint8Array;
  chunker: Uint8Array;
  gear: Int32Array;
  /** The repository's tmp/ folder, where this thread's packs are written. */
  tmpDir: string;
  /** [0] is 1 once the pool is closing: tasks stop between two files (shared with the pool). */
  stop: Int32Array;
}

export interface ChunkFile {
  path: string;
  /**
   * A descriptor the engine holds open on `path` for the whole file (file-read.ts): each segment
   * reads through it, so a file is read through one descriptor from start to end. Without it
   * the lane opens `path` and closes it again.
   */
  fd?: number;
  /** Offset to start at (a chunk boundary of an earlier segment), and bytes after which to stop. */
  start: number;
  limit: number;
  /** The file as the walk saw it: checked against the descriptor once the last byte is read. */
  expect?: FileState;
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
  /** At the end of the file: how it differs from `expect` (file-state.ts), when it does. */
  changed?: 'status' | 'content';
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

export type { RestoreBlob, RestoreFile } from './restore-file.js';
export type { RestoreResult, RestoreTask, VerifyResult, VerifyTask } from './lane-read.js';

/**
 * What one lane of the pool works with: a worker thread's, or the inline lane that runs on the
 * pool's own thread (pool.ts). Each lane has a data pack of its own.
 */
export interface Lane {
  keys: RepoKeys;
  /** This lane's data pack, opened on the first chunk it stores. */
  packs: PackWriter;
  gear: Int32Array;
  /**
   * One read buffer per lane, reused for every file: the largest chunk plus one read. The
   * chunker finds a cut in whatever is read so far; only a chunk that runs past the end of the
   * buffer is moved to its front before reading on (about half a chunk per buffer filled). Per
   * lane, not per thread: a lane's task waits for compression, and another pool's inline lane
   * may run on the same thread meanwhile.
   */
  buffer: Buffer;
  /**
   * Where chunks compressed off this thread go: the chunk at buffer[s, e) into packed[s + s/128,
   * e + e/128), which is never less than zstd's bound for a chunk of 16 KiB or more. Chunks in
   * flight lie in disjoint parts of `buffer`, so their outputs do not overlap either.
   */
  packed: Buffer;
  /**
   * Chunks still compressing (and then sealed into `packs`), by where they lie in `buffer`,
   * which must not change there until `done`. They outlive the task that cut them, so a task's
   * end costs no wait; a task that needs the buffer or the pack whole waits (`sealed`).
   */
  compressing: InFlight[];
  /** Where the next file's bytes go in `buffer`: after the last file's, whose chunks may still be compressing. */
  at: number;
  /** Packs filled by chunks sealed since the last task answered: the next one hands them over. */
  filled: FinishedPack[];
  /** The first error compressing or sealing a chunk: it fails the next task. */
  failure: { error: unknown } | null;
  /** The pool's stop flag (WorkerKeys.stop). */
  stop: Int32Array;
}

interface InFlight {
  start: number;
  end: number;
  /** Settles (never rejects) once the chunk is sealed, or failed and recorded in `failure`. */
  done: Promise<void>;
  settled: boolean;
}

export function createLane(raw: WorkerKeys): Lane {
  const keys: RepoKeys = { data: Buffer.from(raw.data), id: Buffer.from(raw.id), chunker: Buffer.from(raw.chunker) };
  const buffer = Buffer.allocUnsafe(CHUNK_MAX + 1024 * 1024);
  const packed = Buffer.allocUnsafe(packedAt(buffer.length));
  return {
    keys,
    packs: new PackWriter(keys.data, () => tempName(raw.tmpDir)),
    gear: new Int32Array(raw.gear),
    buffer,
    packed,
    compressing: [],
    at: 0,
    filled: [],
    failure: null,
    stop: raw.stop,
  };
}

/** Where `packed` holds the output of a chunk that starts or ends at `at` in `buffer`. */
const packedAt = (at: number) => at + (at >> 7);
/** Bytes read at least per refill, waiting for chunks in flight to make room if need be. */
const MIN_READ = 1024 * 1024;

/**
 * Chunks at least this large are compressed on libuv's pool while the lane chunks on; smaller
 * ones here and now, where the round trip would cost more than it frees.
 */
const ASYNC_COMPRESS_BYTES = 16 * 1024;
/** zstd's native binding (CommonJS), for contexts we can reuse. */
const zstd = createRequire(import.meta.url)('zstd-napi/binding') as typeof import('zstd-napi/binding.js');
/**
 * Compression context and target for the small chunks a backup compresses here: made on first
 * use, used synchronously only, so one per thread suffices (the reading tasks' own: lane-read.ts).
 */
let sealingInstance: { cctx: InstanceType<typeof zstd.CCtx>; buffer: Buffer } | null = null;
const sealing = () => (sealingInstance ??= { cctx: new zstd.CCtx(), buffer: Buffer.allocUnsafe(zstd.compressBound(ASYNC_COMPRESS_BYTES)) });

/** What a thread answers to each task (pool.ts). */
export type TaskResult = ChunkResult | PackResult | RestoreResult | VerifyResult;
export type TaskReply = { ok: true; result: TaskResult } | { ok: false; message: string; code?: string };

export type Task = ChunkTask | PackTask | RestoreTask | VerifyTask;
/** Sent by the pool when it closes: the thread ends once the task it runs is done. */
export interface EndRequest {
  kind: 'end';
}

export async function run(lane: Lane, task: Task): Promise<TaskResult> {
  // Tasks the thread held when the pool closed are answered at once, their work not begun.
  if (poolClosing(lane)) throw stopped.poolClosed();
  switch (task.kind) {
    case 'chunk':
      return await chunkFiles(lane, task);
    case 'finish': {
      // A chunk that could not be sealed fails the finish with its own error (disk full, say).
      await settleAll(lane).catch((e: unknown) => {
        throw e instanceof PackWriteFailure ? e.cause : e;
      });
      const pack = lane.packs.finish();
      return { packs: [...lane.filled.splice(0), ...(pack ? [pack] : [])] };
    }
    case 'abandon':
      await settleAll(lane).catch(() => undefined);
      for (const pack of lane.filled.splice(0)) rmSync(pack.tmp, { force: true });
      lane.failure = null;
      lane.packs.abandon();
      return { packs: [] };
    case 'restore':
      await settleAll(lane);
      return restoreFiles(lane, task);
    case 'verify':
      return verifyPack(lane.keys, task);
  }
}

const request = workerData as Partial<WorkerKeys> | undefined;
if (parentPort && request?.role === 'twofold-worker') {
  const port = parentPort;
  const lane = createLane(request as WorkerKeys);
  // One task at a time, in order: a chunk task waits for compression, and the next one (the
  // pool sends it ahead) must not start meanwhile.
  let turn: Promise<void> = Promise.resolve();
  port.on('message', (task: Task | EndRequest) => {
    if (task.kind === 'end') {
      // The pool is closing (pool.ts): end after the task running now and its compressions, at a
      // point where no native code runs (threads.ts: endThread says why that matters).
      turn = turn.then(async () => {
        await settleAll(lane).catch(() => undefined);
        process.exit(0);
      });
      return;
    }
    turn = turn.then(async () => {
      let reply: TaskReply;
      try {
        reply = { ok: true, result: await run(lane, task) };
      } catch (e) {
        reply = { ok: false, message: e instanceof Error ? e.message : String(e), code: (e as NodeJS.ErrnoException)?.code };
      }
      port.postMessage(reply);
      // Each task leaves dead buffers (the cipher's output, in slices): free them now (gc.ts).
      collectYoung();
    });
  });
}

/** Where a task's stored chunks go: the lane's pack, and the lists the engine gets back. */
interface Store {
  lane: Lane;
  claims: ClaimTable;
  storeAll: boolean;
  /** Ids stored by this task (in storeAll mode also what keeps one task from storing a chunk twice). */
  stored: Set<string>;
}

async function chunkFiles(lane: Lane, task: ChunkTask): Promise<ChunkResult> {
  const store: Store = { lane, claims: ClaimTable.from(task.claims), storeAll: task.storeAll === true, stored: new Set() };
  const files: ChunkedFile[] = [];
  try {
    if (lane.failure) throw new PackWriteFailure(lane.failure.error);
    for (const f of task.files) {
      if (poolClosing(lane)) throw stopped.poolClosed();
      let chunked: ChunkedFile;
      try {
        chunked = await chunkOne(lane, f, store);
      } catch (e) {
        // A file that cannot be read is reported and skipped; a pack that cannot be written
        // fails the task (below).
        if (e instanceof PackWriteFailure) throw e;
        chunked = { ids: [], sizes: [], end: f.start, eof: true, error: readProblem(e) };
        // Where in the buffer it stopped is unknown: start the next file afresh.
        await settleAll(lane);
      }
      files.push(chunked);
    }
  } catch (e) {
    // Nothing may still be reading the lane's buffer when the task fails.
    await settleAll(lane).catch(() => undefined);
    // The packs filled meanwhile go too: the engine never hears of their chunks. The open
    // pack stays, for the engine to abandon (the error fails the backup).
    if (e instanceof PackWriteFailure) {
      for (const pack of lane.filled.splice(0)) rmSync(pack.tmp, { force: true });
      throw e.cause;
    }
    throw e;
  }
  return { files, stored: [...store.stored], packs: lane.filled.splice(0) };
}

/**
 * Wait until the chunks compressing in buffer[from, to) are sealed; a failure among them (or
 * any earlier) fails the task.
 */
async function sealed(lane: Lane, from: number, to: number): Promise<void> {
  const waits = lane.compressing.filter((c) => c.start < to && c.end > from).map((c) => c.done);
  if (waits.length > 0) await Promise.all(waits);
  lane.compressing = lane.compressing.filter((c) => !c.settled);
  if (lane.failure) throw new PackWriteFailure(lane.failure.error);
}

/** Wait until every chunk is sealed: the lane's buffer is free from its start again. */
async function settleAll(lane: Lane): Promise<void> {
  await sealed(lane, 0, Number.MAX_SAFE_INTEGER);
  lane.at = 0;
}

/** Where the free room that starts at `from` in the lane's buffer ends: at the next chunk in flight. */
function roomEnd(lane: Lane, from: number): number {
  let end = lane.buffer.length;
  for (const c of lane.compressing) if (c.start >= from && c.start < end) end = c.start;
  return end;
}

/** An error of the repository's side (writing this thread's pack), not of the file being read. */
class PackWriteFailure extends Error {
  constructor(override readonly cause: unknown) {
    super('a pack could not be written');
  }
}

async function chunkOne(lane: Lane, f: ChunkFile, store: Store): Promise<ChunkedFile> {
  const k = lane.keys;
  const buffer = lane.buffer;
  const fd = f.fd ?? openSync(fsPath(f.path), constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  try {
    // A descriptor the engine passes is one it checked already.
    if (f.fd === undefined && !fstatSync(fd).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
    const ids: string[] = [];
    const sizes: number[] = [];
    let pos = f.start; // file offset of buffer[head]
    let head = lane.at;
    let filled = lane.at;
    let eof = false;
    for (;;) {
      const cut = nextCutNative(lane.gear, buffer, head, filled, eof);
      if (cut === -1) {
        // The next cut lies past what is read (-1 only while fewer than CHUNK_MAX bytes are
        // left). Read on after them; when the buffer is full, move them to its front first.
        // Either way, wait only for the chunks in flight where the bytes go (the oldest, so
        // mostly done by then), and read up to the next one still in flight.
        if (filled === buffer.length) {
          await sealed(lane, 0, filled - head);
          buffer.copyWithin(0, head, filled);
          filled -= head;
          head = 0;
        }
        await sealed(lane, filled, filled + MIN_READ);
        const room = roomEnd(lane, filled);
        while (!eof && filled < room) {
          const n = readSync(fd, buffer, filled, room - filled, pos + filled - head);
          if (n === 0) eof = true;
          filled += n;
        }
        continue;
      }
      if (cut === 0) break; // end of file
      const chunk = buffer.subarray(head, head + cut);
      const at = head;
      const id = blobId(k.id, chunk);
      const hex = id.toString('hex');
      ids.push(hex);
      sizes.push(cut);
      // Claim first in either mode, so the other threads learn of the chunk.
      const claimed = store.claims.claim(id);
      if (store.storeAll ? !store.stored.has(hex) : claimed) {
        store.stored.add(hex);
        storeChunk(store, id, chunk, at);
      }
      head += cut;
      pos += cut;
      // A segment ends at its limit even when the bytes read so far end there too: going on would
      // read the rest of the file in this task (how far depended on the compressions in flight),
      // past the point where the reader checks the file between segments. If the file ends
      // exactly here, the next segment's task finds its end at once.
      if (pos - f.start >= f.limit) {
        lane.at = head; // what was read past it is read again by the next segment's task
        return { ids, sizes, end: pos, eof: false };
      }
    }
    lane.at = head;
    const changed = f.expect ? stateChange(f.expect, fstatSync(fd, { bigint: true })) : null;
    return changed ? { ids, sizes, end: pos, eof: true, changed } : { ids, sizes, end: pos, eof: true };
  } finally {
    if (f.fd === undefined) closeSync(fd);
  }
}

/**
 * Compress (a large chunk off this thread, a small one here), then seal into the lane's pack.
 * `chunk` lies in the lane's buffer at `at`, which stays put until it is sealed (chunkOne).
 */
function storeChunk(store: Store, id: Buffer, chunk: Uint8Array, at: number): void {
  const lane = store.lane;
  if (lane.failure) return;
  if (chunk.length < ASYNC_COMPRESS_BYTES) {
    const s = sealing();
    try {
      seal(lane, id, chunk, s.buffer.subarray(0, s.cctx.compress(s.buffer, chunk, ZSTD_LEVEL)));
    } catch (e) {
      lane.failure ??= { error: e };
    }
    return;
  }
  const from = packedAt(at);
  const to = packedAt(at + chunk.length);
  const bound = zstd.compressBound(chunk.length);
  const out = to - from >= bound ? lane.packed.subarray(from, to) : Buffer.allocUnsafe(bound);
  const flight: InFlight = { start: at, end: at + chunk.length, done: Promise.resolve(), settled: false };
  flight.done = compressAsync(chunk, out, ZSTD_LEVEL)
    .then((length) => {
      if (!lane.failure) seal(lane, id, chunk, out.subarray(0, length));
    })
    .catch((e: unknown) => {
      lane.failure ??= { error: e };
    })
    .finally(() => {
      flight.settled = true;
    });
  lane.compressing.push(flight);
}

/** Seal the compressed form if smaller, else the chunk; start a new pack when this one is full. */
function seal(lane: Lane, id: Buffer, chunk: Uint8Array, packed: Uint8Array): void {
  const useZstd = packed.length < chunk.length;
  const plain = useZstd ? packed : chunk;
  lane.packs.add(id, 'data', plain, chunk.length, useZstd, blobAad('data', id));
  collectAfter(plain.length); // the cipher's output slices
  if (lane.packs.size >= PACK_TARGET_BYTES) lane.filled.push(lane.packs.finish()!);
}
