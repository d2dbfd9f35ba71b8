/**
 * The backup service: what the contract's backup methods and the scheduler call. It opens
 * repositories with the vault-wrapped master key (no gate session needed), runs long work as
 * jobs, and records each backup set's runs in the history.
 */
import { randomInt } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { Clock } from '../clock.js';
import { CoreError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { KdfCost } from '../password-kdf.js';
import type { Store } from '../store.js';
import type { Vault } from '../vault.js';
import { backup, type BackupResult } from './backup.js';
import { BackupSetStore, type BackupSet, type RepositoryRow, type RunTrigger, type SetInput } from './backup-sets.js';
import { diffSnapshots, findEntries, listFolder } from './browse.js';
import { check, type CheckReport, type ReadData } from './check.js';
import { JobRegistry } from './jobs.js';
import { RepoLock } from './lock.js';
import { forget, forgetByPolicy, prune, type PruneResult, type Retention } from './prune.js';
import { REPO_KDF_COST, Repository } from './repository.js';
import { restore, type OnExisting, type RestoreSummary } from './restore.js';
import type { SnapshotWithId } from './snapshot.js';

const PASSWORD_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** 30 symbols of 5 bits (150 bits), in groups of five: easy to copy onto paper, hopeless to guess. */
export function newRepositoryPassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < 6; g++) {
    let s = '';
    for (let i = 0; i < 5; i++) s += PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)];
    groups.push(s);
  }
  return groups.join('-');
}

export interface BackupServiceDeps {
  store: Store;
  vault: Vault;
  clock: Clock;
  logger: Logger;
  repoKdfCost?: KdfCost;
  threads?: number;
}

export interface BackupJobResult {
  snapshotId: string;
  summary: BackupResult['summary'];
  forgotten: number;
  prune: PruneResult | null;
}

const setTag = (setId: string) => `set:${setId}`;

export class BackupService {
  readonly sets: BackupSetStore;
  readonly jobs: JobRegistry;
  private readonly kdfCost: KdfCost;

  constructor(private readonly deps: BackupServiceDeps) {
    this.sets = new BackupSetStore(deps.store, deps.vault, deps.clock);
    this.jobs = new JobRegistry(deps.clock);
    this.kdfCost = deps.repoKdfCost ?? REPO_KDF_COST;
    this.sets.markInterrupted();
  }

  // ---- repositories ----

  repositories(): RepositoryRow[] {
    return this.sets.repositories();
  }

  /** Create a repository; its password is returned here once and stored nowhere. */
  async initRepository(name: string, path: string): Promise<{ repository: RepositoryRow; password: string }> {
    requireAbsolute(path);
    const password = newRepositoryPassword();
    const { repo, master } = await Repository.init(path, password, this.kdfCost);
    try {
      const repository = await this.sets.addRepository(name, path, repo.id, master);
      this.deps.logger.info('repository created', { repository: repository.id });
      return { repository, password };
    } finally {
      master.fill(0);
    }
  }

  /** Connect an existing repository (a new machine, or after a reinstall) with its password. */
  async connectRepository(name: string, path: string, password: string): Promise<RepositoryRow> {
    requireAbsolute(path);
    const { repo, master } = await Repository.openWithPassword(path, password);
    try {
      const repository = await this.sets.addRepository(name, path, repo.id, master);
      this.deps.logger.info('repository connected', { repository: repository.id });
      return repository;
    } finally {
      master.fill(0);
    }
  }

  /** Replace every password key of the repository by one new password, returned once. */
  async changeRepositoryPassword(id: string): Promise<{ password: string }> {
    const row = this.sets.repository(id);
    const master = await this.sets.masterKey(id);
    try {
      const repo = this.open(row, master);
      const old = await repo.keyIds();
      const password = newRepositoryPassword();
      const added = await repo.addKey(master, password, this.kdfCost);
      for (const k of old) if (k !== added) await repo.removeKey(k);
      this.deps.logger.info('repository password changed', { repository: id });
      return { password };
    } finally {
      master.fill(0);
    }
  }

  /** Forget the repository here; with `deleteFiles`, also delete its folder (under the exclusive lock). */
  async removeRepository(id: string, deleteFiles: boolean): Promise<void> {
    const row = this.sets.repository(id);
    if (this.jobs.running((j) => j.repositoryId === id)) throw new CoreError('JOB_RUNNING', 'Wait for the running job on this repository to finish.');
    if (deleteFiles) {
      const repo = await this.openRepo(id);
      const lock = await RepoLock.acquire(repo, true);
      await lock.release();
      this.sets.removeRepository(id);
      await rm(row.path, { recursive: true, force: true });
    } else {
      this.sets.removeRepository(id);
    }
    this.deps.logger.info('repository removed', { repository: id, deleteFiles });
  }

  async openRepo(id: string): Promise<Repository> {
    const row = this.sets.repository(id);
    const master = await this.sets.masterKey(id);
    try {
      return this.open(row, master);
    } finally {
      master.fill(0);
    }
  }

  private open(row: RepositoryRow, master: Buffer): Repository {
    const repo = Repository.openWithMaster(row.path, master);
    if (repo.id !== row.repoId) {
      throw new CoreError('REPO_DAMAGED', `The folder ${row.path} now holds a different repository than the one connected.`);
    }
    return repo;
  }

  // ---- backup sets ----

  createSet(input: SetInput): BackupSet {
    input.sources.forEach(requireAbsolute);
    return this.sets.createSet(input);
  }

  updateSet(id: string, patch: Partial<Omit<SetInput, 'retention'>>): BackupSet {
    patch.sources?.forEach(requireAbsolute);
    return this.sets.updateSet(id, patch);
  }

  /** Retention removes snapshots, so the contract puts this behind a step-up. */
  setRetention(id: string, retention: Retention): BackupSet {
    return this.sets.updateSet(id, { retention });
  }

  deleteSet(id: string): void {
    if (this.jobs.running((j) => j.setId === id)) throw new CoreError('JOB_RUNNING', 'Wait for this set\'s running backup to finish.');
    this.sets.deleteSet(id);
  }

  isRunning(setId: string): boolean {
    return this.jobs.running((j) => j.setId === setId);
  }

  /** Start a backup of a set; returns the job id. Retention (forget, then prune) follows a success. */
  runSet(setId: string, trigger: RunTrigger = 'manual'): string {
    const set = this.sets.set(setId);
    if (this.isRunning(setId)) throw new CoreError('JOB_RUNNING', 'This backup set is already running.');
    const runId = this.sets.startRun(setId, trigger);
    return this.jobs.start({ kind: 'backup', repositoryId: set.repositoryId, setId }, async (signal, progress): Promise<BackupJobResult> => {
      try {
        const repo = await this.openRepo(set.repositoryId);
        const result = await backup(repo, {
          sources: set.sources,
          excludes: set.excludes,
          tags: [setTag(set.id)],
          signal,
          onProgress: progress,
          threads: this.deps.threads,
        });
        let forgotten = 0;
        let pruned: PruneResult | null = null;
        if (Object.values(set.retention).some((n) => (n ?? 0) > 0)) {
          const removed = await forgetByPolicy(repo, set.retention, (s) => s.tags.includes(setTag(set.id)));
          forgotten = removed.length;
          if (forgotten > 0) pruned = await prune(repo);
        }
        const s = result.summary;
        this.sets.finishRun(runId, {
          // A snapshot that left something out is not a plain success (docs/user-guide.md).
          state: s.errors.length > 0 ? 'incomplete' : 'succeeded',
          snapshotId: result.snapshotId,
          files: s.files,
          bytes: s.bytes,
          dataAdded: s.dataAdded,
          errors: s.errors.length,
          message: s.errors.length > 0 ? notKeptMessage(s.errors.length) : undefined,
        });
        this.deps.logger.info('backup finished', { set: set.id, trigger, files: s.files, errors: s.errors.length });
        return { snapshotId: result.snapshotId, summary: s, forgotten, prune: pruned };
      } catch (e) {
        const cancelled = e instanceof CoreError && e.code === 'CANCELLED';
        this.safeFinish(runId, cancelled ? 'cancelled' : 'failed', e instanceof CoreError ? e.message : 'Something went wrong inside Twofold Backup.');
        this.deps.logger.warn('backup did not finish', { set: set.id, trigger, code: e instanceof CoreError ? e.code : 'INTERNAL' });
        throw e;
      }
    });
  }

  private safeFinish(runId: number, state: 'failed' | 'cancelled', message: string): void {
    try {
      this.sets.finishRun(runId, { state, message });
    } catch {
      // The store may be closing (shutdown); the run is marked interrupted at next start.
    }
  }

  // ---- snapshots ----

  async snapshots(repositoryId: string): Promise<SnapshotWithId[]> {
    return (await this.openRepo(repositoryId)).snapshots();
  }

  async browse(repositoryId: string, snapshotId: string, path: string) {
    const repo = await this.openRepo(repositoryId);
    const snapshot = await repo.findSnapshot(snapshotId);
    const { index } = await repo.loadIndex();
    return listFolder(repo, index, snapshot, path);
  }

  async find(repositoryId: string, pattern: string, limit: number) {
    const repo = await this.openRepo(repositoryId);
    const { index } = await repo.loadIndex();
    return findEntries(repo, index, await repo.snapshots(), pattern, limit);
  }

  async diff(repositoryId: string, from: string, to: string, limit: number) {
    const repo = await this.openRepo(repositoryId);
    const { index } = await repo.loadIndex();
    return diffSnapshots(repo, index, await repo.findSnapshot(from), await repo.findSnapshot(to), limit);
  }

  async forget(repositoryId: string, snapshotIds: string[]): Promise<number> {
    const repo = await this.openRepo(repositoryId);
    const ids = await Promise.all(snapshotIds.map(async (s) => (await repo.findSnapshot(s)).id));
    return forget(repo, ids);
  }

  startRestore(
    repositoryId: string,
    snapshotId: string,
    options: { paths: string[]; targetDir: string | null; onExisting: OnExisting },
  ): string {
    this.sets.repository(repositoryId);
    if (options.targetDir !== null) requireAbsolute(options.targetDir);
    return this.jobs.start({ kind: 'restore', repositoryId }, async (signal, progress): Promise<RestoreSummary> => {
      const repo = await this.openRepo(repositoryId);
      const snapshot = await repo.findSnapshot(snapshotId);
      const { index } = await repo.loadIndex();
      return restore(repo, index, snapshot, { ...options, signal, onProgress: progress, threads: this.deps.threads });
    });
  }

  startCheck(repositoryId: string, readData: ReadData): string {
    this.sets.repository(repositoryId);
    return this.jobs.start({ kind: 'check', repositoryId }, async (signal, progress): Promise<CheckReport> => {
      const repo = await this.openRepo(repositoryId);
      return check(repo, { readData, signal, onProgress: progress, threads: this.deps.threads });
    });
  }

  startPrune(repositoryId: string): string {
    this.sets.repository(repositoryId);
    return this.jobs.start({ kind: 'prune', repositoryId }, async (): Promise<PruneResult> => prune(await this.openRepo(repositoryId)));
  }

  async close(): Promise<void> {
    await this.jobs.stopAll();
  }
}

/** The run's one line on what it could not keep (each item is named in the snapshot's summary). */
export function notKeptMessage(count: number): string {
  return count === 1 ? '1 item could not be kept in full; the summary names it.' : `${count} items could not be kept in full; the summary names them.`;
}

function requireAbsolute(path: string): void {
  if (!isAbsolute(path)) throw new CoreError('BAD_INPUT', 'Use a full path (starting with /).');
}
