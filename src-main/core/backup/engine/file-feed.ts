/**
 * How a backup feeds file contents to the worker pool (pool.ts): small files in batches, a
 * file that changed while read alone again (file-read.ts), the claim table that keeps two
 * lanes from storing one chunk (claims.ts), and the backpressure that bounds memory: the walk
 * waits while the pool or the pack installer is full. The packs the lanes finish go to the
 * pack installer; the nodes of the files come back to the walk (backup.ts) through its host.
 */
import { availableParallelism } from 'node:os';
import type { ProgressMeter } from './backup-progress.js';
import type { PendingFile } from './backup-wait.js';
import { ClaimTable } from './claims.js';
import { readFile, type Read, type ReadIo, type ReadOutcome } from './file-read.js';
import type { BlobType } from './format.js';
import type { MasterIndex } from './index.js';
import type { NodeMeta } from './nodes.js';
import type { PackInstaller } from './pack-installer.js';
import { WorkerPool } from './pool.js';
import type { Repository } from './repository.js';
import type { SnapshotSummary } from './snapshot.js';
import type { WriteBudget } from './tree-packer.js';
import type { TreeNode } from './tree.js';
import type { ChunkFile, ChunkResult } from './worker.js';

const BATCH_FILES = 64;
const BATCH_BYTES = 4 * 1024 * 1024;
/** Blob bytes waiting for the disk before the walk pauses (page-cache writes drain fast). */
const MAX_PENDING_WRITE_BYTES = 16 * 1024 * 1024;
/** Claim-table room for chunks a run adds (the table grows when half full). */
const CLAIMS_HEADROOM = 32_768;
/**
 * Lanes of a backup's pool: one per two cores. A lane's thread chunks, hashes and encrypts while
 * libuv's pool compresses for it (worker.ts), so one lane keeps two cores busy, and every lane
 * past the inline one is a worker thread with its own heap and buffers (~20 MiB).
 */
const defaultLanes = () => Math.max(1, Math.min(Math.floor(availableParallelism() / 2), 4));

export interface FileContent {
  ids: string[];
  size: number;
}

/** What the feed needs of the run it feeds. */
export interface FeedHost {
  readonly repo: Repository;
  readonly index: MasterIndex;
  /** Blobs in a pack not yet stored and indexed (pack-installer.ts). */
  readonly pending: Record<BlobType, Set<string>>;
  readonly installer: PackInstaller;
  readonly budget: WriteBudget;
  readonly summary: SnapshotSummary;
  readonly meter: ProgressMeter;
  readonly threads: number | undefined;
  readonly staleClaims: Uint8Array[] | undefined;
  afterSegment(path: string, offset: number): void | Promise<void>;
  checkCancel(): void;
  /** A file's node once its contents are stored (null: it could not be read). */
  storedFile(meta: NodeMeta, changed: boolean, r: FileContent | null): TreeNode | null;
  /** A file read alone: its node, or null (file-read.ts). */
  readDone(path: string, meta: NodeMeta, changed: boolean, r: ReadOutcome): TreeNode | null;
}

export class FileFeed {
  /** Started on the first file that needs reading: a backup with nothing new starts no threads. */
  private poolInstance: WorkerPool | null = null;
  /** Which chunks the worker threads have stored or are storing (claims.ts); made with the pool. */
  private claims: ClaimTable | null = null;
  /** Chunk tasks not yet answered and absorbed. */
  private readonly chunking = new Set<Promise<unknown>>();
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  private batch: { file: ChunkFile; pending: PendingFile }[] = [];
  private batchBytes = 0;
  /** What reading a file alone needs (file-read.ts). */
  readonly reads: ReadIo = {
    chunk: (files) => this.runChunk(files),
    capacity: () => this.capacity(),
    progress: (bytes) => this.host.meter.addBytes(bytes),
    afterSegment: (path, offset) => this.host.afterSegment(path, offset),
  };

  constructor(private readonly host: FeedHost) {}

  /** The pool, once a file needed reading (for the end of the run: finish or abandon its packs, close it). */
  get started(): WorkerPool | null {
    return this.poolInstance;
  }

  private pool(): WorkerPool {
    if (!this.poolInstance) {
      // One lane runs on this thread, between walking and installing packs (pool.ts).
      this.poolInstance = new WorkerPool(this.host.repo, this.host.threads ?? defaultLanes(), { inline: true });
      this.claims = this.newClaims(this.host.index.blobCount);
    }
    return this.poolInstance;
  }

  /**
   * A claim table holding every data blob the index and this run know, with room to spare.
   * Replaced by a larger one when half full; tasks already running finish on the old one (a
   * chunk both store is a harmless duplicate).
   */
  private newClaims(known: number): ClaimTable {
    const table = ClaimTable.create(known * 2 + CLAIMS_HEADROOM);
    this.host.index.forEachDataId((id) => table.claim(id));
    for (const hex of this.host.pending.data) table.claim(Buffer.from(hex, 'hex'));
    for (const seed of this.host.staleClaims ?? []) table.claim(seed);
    return table;
  }

  private get threads(): number {
    return this.poolInstance?.threads ?? this.host.threads ?? defaultLanes();
  }

  /**
   * Queue a file for the pool; its node arrives with its batch's answer. A promise only when
   * the batch is full and the pool is busy: the walk waits there, which bounds memory.
   */
  scheduleFile(pending: PendingFile, path: string, size: number): PendingFile | Promise<PendingFile> {
    this.batch.push({ file: { path, start: 0, limit: Number.MAX_SAFE_INTEGER, expect: pending.state }, pending });
    this.batchBytes += size;
    if (this.batch.length < BATCH_FILES && this.batchBytes < BATCH_BYTES) return pending;
    return this.capacity().then(() => {
      this.flushBatch();
      return pending;
    });
  }

  flushBatch(): void {
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    this.runChunk(batch.map((b) => b.file)).then(
      (result) => {
        batch.forEach((b, i) => {
          const f = result.files[i]!;
          if (f.error) {
            this.host.summary.errors.push({ path: b.file.path, message: f.error });
            b.pending.arrive(null);
          } else if (f.changed) {
            this.readAgain(b.file.path, b.pending, { ok: true, ids: f.ids, size: f.end, changed: f.changed });
          } else {
            const bytes = f.sizes.reduce((a, n) => a + n, 0);
            this.host.meter.fileDone(bytes);
            b.pending.arrive(this.host.storedFile(b.pending.meta, b.pending.changed, { ids: f.ids, size: bytes }));
          }
        });
      },
      (e) => {
        this.host.installer.error ??= e;
        for (const b of batch) b.pending.arrive(null);
      },
    );
  }

  /** A file of a batch that changed while it was read: read alone until one read sees it whole. */
  private readAgain(path: string, pending: PendingFile, first: Read): void {
    readFile(path, pending.state, this.reads, first).then(
      (r) => pending.arrive(this.host.readDone(path, pending.meta, pending.changed, r)),
      (e: unknown) => {
        // The run stopped (a cancel, a failed write): it fails with that error.
        this.host.installer.error ??= e;
        pending.arrive(null);
      },
    );
  }

  async runChunk(files: ChunkFile[]): Promise<ChunkResult> {
    this.inFlight++;
    try {
      const result = await this.chunkTask(files, false);
      // A chunk a thread skipped because another claimed it is in a pack by the time that
      // thread's task is absorbed; one still missing then was claimed wrongly (claims.ts).
      let missing = this.missingFiles(result);
      if (missing.length > 0) {
        await Promise.allSettled([...this.chunking]);
        missing = this.missingFiles(result);
      }
      if (missing.length > 0) {
        const again = await this.chunkTask(
          missing.map((i) => files[i]!),
          true,
        );
        missing.forEach((i, j) => (result.files[i] = again.files[j]!));
      }
      return result;
    } finally {
      this.inFlight--;
      this.wake();
    }
  }

  /** One task through the pool; its stored chunks become pending and its full packs are queued. */
  private chunkTask(files: ChunkFile[], storeAll: boolean): Promise<ChunkResult> {
    const pool = this.pool();
    if (this.claims!.size * 2 > this.claims!.capacity) this.claims = this.newClaims(this.host.index.blobCount + this.host.pending.data.size);
    const claims = this.claims!;
    const task = pool.chunk({ kind: 'chunk', files, claims: claims.buffer, storeAll }).then((result) => {
      for (const id of result.stored) {
        this.host.pending.data.add(id);
        // Stored under an older table: let the current one know too.
        if (this.claims !== claims) this.claims!.claim(Buffer.from(id, 'hex'));
      }
      for (const pack of result.packs) this.host.installer.queueFinished(pack);
      return result;
    });
    // Tracked settled either way: whoever awaits `task` sees its error.
    const tracked: Promise<unknown> = task.then(
      () => this.chunking.delete(tracked),
      () => this.chunking.delete(tracked),
    );
    this.chunking.add(tracked);
    return task;
  }

  /** Files of a result (by position) with a chunk neither indexed nor in a pack of this run. */
  private missingFiles(result: ChunkResult): number[] {
    const missing: number[] = [];
    result.files.forEach((f, i) => {
      if (!f.error && f.ids.some((id) => !this.host.index.has(id, 'data') && !this.host.pending.data.has(id))) missing.push(i);
    });
    return missing;
  }

  wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resume of w) resume();
  }

  /** Wait while the pool or the pack writer is full: bounds memory, whatever the tree. */
  async capacity(): Promise<void> {
    while (
      this.inFlight >= this.threads * 2 ||
      this.host.installer.queued > this.host.installer.slots + 1 ||
      this.host.budget.pending > MAX_PENDING_WRITE_BYTES
    ) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
      this.host.checkCancel();
    }
    this.host.checkCancel();
  }
}
