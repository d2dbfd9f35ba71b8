/**
 * A repository in a folder on an SFTP server: each object is the file `<path>/<name>`, the same
 * layout as a folder repository (docs/repository-format.md, "Storage"). One SSH connection
 * carries `connections` SFTP sessions (sftp-pool.ts); the server's host key must be the pinned
 * one (sftp-host-key.ts).
 *
 * Writes are atomic and create-only: the bytes go to `tmp/<random>` in the repository (created
 * read-only, mode 0400, so an append-only account cannot open them for writing later), are
 * fsynced where the server offers fsync@openssh.com, then plain SFTP `rename` puts them in place.
 * OpenSSH implements that rename as link + unlink, which refuses to replace an existing file: a
 * name that exists already with the same size is a repeat (success), with another size a failure.
 * `replace` (config only) uses posix-rename@openssh.com, which replaces atomically.
 */
import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { posix } from 'node:path';
import type { FileEntryWithStats } from 'ssh2';
import { SFTP_STATUS, sftpStatus } from './sftp-errors.js';
import { SftpPool, type Channel, type SftpAuth } from './sftp-pool.js';
import { CHUNK, receiveRange, receiveRest, receiveToFile, sendAll, type UploadSource } from './sftp-transfer.js';
import { StorageError, StorageListeners, type Pacer, type Storage, type StorageListener, type StorageObject } from './storage.js';

export type { SftpAuth } from './sftp-pool.js';
export { sftpHostKey } from './sftp-host-key.js';

export interface SftpStorageOptions {
  host: string;
  /** Default 22. */
  port?: number;
  username: string;
  /** Absolute folder of the repository on the server. */
  path: string;
  auth: SftpAuth;
  /** The pinned fingerprint, `SHA256:<base64 without padding>` as `ssh-keygen -l` prints it. Without it every connection is refused (HOST_KEY_UNKNOWN). */
  hostKey?: string;
  /** SFTP sessions in flight at once; default 4. */
  connections?: number;
  /** These credentials may add but not delete or overwrite (an append-only account). */
  appendOnly?: boolean;
  /** Milliseconds to connect, shake hands and authenticate; default 15 s. */
  connectTimeoutMs?: number;
  /** Attempts per operation, the first included, before a lost connection is final; default 5. */
  maxAttempts?: number;
}

/** The folders of a repository, made by prepare(); data/ has one per first byte of a pack id. */
const FOLDERS = ['keys', 'data', 'index', 'snapshots', 'locks', 'tmp'] as const;
const DATA_FOLDERS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const MAX_DEPTH = 8;
const TEMP_MAX_AGE_S = 24 * 3600;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

const isDir = (mode: number) => (mode & S_IFMT) === S_IFDIR;
const isFile = (mode: number) => (mode & S_IFMT) === S_IFREG;
const missing = (e: unknown) => sftpStatus(e) === SFTP_STATUS.NO_SUCH_FILE;

function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export class SftpStorage implements Storage {
  readonly kind = 'sftp' as const;
  readonly appendOnly: boolean;
  readonly connections: number;
  readonly root: string;
  private readonly pool: SftpPool;
  private readonly listeners = new StorageListeners();
  /** A bandwidth limit's buckets, once bandwidth.ts gave them: every request of a transfer goes through them. */
  private pacer: Pacer | null = null;
  private readonly options: SftpStorageOptions;
  private swept: Promise<void> | null = null;

  constructor(options: SftpStorageOptions) {
    if (!options.path.startsWith('/')) throw new RangeError('the repository path on the SFTP server must be absolute');
    this.options = options;
    this.root = posix.normalize(options.path).replace(/(.)\/+$/, '$1');
    this.appendOnly = options.appendOnly ?? false;
    this.connections = Math.max(1, Math.floor(options.connections ?? 4));
    this.pool = new SftpPool({
      host: options.host,
      port: options.port ?? 22,
      username: options.username,
      auth: options.auth,
      hostKey: options.hostKey,
      channels: this.connections,
      connectTimeoutMs: options.connectTimeoutMs ?? 15_000,
      maxAttempts: Math.max(1, Math.floor(options.maxAttempts ?? 5)),
      onEvent: (e) => this.listeners.emit(e),
    });
  }

  /** Retries after a lost connection, as the pool makes them (a job shows "Waiting for the storage"). */
  watch(listener: StorageListener): () => void {
    return this.listeners.add(listener);
  }

  paceWith(pacer: Pacer): void {
    this.pacer = pacer;
  }

  get location(): string {
    const o = this.options;
    return `sftp://${o.username}@${hostForUrl(o.host)}:${o.port ?? 22}${this.root}`;
  }

  private path(name: string): string {
    if (name === '') return this.root;
    if (name.startsWith('/') || name.split('/').some((p) => p === '..' || p === '.' || p === ''))
      throw new StorageError('FAILED', `not an object name: ${name}`);
    return `${this.root === '/' ? '' : this.root}/${name}`;
  }

  private tmpPath(): string {
    return this.path(`tmp/${randomBytes(16).toString('hex')}`);
  }

  /**
   * Make the repository's folders, only those missing (so it is idempotent and cheap again). The
   * folder itself may be missing, never its parent: a typo in the path then says so.
   */
  async prepare(): Promise<void> {
    const top = await this.pool.run(`prepare ${this.root}`, async (ch) => {
      const there = await ch.stat(this.root).catch((e: unknown) => {
        if (missing(e)) return null;
        throw e;
      });
      if (there && !isDir(there.mode)) throw new StorageError('FAILED', `${this.root} is a file, not a folder`);
      if (!there) {
        await ch.stat(posix.dirname(this.root)).catch((e: unknown) => {
          throw missing(e) ? new StorageError('NOT_FOUND', `${posix.dirname(this.root)} does not exist on the server`) : e;
        });
        await this.mkdir(ch, this.root);
      }
      return new Set((await ch.readdir(this.root)).map((e) => e.filename));
    });
    const folders = FOLDERS.filter((f) => !top.has(f));
    await this.pool.runEach('prepare', folders, (ch, f) => this.mkdir(ch, this.path(f)));
    const data = await this.pool.run('prepare data', async (ch) => new Set((await ch.readdir(this.path('data'))).map((e) => e.filename)));
    const sub = DATA_FOLDERS.filter((d) => !data.has(d));
    await this.pool.runEach('prepare data', sub, (ch, d) => this.mkdir(ch, this.path(`data/${d}`)));
  }

  /** mkdir that is content with a folder already there (OpenSSH answers EEXIST with a plain FAILURE). */
  private async mkdir(ch: Channel, path: string): Promise<void> {
    try {
      await ch.mkdir(path);
    } catch (e) {
      const st = await ch.stat(path).catch(() => null);
      if (st && isDir(st.mode)) return;
      throw e;
    }
  }

  async stat(name: string): Promise<StorageObject | null> {
    return this.pool.run(`stat ${name}`, async (ch) => {
      try {
        const st = await ch.stat(this.path(name));
        return isFile(st.mode) ? { name, size: st.size } : null;
      } catch (e) {
        if (missing(e)) return null;
        throw e;
      }
    });
  }

  /**
   * Every file below `dir`, recursively: one folder level at a time, the folders of a level
   * listed in parallel over the sessions (data/ has 256). tmp/ at the root is left out.
   */
  private async walk(dir: string): Promise<StorageObject[]> {
    const found: StorageObject[] = [];
    let level: string[] = [dir.replace(/\/+$/, '')];
    let first = true;
    // A repository is two folders deep (data/ab/…): a server that shows folders without end is not followed.
    for (let depth = 0; level.length > 0 && depth < MAX_DEPTH; depth++) {
      const listings = await this.pool.runEach(`list ${dir || '.'}`, level, (ch, d) =>
        ch.readdir(this.path(d)).catch((e: unknown) => {
          if (missing(e) && !first) return [] as FileEntryWithStats[]; // removed while listing
          throw e;
        }),
      );
      const next: string[] = [];
      listings.forEach((entries, i) => {
        const d = level[i]!;
        for (const e of entries) {
          if (e.filename === '.' || e.filename === '..' || e.filename.includes('/')) continue;
          const name = d === '' ? e.filename : `${d}/${e.filename}`;
          if (isDir(e.attrs.mode)) {
            if (!(d === '' && e.filename === 'tmp')) next.push(name);
          } else if (isFile(e.attrs.mode)) found.push({ name, size: e.attrs.size });
        }
      });
      level = next;
      first = false;
    }
    return found;
  }

  /** Every object below `dir`; [] when the repository is there but the folder is not. */
  async list(dir: string): Promise<StorageObject[]> {
    try {
      return await this.walk(dir);
    } catch (e) {
      if (dir !== '' && e instanceof StorageError && e.code === 'NOT_FOUND' && (await this.rootExists())) return [];
      throw e;
    }
  }

  private async rootExists(): Promise<boolean> {
    return this.pool.run('stat', (ch) =>
      ch.stat(this.root).then(
        (st) => isDir(st.mode),
        () => false,
      ),
    );
  }

  async read(name: string, range?: { offset: number; length: number }): Promise<Buffer> {
    return this.pool.run(`read ${name}`, async (ch) => {
      const handle = await this.openToRead(ch, name);
      try {
        if (range) return await receiveRange(ch, handle, range.offset, range.length, this.pacer);
        // Its size and its first chunk at once: a small object (an index, a snapshot) in one round trip.
        const [{ size }, head] = await Promise.all([ch.fstat(handle), receiveRange(ch, handle, 0, CHUNK, this.pacer)]);
        return await receiveRest(ch, handle, head, size, this.pacer);
      } finally {
        // Not waited for: the session answers it in turn, and nothing depends on it.
        void ch.close(handle).catch(() => undefined);
      }
    });
  }

  private openToRead(ch: Channel, name: string): Promise<Buffer> {
    return ch.open(this.path(name), 'r').catch((e: unknown) => {
      throw missing(e) ? new StorageError('NOT_FOUND', name) : e;
    });
  }

  /**
   * A whole object into a new local file (mode 0600), written as it arrives (sftp-transfer.ts
   * receiveToFile): a restore's staged pack is never held in memory whole. An attempt run again
   * on a new connection starts the file afresh.
   */
  async download(name: string, file: string): Promise<void> {
    await this.pool.run(`read ${name}`, async (ch) => {
      const handle = await this.openToRead(ch, name);
      try {
        const fh = await open(file, 'w', 0o600);
        try {
          await receiveToFile(ch, handle, fh, this.pacer);
        } finally {
          await fh.close();
        }
      } finally {
        void ch.close(handle).catch(() => undefined);
      }
    });
  }

  /**
   * Uploads cut off (a kill, a lost connection) leave their temp files in tmp/: those a day old
   * go, once per storage, before its first write (no upload takes a day). Not by an append-only
   * account, which may not delete; best effort, never failing the write.
   */
  private sweepTemp(): Promise<void> {
    this.swept ??= this.appendOnly
      ? Promise.resolve()
      : this.pool
          .run('sweep tmp', async (ch) => {
            const cutoff = Date.now() / 1000 - TEMP_MAX_AGE_S;
            const old = (await ch.readdir(this.path('tmp'))).filter((e) => isFile(e.attrs.mode) && e.attrs.mtime < cutoff && /^[0-9a-f]{32}$/.test(e.filename));
            for (const e of old) await ch.unlink(this.path(`tmp/${e.filename}`)).catch(() => undefined);
          })
          .catch(() => undefined);
    return this.swept;
  }

  async write(name: string, data: UploadSource): Promise<void> {
    await this.sweepTemp();
    const size = Buffer.isBuffer(data) ? data.length : data.size;
    const dest = this.path(name);
    await this.pool.run(`write ${name}`, async (ch) => {
      if (await this.alreadyThere(ch, dest, name, size)) return;
      const tmp = await this.upload(ch, data, size, name);
      try {
        await ch.rename(tmp, dest).catch(async (e: unknown) => {
          // A folder that is not there yet (a repository made by an older prepare): make it, once.
          if (
            !missing(e) ||
            (await ch.stat(posix.dirname(dest)).then(
              () => true,
              () => false,
            ))
          )
            throw e;
          await this.mkdir(ch, posix.dirname(dest));
          await ch.rename(tmp, dest);
        });
      } catch (e) {
        await ch.unlink(tmp).catch(() => undefined);
        // Someone (or our own attempt whose answer was lost) put it there first.
        if (await this.alreadyThere(ch, dest, name, size)) return;
        throw e;
      }
    });
  }

  /** True when `dest` is there with `size` bytes (a repeat); throws when it is there with another size. */
  private async alreadyThere(ch: Channel, dest: string, name: string, size: number): Promise<boolean> {
    const st = await ch.stat(dest).catch((e: unknown) => {
      if (missing(e)) return null;
      throw e;
    });
    if (!st) return false;
    if (isFile(st.mode) && st.size === size) return true;
    throw new StorageError('FAILED', `${name} exists already with another size`);
  }

  /** The bytes to a new read-only temp file in tmp/, fsynced and closed: its path. */
  private async upload(ch: Channel, data: UploadSource, size: number, name: string): Promise<string> {
    const tmp = this.tmpPath();
    const handle = await ch.open(tmp, 'wx', 0o400).catch(async (e: unknown) => {
      // tmp/ removed by someone tidying the server: make it again, once.
      if (!missing(e)) throw e;
      await this.mkdir(ch, this.path('tmp'));
      return ch.open(tmp, 'wx', 0o400);
    });
    let closed = false;
    try {
      await sendAll(ch, handle, data, size, this.pacer);
      // The server's disk holds it before its name says so (where the server can be asked to);
      // the close is sent with the fsync, which the server answers first (same handle).
      const synced = ch.fsync(handle).catch((e: unknown) => {
        if (sftpStatus(e) !== undefined) throw e;
      });
      closed = true;
      await Promise.all([synced, ch.close(handle)]);
      return tmp;
    } catch (e) {
      if (!closed) await ch.close(handle).catch(() => undefined);
      await ch.unlink(tmp).catch(() => undefined);
      throw await this.spaceProblem(ch, e, size, name);
    }
  }

  async freeBytes(): Promise<number | null> {
    const info = await this.pool.run('statvfs', (ch) => ch.statvfs(this.root)).catch(() => null);
    return info ? Number(info.f_bavail) * Number(info.f_frsize) : null;
  }

  /** OpenSSH says a full disk with a plain FAILURE: the free space it reports tells which it was. */
  private async spaceProblem(ch: Channel, e: unknown, size: number, name: string): Promise<unknown> {
    if (sftpStatus(e) !== SFTP_STATUS.FAILURE) return e;
    const info = await ch.statvfs(this.root).catch(() => null);
    if (info && Number(info.f_bavail) * Number(info.f_frsize) < size + 1024 * 1024)
      return new StorageError('NO_SPACE', `write ${name}: the server's disk is full`);
    return e;
  }

  async replace(name: string, data: Buffer): Promise<void> {
    await this.pool.run(`replace ${name}`, async (ch) => {
      const tmp = await this.upload(ch, data, data.length, name);
      try {
        await ch.posixRename(tmp, this.path(name));
      } catch (e) {
        await ch.unlink(tmp).catch(() => undefined);
        // OpenSSH offers no posix-rename to an account denied it (internal-sftp -P posix-rename).
        if (sftpStatus(e) === undefined && /does not support/i.test(String(e))) {
          throw new StorageError(
            'PERMISSION_DENIED',
            `replace ${name}: the server does not allow posix-rename@openssh.com (an append-only account?), so it cannot be replaced`,
          );
        }
        throw e;
      }
    });
  }

  async delete(name: string): Promise<void> {
    await this.pool.run(`delete ${name}`, async (ch) => {
      await ch.unlink(this.path(name)).catch((e: unknown) => {
        if (!missing(e)) throw e;
      });
    });
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
