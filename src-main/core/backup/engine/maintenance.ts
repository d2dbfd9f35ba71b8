/**
 * What a backup does to the repository before it adds anything: temp files a killed run left in
 * the local staging folder are removed, and packs a killed run stored but never indexed are
 * found (one listing of data/ through the Storage, then their headers read) so this run reuses
 * them and writes their index file (pack-installer.ts).
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from './lock.js';
import type { PackEntry } from './pack.js';
import type { LoadedIndex, RepoProblem, Repository } from './repository.js';

const TEMP_MAX_AGE_MS = 24 * 3600_000;

/** Remove staging files whose writer is gone (same host, dead pid) or that are a day old. */
export async function cleanTemp(repo: Repository): Promise<void> {
  const dir = repo.stagingDir();
  const host = hostname().replace(/[^A-Za-z0-9.-]/g, '_');
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const m = /^(.*)-(\d+)-[0-9a-f]{16}\.tmp$/.exec(name);
    const path = join(dir, name);
    const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
    const orphan = m ? m[1] === host && !pidAlive(Number(m[2])) : false;
    if (orphan || age > TEMP_MAX_AGE_MS) await rm(path, { force: true });
  }
}

export interface BackupIndex {
  loaded: LoadedIndex;
  /** Packs in data/ no readable index file lists, indexed from their headers: this run writes their index file. */
  recovered: Map<string, PackEntry[]>;
  /** Damage found and worked around (skipped index files, packs not relied on). */
  damage: RepoProblem[];
}

/**
 * The index a backup works from. One listing of data/ serves both: which packs the index may
 * rely on (present, of the size their entries add up to), and which packs a killed run left
 * unindexed.
 */
export async function backupIndex(repo: Repository, avoid?: ReadonlySet<string>): Promise<BackupIndex> {
  const packs = await repo.listPacks();
  const loaded = await repo.loadIndex({ packs, avoid });
  const recovered = new Map([...loaded.recovered, ...(await repo.indexUnlisted(loaded, packs))]);
  return { loaded, recovered, damage: [...loaded.damaged, ...loaded.excluded] };
}
