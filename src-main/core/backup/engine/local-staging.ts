/**
 * A repository's local side: the folder packs are written to before the storage gets them (a
 * folder repository's own tmp/, where installing is a rename; else a private temp folder, made
 * when first needed), and a remote storage's packs fetched whole as local files for the worker
 * threads that read packs themselves (check, restore). Each pack is fetched once, however many
 * ask for it at once (a restore's prefetch and its walk do: restore-prefetch.ts), and removed
 * once released (restore and check let each go when they are done with it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packName, type Storage } from './storage/storage.js';

/** Fetched packs kept locally at most, beyond those still in use (~16-24 MiB each). */
export const KEEP_STAGED = 24;

export class LocalStaging {
  private staging: string | null = null;
  private readonly fetched = new Map<string, string>();
  private readonly fetching = new Map<string, Promise<string>>();
  /** Fetched packs released by all that read them, oldest first: removed as room is needed. */
  private readonly idle = new Set<string>();

  constructor(private readonly storage: Storage) {}

  dir(): string {
    const own = this.storage.stagingDir?.();
    if (own) return own;
    this.staging ??= mkdtempSync(join(tmpdir(), 'twofold-staging-'));
    return this.staging;
  }

  /**
   * A pack as a local file: a folder repository's own file; a remote pack fetched whole once into
   * the staging folder. The name ends with the pack's id either way. A pack that cannot be fetched
   * gets a name where there is no file, so the worker that reads it reports it as a missing pack.
   */
  async pack(packId: string): Promise<string> {
    const own = this.storage.localPath?.(packName(packId));
    if (own) return own;
    const done = this.fetched.get(packId);
    if (done) {
      this.idle.delete(packId);
      return done;
    }
    let fetching = this.fetching.get(packId);
    if (!fetching) {
      fetching = this.fetch(packId).finally(() => this.fetching.delete(packId));
      this.fetching.set(packId, fetching);
    }
    return fetching;
  }

  private async fetch(packId: string): Promise<string> {
    const path = join(this.dir(), `fetched-${packId}`);
    try {
      if (this.storage.download) await this.storage.download(packName(packId), path);
      else await writeFile(path, await this.storage.read(packName(packId)), { mode: 0o600 });
    } catch {
      await rm(path, { force: true });
      return join(this.dir(), `missing-${packId}`);
    }
    this.fetched.set(packId, path);
    this.trim();
    return path;
  }

  /** Packs fetched or being fetched into the staging folder and not released: those in use or about to be. */
  get staged(): number {
    return this.fetched.size + this.fetching.size - this.idle.size;
  }

  /**
   * A fetched pack no one reads any longer. Its local file is kept while the staging folder holds
   * fewer than KEEP_STAGED packs (deduplicated data may want it again soon), the oldest released
   * going first; asked for again, a pack removed meanwhile is fetched again. A folder
   * repository's own pack files are never touched.
   */
  release(packId: string): void {
    if (!this.fetched.has(packId)) return;
    this.idle.add(packId);
    this.trim();
  }

  private trim(): void {
    for (const oldest of this.idle) {
      if (this.fetched.size + this.fetching.size <= KEEP_STAGED) return;
      this.idle.delete(oldest);
      rmSync(this.fetched.get(oldest)!, { force: true });
      this.fetched.delete(oldest);
    }
  }

  /** Remove what was staged locally (a folder repository's tmp/ is its own: left to maintenance). */
  close(): void {
    if (this.staging) rmSync(this.staging, { recursive: true, force: true });
    this.staging = null;
    this.fetched.clear();
    this.idle.clear();
  }
}
