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
import { CoreError } from '../errors.js';
import { derivePasswordKey, KdfParamsSchema, newKdfParams, type KdfCost } from '../password-kdf.js';
import { writeFileAtomic, writeFileAtomicSync } from './atomic.js';
import { openBlob } from './blob.js';
import { gearTable } from './chunker.js';
import {
  decrypt,
  decryptOrThrow,
  deriveRepoKeys,
  encrypt,
  fileId,
  FORMAT_VERSION,
  isHexId,
  READABLE_FORMATS,
  SEALED_FILE_VERSION,
  type RepoKeys,
} from './format.js';
import { decodeIndexFile, MasterIndex, type BlobLocation, type IndexFile } from './index.js';
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
    if (!parsed.success) throw new CoreError('REPO_DAMAGED', 'The repository config is damaged or of an unknown version.');
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

  async loadSealed(kind: SealedKind, id: string): Promise<unknown> {
    const body = await readFile(join(this.dir(kind), id));
    const what = kind === 'index' ? `Index file ${id.slice(0, 12)}` : `Snapshot ${id.slice(0, 12)}`;
    if (fileId(body) !== id || body[0] !== SEALED_FILE_VERSION) throw new CoreError('REPO_DAMAGED', `${what} is damaged.`);
    const plain = decryptOrThrow(this.keys.data, body.subarray(1), SEALED_AAD[kind], what);
    return JSON.parse(decompress(plain).toString('utf8'));
  }

  async list(kind: SealedKind | 'locks'): Promise<string[]> {
    try {
      return (await readdir(this.dir(kind))).filter(isHexId);
    } catch {
      throw new CoreError('NOT_FOUND', 'The repository folder cannot be read. Is the drive connected?');
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
    if (!parsed.success) throw new CoreError('REPO_DAMAGED', `Snapshot ${id.slice(0, 12)} has an unknown shape.`);
    return { ...parsed.data, id };
  }

  /** Every snapshot, oldest first. */
  async snapshots(): Promise<SnapshotWithId[]> {
    const all = await Promise.all((await this.list('snapshots')).map((id) => this.loadSnapshot(id)));
    return all.sort((a, b) => a.time.localeCompare(b.time) || a.id.localeCompare(b.id));
  }

  /** A snapshot by its full id or a unique prefix of at least 8 hex digits. */
  async findSnapshot(idOrPrefix: string): Promise<SnapshotWithId> {
    const ids = (await this.list('snapshots')).filter((id) => id.startsWith(idOrPrefix.toLowerCase()));
    if (idOrPrefix.length < 8 || ids.length !== 1) throw new CoreError('NOT_FOUND', 'There is no such snapshot in this repository.');
    return this.loadSnapshot(ids[0]!);
  }

  // ---- index ----

  async loadIndex(): Promise<{ index: MasterIndex; files: string[] }> {
    const index = new MasterIndex();
    const files = await this.list('index');
    for (const id of files) index.addFile(await this.loadIndexFile(id));
    return { index, files };
  }

  async loadIndexFile(id: string): Promise<IndexFile> {
    try {
      return decodeIndexFile(await this.loadSealed('index', id));
    } catch (e) {
      if (e instanceof CoreError) throw e;
      throw new CoreError('REPO_DAMAGED', `Index file ${id.slice(0, 12)} has an unknown shape.`);
    }
  }


  // ---- packs ----

  async listPacks(): Promise<Map<string, number>> {
    const packs = new Map<string, number>();
    const root = this.dir('data');
    for (const sub of await readdir(root)) {
      if (!/^[0-9a-f]{2}$/.test(sub)) continue;
      for (const name of await readdir(join(root, sub))) {
        if (isHexId(name) && name.startsWith(sub)) packs.set(name, (await stat(join(root, sub, name))).size);
      }
    }
    return packs;
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

  /** A pack's header entries, read from its end only. */
  async readPackHeader(packId: string): Promise<PackEntry[]> {
    const fh = await open(this.packPath(packId), 'r');
    try {
      const size = (await fh.stat()).size;
      if (size < TRAILER_BYTES) throw new CoreError('REPO_DAMAGED', `Pack ${packId.slice(0, 12)} is truncated.`);
      const trailer = Buffer.alloc(TRAILER_BYTES);
      await fh.read(trailer, 0, TRAILER_BYTES, size - TRAILER_BYTES);
      const where = headerLocation(trailer, size);
      const sealed = Buffer.alloc(where.length);
      await fh.read(sealed, 0, where.length, where.offset);
      return openHeader(this.keys.data, sealed, where.offset);
    } finally {
      await fh.close();
    }
  }

  /** One blob's plaintext, verified against its id; throws REPO_DAMAGED naming the pack otherwise. */
  async readBlob(id: string, loc: BlobLocation): Promise<Buffer> {
    const fh = await open(this.packPath(loc.pack), 'r');
    try {
      const sealed = Buffer.alloc(loc.length);
      const { bytesRead } = await fh.read(sealed, 0, loc.length, loc.offset);
      if (bytesRead !== loc.length) throw new CoreError('REPO_DAMAGED', `Pack ${loc.pack.slice(0, 12)} is truncated.`);
      return openBlob(this.keys, id, loc.type, loc.compressed, loc.rawLength, sealed, loc.pack);
    } finally {
      await fh.close();
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
    if (!loc) throw new CoreError('REPO_DAMAGED', `Tree ${id.slice(0, 12)} is missing from the index.`);
    const pack = this.treePack(loc.pack);
    if (loc.offset + loc.length > pack.length) throw new CoreError('REPO_DAMAGED', `Pack ${loc.pack.slice(0, 12)} is truncated.`);
    const sealed = pack.subarray(loc.offset, loc.offset + loc.length);
    const plain = openBlob(this.keys, id, 'tree', loc.compressed, loc.rawLength, sealed, loc.pack, this.scratch);
    const tree = decodeTree(plain);
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
      } catch {
        throw new CoreError('REPO_DAMAGED', `Pack ${packId.slice(0, 12)} is missing or cannot be read.`);
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
