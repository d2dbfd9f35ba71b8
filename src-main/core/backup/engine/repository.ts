/**
 * A repository in a folder (docs/repository-format.md): init, open by password or by master
 * key, key files, sealed JSON files (index, snapshots), packs and blobs. Reading anything checks
 * it: file names are SHA-256 of their bytes, blobs are AEAD-sealed and their ids are HMACs.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { compress, decompress } from 'zstd-napi';
import { createRequire } from 'node:module';
import { z } from 'zod';
import { CoreError } from '../../platform/errors.js';
import { derivePasswordKey, KdfParamsSchema, newKdfParams, type KdfCost } from '../../platform/password-kdf.js';
import { writeFileAtomic, writeFileAtomicSync } from './atomic.js';
import { openBlob } from './blob.js';
import { gearTable } from './chunker.js';
import {
  decrypt,
  deriveRepoKeys,
  encrypt,
  fileId,
  FORMAT_VERSION,
  isHexId,
  READABLE_FORMATS,
  SEALED_FILE_VERSION,
  type RepoKeys,
} from './format.js';
import { decodeIndexFile, type BlobLocation, type IndexFile, type MasterIndex } from './index.js';
import { indexUnlisted, loadIndex, packEntriesFromIndex, problemOf, readingIndex, type IndexOptions, type LoadedIndex, type RepoProblem } from './index-load.js';

export type { LoadedIndex, RepoProblem } from './index-load.js';
import { damage, HEADER_WHY, PackHeaderError, stopped } from './messages.js';
import { headerLocation, openHeader, packFooter, TRAILER_BYTES, type PackEntry } from './pack.js';
import { SnapshotSchema, type Snapshot, type SnapshotWithId } from './snapshot.js';
import { decodeTree, type Tree } from './tree.js';

/** zstd's native binding (CommonJS), for a decompression context we can reuse. */
const zstdBinding = createRequire(import.meta.url)('zstd-napi/binding') as typeof import('zstd-napi/binding.js');

/** Argon2id for repository passwords: well above OWASP's floor; the password is long and random too. */
export const REPO_KDF_COST: KdfCost = { memoryKiB: 64 * 1024, iterations: 3, parallelism: 1 };

const ConfigSchema = z.object({
  version: z.number().int().refine((v) => READABLE_FORMATS.includes(v)),
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

  private constructor(
    readonly path: string,
    private configNow: RepoConfig,
    readonly keys: RepoKeys,
  ) {
    this.gear = gearTable(keys.chunker);
  }

  get config(): RepoConfig {
    return this.configNow;
  }

  get id(): string {
    return this.config.id;
  }

  /**
   * Before writing what an older format cannot read (a backup's trees): mark the repository as
   * this format, so an older Twofold refuses it plainly instead of misreading it. The config is
   * rewritten whole (temp file and rename), keeping its id and creation time.
   */
  async upgradeFormat(): Promise<void> {
    if (this.configNow.version >= FORMAT_VERSION) return;
    const config: RepoConfig = { ...this.configNow, version: FORMAT_VERSION };
    await writeFileAtomic(this.dir('tmp'), join(this.path, 'config'), [Buffer.from(JSON.stringify(config, null, 2))]);
    this.configNow = config;
  }

  // ---- layout ----
  dir(kind: 'data' | 'index' | 'snapshots' | 'keys' | 'locks' | 'tmp'): string {
    return join(this.path, kind);
  }

  packPath(packId: string): string {
    return join(this.path, 'data', packId.slice(0, 2), packId);
  }

  // ---- init and open ----

  /** Make a new repository in an empty (or missing) folder; returns it with its master key. */
  static async init(path: string, password: string, cost: KdfCost = REPO_KDF_COST): Promise<{ repo: Repository; master: Buffer }> {
    if (existsSync(path)) {
      if (!statSync(path).isDirectory()) throw new CoreError('REPO_EXISTS', 'That path is a file, not a folder.');
      if (readdirSync(path).length > 0) {
        throw new CoreError(
          'REPO_EXISTS',
          existsSync(join(path, 'config'))
            ? 'That folder already holds a repository: connect to it instead.'
            : 'That folder is not empty. Choose an empty or new folder for the repository.',
        );
      }
    }
    // Never create missing parents: a path on an unmounted drive would land on the system disk.
    if (!existsSync(dirname(path)) || !statSync(dirname(path)).isDirectory()) {
      throw new CoreError('NOT_FOUND', `The folder ${dirname(path)} does not exist. Is the drive connected?`);
    }
    if (!existsSync(path)) mkdirSync(path, { mode: 0o700 });
    const config: RepoConfig = { version: FORMAT_VERSION, id: randomBytes(32).toString('hex'), created: new Date().toISOString() };
    for (const d of ['data', 'index', 'snapshots', 'keys', 'locks', 'tmp']) mkdirSync(join(path, d), { mode: 0o700 });
    for (let i = 0; i < 256; i++) mkdirSync(join(path, 'data', i.toString(16).padStart(2, '0')), { mode: 0o700 });
    const master = randomBytes(32);
    const repo = new Repository(path, config, deriveRepoKeys(master, config.id));
    await repo.addKey(master, password, cost);
    // The config is written last: a folder without it is not (yet) a repository.
    writeFileAtomicSync(repo.dir('tmp'), join(path, 'config'), Buffer.from(JSON.stringify(config, null, 2)));
    return { repo, master };
  }

  static readConfig(path: string): RepoConfig {
    let raw: string;
    try {
      raw = readFileSync(join(path, 'config'), 'utf8');
    } catch {
      throw new CoreError('NOT_FOUND', 'There is no Twofold repository in that folder (or it cannot be read).');
    }
    const parsed = ConfigSchema.safeParse(safeJson(raw));
    if (!parsed.success) throw damage.config();
    return parsed.data;
  }

  /** Open with the repository password: tries every key file; a wrong password says so plainly. */
  static async openWithPassword(path: string, password: string): Promise<{ repo: Repository; master: Buffer }> {
    const config = Repository.readConfig(path);
    const names = (await readdir(join(path, 'keys'))).filter(isHexId);
    for (const name of names) {
      const parsed = KeyFileSchema.safeParse(safeJson(await readFile(join(path, 'keys', name), 'utf8')));
      if (!parsed.success) continue;
      const kek = await derivePasswordKey(password, parsed.data.kdf);
      const master = decrypt(kek, Buffer.from(parsed.data.data, 'base64'), keyAad(config.id));
      kek.fill(0);
      if (master && master.length === 32) return { repo: new Repository(path, config, deriveRepoKeys(master, config.id)), master };
    }
    throw new CoreError('REPO_PASSWORD_WRONG', 'That is not the password of this repository.');
  }

  static openWithMaster(path: string, master: Buffer): Repository {
    const config = Repository.readConfig(path);
    return new Repository(path, config, deriveRepoKeys(master, config.id));
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
    await writeFileAtomic(this.dir('tmp'), join(this.dir('keys'), id), [body]);
    return id;
  }

  async keyIds(): Promise<string[]> {
    return (await readdir(this.dir('keys'))).filter(isHexId);
  }

  async removeKey(id: string): Promise<void> {
    await unlink(join(this.dir('keys'), id));
  }

  // ---- sealed JSON files ----

  async saveSealed(kind: SealedKind, value: unknown): Promise<string> {
    const plain = compress(Buffer.from(JSON.stringify(value), 'utf8'), { compressionLevel: 3 });
    const body = Buffer.concat([Buffer.from([SEALED_FILE_VERSION]), encrypt(this.keys.data, plain, SEALED_AAD[kind])]);
    const id = fileId(body);
    await writeFileAtomic(this.dir('tmp'), join(this.dir(kind), id), [body]);
    return id;
  }

  /**
   * A sealed file's JSON, verified: its bytes hash to its name and open under the key. Damage
   * throws REPO_DAMAGED naming the file; a file that cannot be read at all throws its errno.
   */
  async loadSealed(kind: SealedKind, id: string): Promise<unknown> {
    const body = await readFile(join(this.dir(kind), id));
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

  async list(kind: SealedKind | 'locks'): Promise<string[]> {
    try {
      return (await readdir(this.dir(kind))).filter(isHexId);
    } catch {
      throw stopped.repositoryUnreadable();
    }
  }

  async removeFile(kind: SealedKind, id: string): Promise<void> {
    await rm(join(this.dir(kind), id), { force: true });
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
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
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

  /** Every pack file in data/ and its size: one listing of the 256 sub-folders. */
  async listPacks(): Promise<Map<string, number>> {
    const packs = new Map<string, number>();
    for (const [sub, names] of await this.packFolders()) {
      const sizes = await Promise.all(names.map((name) => stat(join(this.dir('data'), sub, name)).then((st) => st.size, () => -1)));
      names.forEach((name, i) => {
        if (sizes[i]! >= 0) packs.set(name, sizes[i]!); // -1: removed between the listing and its stat
      });
    }
    return packs;
  }

  /** Every pack file in data/, by name only (no stat): enough to know which packs are there. */
  async packNames(): Promise<Map<string, number>> {
    const packs = new Map<string, number>();
    for (const [, names] of await this.packFolders()) for (const name of names) packs.set(name, -1);
    return packs;
  }

  private async packFolders(): Promise<[string, string[]][]> {
    const root = this.dir('data');
    const subs = (await readdir(root)).filter((sub) => /^[0-9a-f]{2}$/.test(sub));
    return Promise.all(subs.map(async (sub) => [sub, (await readdir(join(root, sub))).filter((n) => isHexId(n) && n.startsWith(sub))] as [string, string[]]));
  }

  /** Write one pack (blobs, sealed header, trailer) crash-safely; returns its id. */
  async savePack(blobs: readonly Buffer[], entries: readonly PackEntry[]): Promise<{ id: string; bytes: number }> {
    const footer = packFooter(this.keys.data, entries);
    const hash = createHash('sha256');
    for (const b of blobs) hash.update(b);
    hash.update(footer);
    const id = hash.digest('hex');
    await writeFileAtomic(this.dir('tmp'), this.packPath(id), [...blobs, footer]);
    return { id, bytes: blobs.reduce((a, b) => a + b.length, 0) + footer.length };
  }

  async removePack(packId: string): Promise<void> {
    await rm(this.packPath(packId), { force: true });
  }

  /** A pack's header entries, read from its end only; damage names the pack. */
  async readPackHeader(packId: string): Promise<PackEntry[]> {
    const fh = await this.openPack(packId);
    try {
      const size = (await fh.stat()).size;
      if (size < TRAILER_BYTES) throw damage.packTruncated(packId);
      const trailer = Buffer.alloc(TRAILER_BYTES);
      await fh.read(trailer, 0, TRAILER_BYTES, size - TRAILER_BYTES);
      const where = headerLocation(trailer, size);
      const sealed = Buffer.alloc(where.length);
      await fh.read(sealed, 0, where.length, where.offset);
      return openHeader(this.keys.data, sealed, where.offset);
    } catch (e) {
      if (e instanceof PackHeaderError) throw damage.packHeader(packId, HEADER_WHY[e.why]);
      throw e;
    } finally {
      await fh.close();
    }
  }

  /** One blob's plaintext, verified against its id; throws REPO_DAMAGED naming the pack otherwise. */
  async readBlob(id: string, loc: BlobLocation): Promise<Buffer> {
    return openBlob(this.keys, id, loc.type, loc.compressed, loc.rawLength, await this.readSealed(loc), loc.pack);
  }

  /** A blob's sealed bytes as the pack holds them (not verified). */
  async readSealed(loc: Pick<BlobLocation, 'pack' | 'offset' | 'length'>): Promise<Buffer> {
    const fh = await this.openPack(loc.pack);
    try {
      const sealed = Buffer.alloc(loc.length);
      const { bytesRead } = await fh.read(sealed, 0, loc.length, loc.offset);
      if (bytesRead !== loc.length) throw damage.packTruncated(loc.pack);
      return sealed;
    } finally {
      await fh.close();
    }
  }

  private async openPack(packId: string) {
    try {
      return await open(this.packPath(packId), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw damage.packMissing(packId);
      throw damage.packUnreadable(packId, e);
    }
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
    const pack = this.treePack(loc.pack);
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
  private treePack(packId: string): Buffer {
    let buf = this.packCache.get(packId);
    if (!buf) {
      try {
        buf = readFileSync(this.packPath(packId));
      } catch (e) {
        throw (e as NodeJS.ErrnoException).code === 'ENOENT' ? damage.packMissing(packId) : damage.packUnreadable(packId, e);
      }
      if (this.packCache.size >= 4) this.packCache.delete(this.packCache.keys().next().value!);
      this.packCache.set(packId, buf);
    }
    return buf;
  }

  async ensureLayout(): Promise<void> {
    for (const d of ['data', 'index', 'snapshots', 'keys', 'locks', 'tmp'] as const) await mkdir(this.dir(d), { recursive: true, mode: 0o700 });
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
