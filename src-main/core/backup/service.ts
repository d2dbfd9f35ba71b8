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
import { DamagedPacks } from './damaged-packs.js';
import { retentionNote, runNote, toUserError } from './messages.js';
import { repair, type RepairReport, type RepairRequest } from './repair.js';
import { BackupSetStore, type BackupSet, type RepositoryRow, type RunTrigger, type SetInput } from './backup-sets.js';
import { diffSnapshots, findEntries, listFolder } from './browse.js';
import { check, type CheckReport, type ReadData } from './check.js';
import { JobRegistry } from './jobs.js';
import { RepoLock } from './lock.js';
import { forget, forgetByPolicy, prune, type PruneResult, type Retention } from './prune.js';
import { REPO_KDF_COST, Repository, type RepoProblem } from './repository.js';
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
  /** Damage the backup worked around (messages.ts words each): Check & repair mends it. */
  damage: { kind: RepoProblem['kind']; id: string; message: string }[];
  /** Why retention did not run this time (the snapshot was written all the same), or null. */
  retentionNote: string | null;
}

const setTag = (setId: string) => `set:${setId}`;

export class BackupService {
  readonly sets: BackupSetStore;
  readonly jobs: JobRegistry;
  private readonly kdfCost: KdfCost;

  /** Packs a check found damaged, per repository (damaged-packs.ts). */
  private readonly damagedPacks: DamagedPacks;

  constructor(private readonly deps: BackupServiceDeps) {
    this.sets = new BackupSetStore(deps.store, deps.vault, deps.clock);
    this.damagedPacks = new DamagedPacks(deps.store, deps.clock);
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

  /**
   * Start a backup of a set; returns the job id. Retention (forget, then prune) follows a
   * success; the run counts as succeeded once its snapshot is written, whatever retention does.
   */
  runSet(setId: string, trigger: RunTrigger = 'manual'): string {
    const set = this.sets.set(setId);
    if (this.isRunning(setId)) throw new CoreError('JOB_RUNNING', 'This backup set is already running.');
    const runId = this.sets.startRun(setId, trigger);
    return this.jobs.start({ kind: 'backup', repositoryId: set.repositoryId, setId }, async (signal, progress): Promise<BackupJobResult> => {
      let result: BackupResult;
      try {
        const repo = await this.openRepo(set.repositoryId);
        result = await backup(repo, {
          sources: set.sources,
          excludes: set.excludes,
          tags: [setTag(set.id)],
          signal,
          onProgress: progress,
          threads: this.deps.threads,
          avoidPacks: this.damagedPacks.of(set.repositoryId),
        });
      } catch (e) {
        const error = toUserError(e);
        this.safeFinish(runId, error.code === 'CANCELLED' ? 'cancelled' : 'failed', error.message);
        this.deps.logger.warn('backup did not finish', { set: set.id, trigger, code: error.code });
        throw error;
      }
      const { forgotten, pruned, note } = await this.applyRetention(set, result.snapshotId);
      const s = result.summary;
      const damage = result.damage.map(({ kind, id, message }) => ({ kind, id, message }));
      // A snapshot that left something out is not a plain success (docs/user-guide.md).
      this.safeFinish(runId, s.errors.length > 0 ? 'incomplete' : 'succeeded', runNote(s, damage.length, note), {
        snapshotId: result.snapshotId,
        files: s.files,
        bytes: s.bytes,
        dataAdded: s.dataAdded,
        errors: s.errors.length,
      });
      this.deps.logger.info('backup finished', { set: set.id, trigger, files: s.files, errors: s.errors.length, warnings: s.warnings.length, damage: damage.length });
      return { snapshotId: result.snapshotId, summary: s, forgotten, prune: pruned, damage, retentionNote: note };
    });
  }

  /**
   * A set's retention after its backup: forget by policy, then prune. Another job holding the
   * repository (another set backing up into it) postpones it to the next run: never a failure
   * of the run whose snapshot is written.
   */
  private async applyRetention(set: BackupSet, snapshotId: string): Promise<{ forgotten: number; pruned: PruneResult | null; note: string | null }> {
    if (!Object.values(set.retention).some((n) => (n ?? 0) > 0)) return { forgotten: 0, pruned: null, note: null };
    let forgotten = 0;
    try {
      const repo = await this.openRepo(set.repositoryId);
      const removed = await forgetByPolicy(repo, set.retention, (s) => s.tags.includes(setTag(set.id)));
      forgotten = removed.length;
      return { forgotten, pruned: forgotten > 0 ? await prune(repo) : null, note: null };
    } catch (e) {
      const error = toUserError(e);
      this.deps.logger.warn('retention did not run', { set: set.id, snapshot: snapshotId.slice(0, 12), code: error.code });
      return { forgotten, pruned: null, note: retentionNote(error) };
    }
  }

  private safeFinish(runId: number, state: 'succeeded' | 'incomplete' | 'failed' | 'cancelled', message: string | undefined, figures: Omit<Parameters<BackupSetStore['finishRun']>[1], 'state' | 'message'> = {}): void {
    try {
      this.sets.finishRun(runId, { state, message, ...figures });
    } catch {
      // The store may be closing (shutdown); the run is marked interrupted at next start.
    }
  }

  // ---- snapshots ----

  /** Every snapshot that opens, and the snapshot files that do not (named, never hiding the rest). */
  async snapshots(repositoryId: string): Promise<{ snapshots: SnapshotWithId[]; damaged: RepoProblem[] }> {
    return (await this.openRepo(repositoryId)).loadSnapshots();
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

  /** Delete snapshot files by id (or unique prefix): a damaged one too, which cannot be opened. */
  async forget(repositoryId: string, snapshotIds: string[]): Promise<number> {
    const repo = await this.openRepo(repositoryId);
    const ids = await Promise.all(snapshotIds.map((s) => repo.resolveSnapshotId(s)));
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
      // Around packs that are gone, cut short or known damaged, whenever another copy exists.
      const { index } = await repo.readingIndex(this.damagedPacks.of(repositoryId));
      return restore(repo, index, snapshot, { ...options, signal, onProgress: progress, threads: this.deps.threads });
    });
  }

  startCheck(repositoryId: string, readData: ReadData): string {
    this.sets.repository(repositoryId);
    return this.jobs.start({ kind: 'check', repositoryId }, async (signal, progress): Promise<CheckReport> => {
      const repo = await this.openRepo(repositoryId);
      const report = await check(repo, { readData, signal, onProgress: progress, threads: this.deps.threads });
      await this.rememberDamage(repositoryId, repo, report, readData);
      return report;
    });
  }

  /**
   * What a check found, for the next backups and restores: damaged packs on disk are known
   * damaged from now on; a known one that is gone, or that a check of all data read whole and
   * found sound, is known damaged no more.
   */
  private async rememberDamage(repositoryId: string, repo: Repository, report: CheckReport, readData: ReadData): Promise<void> {
    const onDisk = await repo.packNames();
    const found = new Set(report.damagedPacks.filter((p) => onDisk.has(p)));
    this.damagedPacks.mark(repositoryId, found);
    const cleared = [...this.damagedPacks.of(repositoryId)].filter((p) => !onDisk.has(p) || (readData.kind === 'all' && !found.has(p)));
    this.damagedPacks.clear(repositoryId, cleared);
  }

  startPrune(repositoryId: string): string {
    this.sets.repository(repositoryId);
    return this.jobs.start({ kind: 'prune', repositoryId }, async (): Promise<PruneResult> => prune(await this.openRepo(repositoryId)));
  }

  /**
   * Repair (repair.ts): save what damaged packs hold and remove them, rebuild the index,
   * rewrite snapshots without what they lost. It deletes files, so the contract puts it behind a
   * step-up; the report says what was saved and what was lost.
   */
  startRepair(repositoryId: string, request: RepairRequest): string {
    this.sets.repository(repositoryId);
    if (this.jobs.running((j) => j.repositoryId === repositoryId)) throw new CoreError('JOB_RUNNING', 'Wait for the running job on this repository to finish.');
    return this.jobs.start({ kind: 'repair', repositoryId }, async (signal, progress): Promise<RepairReport> => {
      const repo = await this.openRepo(repositoryId);
      const report = await repair(repo, request, { signal, onProgress: progress });
      this.damagedPacks.clear(repositoryId, report.packs.filter((p) => p.outcome !== 'intact').map((p) => p.id));
      this.deps.logger.info('repository repaired', {
        repository: repositoryId,
        packsRemoved: report.packs.filter((p) => p.outcome === 'removed').length,
        blobsLost: report.packs.reduce((a, p) => a + p.blobsLost, 0) + (report.index?.blobsLost ?? 0),
        snapshotsRewritten: report.snapshots?.rewritten.length ?? 0,
        snapshotsRemoved: report.snapshots?.removed.length ?? 0,
      });
      return report;
    });
  }

  async close(): Promise<void> {
    await this.jobs.stopAll();
  }
}

/** The run's one line on what it could not keep (each item is named in the snapshot's summary). */
function requireAbsolute(path: string): void {
  if (!isAbsolute(path)) throw new CoreError('BAD_INPUT', 'Use a full path (starting with /).');
}
