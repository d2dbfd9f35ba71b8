/**
 * Reading one file for a backup so that what is stored is one version of it, never the start of
 * one and the end of another (docs/repository-format.md §9). A file is read through one
 * descriptor from its first byte to its last, in segments of SEGMENT_BYTES through the pool's
 * lanes (every lane can read the engine's descriptor: descriptors belong to the process). When
 * the last byte is read, the lane compares the descriptor's state with the walk's (file-state.ts);
 * a file that moved meanwhile is looked at again and read again, up to READS_MAX reads, and a
 * file still changing after that is stored with a warning in the snapshot's summary.
 *
 * A file deleted while it is read keeps what was read, as restic does: the descriptor still
 * reads the whole file, and deleting it changes nothing but its ctime.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync } from 'node:fs';
import { changedWhileRead, readProblem } from './messages.js';
import { fsPath } from './fs-names.js';
import { fileKind, statOf, type EntryStat } from './walk.js';
import type { ChunkedFile, ChunkFile, ChunkResult } from './worker.js';

/** Files larger than this are read in segments, so one task never holds a whole big file. */
export const SEGMENT_BYTES = 8 * 1024 * 1024;
/** Reads of a file that keeps changing before it is stored with a warning. */
export const READS_MAX = 3;

/** What reading a file needs from the backup run. */
export interface ReadIo {
  /** One chunk task through the pool (the run's claims, pending blobs and packs). */
  chunk(files: ChunkFile[]): Promise<ChunkResult>;
  /** Wait while the pool is full; throws once the run stops. */
  capacity(): Promise<void>;
  /** Bytes read, for the progress. */
  progress(bytes: number): void;
  /** For tests: called after each segment of a file but its last (a file can be changed there). */
  afterSegment?: (path: string, offset: number) => void | Promise<void>;
}

/** One read of a file to its end: its chunks, and how the file moved meanwhile. */
export interface Read {
  ok: true;
  ids: string[];
  size: number;
  changed?: ChunkedFile['changed'];
}
export type Failed = { ok: false; message: string };

export type ReadOutcome =
  | {
      ok: true;
      ids: string[];
      size: number;
      /** The state the stored bytes belong to: the node is made from it. */
      state: EntryStat;
      /** Set when the file kept changing: the summary names it. */
      warning?: string;
    }
  | Failed;

/**
 * Read `path` (walked as `state`) until one read sees it unchanged from start to end. `first`
 * is a read already made of it (a small file, read with others in one task) that saw it change.
 */
export async function readFile(path: string, state: EntryStat, io: ReadIo, first?: Read): Promise<ReadOutcome> {
  let current = state;
  let read: Read | Failed = first ?? (await readOnce(path, current, io));
  for (let reads = 1; ; reads++) {
    if (!read.ok) return read;
    if (!read.changed) return { ok: true, ids: read.ids, size: read.size, state: current };
    let now: EntryStat | null;
    try {
      now = statOf(lstatSync(fsPath(path), { bigint: true }));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return { ok: false, message: readProblem(e) };
      now = null;
    }
    if (now === null) {
      // Deleted while read: the descriptor read it whole. Unless its bytes moved too, that is the file.
      return { ok: true, ids: read.ids, size: read.size, state: current, ...(read.changed === 'content' ? { warning: changedWhileRead.deleted } : {}) };
    }
    if (fileKind(now.mode) !== 'file') return { ok: false, message: readProblem({ code: 'ENOTFILE' }) };
    if (reads >= READS_MAX) return { ok: true, ids: read.ids, size: read.size, state: current, warning: changedWhileRead.stored(reads) };
    current = now;
    read = await readOnce(path, current, io);
  }
}

/** Open `path` once and read it to its end through that descriptor, segment by segment. */
async function readOnce(path: string, state: EntryStat, io: ReadIo): Promise<Read | Failed> {
  let fd: number;
  try {
    fd = openSync(fsPath(path), constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (e) {
    return { ok: false, message: readProblem(e) };
  }
  try {
    if (!fstatSync(fd).isFile()) return { ok: false, message: readProblem({ code: 'ENOTFILE' }) };
    const ids: string[] = [];
    let start = 0;
    for (;;) {
      await io.capacity();
      const f = (await io.chunk([{ path, fd, start, limit: SEGMENT_BYTES, expect: state }])).files[0]!;
      if (f.error) return { ok: false, message: f.error };
      ids.push(...f.ids);
      io.progress(f.end - start);
      start = f.end;
      if (f.eof) return f.changed ? { ok: true, ids, size: start, changed: f.changed } : { ok: true, ids, size: start };
      await io.afterSegment?.(path, start);
    }
  } finally {
    // Every task that read through it has answered: awaited above, or failed and so done.
    closeSync(fd);
  }
}
