/**
 * The pack installer of a backup: packs finished in local staging files (the worker threads'
 * data packs, the tree packs) are handed to the repository's Storage, up to its `connections`
 * at once (a remote storage's uploads overlap, as restic's do; a folder's are renames, one at a
 * time), and only once a pack is stored whole is it indexed; index files are written every few
 * packs, so a killed run loses little and the next reuses what is stored (maintenance.ts). For a
 * folder repository the staging folder is its own tmp/, so handing a pack over is a rename.
 */
import { rm } from 'node:fs/promises';
import type { BlobType } from './format.js';
import { indexFileFor, type MasterIndex } from './index.js';
import { footerBytes, type PackEntry } from './pack.js';
import type { FinishedPack } from './pack-writer.js';
import type { Repository } from './repository.js';
import { packName } from './storage/storage.js';

/** Index new packs once they list this many blobs (small files make packs of thousands). */
const INDEX_EVERY_BLOBS = 16_384;

export interface InstallerOptions {
  /** Write an index file every this many packs (32 by default). */
  indexEvery?: number;
  /** Bytes of a pack just stored (the summary's dataAdded). */
  stored(bytes: number): void;
  /** Something that waited for the queue to shrink may go on. */
  wake(): void;
}

export class PackInstaller {
  /** Packs made ready in queue order; each then waits for an upload slot. */
  private chain: Promise<void> = Promise.resolve();
  /** Uploads in flight at most (the storage's connections). */
  readonly slots: number;
  private uploading = new Set<Promise<void>>();
  private unsaved = new Map<string, PackEntry[]>();
  private unsavedBlobs = 0;
  /** Packs queued and not yet stored or dropped. */
  queued = 0;
  /** The first failure: every pack queued after it is dropped, and the run fails with it. */
  error: unknown = null;

  constructor(
    private readonly repo: Repository,
    private readonly index: MasterIndex,
    /** Blobs of this run in packs not yet stored and indexed, by type: a stored pack's leave it. */
    private readonly pending: Record<BlobType, Set<string>>,
    private readonly options: InstallerOptions,
  ) {
    this.slots = Math.max(1, Math.floor(repo.storage.connections ?? 1));
  }

  /** Packs stored already but in no index file (a killed run's, recovered from their headers): indexed with the next flush. */
  adopt(packs: ReadonlyMap<string, PackEntry[]>): void {
    for (const [id, entries] of packs) this.remember(id, entries);
  }

  /** A pack made ready by `finish` (closing its staging file), stored in turn; after a failure, its file is deleted. */
  queue(finish: () => Promise<FinishedPack>, drop: () => Promise<void>): void {
    this.queued++;
    this.chain = this.chain.then(async () => {
      let pack: FinishedPack | null = null;
      try {
        if (this.error) await drop();
        else {
          pack = await finish();
          while (this.uploading.size >= this.slots) await Promise.race(this.uploading);
        }
      } catch (e) {
        this.error ??= e;
      }
      if (!pack) return this.settled();
      const ready = pack;
      const upload = (this.error ? rm(ready.tmp, { force: true }) : this.install(ready))
        .catch((e: unknown) => {
          this.error ??= e;
        })
        .finally(() => {
          this.uploading.delete(upload);
          this.settled();
        });
      this.uploading.add(upload);
    });
  }

  /** One queued pack stored or dropped: whoever waits for the queue to shrink may go on. */
  private settled(): void {
    this.queued--;
    this.options.wake();
  }

  /** A pack the workers finished and closed. */
  queueFinished(pack: FinishedPack): void {
    this.queue(
      async () => pack,
      () => rm(pack.tmp, { force: true }),
    );
  }

  /** Store one pack whole, then index it (in memory now, in an index file with the next flush). */
  private async install(pack: FinishedPack): Promise<void> {
    const size = pack.entries.reduce((a, e) => a + e.length, 0) + footerBytes(pack.entries.length);
    try {
      // A pack's id is the SHA-256 of its bytes: a remote storage that signs them need not hash them again.
      await this.repo.storage.write(packName(pack.id), { file: pack.tmp, size, sha256: pack.id });
    } finally {
      // Renamed into place (a folder), uploaded (a remote storage) or failed: the staging file goes.
      await rm(pack.tmp, { force: true });
    }
    this.options.stored(size);
    this.index.addPack(pack.id, pack.entries);
    for (const e of pack.entries) this.pending[e.type].delete(e.id);
    this.remember(pack.id, pack.entries);
    if (this.unsaved.size >= (this.options.indexEvery ?? 32) || this.unsavedBlobs >= INDEX_EVERY_BLOBS) await this.flushIndex();
  }

  private remember(id: string, entries: PackEntry[]): void {
    this.unsaved.set(id, entries);
    this.unsavedBlobs += entries.length;
  }

  /** Wait until every queued pack is stored or dropped; throws the first failure. */
  async drain(): Promise<void> {
    await this.chain;
    await Promise.all([...this.uploading]);
    if (this.error) throw this.error;
  }

  /** An index file for the packs stored since the last one (none when there are none). */
  async flushIndex(): Promise<void> {
    if (this.unsaved.size === 0) return;
    const packs = this.unsaved;
    this.unsaved = new Map();
    this.unsavedBlobs = 0;
    try {
      await this.repo.saveSealed('index', indexFileFor(packs));
    } catch (e) {
      for (const [k, v] of packs) this.remember(k, v);
      throw e;
    }
  }
}
