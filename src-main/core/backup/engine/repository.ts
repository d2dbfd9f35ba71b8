/**
 * A repository on a Storage (docs/repository-format.md): init, open by password or by master
 * key, key files, sealed JSON files (index, snapshots), packs and blobs. Every byte goes through
 * the Storage (a folder, an SFTP server, an S3 bucket), which is not trusted: reading anything
 * checks it (file names are SHA-256 of their bytes, blobs are AEAD-sealed, their ids HMACs).
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { compress, decompress } from 'zstd-napi';
import { createRequire } from 'node:module';
import { z } from 'zod';
import { CoreError } from '../../platform/errors.js';
import { derivePasswordKey, KdfParamsSchema, newKdfParams, type KdfCost } from '../../platform/password-kdf.js';
import { LocalStaging } from './local-staging.js';
import { openBlob } from './blob.js';
import { gearTable } from './chunker.js';
import { decrypt, deriveRepoKeys, encrypt, fileId, FORMAT_VERSION, isHexId, READABLE_FORMATS, SEALED_FILE_VERSION, type RepoKeys } from './format.js';
import { decodeIndexFile, type BlobLocation, type IndexFile, type MasterIndex } from './index.js';
import {
  indexUnlisted,
  loadIndex,
  packEntriesFromIndex,
  problemOf,
  readingIndex,
  type IndexOptions,
  type LoadedIndex,
  type RepoProblem,
} from './index-load.js';

export type { LoadedIndex, RepoProblem } from './index-load.js';
import { damage, HEADER_WHY, noRepository, PackHeaderError, stopped, storageFailure } from './messages.js';
import { baseName, isNotFound, isProbeName, isStorageError, packName, StorageError, type Storage } from './storage/storage.js';
import { headerLocation, openHeader, packFooter, TRAILER_BYTES, type PackEntry } from './pack.js';
import { SnapshotSchema, type Snapshot, type SnapshotWithId } from './snapshot.js';
import { decodeTree, type Tree } from './tree.js';

/** zstd's native binding (CommonJS), for a decompression context we can reuse. */
const zstdBinding = createRequire(import.meta.url)('zstd-napi/binding') as typeof import('zstd-napi/binding.js');

/** Argon2id for repository passwords: well above OWASP's floor; the password is long and random too. */
export const REPO_KDF_COST: KdfCost = { memoryKiB: 64 * 1024, iterations: 3, parallelism: 1 };

const ConfigSchema = z.object({
  version: z
    .number()
    .int()
    .refine((v) => READABLE_FORMATS.includes(v)),
  id: z.string().regex(/^[0-9a-f]{64}$/),
  created: z.string().datetime(),
});
type RepoConfig = z.infer<typeof ConfigSchema>;

const KeyFileSchema = z.object({
  version: z.literal(1),
  created: z.string().datetime(),
  host: z.string(),
  kdf: KdfParamsSchema,
  /** The 32-byte master key sealed under Argon2id(password), base64. */
  data: z.string().min(1),
});

export type SealedKind = 'index' | 'snapshots';
const SEALED_AAD: Record<SealedKind, string> = {
  index: 'twofold-repo/v1/index',
  snapshots: 'twofold-repo/v1/snapshot',
};

export class Repository {
  readonly gear: Int32Array;
  private readonly treeCache = new Map<string, Tree>();
  private readonly packCache = new Map<string, Buffer>();
  /** Trees decompress here (one context and buffer, reused): each is parsed before the next is read. */
  private readonly scratch = { buffer: Buffer.allocUnsafe(1024 * 1024), dctx: new zstdBinding.DCtx() };

  /** The staging folder and the remote packs fetched as local files (removed by close()). */
  private readonly local: LocalStaging;

  private constructor(
    readonly storage: Storage,
    private configNow: RepoConfig,
    readonly keys: RepoKeys,
  ) {
    this.gear = gearTable(keys.chunker);
    this.local = new LocalStaging(storage);
  }

  get config(): RepoConfig {
    return this.configNow;
  }

  get id(): string {
    return this.config.id;
  }

  /** Where the repository is, for people (never a secret). */
  get location(): string {
    return this.storage.location;
  }

  /**
   * Before writing what an older format cannot read (a backup's trees): mark the repository as
   * this format, so an older Twofold refuses it plainly instead of misreading it. The config is
   * rewritten whole (temp file and rename), keeping its id and creation time.
   */
  async upgradeFormat(): Promise<void> {
    if (this.configNow.version >= FORMAT_VERSION) return;
    const config: RepoConfig = { ...this.configNow, version: FORMAT_VERSION };
    await this.storage.replace('config', Buffer.from(JSON.stringify(config, null, 2)));
    this.configNow = config;
  }

  // ---- local staging ----

  /**
   * The local folder packs are written to before they are handed to the storage: a folder
   * repository's own tmp/ (installing is then a rename), else a private temp folder.
   */
  stagingDir(): string {
    return this.local.dir();
  }

  /**
   * A pack as a local file, for worker threads that read packs themselves (check, restore):
   * a folder repository's own file; a remote pack fetched whole once into the staging folder.
   * The name ends with the pack's id either way. A pack that cannot be fetched gets a name
   * where there is no file, so the worker that reads it reports it as it does a missing pack.
   */
  localPack(packId: string): Promise<string> {
    return this.local.pack(packId);
  }

  /** A pack's local file no longer needed (a remote pack's staged copy is removed; a folder's own file stays). */
  releasePack(packId: string): void {
    this.local.release(packId);
  }

  /** Remote packs staged locally now (fetched or being fetched, not released). */
  stagedPacks(): number {
    return this.local.staged;
  }

  /** Let go of the storage and of what was staged locally for it. */
  async close(): Promise<void> {
    this.local.close();
    await this.storage.close();
  }

  // ---- init and open ----

  /** Make a new repository where there is nothing yet (an empty or missing folder, an empty prefix); returns it with its master key. */
  static async init(storage: Storage, password: string, cost: KdfCost = REPO_KDF_COST): Promise<{ repo: Repository; master: Buffer }> {
    const place = storage.kind === 'folder' ? 'folder' : 'location';
    const there = await storage.list('').catch((e: unknown) => {
      if (isStorageError(e, 'NOT_FOUND')) return []; // a folder not made yet (prepare checks its parent)
      throw storageFailure(e as StorageError);
    });
    // What a connection test left (append-only credentials could not delete it) is not content.
    if (there.some((o) => !isProbeName(o.name))) {
      throw new CoreError(
        'REPO_EXISTS',
        there.some((o) => o.name === 'config')
          ? `That ${place} already holds a repository: connect to it instead.`
          : `That ${place} is not empty. Choose an empty or new ${place} for the repository.`,
      );
    }
    await storage.prepare().catch((e: unknown) => {
      if (isStorageError(e, 'NOT_FOUND') && storage.kind === 'folder')
        throw new CoreError('NOT_FOUND', `The folder ${e.detail} does not exist. Is the drive connected?`);
      if (isStorageError(e, 'FAILED') && storage.kind === 'folder') throw new CoreError('REPO_EXISTS', 'That path is a file, not a folder.');
      throw e instanceof StorageError ? storageFailure(e) : e;
    });
    const config: RepoConfig = { version: FORMAT_VERSION, id: randomBytes(32).toString('hex'), created: new Date().toISOString() };
    const master = randomBytes(32);
    const repo = new Repository(storage, config, deriveRepoKeys(master, config.id));
    await repo.addKey(master, password, cost);
    // The config is written last: a place without it is not (yet) a repository.
    await storage.write('config', Buffer.from(JSON.stringify(config, null, 2)));
    return { repo, master };
  }

  static async readConfig(storage: Storage): Promise<RepoConfig> {
    let raw: string;
    try {
      raw = (await storage.read('config')).toString('utf8');
    } catch (e) {
      throw noRepository(e);
    }
    const parsed = ConfigSchema.safeParse(safeJson(raw));
    if (!parsed.success) throw damage.config();
    return parsed.data;
  }

  /** Open with the repository password: tries every key file; a wrong password says so plainly. */
  static async openWithPassword(storage: Storage, password: string): Promise<{ repo: Repository; master: Buffer }> {
    const config = await Repository.readConfig(storage);
    for (const key of await storage.list('keys')) {
      if (!isHexId(baseName(key.name))) continue;
      const parsed = KeyFileSchema.safeParse(safeJson((await storage.read(key.name)).toString('utf8')));
      if (!parsed.success) continue;
      const kek = await derivePasswordKey(password, parsed.data.kdf);
      const master = decrypt(kek, Buffer.from(parsed.data.data, 'base64'), keyAad(config.id));
      kek.fill(0);
      if (master && master.length === 32) return { repo: new Repository(storage, config, deriveRepoKeys(master, config.id)), master };
    }
    throw new CoreError('REPO_PASSWORD_WRONG', 'That is not the password of this repository.');
  }

  static async openWithMaster(storage: Storage, master: Buffer): Promise<Repository> {
    const config = await Repository.readConfig(storage);
    return new Repository(storage, config, deriveRepoKeys(master, config.id));
  }

  // ---- key files ----

  async addKey(master: Buffer, password: string, cost: KdfCost = REPO_KDF_COST): Promise<string> {
    const kdf = newKdfParams(cost);
    const kek = await derivePasswordKey(password, kdf);
    const sealed = encrypt(kek, master, keyAad(this.id));
    kek.fill(0);
    const body = Buffer.from(
      JSON.stringify({ version: 1, created: new Date().toISOString(), host: hostname(), kdf, data: sealed.toString('base64') }, null, 2),
    );
    const id = fileId(body);
    await this.storage.write(`keys/${id}`, body);
    return id;
  }

  async keyIds(): Promise<string[]> {
    return this.list('keys');
  }

  async removeKey(id: string): Promise<void> {
    await this.storage.delete(`keys/${id}`);
  }

  // ---- sealed JSON files ----

  async saveSealed(kind: SealedKind, value: unknown): Promise<string> {
    const plain = compress(Buffer.from(JSON.stringify(value), 'utf8'), { compressionLevel: 3 });
    const body = Buffer.concat([Buffer.from([SEALED_FILE_VERSION]), encrypt(this.keys.data, plain, SEALED_AAD[kind])]);
    const id = fileId(body);
    await this.storage.write(`${kind}/${id}`, body);
    return id;
  }

  /**
   * A sealed file's JSON, verified: its bytes hash to its name and open under the key. Damage
   * throws REPO_DAMAGED naming the file; a file that cannot be read at all throws the StorageError.
   */
  async loadSealed(kind: SealedKind, id: string): Promise<unknown> {
    const body = await this.storage.read(`${kind}/${id}`);
    const damaged = (why: 'hash' | 'integrity' | 'shape') => (kind === 'index' ? damage.indexFile(id, why) : damage.snapshotFile(id, why));
    if (fileId(body) !== id || body[0] !== SEALED_FILE_VERSION) throw damaged('hash');
    const plain = decrypt(this.keys.data, body.subarray(1), SEALED_AAD[kind]);
    if (!plain) throw damaged('integrity');
    try {
      return JSON.parse(decompress(plain).toString('utf8'));
    } catch {
      throw damaged('shape');
    }
  }

  /** The ids of the files of one kind (names that are not ids are left out). */
  async list(kind: SealedKind | 'locks' | 'keys'): Promise<string[]> {
    try {
      return (await this.storage.list(kind)).map((o) => baseName(o.name)).filter(isHexId);
    } catch (e) {
      if (this.storage.kind === 'folder' || !(e instanceof StorageError)) throw stopped.repositoryUnreadable();
      throw storageFailure(e);
    }
  }

  async removeFile(kind: SealedKind, id: string): Promise<void> {
    await this.storage.delete(`${kind}/${id}`);
  }

  // ---- snapshots ----

  async saveSnapshot(snapshot: Snapshot): Promise<string> {
    return this.saveSealed('snapshots', SnapshotSchema.parse(snapshot));
  }

  async loadSnapshot(id: string): Promise<SnapshotWithId> {
    const parsed = SnapshotSchema.safeParse(await this.loadSealed('snapshots', id));
    if (!parsed.success) throw damage.snapshotFile(id, 'shape');
    return { ...parsed.data, id };
  }

  /**
   * Every snapshot that opens, oldest first, and the ones that do not: a damaged snapshot file
   * never hides the others (docs/repository-format.md §11).
   */
  async loadSnapshots(): Promise<{ snapshots: SnapshotWithId[]; damaged: RepoProblem[] }> {
    const damaged: RepoProblem[] = [];
    const loaded = await Promise.all(
      (await this.list('snapshots')).map(async (id) => {
        try {
          return await this.loadSnapshot(id);
        } catch (e) {
          // Removed meanwhile (a forget elsewhere): simply not there any more.
          if (isNotFound(e)) return null;
          damaged.push(problemOf('snapshot', id, e));
          return null;
        }
      }),
    );
    const snapshots = loaded.filter((s): s is SnapshotWithId => s !== null);
    snapshots.sort((a, b) => a.time.localeCompare(b.time) || a.id.localeCompare(b.id));
    return { snapshots, damaged: damaged.sort((a, b) => a.id.localeCompare(b.id)) };
  }

  /** Every snapshot that opens, oldest first (damaged ones are left out: loadSnapshots names them). */
  async snapshots(): Promise<SnapshotWithId[]> {
    return (await this.loadSnapshots()).snapshots;
  }

  /** The full id of a snapshot file, from its full id or a unique prefix of at least 8 hex digits, without opening it. */
  async resolveSnapshotId(idOrPrefix: string): Promise<string> {
    const ids = (await this.list('snapshots')).filter((id) => id.startsWith(idOrPrefix.toLowerCase()));
    if (idOrPrefix.length < 8 || ids.length !== 1) throw new CoreError('NOT_FOUND', 'There is no such snapshot in this repository.');
    return ids[0]!;
  }

  /** A snapshot by its full id or a unique prefix of at least 8 hex digits. */
  async findSnapshot(idOrPrefix: string): Promise<SnapshotWithId> {
    return this.loadSnapshot(await this.resolveSnapshotId(idOrPrefix));
  }

  // ---- index (index-load.ts) ----

  loadIndex(options: IndexOptions = {}): Promise<LoadedIndex> {
    return loadIndex(this, options);
  }

  readingIndex(avoid?: ReadonlySet<string>): Promise<LoadedIndex> {
    return readingIndex(this, avoid);
  }

  indexUnlisted(loaded: LoadedIndex, packs: ReadonlyMap<string, number>): Promise<Map<string, PackEntry[]>> {
    return indexUnlisted(this, loaded, packs);
  }

  packEntriesFromIndex(files: readonly string[], ids: ReadonlySet<string>): Promise<Map<string, PackEntry[]>> {
    return packEntriesFromIndex(this, files, ids);
  }

  async loadIndexFile(id: string): Promise<IndexFile> {
    const doc = await this.loadSealed('index', id);
    try {
      return decodeIndexFile(doc);
    } catch {
      throw damage.indexFile(id, 'shape');
    }
  }

  // ---- packs ----

  /** Every pack in data/ and its size: one listing (only `data/<ab>/<id>` with `<id>` starting `<ab>` counts). */
  async listPacks(): Promise<Map<string, number>> {
    const packs = new Map<string, number>();
    let objects;
    try {
      objects = await this.storage.list('data');
    } catch (e) {
      if (this.storage.kind === 'folder' || !(e instanceof StorageError)) throw stopped.repositoryUnreadable();
      throw storageFailure(e);
    }
    for (const o of objects) {
      const id = baseName(o.name);
      if (isHexId(id) && o.name === packName(id)) packs.set(id, o.size);
    }
    return packs;
  }

  /** Which packs are there (a listing gives their sizes too). */
  packNames(): Promise<Map<string, number>> {
    return this.listPacks();
  }

  /** Write one pack (blobs, sealed header, trailer) crash-safely; returns its id. */
  async savePack(blobs: readonly Buffer[], entries: readonly PackEntry[]): Promise<{ id: string; bytes: number }> {
    const footer = packFooter(this.keys.data, entries);
    const hash = createHash('sha256');
    for (const b of blobs) hash.update(b);
    hash.update(footer);
    const id = hash.digest('hex');
    await this.storage.write(packName(id), Buffer.concat([...blobs, footer]));
    return { id, bytes: blobs.reduce((a, b) => a + b.length, 0) + footer.length };
  }

  async removePack(packId: string): Promise<void> {
    await this.storage.delete(packName(packId));
  }

  /** A pack's header entries, read from its end only (two range reads); damage names the pack. */
  async readPackHeader(packId: string): Promise<PackEntry[]> {
    const st = await this.storage.stat(packName(packId)).catch((e: unknown) => {
      throw damage.packUnreadable(packId, e);
    });
    if (!st) throw damage.packMissing(packId);
    try {
      const size = st.size;
      if (size < TRAILER_BYTES) throw damage.packTruncated(packId);
      const trailer = await this.readPack(packId, size - TRAILER_BYTES, TRAILER_BYTES);
      const where = headerLocation(trailer, size);
      const sealed = await this.readPack(packId, where.offset, where.length);
      return openHeader(this.keys.data, sealed, where.offset);
    } catch (e) {
      if (e instanceof PackHeaderError) throw damage.packHeader(packId, HEADER_WHY[e.why]);
      throw e;
    }
  }

  /** One blob's plaintext, verified against its id; throws REPO_DAMAGED naming the pack otherwise. */
  async readBlob(id: string, loc: BlobLocation): Promise<Buffer> {
    return openBlob(this.keys, id, loc.type, loc.compressed, loc.rawLength, await this.readSealed(loc), loc.pack);
  }

  /** A blob's sealed bytes as the pack holds them (not verified). */
  async readSealed(loc: Pick<BlobLocation, 'pack' | 'offset' | 'length'>): Promise<Buffer> {
    return this.readPack(loc.pack, loc.offset, loc.length);
  }

  /** Bytes of a pack, by range: all of them, or the pack is missing, unreadable or truncated. */
  private async readPack(packId: string, offset: number, length: number): Promise<Buffer> {
    let bytes: Buffer;
    try {
      bytes = await this.storage.read(packName(packId), { offset, length });
    } catch (e) {
      throw isNotFound(e) ? damage.packMissing(packId) : damage.packUnreadable(packId, e);
    }
    if (bytes.length !== length) throw damage.packTruncated(packId);
    return bytes;
  }

  /**
   * A tree, verified. Kept in a small cache for browsing, which returns to the same folders;
   * a walk that reads each tree once (backup, restore, check, prune) passes `cache: false`, so
   * its memory does not grow with the snapshot.
   */
  async loadTree(id: string, index: MasterIndex, options: { cache?: boolean } = {}): Promise<Tree> {
    const cached = this.treeCache.get(id);
    if (cached) return cached;
    const loc = index.get(id, 'tree');
    if (!loc) throw damage.treeNotIndexed(id);
    const pack = await this.treePack(loc.pack);
    if (loc.offset + loc.length > pack.length) throw damage.packTruncated(loc.pack);
    const sealed = pack.subarray(loc.offset, loc.offset + loc.length);
    const plain = openBlob(this.keys, id, 'tree', loc.compressed, loc.rawLength, sealed, loc.pack, this.scratch);
    let tree: Tree;
    try {
      tree = decodeTree(plain);
    } catch {
      throw damage.treeShape();
    }
    if (options.cache === false) return tree;
    if (this.treeCache.size > 2048) this.treeCache.clear();
    this.treeCache.set(id, tree);
    return tree;
  }

  /**
   * Tree packs are read whole and kept (a few at a time): walking a snapshot touches thousands
   * of small trees, and one read per pack beats one open and read per tree.
   */
  private async treePack(packId: string): Promise<Buffer> {
    let buf = this.packCache.get(packId);
    if (!buf) {
      try {
        buf = await this.storage.read(packName(packId));
      } catch (e) {
        throw isNotFound(e) ? damage.packMissing(packId) : damage.packUnreadable(packId, e);
      }
      if (this.packCache.size >= 4) this.packCache.delete(this.packCache.keys().next().value!);
      this.packCache.set(packId, buf);
    }
    return buf;
  }
}

function keyAad(repoId: string): string {
  return `twofold-repo/v1/key|${repoId}`;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
