/**
 * The backup service: what the contract's backup methods and the scheduler call. It opens
 * repositories with the vault-wrapped master key (no gate session needed), runs long work as
 * jobs, and records each backup set's runs in the history. It holds the line of
 * docs/security.md ("Nothing below step-up destroys what a step-up protects") on its own too:
 * a change of a set that retention would turn against its snapshots, and a restore that
 * overwrites files, need `confirmed` (a step-up proof the router spent); a restore never writes
 * into a repository or the data folder. Every change and every read-out or removal of backed-up
 * data goes to the audit log.
 */
import { retentionText } from '../../../src-shared/contract-backup.js';
import type { Clock } from '../platform/clock.js';
import type { RequestContext } from '../platform/context.js';
import { CoreError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import type { KdfCost } from '../platform/password-kdf.js';
import type { LocationInput, MaintenanceCredentials } from '../../../src-shared/repository-location.js';
import type { Store } from '../platform/store.js';
import type { RepositoryKeySource } from './key-source.js';
import { backup, type BackupResult } from './engine/backup.js';
import type { HostKeyReader } from './connection-test.js';
import { RepositoryManager, type RepositoryOptions } from './repositories.js';
import { sftpHostKey } from './engine/storage/sftp.js';
import { DamagedPacks } from './damaged-packs.js';
import { retentionNote, runNote, toUserError } from './engine/messages.js';
import { repair, type RepairReport, type RepairRequest } from './engine/repair.js';
import {
  clip,
  count,
  repairText,
  repoText,
  restoreText,
  retentionChange,
  setChangeNeedsConfirmation,
  setChanges,
  snapshotText,
  type BackupAuditEvent,
  type BackupAuditSink,
} from './backup-audit.js';
import { BackupSetStore, type BackupSet, type RepositoryRow, type RunTrigger, type SetInput } from './backup-sets.js';
import { diffSnapshots, findEntries, listFolder } from './engine/browse.js';
import { check, type CheckReport, type ReadData } from './engine/check.js';
import { JobRegistry } from './jobs.js';
import { forget, forgetByPolicy, prune, type PruneResult, type Retention } from './engine/prune.js';
import { assertRestoreAllowed, requireAbsolute, type ProtectedFolder } from './protected-paths.js';
import { newRepositoryPassword } from './repository-password.js';
import { REPO_KDF_COST, type Repository, type RepoProblem } from './engine/repository.js';
import { restore, type OnExisting, type RestoreSummary } from './engine/restore.js';
import type { SnapshotWithId } from './engine/snapshot.js';
import { BACKUP_MESSAGES } from './messages.js';

export { newRepositoryPassword };

export interface BackupServiceDeps {
  store: Store;
  vault: RepositoryKeySource;
  clock: Clock;
  logger: Logger;
  /** The app's data folder: a restore never writes into it, and no repository lives in it. */
  dataDir?: string;
  audit?: BackupAuditSink;
  repoKdfCost?: KdfCost;
  threads?: number;
  /** How Test connection reads an SFTP server's key (engine/storage/sftp.ts). */
  hostKeyOf?: HostKeyReader;
}

/** Who asked, and whether the router spent a step-up proof on this call. */
export interface CallerInfo {
  ctx?: RequestContext;
  confirmed?: boolean;
}

export type SetPatch = Partial<Omit<SetInput, 'retention'>>;

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
  readonly repos: RepositoryManager;

  /** Packs a check found damaged, per repository (damaged-packs.ts). */
  private readonly damagedPacks: DamagedPacks;

  constructor(private readonly deps: BackupServiceDeps) {
    this.sets = new BackupSetStore(deps.store, deps.vault, deps.clock);
    this.damagedPacks = new DamagedPacks(deps.store, deps.clock);
    this.jobs = new JobRegistry(deps.clock);
    this.repos = new RepositoryManager({
      sets: this.sets,
      jobs: this.jobs,
      logger: deps.logger,
      kdfCost: deps.repoKdfCost ?? REPO_KDF_COST,
      dataDir: deps.dataDir,
      hostKeyOf: deps.hostKeyOf ?? sftpHostKey,
      record: (caller, event) => this.record(caller, event),
    });
    this.sets.markInterrupted();
  }

  // ---- repositories (repositories.ts) ----

  repositories(): RepositoryRow[] {
    return this.repos.list();
  }

  /** The folders a restore never writes into and no repository is put into. */
  protectedFolders(): ProtectedFolder[] {
    return this.repos.protectedFolders();
  }

  private record(caller: CallerInfo | undefined, event: BackupAuditEvent): void {
    this.deps.audit?.(caller?.ctx ?? null, { ...event, detail: clip(event.detail) });
  }

  /** Create a repository (a folder's path, or a location); its password is returned here once and stored nowhere. */
  initRepository(
    name: string,
    where: string | LocationInput,
    caller?: CallerInfo,
    options: RepositoryOptions = {},
  ): Promise<{ repository: RepositoryRow; password: string }> {
    return this.repos.init(name, typeof where === 'string' ? { kind: 'folder', path: where } : where, options, caller);
  }

  /** Connect an existing repository (a new machine, or after a reinstall) with its password. */
  connectRepository(
    name: string,
    where: string | LocationInput,
    password: string,
    caller?: CallerInfo,
    options: RepositoryOptions = {},
  ): Promise<RepositoryRow> {
    return this.repos.connect(name, typeof where === 'string' ? { kind: 'folder', path: where } : where, password, options, caller);
  }

  changeRepositoryPassword(id: string, caller?: CallerInfo): Promise<{ password: string }> {
    return this.repos.changePassword(id, caller);
  }

  removeRepository(id: string, deleteFiles: boolean, caller?: CallerInfo, maintenance?: MaintenanceCredentials): Promise<void> {
    return this.repos.remove(id, deleteFiles, maintenance, caller);
  }

  /** A connected repository, open (the caller closes it). */
  openRepo(id: string, maintenance?: MaintenanceCredentials): Promise<Repository> {
    return this.repos.open(id, maintenance);
  }

  // ---- backup sets ----

  private repoName = (id: string): string => {
    const r = this.repositories().find((x) => x.id === id);
    return r ? `“${r.name}”` : 'a removed repository';
  };

  createSet(input: SetInput, caller?: CallerInfo): BackupSet {
    input.sources.forEach(requireAbsolute);
    const set = this.sets.createSet(input);
    this.record(caller, {
      action: 'set.created',
      outcome: 'success',
      detail: `“${set.name}” into ${this.repoName(set.repositoryId)}: folders ${set.sources.join(', ')}; retention ${retentionText(set.retention)}`,
    });
    return set;
  }

  /** Whether this change of the set needs a step-up (the router asks before it runs). */
  updateNeedsConfirmation(id: string, patch: SetPatch): boolean {
    const set = this.sets.sets().find((s) => s.id === id);
    // No such set: nothing to protect; the change itself says NOT_FOUND.
    return set !== undefined && setChangeNeedsConfirmation(set, patch);
  }

  updateSet(id: string, patch: SetPatch, caller?: CallerInfo): BackupSet {
    patch.sources?.forEach(requireAbsolute);
    const current = this.sets.set(id);
    if (setChangeNeedsConfirmation(current, patch) && caller?.confirmed !== true) {
      throw new CoreError('STEP_UP_REQUIRED', BACKUP_MESSAGES.retentionNeedsConfirmation);
    }
    const set = this.sets.updateSet(id, patch);
    const changes = setChanges(current, patch, this.repoName);
    if (changes.length) this.record(caller, { action: 'set.changed', outcome: 'success', detail: `“${current.name}”: ${changes.join('; ')}` });
    return set;
  }

  /** Retention removes snapshots, so the contract puts this behind a step-up. */
  setRetention(id: string, retention: Retention, caller?: CallerInfo): BackupSet {
    const current = this.sets.set(id);
    const set = this.sets.updateSet(id, { retention });
    this.record(caller, { action: 'set.retention-changed', outcome: 'success', detail: retentionChange(current, retention) });
    return set;
  }

  deleteSet(id: string, caller?: CallerInfo): void {
    if (this.jobs.running((j) => j.setId === id)) throw new CoreError('JOB_RUNNING', BACKUP_MESSAGES.setBusy);
    const set = this.sets.set(id);
    this.sets.deleteSet(id);
    this.record(caller, { action: 'set.deleted', outcome: 'success', detail: `“${set.name}” (its snapshots stay in ${this.repoName(set.repositoryId)})` });
  }

  isRunning(setId: string): boolean {
    return this.jobs.running((j) => j.setId === setId);
  }

  /**
   * Start a backup of a set; returns the job id. Retention (forget, then prune) follows a
   * success; the run counts as succeeded once its snapshot is written, whatever retention does.
   */
  runSet(setId: string, trigger: RunTrigger = 'manual', caller?: CallerInfo, maintenance?: MaintenanceCredentials): string {
    const set = this.sets.set(setId);
    // Maintenance credentials make the run delete: the router asked for a step-up proof, checked here again.
    if (maintenance && caller?.confirmed !== true) throw new CoreError('STEP_UP_REQUIRED', BACKUP_MESSAGES.maintenanceRunNeedsConfirmation);
    if (maintenance) this.repos.requireMaintenance(this.sets.repository(set.repositoryId), maintenance, 'apply its retention');
    if (this.isRunning(setId)) throw new CoreError('JOB_RUNNING', BACKUP_MESSAGES.setRunning);
    const runId = this.sets.startRun(setId, trigger);
    return this.jobs.start({ kind: 'backup', repositoryId: set.repositoryId, setId }, async (signal, progress): Promise<BackupJobResult> => {
      let result: BackupResult;
      try {
        result = await this.repos.with(set.repositoryId, (repo) =>
          backup(repo, {
            sources: set.sources,
            excludes: set.excludes,
            tags: [setTag(set.id)],
            signal,
            onProgress: progress,
            threads: this.deps.threads,
            avoidPacks: this.damagedPacks.of(set.repositoryId),
          }),
        );
      } catch (e) {
        const error = toUserError(e);
        this.safeFinish(runId, error.code === 'CANCELLED' ? 'cancelled' : 'failed', error.message);
        this.deps.logger.warn('backup did not finish', { set: set.id, trigger, code: error.code });
        throw error;
      }
      const { forgotten, pruned, note } = await this.applyRetention(set, result.snapshotId, { trigger, caller, maintenance });
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
      this.deps.logger.info('backup finished', {
        set: set.id,
        trigger,
        files: s.files,
        errors: s.errors.length,
        warnings: s.warnings.length,
        damage: damage.length,
      });
      return { snapshotId: result.snapshotId, summary: s, forgotten, prune: pruned, damage, retentionNote: note };
    });
  }

  /**
   * A set's retention after its backup: forget by policy, then prune. Another job holding the
   * repository (another set backing up into it) postpones it to the next run: never a failure
   * of the run whose snapshot is written. On an append-only repository it runs only with
   * maintenance credentials given for this run; without them it is skipped, and the run says so.
   */
  private async applyRetention(
    set: BackupSet,
    snapshotId: string,
    run: { trigger: RunTrigger; caller: CallerInfo | undefined; maintenance: MaintenanceCredentials | undefined },
  ): Promise<{ forgotten: number; pruned: PruneResult | null; note: string | null }> {
    const { trigger, caller } = run;
    if (!Object.values(set.retention).some((n) => (n ?? 0) > 0)) return { forgotten: 0, pruned: null, note: null };
    const appendOnly = this.sets.repository(set.repositoryId).appendOnly;
    if (appendOnly && !run.maintenance) {
      this.deps.logger.warn('retention skipped: append-only repository', { set: set.id, snapshot: snapshotId.slice(0, 12) });
      return { forgotten: 0, pruned: null, note: BACKUP_MESSAGES.retentionAppendOnly };
    }
    let forgotten = 0;
    let repo: Repository | null = null;
    try {
      repo = await this.openRepo(set.repositoryId, appendOnly ? run.maintenance : undefined);
      const removed = await forgetByPolicy(repo, set.retention, (s) => s.tags.includes(setTag(set.id)));
      forgotten = removed.length;
      if (forgotten === 0) return { forgotten, pruned: null, note: null };
      this.record(caller, {
        action: 'snapshots.forgotten',
        outcome: 'success',
        detail: `${count(forgotten, 'snapshot')} of “${set.name}” in ${this.repoName(set.repositoryId)} by its retention (${trigger} run): ${removed.map((id) => id.slice(0, 8)).join(', ')}`,
      });
      const pruned = await prune(repo);
      this.recordPrune(caller, set.repositoryId, pruned);
      return { forgotten, pruned, note: null };
    } catch (e) {
      const error = toUserError(e);
      this.deps.logger.warn('retention did not run', { set: set.id, snapshot: snapshotId.slice(0, 12), code: error.code });
      return { forgotten, pruned: null, note: retentionNote(error) };
    } finally {
      await repo?.close();
    }
  }

  private safeFinish(
    runId: number,
    state: 'succeeded' | 'incomplete' | 'failed' | 'cancelled',
    message: string | undefined,
    figures: Omit<Parameters<BackupSetStore['finishRun']>[1], 'state' | 'message'> = {},
  ): void {
    try {
      this.sets.finishRun(runId, { state, message, ...figures });
    } catch {
      // The store may be closing (shutdown); the run is marked interrupted at next start.
    }
  }

  // ---- snapshots ----

  /** Every snapshot that opens, and the snapshot files that do not (named, never hiding the rest). */
  async snapshots(repositoryId: string): Promise<{ snapshots: SnapshotWithId[]; damaged: RepoProblem[] }> {
    return this.repos.with(repositoryId, (repo) => repo.loadSnapshots());
  }

  browse(repositoryId: string, snapshotId: string, path: string) {
    return this.repos.with(repositoryId, async (repo) => {
      const snapshot = await repo.findSnapshot(snapshotId);
      const { index } = await repo.loadIndex();
      return listFolder(repo, index, snapshot, path);
    });
  }

  find(repositoryId: string, pattern: string, limit: number) {
    return this.repos.with(repositoryId, async (repo) => findEntries(repo, (await repo.loadIndex()).index, await repo.snapshots(), pattern, limit));
  }

  diff(repositoryId: string, from: string, to: string, limit: number) {
    return this.repos.with(repositoryId, async (repo) => {
      const { index } = await repo.loadIndex();
      return diffSnapshots(repo, index, await repo.findSnapshot(from), await repo.findSnapshot(to), limit);
    });
  }

  /** Delete snapshot files by id (or unique prefix): a damaged one too, which cannot be opened. */
  async forget(repositoryId: string, snapshotIds: string[], caller?: CallerInfo, maintenance?: MaintenanceCredentials): Promise<number> {
    const row = this.sets.repository(repositoryId);
    // Refused before anything is deleted: an append-only repository deletes with maintenance credentials only.
    await this.repos.assertCanDelete(repositoryId, maintenance, 'delete snapshots');
    const { named, removed } = await this.repos.with(
      repositoryId,
      async (repo) => {
        const ids = await Promise.all(snapshotIds.map((s) => repo.resolveSnapshotId(s)));
        // Named for the audit log as they were; a damaged file by its id alone.
        const named = await Promise.all(ids.map((id) => repo.loadSnapshot(id).then(snapshotText, () => `${id.slice(0, 8)} (damaged)`)));
        return { named, removed: await forget(repo, ids) };
      },
      maintenance,
    );
    this.record(caller, {
      action: 'snapshots.forgotten',
      outcome: 'success',
      detail: `${count(removed, 'snapshot')} from ${repoText(row)}: ${named.join(', ')}`,
    });
    return removed;
  }

  /**
   * Start a restore. Overwriting existing files needs `confirmed`; writing into a repository
   * or the data folder is refused outright (protected-paths.ts). Both checks run before the
   * job starts, so the caller hears of a refusal at once.
   */
  async startRestore(
    repositoryId: string,
    snapshotId: string,
    options: { paths: string[]; targetDir: string | null; onExisting: OnExisting },
    caller?: CallerInfo,
  ): Promise<string> {
    const row = this.sets.repository(repositoryId);
    if (options.targetDir !== null) requireAbsolute(options.targetDir);
    if (options.onExisting === 'overwrite' && caller?.confirmed !== true) {
      throw new CoreError('STEP_UP_REQUIRED', BACKUP_MESSAGES.overwriteNeedsConfirmation);
    }
    const repo = await this.openRepo(repositoryId);
    let snapshot: SnapshotWithId;
    let index: Awaited<ReturnType<Repository['readingIndex']>>['index'];
    try {
      snapshot = await repo.findSnapshot(snapshotId);
      // Around packs that are gone, cut short or known damaged, whenever another copy exists.
      index = (await repo.readingIndex(this.damagedPacks.of(repositoryId))).index;
      await assertRestoreAllowed(repo, index, snapshot, options, this.protectedFolders());
    } catch (e) {
      await repo.close();
      throw e;
    }
    const what = restoreText(row, snapshot, options);
    this.record(caller, { action: 'restore.started', outcome: 'info', detail: what });
    return this.jobs.start({ kind: 'restore', repositoryId }, async (signal, progress): Promise<RestoreSummary> => {
      try {
        const summary = await restore(repo, index, snapshot, { ...options, signal, onProgress: progress, threads: this.deps.threads });
        this.record(caller, {
          action: 'restore.finished',
          outcome: summary.errors.length ? 'failure' : 'success',
          detail: `${what}: ${count(summary.files, 'file')}, ${count(summary.bytes, 'byte')}, ${summary.skipped} skipped, ${count(summary.errors.length, 'error')}`,
        });
        return summary;
      } catch (e) {
        this.record(caller, { action: 'restore.finished', outcome: 'failure', detail: `${what}: ${toUserError(e).message}` });
        throw e;
      } finally {
        await repo.close();
      }
    });
  }

  private recordPrune(caller: CallerInfo | undefined, repositoryId: string, result: PruneResult): void {
    this.record(caller, {
      action: 'prune.finished',
      outcome: 'success',
      detail: `${this.repoName(repositoryId)}: ${count(result.packsRemoved, 'pack')} removed, ${result.packsRewritten} rewritten, ${count(result.bytesFreed, 'byte')} freed`,
    });
  }

  startCheck(repositoryId: string, readData: ReadData): string {
    this.sets.repository(repositoryId);
    return this.jobs.start({ kind: 'check', repositoryId }, async (signal, progress): Promise<CheckReport> => {
      return this.repos.with(repositoryId, async (repo) => {
        const report = await check(repo, { readData, signal, onProgress: progress, threads: this.deps.threads });
        await this.rememberDamage(repositoryId, repo, report, readData);
        return report;
      });
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

  startPrune(repositoryId: string, caller?: CallerInfo, maintenance?: MaintenanceCredentials): string {
    this.repos.requireMaintenance(this.sets.repository(repositoryId), maintenance, 'free space');
    return this.jobs.start({ kind: 'prune', repositoryId }, async (): Promise<PruneResult> => {
      const result = await this.repos.with(repositoryId, (repo) => prune(repo), maintenance);
      this.recordPrune(caller, repositoryId, result);
      return result;
    });
  }

  /**
   * Repair (repair.ts): save what damaged packs hold and remove them, rebuild the index,
   * rewrite snapshots without what they lost. It deletes files, so the contract puts it behind a
   * step-up; the report says what was saved and what was lost.
   */
  startRepair(repositoryId: string, request: RepairRequest, caller?: CallerInfo, maintenance?: MaintenanceCredentials): string {
    this.repos.requireMaintenance(this.sets.repository(repositoryId), maintenance, 'repair it');
    if (this.jobs.running((j) => j.repositoryId === repositoryId)) throw new CoreError('JOB_RUNNING', BACKUP_MESSAGES.repositoryBusy);
    return this.jobs.start({ kind: 'repair', repositoryId }, async (signal, progress): Promise<RepairReport> => {
      let report: RepairReport;
      try {
        report = await this.repos.with(repositoryId, (repo) => repair(repo, request, { signal, onProgress: progress }), maintenance);
      } catch (e) {
        this.record(caller, { action: 'repair.finished', outcome: 'failure', detail: `${this.repoName(repositoryId)}: ${toUserError(e).message}` });
        throw e;
      }
      this.damagedPacks.clear(
        repositoryId,
        report.packs.filter((p) => p.outcome !== 'intact').map((p) => p.id),
      );
      this.record(caller, { action: 'repair.finished', outcome: 'success', detail: `${this.repoName(repositoryId)}: ${repairText(report)}` });
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
