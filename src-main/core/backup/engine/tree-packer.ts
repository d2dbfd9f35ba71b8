/**
 * The tree pack a backup fills on its own thread (data packs are written by the worker threads,
 * pack-writer.ts). Blobs go to the pack's local staging file as they come, gathered into writes
 * of about WRITE_BATCH_BYTES (one writev each, off this thread, in order): no pack is ever held
 * in memory whole, and a pack of small blobs costs a few dozen writes rather than thousands.
 * `take` hands the file over; `finishTreePack` writes its footer and closes it, for the pack
 * installer (pack-installer.ts) to hand to the storage.
 */
import { close, closeSync, openSync, rmSync, write, writev } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { promisify } from 'node:util';
import { tempName } from './atomic.js';
import type { BlobType } from './format.js';
import { packFooter, type PackEntry } from './pack.js';
import type { FinishedPack } from './pack-writer.js';

const closeAsync = promisify(close);
const writeAsync = promisify(write);
const writevAsync = promisify(writev);
/** Blobs are gathered into writes of about this size (and at most this many blobs: IOV_MAX is 1024). */
const WRITE_BATCH_BYTES = 1024 * 1024;
const WRITE_BATCH_BLOBS = 512;

/** Tree bytes handed to the file system but not yet written (for backpressure). */
export interface WriteBudget {
  pending: number;
  wake(): void;
}

export interface OpenPackFile {
  tmp: string;
  fd: number;
  entries: PackEntry[];
  size: number;
  hash: Hash;
  /** The chain of this pack's writes, in order. */
  writes: Promise<void>;
}

export class TreePacker {
  private file: OpenPackFile | null = null;
  private gathered: Uint8Array[] = [];
  private gatheredBytes = 0;

  constructor(
    /** The local staging folder (Repository.stagingDir). */
    private readonly stagingDir: string,
    private readonly budget: WriteBudget,
  ) {}

  get size(): number {
    return this.file?.size ?? 0;
  }

  add(id: string, type: BlobType, data: Uint8Array, rawLength: number, compressed: boolean): void {
    if (!this.file) {
      const tmp = tempName(this.stagingDir);
      this.file = { tmp, fd: openSync(tmp, 'wx', 0o600), entries: [], size: 0, hash: createHash('sha256'), writes: Promise.resolve() };
    }
    const f = this.file;
    this.budget.pending += data.length;
    this.gathered.push(data);
    this.gatheredBytes += data.length;
    f.hash.update(data);
    f.entries.push({ id, type, compressed, length: data.length, rawLength, offset: f.size });
    f.size += data.length;
    if (this.gatheredBytes >= WRITE_BATCH_BYTES || this.gathered.length >= WRITE_BATCH_BLOBS) this.flush();
  }

  take(): OpenPackFile | null {
    this.flush();
    const f = this.file;
    this.file = null;
    return f;
  }

  /** After a failure: drop the unfinished pack. */
  async abandon(): Promise<void> {
    const f = this.take();
    if (f) await closePack(f);
  }

  /** Queue what was gathered as one write, after the pack's earlier ones. */
  private flush(): void {
    const f = this.file;
    if (!f || this.gathered.length === 0) return;
    const chunks = this.gathered;
    const bytes = this.gatheredBytes;
    this.gathered = [];
    this.gatheredBytes = 0;
    const budget = this.budget;
    f.writes = f.writes
      .then(() => writevAll(f.fd, chunks))
      .finally(() => {
        budget.pending -= bytes;
        budget.wake();
      });
    // Marked handled here; whoever finishes the pack awaits it and sees the error.
    f.writes.catch(() => undefined);
  }
}

/** Wait for a pack's writes, then close and delete its staging file (an abandoned pack). */
export async function closePack(f: OpenPackFile): Promise<void> {
  await f.writes.catch(() => undefined);
  closeSync(f.fd);
  rmSync(f.tmp, { force: true });
}

/** The tree pack's last writes and footer, then closed: a pack like those the workers finish. */
export async function finishTreePack(file: OpenPackFile, dataKey: Buffer): Promise<FinishedPack> {
  try {
    await file.writes;
    const footer = packFooter(dataKey, file.entries);
    await writeAllAsync(file.fd, footer);
    file.hash.update(footer);
  } finally {
    await closeAsync(file.fd);
  }
  return { tmp: file.tmp, id: file.hash.digest('hex'), entries: file.entries };
}

async function writeAllAsync(fd: number, data: Uint8Array): Promise<void> {
  let done = 0;
  while (done < data.length) done += (await writeAsync(fd, data, done, data.length - done, null)).bytesWritten;
}

/** Write every chunk, in order, at the file's position; a short write continues where it stopped. */
async function writevAll(fd: number, chunks: Uint8Array[]): Promise<void> {
  let rest = chunks;
  while (rest.length > 0) {
    let written = (await writevAsync(fd, rest)).bytesWritten;
    let i = 0;
    while (i < rest.length && written >= rest[i]!.length) written -= rest[i++]!.length;
    rest = rest.slice(i);
    if (written > 0) rest[0] = rest[0]!.subarray(written);
  }
}
