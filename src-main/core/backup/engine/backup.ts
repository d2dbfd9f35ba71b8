/**
 * Backup: walk the sources, hand file contents to the pool's lanes (chunk, hash, compress,
 * encrypt; one lane per two cores, as each compresses on libuv's pool while it chunks on; each
 * lane writes the chunks it claims into packs of its own), store the trees, then write index,
 * then the snapshot.
 *
 * Incremental: a file whose size, mtime, ctime and inode match the parent snapshot keeps the
 * parent's chunk list without being read; a directory whose tree encodes to the same bytes has
 * the same id and is not stored again. Crash safety: each pack, index and snapshot is stored
 * whole through the repository's Storage (atomic, create-only), in that order, so a kill at any
 * moment leaves a repository that checks clean; the next run indexes packs a killed run stored
 * and reuses them (maintenance.ts). Packs: tree-packer.ts, pack-installer.ts; file contents to
 * the pool: file-feed.ts.
 */
import { lstatSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, resolve } from 'node:path';
import { compress } from 'zstd-napi';
import { CoreError } from '../../platform/errors.js';
import { toSnapshotPath } from '../../../../src-shared/paths.js';
import { findParent, sameLinks, sameNameKey, safeUser } from './backup-parent.js';
import { ProgressMeter } from './backup-progress.js';
import type { BackupOptions, BackupResult } from './backup-types.js';
import { FolderWait, Later, PendingFile, settleAll, type Outcome } from './backup-wait.js';
import { errnoCode, errnoNumber } from './errno.js';
import { makeExcluder, type Excluder } from './excludes.js';
import { FileFeed, type FileContent } from './file-feed.js';
import { readFile, SEGMENT_BYTES, type ReadOutcome } from './file-read.js';
import { blobAad, blobId, encrypt, PACK_TARGET_BYTES, ZSTD_LEVEL, type BlobType } from './format.js';
import { fsPath, readLink } from './fs-names.js';
import type { MasterIndex } from './index.js';
import { RepoLock } from './lock.js';
import { backupIndex, cleanTemp } from './maintenance.js';
import { readProblem, stopped } from './messages.js';
import { readXattrs } from './native.js';
import { dirNode, fileNode, nodeMeta, sameNodes, specialNode, symlinkNode, xattrsFrom, type NodeMeta } from './nodes.js';
import type { PackEntry } from './pack.js';
import { PackInstaller } from './pack-installer.js';
import { HOST_PATH_STYLE } from './path-style.js';
import type { RepoProblem, Repository } from './repository.js';
import { SNAPSHOT_VERSION, type SnapshotSummary } from './snapshot.js';
import { encodeTree, type Tree, type TreeNode, type Xattr } from './tree.js';
import { closePack, finishTreePack, TreePacker, type WriteBudget } from './tree-packer.js';
import { fileKind, listFolder, statAt, statOf, Walker, type EntryStat, type FolderListing } from './walk.js';

export type { BackupOptions, BackupResult, Progress } from './backup-types.js';
export { findParent } from './backup-parent.js';

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
      walker = new Walker(
        options.sources.map((s) => resolve(s)),
        options.excludes ?? [],
        makeExcluder(options.excludes ?? []),
      );
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
  private readonly writeBudget: WriteBudget;
  /** File contents to the worker pool, in batches, with backpressure (file-feed.ts). */
  private readonly feed: FileFeed;
  private readonly meter: ProgressMeter;
  private readonly treePacker: TreePacker;
  /** Stores finished packs, indexes them, writes index files; its `error` is the run's first failure. */
  private readonly installer: PackInstaller;
  /** Blobs in a pack not yet written whole and indexed (data and trees apart, as in the index). */
  private readonly pending: Record<BlobType, Set<string>> = { data: new Set(), tree: new Set() };
  /** Set once the run ends: folders still settling after a failure store nothing. */
  private stopped = false;
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
  private readonly excluded: Excluder;
  /**
   * Whether the parent snapshot's nodes hold everything a node holds now (extended attributes,
   * hard links): a version-1 parent did not record them, so its nodes are built anew, once.
   */
  private readonly parentComplete: boolean;
  constructor(
    private readonly repo: Repository,
    private readonly index: MasterIndex,
    private readonly options: BackupOptions,
    /** Listing the sources since before the index loaded, when there is a parent (closed by backup()). */
    private readonly walker: Walker | null = null,
    /** Packs on disk no readable index file listed, indexed from their headers: this run writes their index file. */
    private readonly recovered: ReadonlyMap<string, PackEntry[]> = new Map(),
  ) {
    const budget: WriteBudget = { pending: 0, wake: () => this.feed.wake() };
    this.writeBudget = budget;
    this.treePacker = new TreePacker(repo.stagingDir(), budget);
    this.installer = new PackInstaller(repo, index, this.pending, {
      indexEvery: options.indexEvery,
      stored: (bytes) => {
        this.summary.dataAdded += bytes;
        this.meter.uploaded(bytes);
      },
      wake: () => this.feed.wake(),
    });
    this.meter = new ProgressMeter(this.started, options.onProgress, repo.storage);
    this.feed = new FileFeed({
      repo,
      index,
      pending: this.pending,
      installer: this.installer,
      budget,
      summary: this.summary,
      meter: this.meter,
      threads: options.threads,
      staleClaims: options.staleClaims,
      afterSegment: (path, offset) => options.testHooks?.afterSegment?.(path, offset),
      checkCancel: () => this.checkCancel(),
      storedFile: (meta, changed, r) => this.storedFile(meta, changed, r),
      readDone: (path, meta, changed, r) => this.readDone(path, meta, changed, r),
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
        this.meter.progress.filesTotal = parent.summary.files;
        this.meter.progress.bytesTotal = parent.summary.bytes;
      } else {
        this.meter.scanTotals(sources, this.options.excludes ?? []);
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
      this.feed.flushBatch();
      const nodes = (await settleAll(rootChildren, rootFiles)).filter((n): n is TreeNode => n !== null);
      const rootId = this.storeTree(nodes);
      const pool = this.feed.started;
      if (pool) {
        const { packs, error } = await pool.finishPacks();
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
      this.meter.emit(true);
      return { snapshotId, summary: this.summary };
    } finally {
      this.stopped = true;
      await this.feed.started?.abandonPacks();
      await this.treePacker.abandon();
      // Whatever happened, index the packs already on disk so the next run reuses them.
      await this.installer.drain().catch(() => undefined);
      await this.installer.flushIndex().catch(() => undefined);
      await this.feed.started?.close();
      await this.meter.close();
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
  private entry(
    path: string,
    name: string,
    st: EntryStat,
    prev: TreeNode | undefined,
    folder: FolderWait,
    from?: FolderListing,
    at = -1,
  ): Outcome | Promise<Outcome> {
    this.checkCancel();
    const kind = fileKind(st.mode);
    if (kind === 'dir') return this.dir(path, name, st, prev, from, at);
    const size = st.size;
    if (kind === 'file' && prev && this.unchangedFile(prev, st)) {
      this.summary.files++;
      this.summary.filesUnmodified++;
      this.summary.bytes += size;
      this.meter.fileDone(size);
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
    this.meter.progress.currentFile = path;
    this.options.testHooks?.beforeRead?.(path);
    if (size > SEGMENT_BYTES) return new Later(readFile(path, st, this.feed.reads).then((r) => this.readDone(path, meta, prev !== undefined, r)));
    return this.feed.scheduleFile(new PendingFile(folder, meta, prev !== undefined, st), path, size);
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
    this.meter.fileDone(0);
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
}
