/**
 * A repository's local side: the folder packs are written to before the storage gets them (a
 * folder repository's own tmp/, where installing is a rename; else a private temp folder, made
 * when first needed), and a remote storage's packs fetched whole as local files for the worker
 * threads that read packs themselves (check, restore). Each pack is fetched once, however many
 * ask for it at once (a restore's prefetch and its walk do: restore-prefetch.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packName, type Storage } from './storage/storage.js';

export class LocalStaging {
  private staging: string | null = null;
  private readonly fetched = new Map<string, string>();
  private readonly fetching = new Map<string, Promise<string>>();

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
    if (done) return done;
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
    return path;
  }

  /** Remove what was staged locally (a folder repository's tmp/ is its own: left to maintenance). */
  close(): void {
    if (this.staging) rmSync(this.staging, { recursive: true, force: true });
    this.staging = null;
    this.fetched.clear();
  }
}
