/**
 * A repository in a local folder (or a mounted share): each object is the file of the same
 * name under the folder, as every Twofold repository has been laid out (docs/repository-format.md).
 * Writes go to tmp/ first, are fsynced, renamed into place and their folder fsynced, so a reader
 * sees no file or the whole file and a kill leaves at most a stray temp file in tmp/.
 */
import { copyFile, lstat, mkdir, open, readdir, readFile, rename, rm, stat, statfs } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fsyncDir, tempName, writeFileAtomic } from '../atomic.js';
import { StorageError, type Storage, type StorageErrorCode, type StorageObject, type StagedFile } from './storage.js';

/** The folders of a repository, made by prepare(): data/ has one per first byte of a pack id. */
const FOLDERS = ['data', 'index', 'snapshots', 'keys', 'locks', 'tmp'] as const;

const CODES: Record<string, StorageErrorCode> = {
  ENOENT: 'NOT_FOUND',
  ENOTDIR: 'NOT_FOUND',
  ENOSPC: 'NO_SPACE',
  EDQUOT: 'NO_SPACE',
  EFBIG: 'NO_SPACE',
  EACCES: 'PERMISSION_DENIED',
  EPERM: 'PERMISSION_DENIED',
  EROFS: 'PERMISSION_DENIED',
  EIO: 'UNREACHABLE',
  ENOTCONN: 'UNREACHABLE',
  ESTALE: 'UNREACHABLE',
  ETIMEDOUT: 'UNREACHABLE',
  EHOSTDOWN: 'UNREACHABLE',
};

/** A file-system error as a StorageError; the errno error stays its cause (messages.ts words it). */
function classified(e: unknown, name: string): StorageError {
  if (e instanceof StorageError) return e;
  const code = (e as NodeJS.ErrnoException | null)?.code ?? '';
  return new StorageError(CODES[code] ?? 'FAILED', `${name}: ${code || String(e)}`, { cause: e });
}

export class FolderStorage implements Storage {
  readonly kind = 'folder' as const;
  readonly appendOnly = false;

  constructor(readonly root: string) {}

  get location(): string {
    return this.root;
  }

  localPath(name: string): string {
    return join(this.root, ...name.split('/'));
  }

  stagingDir(): string {
    return join(this.root, 'tmp');
  }

  async freeBytes(): Promise<number | null> {
    try {
      const fs = await statfs(this.root);
      return fs.bavail * fs.bsize;
    } catch {
      return null;
    }
  }

  /**
   * Make the repository's folders. The folder itself may be missing, never its parent: a path
   * on an unmounted drive would otherwise land on the system disk.
   */
  async prepare(): Promise<void> {
    const parent = dirname(this.root);
    if (!existsSync(parent) || !statSync(parent).isDirectory()) throw new StorageError('NOT_FOUND', parent);
    if (existsSync(this.root) && !statSync(this.root).isDirectory()) throw new StorageError('FAILED', `${this.root} is a file, not a folder`);
    try {
      await mkdir(this.root, { mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
      for (const d of FOLDERS) await mkdir(join(this.root, d), { recursive: true, mode: 0o700 });
      for (let i = 0; i < 256; i++) await mkdir(join(this.root, 'data', i.toString(16).padStart(2, '0')), { recursive: true, mode: 0o700 });
    } catch (e) {
      throw classified(e, this.root);
    }
  }

  async stat(name: string): Promise<StorageObject | null> {
    try {
      const st = await stat(this.localPath(name));
      return st.isFile() ? { name, size: st.size } : null;
    } catch (e) {
      if (classified(e, name).code === 'NOT_FOUND') return null;
      throw classified(e, name);
    }
  }

  /** Every file below `dir`, recursively, with its size; [] when `dir` is not there (but the repository is). */
  async list(dir: string): Promise<StorageObject[]> {
    const top = dir === '' ? this.root : this.localPath(dir);
    const found: StorageObject[] = [];
    try {
      await this.walk(top, found, dir === '');
    } catch (e) {
      const err = classified(e, dir || '.');
      if (err.code === 'NOT_FOUND' && top !== this.root && existsSync(this.root)) return [];
      throw err;
    }
    return found;
  }

  private async walk(folder: string, out: StorageObject[], atRoot: boolean): Promise<void> {
    const entries = await readdir(folder, { withFileTypes: true });
    const files: string[] = [];
    for (const entry of entries) {
      // tmp/ is local staging, not part of the repository's objects.
      if (atRoot && entry.name === 'tmp') continue;
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await this.walk(path, out, false);
      else if (entry.isFile()) files.push(path);
    }
    const sizes = await Promise.all(
      files.map((path) =>
        stat(path).then(
          (st) => st.size,
          () => -1,
        ),
      ),
    );
    files.forEach((path, i) => {
      // -1: removed between the listing and its stat.
      if (sizes[i]! >= 0) out.push({ name: relative(this.root, path).split(sep).join('/'), size: sizes[i]! });
    });
  }

  async read(name: string, range?: { offset: number; length: number }): Promise<Buffer> {
    try {
      if (!range) return await readFile(this.localPath(name));
      const fh = await open(this.localPath(name), 'r');
      try {
        const out = Buffer.alloc(range.length);
        let done = 0;
        while (done < range.length) {
          const { bytesRead } = await fh.read(out, done, range.length - done, range.offset + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        // Past the end: the bytes there are, for the caller to find short.
        return done === range.length ? out : out.subarray(0, done);
      } finally {
        await fh.close();
      }
    } catch (e) {
      throw classified(e, name);
    }
  }

  async write(name: string, data: Buffer | StagedFile): Promise<void> {
    const dest = this.localPath(name);
    try {
      const size = Buffer.isBuffer(data) ? data.length : data.size;
      const there = await lstat(dest).catch(() => null);
      if (there) {
        if (there.size === size) {
          // The same name is the same bytes: a repeat (a resumed run).
          return;
        }
        throw new StorageError('FAILED', `${name} exists already with another size`);
      }
      if (Buffer.isBuffer(data)) {
        await writeFileAtomic(this.stagingDir(), dest, [data]);
        return;
      }
      await this.install(data.file, dest);
    } catch (e) {
      throw classified(e, name);
    }
  }

  /** A staged file into place: fsynced, renamed (copied first when staged elsewhere), folder fsynced. */
  private async install(file: string, dest: string): Promise<void> {
    let staged = file;
    if (dirname(file) !== this.stagingDir()) {
      staged = tempName(this.stagingDir());
      await copyFile(file, staged);
    }
    const fh = await open(staged, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await mkdir(dirname(dest), { recursive: true, mode: 0o700 });
    await rename(staged, dest);
    fsyncDir(dirname(dest));
  }

  async replace(name: string, data: Buffer): Promise<void> {
    try {
      await writeFileAtomic(this.stagingDir(), this.localPath(name), [data]);
    } catch (e) {
      throw classified(e, name);
    }
  }

  async delete(name: string): Promise<void> {
    try {
      await rm(this.localPath(name), { force: true });
    } catch (e) {
      throw classified(e, name);
    }
  }

  async close(): Promise<void> {}
}

/** A folder path as the Storage of the repository in it (what tests and the service pass). */
export function folderStorage(path: string): FolderStorage {
  return new FolderStorage(path);
}
