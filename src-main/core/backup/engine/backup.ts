/**
 * Backup: walk the sources, hand file contents to the pool's lanes (chunk, hash, compress,
 * encrypt; one lane per two cores, as each compresses on libuv's pool while it chunks on; each
 * lane writes the chunks it claims into packs of its own), store the trees, then write index,
 * then the snapshot.
 *
 * Incremental: a file whose size, mtime, ctime and inode match the parent snapshot keeps the
 * parent's chunk list without being read; a directory whose tree encodes to the same bytes has
 * the same id and is not stored again. Crash safety: each pack, index and snapshot is written
 * whole (temp file, fsync, rename, fsync dir), in that order, so a kill at any moment leaves a
 * repository that checks clean; the next run indexes packs a killed run wrote and reuses them.
 */
import { lstatSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { availableParallelism, hostname, userInfo } from 'node:os';
import { basename, resolve } from 'node:path';
import { compress } from 'zstd-napi';
import { CoreError } from '../../platform/errors.js';
import { blobAad, blobId, encrypt, PACK_TARGET_BYTES, ZSTD_LEVEL, type BlobType } from './format.js';
import type { MasterIndex } from './index.js';
import { readFile, SEGMENT_BYTES, type Read, type ReadIo, type ReadOutcome } from './file-read.js';
import { readProblem, stopped } from './messages.js';
import { RepoLock } from './lock.js';
import type { PackEntry } from './pack.js';
import { backupIndex, cleanTemp } from './maintenance.js';
import { PackInstaller } from './pack-installer.js';
import { closePack, finishTreePack, TreePacker, type WriteBudget } from './tree-packer.js';
import { FolderWait, Later, PendingFile, settleAll, type Outcome } from './backup-wait.js';
import { makeExcluder, type Excluder } from './excludes.js';
import { WorkerPool } from './pool.js';
import { ClaimTable } from './claims.js';
import { fileKind, listFolder, statAt, statOf, Walker, type EntryStat, type FolderListing } from './walk.js';
import { errnoCode, errnoNumber } from './errno.js';
import { fsPath, readLink } from './fs-names.js';
import { toSnapshotPath, type PathStyle } from '../../../../src-shared/paths.js';
import { HOST_PATH_STYLE } from './path-style.js';
import { readXattrs } from './native.js';
import { dirNode, fileNode, nodeMeta, sameNodes, specialNode, symlinkNode, xattrsFrom, type NodeMeta } from './nodes.js';
import { startThread, THREAD_YOUNG_GENERATION_MB } from './threads.js';
import type { ScanRequest, ScanTotals } from './scan.js';
import type { RepoProblem, Repository } from './repository.js';
import { SNAPSHOT_VERSION, type SnapshotSummary, type SnapshotWithId } from './snapshot.js';
import { encodeTree, type Tree, type TreeNode, type Xattr } from './tree.js';
import type { ChunkFile, ChunkResult } from './worker.js';

export interface Progress {
  filesDone: number;
  filesTotal: number | null;
  bytesDone: number;
  bytesTotal: number | null;
  currentFile: string | null;
  bytesPerSecond: number;
  etaSeconds: number | null;
}

export interface BackupOptions {
  sources: string[];
  excludes?: string[];
  tags?: string[];
  /** The snapshot to compare against; by default the newest one of the same host and paths. */
  parent?: SnapshotWithId | null;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  threads?: number;
  /** Index new packs every this many packs, so a killed run loses little. */
  indexEvery?: number;
  /**
   * For tests: blob ids the workers are to find claimed from the start, as a wrong claim (two
   * ids sharing a fingerprint) would make them (claims.ts). The run must store them anyway.
   */
  staleClaims?: Uint8Array[];
  /**
   * Packs known to be damaged (a check found blobs in them that fail): their data
   * counts as absent, so this backup stores it again and its snapshot does not depend on them.
   */
  avoidPacks?: ReadonlySet<string>;
  /** For tests: a file can be changed at these moments, to see that what is stored is one version of it. */
  testHooks?: {
    /** Before a file is handed to the pool to be read. */
    beforeRead?: (path: string) => void;
    /** After each segment of a large file but its last. */
    afterSegment?: (path: string, offset: number) => void | Promise<void>;
  };
}

export interface BackupResult {
  snapshotId: string;
  summary: SnapshotSummary;
  /**
   * Damage the backup found in the repository and worked around: index or snapshot files it
   * skipped, packs it did not rely on (their data was stored again where still on disk).
   */
  damage: RepoProblem[];
}
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

interface FileContent {
  ids: string[];
  size: number;
}

/**
 * A backup on the calling thread, which walks the tree, stores folders and runs one lane of the
 * pool (on a machine with more than three cores, the others are worker threads); a first
 * backup also counts files on a thread of its own, an incremental one lists folders ahead on a
 * walker thread.
 */
export async function backup(repo: Repository, options: BackupOptions): Promise<BackupResult> {
  const lock = await RepoLock.acquire(repo, false);
  let walker: Walker | null = null;
  try {
    await repo.upgradeFormat();
    const damage: RepoProblem[] = [];
    const parent = options.parent === undefined ? await findParent(repo, options.sources, damage) : options.parent;
    if (parent) {
      // The walk starts while the index loads.
      walker = new Walker(options.sources.map((s) => resolve(s)), options.excludes ?? [], makeExcluder(options.excludes ?? []));
    }
    await cleanTemp(repo);
    const { loaded, recovered, damage: found } = await backupIndex(repo, options.avoidPacks);
    damage.push(...found);
    const run = new BackupRun(repo, loaded.index, { ...options, parent }, walker, recovered);
    const { snapshotId, summary } = await run.execute();
    return { snapshotId, summary, damage };
  } finally {
    await walker?.close();
    await lock.release();
  }
}

class BackupRun {
  /** Started on the first file that needs reading: a backup with nothing new starts no threads. */
  private poolInstance: WorkerPool | null = null;
  private scanThread: Worker | null = null;
  private readonly writeBudget: WriteBudget;
  private readonly treePacker: TreePacker;
  /** Stores finished packs, indexes them, writes index files; its `error` is the run's first failure. */
  private readonly installer: PackInstaller;
  /** Blobs in a pack not yet written whole and indexed (data and trees apart, as in the index). */
  private readonly pending: Record<BlobType, Set<string>> = { data: new Set(), tree: new Set() };
  /** Which chunks the worker threads have stored or are storing (claims.ts); made with the pool. */
  private claims: ClaimTable | null = null;
  /** Set once the run ends: folders still settling after a failure store nothing. */
  private stopped = false;
  /** Chunk tasks not yet answered and absorbed. */
  private readonly chunking = new Set<Promise<unknown>>();
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  private batch: { file: ChunkFile; pending: PendingFile }[] = [];
  private batchBytes = 0;
  private readonly started = Date.now();
  private readonly summary: SnapshotSummary = {
    files: 0,
    dirs: 0,
    bytes: 0,
    filesNew: 0,
    filesChanged: 0,
    filesUnmodified: 0,
    dataAdded: 0,
    durationMs: 0,
    errors: [],
    warnings: [],
  };
  private readonly progress: Progress = {
    filesDone: 0,
    filesTotal: null,
    bytesDone: 0,
    bytesTotal: null,
    currentFile: null,
    bytesPerSecond: 0,
    etaSeconds: null,
  };
  private lastProgress = 0;
  private readonly excluded: Excluder;
  /**
   * Whether the parent snapshot's nodes hold everything a node holds now (extended attributes,
   * hard links): a version-1 parent did not record them, so its nodes are built anew, once.
   */
  private readonly parentComplete: boolean;
  /** What reading a file alone needs (file-read.ts). */
  private readonly reads: ReadIo = {
    chunk: (files) => this.runChunk(files),
    capacity: () => this.capacity(),
    progress: (bytes) => this.addProgressBytes(bytes),
    afterSegment: (path, offset) => this.options.testHooks?.afterSegment?.(path, offset),
  };

  constructor(
    private readonly repo: Repository,
    private readonly index: MasterIndex,
    private readonly options: BackupOptions,
    /** Listing the sources since before the index loaded, when there is a parent (closed by backup()). */
    private readonly walker: Walker | null = null,
    /** Packs on disk no readable index file listed, indexed from their headers: this run writes their index file. */
    private readonly recovered: ReadonlyMap<string, PackEntry[]> = new Map(),
  ) {
    const budget: WriteBudget = { pending: 0, wake: () => this.wake() };
    this.writeBudget = budget;
    this.treePacker = new TreePacker(repo.stagingDir(), budget);
    this.installer = new PackInstaller(repo, index, this.pending, {
      indexEvery: options.indexEvery,
      stored: (bytes) => (this.summary.dataAdded += bytes),
      wake: () => this.wake(),
    });
    this.excluded = makeExcluder(options.excludes ?? []);
    this.parentComplete = options.parent?.version === SNAPSHOT_VERSION;
  }

  async execute(): Promise<Omit<BackupResult, 'damage'>> {
    const sources = this.options.sources.map((s) => resolve(s));
    const names = sources.map((s) => basename(s));
    if (names.includes('')) throw new CoreError('BAD_INPUT', 'Choose the folders under / rather than / itself.');
    if (new Set(names.map((n) => sameNameKey(n, HOST_PATH_STYLE))).size !== names.length) {
      throw new CoreError('BAD_INPUT', 'Two sources have the same folder name; back them up in separate sets.');
    }
    try {
      // Packs a killed run wrote (or a damaged index file listed): indexed already, written now.
      this.installer.adopt(this.recovered);

      const parent = this.options.parent ?? null; // found by backup()
      const parentRoot = parent ? await this.tryTree(parent.tree) : null;
      if (parent) {
        this.progress.filesTotal = parent.summary.files;
        this.progress.bytesTotal = parent.summary.bytes;
      } else {
        this.scanTotals(sources);
      }

      const rootChildren: Outcome[] = [];
      const rootFiles = new FolderWait();
      for (const source of [...sources].sort()) {
        let st: EntryStat;
        try {
          st = statOf(lstatSync(source, { bigint: true }));
        } catch (e) {
          this.error(source, e);
          continue;
        }
        const prev = parentRoot?.nodes.find((n) => n.name === basename(source));
        rootChildren.push(await this.entry(source, basename(source), st, prev, rootFiles));
      }
      this.flushBatch();
      const nodes = (await settleAll(rootChildren, rootFiles)).filter((n): n is TreeNode => n !== null);
      const rootId = this.storeTree(nodes);
      if (this.poolInstance) {
        const { packs, error } = await this.poolInstance.finishPacks();
        // After a failure the packs are queued all the same: the write queue deletes them.
        if (error) this.fail(error);
        for (const pack of packs) this.installer.queueFinished(pack);
      }
      this.sealTreePack();
      await this.installer.drain();
      // Every stored blob is in an installed pack by now, unless a worker thread died with its
      // pack unfinished: then the snapshot would name chunks that were never written.
      if (this.pending.data.size + this.pending.tree.size > 0) throw stopped.threadLost();
      // A cancel that came after the last file was handed out still stops the snapshot (what
      // was stored is indexed below all the same, for the next run to reuse).
      this.checkCancel();
      await this.installer.flushIndex();

      this.summary.durationMs = Date.now() - this.started;
      const snapshotId = await this.repo.saveSnapshot({
        version: SNAPSHOT_VERSION,
        time: new Date().toISOString(),
        host: hostname(),
        username: safeUser(),
        // The platform-neutral form (docs/repository-format.md §9): POSIX paths as they are.
        paths: [...sources].sort().map((p) => toSnapshotPath(p, HOST_PATH_STYLE)),
        ...(HOST_PATH_STYLE === 'win32' ? { pathStyle: 'win32' as const } : {}),
        tags: this.options.tags ?? [],
        tree: rootId,
        parent: parent?.id ?? null,
        summary: this.summary,
      });
      this.emit(true);
      return { snapshotId, summary: this.summary };
    } finally {
      this.stopped = true;
      await this.poolInstance?.abandonPacks();
      await this.treePacker.abandon();
      // Whatever happened, index the packs already on disk so the next run reuses them.
      await this.installer.drain().catch(() => undefined);
      await this.installer.flushIndex().catch(() => undefined);
      await this.poolInstance?.close();
      await this.scanThread?.terminate();
    }
  }

  private async tryTree(id: string | undefined): Promise<Tree | null> {
    if (!id) return null;
    try {
      return await this.repo.loadTree(id, this.index, { cache: false });
    } catch {
      return null; // a damaged parent only costs re-reading; check reports the damage
    }
  }

  private checkCancel(): void {
    if (this.options.signal?.aborted) throw stopped.cancelled('backup');
    if (this.installer.error) throw this.installer.error;
  }

  /** The run fails with its first failure; packs still queued are dropped (pack-installer.ts). */
  private fail(e: unknown): void {
    this.installer.error ??= e;
  }

  /**
   * Synchronous for what needs no waiting (most entries of an incremental run); a promise
   * otherwise. `from`, `at`: the folder listing the entry is in and its place there (its symlink
   * target and, in a first backup, its extended attributes); two arguments, not an object, as
   * this runs for every entry of every backup.
   */
  private entry(path: string, name: string, st: EntryStat, prev: TreeNode | undefined, folder: FolderWait, from?: FolderListing, at = -1): Outcome | Promise<Outcome> {
    this.checkCancel();
    const kind = fileKind(st.mode);
    if (kind === 'dir') return this.dir(path, name, st, prev, from, at);
    const size = st.size;
    if (kind === 'file' && prev && this.unchangedFile(prev, st)) {
      this.summary.files++;
      this.summary.filesUnmodified++;
      this.summary.bytes += size;
      this.fileDone(size);
      // ctime moves with every change of mode, owner, link count or extended attribute, so equal
      // ctimes mean an identical node, when the parent recorded all of that (snapshot version 2).
      const same = this.parentComplete && prev.mode === st.mode && prev.uid === st.uid && prev.gid === st.gid && sameLinks(prev, st);
      return same ? prev : fileNode(this.meta(path, name, st, prev, from, at), size, prev.content);
    }
    if (kind === 'other') {
      this.summary.errors.push({ path, message: 'an entry of a kind backups do not store (neither a file, folder, link, pipe, socket nor device)' });
      return null;
    }
    const meta = this.meta(path, name, st, prev, from, at);
    if (kind === 'symlink') {
      let target: string;
      try {
        const link = from?.links[at];
        if (link && 'error' in link) throw Object.assign(new Error(link.error), { code: link.error });
        target = link ? link.target : readLink(path);
      } catch (e) {
        this.error(path, e);
        return null;
      }
      const node = symlinkNode(meta, target);
      return prev && sameNodes([node], [prev]) ? prev : node;
    }
    if (kind !== 'file') {
      const node = specialNode(meta, kind);
      return prev && sameNodes([node], [prev]) ? prev : node;
    }
    this.progress.currentFile = path;
    this.options.testHooks?.beforeRead?.(path);
    if (size > SEGMENT_BYTES) return new Later(readFile(path, st, this.reads).then((r) => this.readDone(path, meta, prev !== undefined, r)));
    return this.scheduleFile(new PendingFile(folder, meta, prev !== undefined, st), path, size);
  }

  /**
   * A file read alone (large, or read again): its node from the state its bytes belong to, a
   * warning in the summary when it kept changing, null when it could not be read. Its extended
   * attributes are the walk's (`meta`): reading them again would race the same writer.
   */
  private readDone(path: string, meta: NodeMeta, changed: boolean, r: ReadOutcome): TreeNode | null {
    if (!r.ok) {
      this.summary.errors.push({ path, message: r.message });
      return null;
    }
    if (r.warning) this.summary.warnings.push({ path, message: r.warning });
    this.fileDone(0);
    return this.storedFile(nodeMeta(meta.name, r.state, meta.xattrs), changed, { ids: r.ids, size: r.size });
  }

  /** A file whose size, times and inode equal its parent-snapshot node, whose chunks are all stored. */
  private unchangedFile(prev: TreeNode, st: EntryStat): prev is TreeNode & { content: string[] } {
    return (
      prev.type === 'file' &&
      prev.size === st.size &&
      prev.mtime === st.mtimeNs &&
      prev.ctime === st.ctimeNs &&
      prev.inode === st.inode &&
      prev.content !== undefined &&
      prev.content.every((id) => this.index.has(id, 'data') || this.pending.data.has(id))
    );
  }

  private meta(path: string, name: string, st: EntryStat, prev: TreeNode | undefined, from: FolderListing | undefined, at: number): NodeMeta {
    return nodeMeta(name, st, this.xattrs(path, st, prev, from, at));
  }

  /**
   * An entry's extended attributes: from its listing in a first backup; its parent-snapshot
   * node's when its ctime and inode are the same (setting one moves the ctime); else read now,
   * so an unchanged tree costs no call. One that cannot be read leaves the entry stored without
   * them, and the summary says so.
   */
  private xattrs(path: string, st: EntryStat, prev: TreeNode | undefined, from: FolderListing | undefined, at: number): Xattr[] | undefined {
    const listed = from?.xattrs;
    let found: Uint8Array[] | number | undefined;
    if (listed) found = listed[at];
    else if (this.parentComplete && prev && prev.ctime === st.ctimeNs && prev.inode === st.inode) return prev.xattrs;
    else {
      try {
        found = readXattrs(fsPath(path));
      } catch (e) {
        found = errnoNumber((e as NodeJS.ErrnoException).code ?? 'EIO');
      }
    }
    if (typeof found === 'number') {
      this.summary.errors.push({ path, message: `stored without its extended attributes, which cannot be read (${errnoCode(found)})` });
      return undefined;
    }
    return found ? xattrsFrom(found) : undefined;
  }

  /** A file's node, once its contents are stored (null: it could not be read). */
  private storedFile(meta: NodeMeta, changed: boolean, r: FileContent | null): TreeNode | null {
    if (!r) return null;
    this.summary.files++;
    if (changed) this.summary.filesChanged++;
    else this.summary.filesNew++;
    this.summary.bytes += r.size;
    return fileNode(meta, r.size, r.ids);
  }

  private async dir(path: string, name: string, st: EntryStat, prev: TreeNode | undefined, from?: FolderListing, at = -1): Promise<Outcome> {
    // A first backup (no walker) stores every entry anew: their extended attributes come with the listing.
    const listing = this.walker ? await this.walker.list(path) : listFolder(path, this.excluded, true);
    if (listing.error) {
      this.error(path, { code: listing.error });
      return null;
    }
    const prevTree = prev?.type === 'dir' ? await this.tryTree(prev.subtree) : null;
    const prevByName = new Map(prevTree?.nodes.map((n) => [n.name, n]));
    const children: Outcome[] = [];
    const files = new FolderWait();
    let waiting = false;
    for (let i = 0; i < listing.names.length; i++) {
      const child = listing.names[i]!;
      const childPath = `${path}/${child}`;
      const failed = listing.errors[i];
      if (failed) {
        this.error(childPath, { code: failed });
        continue;
      }
      const outcome = this.entry(childPath, child, statAt(listing, i), prevByName.get(child), files, listing, i);
      const settled = outcome instanceof Promise ? await outcome : outcome;
      if (settled instanceof Later || settled instanceof PendingFile) waiting = true;
      children.push(settled);
    }
    const meta = this.meta(path, name, st, prev, from, at);
    const finish = (nodes: (TreeNode | null)[]): TreeNode => {
      this.summary.dirs++;
      const kept = nodes.filter((n): n is TreeNode => n !== null);
      // Every entry is its parent-snapshot node (identity): the tree is the parent's, no need to encode and hash it.
      const same =
        prevTree !== null &&
        prev?.subtree !== undefined &&
        kept.length === prevTree.nodes.length &&
        kept.every((n, i) => n === prevTree.nodes[i]) &&
        this.index.has(prev.subtree, 'tree');
      const subtree = same ? prev!.subtree! : this.storeTree(kept);
      const node = dirNode(meta, subtree);
      return same && sameNodes([node], [prev!]) ? prev! : node;
    };
    if (!waiting) return finish(children as (TreeNode | null)[]);
    return new Later(settleAll(children, files).then(finish));
  }

  // ---- file contents through the pool ----

  private pool(): WorkerPool {
    if (!this.poolInstance) {
      // One lane runs on this thread, between walking and installing packs (pool.ts).
      this.poolInstance = new WorkerPool(this.repo, this.options.threads ?? defaultLanes(), { inline: true });
      this.claims = this.newClaims(this.index.blobCount);
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
    this.index.forEachDataId((id) => table.claim(id));
    for (const hex of this.pending.data) table.claim(Buffer.from(hex, 'hex'));
    for (const seed of this.options.staleClaims ?? []) table.claim(seed);
    return table;
  }

  private get threads(): number {
    return this.poolInstance?.threads ?? this.options.threads ?? defaultLanes();
  }

  /**
   * Queue a file for the pool; its node arrives with its batch's answer. A promise only when
   * the batch is full and the pool is busy: the walk waits there, which bounds memory.
   */
  private scheduleFile(pending: PendingFile, path: string, size: number): PendingFile | Promise<PendingFile> {
    this.batch.push({ file: { path, start: 0, limit: Number.MAX_SAFE_INTEGER, expect: pending.state }, pending });
    this.batchBytes += size;
    if (this.batch.length < BATCH_FILES && this.batchBytes < BATCH_BYTES) return pending;
    return this.capacity().then(() => {
      this.flushBatch();
      return pending;
    });
  }

  private flushBatch(): void {
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    this.runChunk(batch.map((b) => b.file)).then(
      (result) => {
        batch.forEach((b, i) => {
          const f = result.files[i]!;
          if (f.error) {
            this.summary.errors.push({ path: b.file.path, message: f.error });
            b.pending.arrive(null);
          } else if (f.changed) {
            this.readAgain(b.file.path, b.pending, { ok: true, ids: f.ids, size: f.end, changed: f.changed });
          } else {
            const bytes = f.sizes.reduce((a, n) => a + n, 0);
            this.fileDone(bytes);
            b.pending.arrive(this.storedFile(b.pending.meta, b.pending.changed, { ids: f.ids, size: bytes }));
          }
        });
      },
      (e) => {
        this.fail(e);
        for (const b of batch) b.pending.arrive(null);
      },
    );
  }

  /** A file of a batch that changed while it was read: read alone until one read sees it whole. */
  private readAgain(path: string, pending: PendingFile, first: Read): void {
    readFile(path, pending.state, this.reads, first).then(
      (r) => pending.arrive(this.readDone(path, pending.meta, pending.changed, r)),
      (e: unknown) => {
        // The run stopped (a cancel, a failed write): it fails with that error.
        this.fail(e);
        pending.arrive(null);
      },
    );
  }

  private async runChunk(files: ChunkFile[]): Promise<ChunkResult> {
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
    if (this.claims!.size * 2 > this.claims!.capacity) this.claims = this.newClaims(this.index.blobCount + this.pending.data.size);
    const claims = this.claims!;
    const task = pool.chunk({ kind: 'chunk', files, claims: claims.buffer, storeAll }).then((result) => {
      for (const id of result.stored) {
        this.pending.data.add(id);
        // Stored under an older table: let the current one know too.
        if (this.claims !== claims) this.claims!.claim(Buffer.from(id, 'hex'));
      }
      for (const pack of result.packs) this.installer.queueFinished(pack);
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
      if (!f.error && f.ids.some((id) => !this.index.has(id, 'data') && !this.pending.data.has(id))) missing.push(i);
    });
    return missing;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resume of w) resume();
  }

  /** Wait while the pool or the pack writer is full: bounds memory, whatever the tree. */
  private async capacity(): Promise<void> {
    while (this.inFlight >= this.threads * 2 || this.installer.queued > 2 || this.writeBudget.pending > MAX_PENDING_WRITE_BYTES) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
      this.checkCancel();
    }
    this.checkCancel();
  }

  // ---- trees, packs, index ----

  private storeTree(nodes: TreeNode[]): string {
    const plain = encodeTree(nodes);
    const id = blobId(this.repo.keys.id, plain);
    const hex = id.toString('hex');
    if (this.stopped || this.index.has(hex, 'tree') || this.pending.tree.has(hex)) return hex;
    const packed = compress(plain, { compressionLevel: ZSTD_LEVEL });
    const useZstd = packed.length < plain.length;
    const sealed = encrypt(this.repo.keys.data, useZstd ? packed : plain, blobAad('tree', id));
    this.pending.tree.add(hex);
    this.treePacker.add(hex, 'tree', sealed, plain.length, useZstd);
    if (this.treePacker.size >= PACK_TARGET_BYTES) this.sealTreePack();
    return hex;
  }

  private sealTreePack(): void {
    const file = this.treePacker.take();
    if (!file) return;
    this.installer.queue(
      () => finishTreePack(file, this.repo.keys.data),
      () => closePack(file),
    );
  }

  // ---- progress ----

  private error(path: string, e: unknown): void {
    this.summary.errors.push({ path, message: readProblem(e) });
  }

  private fileDone(bytes: number): void {
    this.progress.filesDone++;
    this.addProgressBytes(bytes);
  }

  private addProgressBytes(bytes: number): void {
    this.progress.bytesDone += bytes;
    this.emit(false);
  }

  private emit(final: boolean): void {
    if (!this.options.onProgress) return;
    const t = Date.now();
    if (!final && t - this.lastProgress < 200) return;
    this.lastProgress = t;
    const p = this.progress;
    const elapsed = Math.max(0.001, (t - this.started) / 1000);
    p.bytesPerSecond = Math.round(p.bytesDone / elapsed);
    p.etaSeconds =
      final ? 0 : p.bytesTotal !== null && p.bytesPerSecond > 0 ? Math.max(0, Math.round((p.bytesTotal - p.bytesDone) / p.bytesPerSecond)) : null;
    if (final) p.currentFile = null;
    this.options.onProgress({ ...p });
  }

  /** Counts files and bytes for the ETA of a first backup, on a thread of its own (scan.ts). */
  private scanTotals(sources: string[]): void {
    const request: ScanRequest = { role: 'twofold-scan', sources, excludes: this.options.excludes ?? [] };
    const thread = startThread('scan', { workerData: request, resourceLimits: { maxYoungGenerationSizeMb: THREAD_YOUNG_GENERATION_MB } });
    this.scanThread = thread;
    thread.once('message', (totals: ScanTotals) => {
      this.progress.filesTotal = totals.files;
      this.progress.bytesTotal = totals.bytes;
    });
    // Totals only feed the ETA: a scan that fails leaves them unknown.
    thread.once('error', () => undefined);
    thread.once('exit', () => {
      if (this.scanThread === thread) this.scanThread = null;
    });
  }
}

/** The snapshot an incremental backup compares against: the newest of this host with the same sources. */
export async function findParent(repo: Repository, sources: readonly string[], damage: RepoProblem[] = []): Promise<SnapshotWithId | null> {
  const key = sourcesKey(
    sources.map((s) => toSnapshotPath(resolve(s), HOST_PATH_STYLE)),
    HOST_PATH_STYLE,
  );
  const host = hostname();
  const { snapshots: all, damaged } = await repo.loadSnapshots();
  damage.push(...damaged);
  for (let i = all.length - 1; i >= 0; i--) {
    const s = all[i]!;
    if (s.host === host && (s.pathStyle ?? 'posix') === HOST_PATH_STYLE && sourcesKey(s.paths, HOST_PATH_STYLE) === key) return s;
  }
  return null;
}

/** A set of snapshot paths as one comparable string: sorted, and without case on Windows. */
function sourcesKey(paths: readonly string[], style: PathStyle): string {
  return JSON.stringify(paths.map((p) => sameNameKey(p, style)).sort());
}

/** What two names or paths compare as on `style`'s file systems (src-shared/paths.ts). */
function sameNameKey(name: string, style: PathStyle): string {
  return style === 'win32' ? name.toLowerCase() : name;
}

/** The same hard-link facts: link count and file system, kept only for more than one link. */
function sameLinks(prev: TreeNode, st: EntryStat): boolean {
  return st.device === '' ? prev.links === undefined && prev.device === undefined : prev.links === st.links && prev.device === st.device;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return '';
  }
}
