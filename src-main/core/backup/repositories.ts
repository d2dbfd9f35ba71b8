/**
 * The connected repositories: create, connect, test, edit, change the password of, open and
 * remove one, in a folder, on an SFTP server or in an S3 bucket. A remote repository's
 * credentials are sealed beside its master key (backup-sets.ts); every open builds its Storage
 * from the row (repository-access.ts) and every caller closes what it opened (storages hold
 * connections). Adding or changing a remote repository needs `confirmed` (a step-up proof the
 * router spent), as the contract says; an append-only one deletes only with maintenance
 * credentials given for that one call.
 */
import { rm } from 'node:fs/promises';
import {
  locationText,
  splitLocation,
  type LocationInput,
  type MaintenanceCredentials,
  type RemoteLocationInput,
  type RepositoryCredentials,
} from '../../../src-shared/repository-location.js';
import type { RepositoryStatus, TestConnectionOutcome } from '../../../src-shared/contract-repositories.js';
import { CoreError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import type { KdfCost } from '../platform/password-kdf.js';
import { count, repoText, type BackupAuditEvent } from './backup-audit.js';
import type { BackupSetStore, RepositoryRow } from './backup-sets.js';
import { testConnection, type HostKeyReader } from './connection-test.js';
import { RepoLock } from './engine/lock.js';
import { Repository } from './engine/repository.js';
import type { Storage } from './engine/storage/storage.js';
import type { JobRegistry } from './jobs.js';
import { BACKUP_MESSAGES } from './messages.js';
import { assertRepositoryPathAllowed, requireAbsolute, type ProtectedFolder } from './protected-paths.js';
import { openConnected, storageFor, userFacing, withMaintenance } from './repository-access.js';
import { newRepositoryPassword } from './repository-password.js';

export interface RepositoryOptions {
  appendOnly?: boolean;
  connections?: number | null;
}

export interface RepositoryPatch {
  name?: string;
  connections?: number | null;
  appendOnly?: boolean;
  credentials?: RepositoryCredentials;
  hostKey?: string;
  /** Where it lives now (a server or bucket moved), with the credentials and host key for there. */
  location?: RemoteLocationInput;
}

/** Who asked (for the audit log) and whether the router spent a step-up proof on this call. */
type Caller = { confirmed?: boolean } | undefined;

export interface RepositoryManagerDeps {
  sets: BackupSetStore;
  jobs: JobRegistry;
  logger: Logger;
  kdfCost: KdfCost;
  dataDir?: string;
  hostKeyOf: HostKeyReader;
  record: (caller: Caller, event: BackupAuditEvent) => void;
}

/** How many deletes are in flight at once when a remote repository's files are deleted. */
const DELETE_PARALLEL = 8;

export class RepositoryManager {
  constructor(private readonly deps: RepositoryManagerDeps) {}

  list(): RepositoryRow[] {
    return this.deps.sets.repositories();
  }

  /** The folders a restore never writes into and no repository is put into. */
  protectedFolders(): ProtectedFolder[] {
    const folders: ProtectedFolder[] = this.list()
      .filter((r) => r.kind === 'folder')
      .map((r) => ({ path: r.path, label: `the repository “${r.name}”` }));
    if (this.deps.dataDir) folders.push({ path: this.deps.dataDir, label: "Twofold Backup's data folder" });
    return folders;
  }

  /** A location checked and split: a folder must be a full path outside what is protected; a remote one needs a confirmation. */
  private where(input: LocationInput, caller: Caller) {
    if (input.kind === 'folder') {
      requireAbsolute(input.path);
      assertRepositoryPathAllowed(input.path, this.protectedFolders());
    } else if (caller?.confirmed !== true) {
      throw new CoreError('STEP_UP_REQUIRED', BACKUP_MESSAGES.remoteNeedsConfirmation);
    }
    const { location, credentials } = splitLocation(input);
    // Two rows never name one place: the location text is unique in the table.
    if (this.list().some((r) => r.path === locationText(location))) throw new CoreError('NAME_TAKEN', BACKUP_MESSAGES.repositoryTaken);
    return { location, credentials };
  }

  private storageOf(input: LocationInput, options: RepositoryOptions, caller: Caller) {
    const { location, credentials } = this.where(input, caller);
    const access = { credentials, appendOnly: options.appendOnly ?? false, connections: options.connections ?? null };
    return { location, access, storage: storageFor(location, credentials, access) };
  }

  /** Create a repository; its password is returned here once and stored nowhere. */
  async init(name: string, input: LocationInput, options: RepositoryOptions, caller: Caller): Promise<{ repository: RepositoryRow; password: string }> {
    const { location, access, storage } = this.storageOf(input, options, caller);
    const password = newRepositoryPassword();
    const { repo, master } = await userFacing(Repository.init(storage, password, this.deps.kdfCost)).catch(async (e: unknown) => {
      await storage.close().catch(() => undefined);
      throw e;
    });
    try {
      const repository = await this.deps.sets.addRepository(name, location, repo.id, master, access);
      this.deps.logger.info('repository created', { repository: repository.id, kind: repository.kind });
      this.deps.record(caller, { action: 'repository.created', outcome: 'success', detail: `${repoText(repository)}${appendOnlyNote(repository)}` });
      return { repository, password };
    } finally {
      master.fill(0);
      await repo.close();
    }
  }

  /** Connect an existing repository (a new machine, or after a reinstall) with its password. */
  async connect(name: string, input: LocationInput, password: string, options: RepositoryOptions, caller: Caller): Promise<RepositoryRow> {
    const { location, access, storage } = this.storageOf(input, options, caller);
    const { repo, master } = await userFacing(Repository.openWithPassword(storage, password)).catch(async (e: unknown) => {
      await storage.close().catch(() => undefined);
      throw e;
    });
    try {
      const repository = await this.deps.sets.addRepository(name, location, repo.id, master, access);
      this.deps.logger.info('repository connected', { repository: repository.id, kind: repository.kind });
      this.deps.record(caller, { action: 'repository.connected', outcome: 'success', detail: `${repoText(repository)}${appendOnlyNote(repository)}` });
      return repository;
    } finally {
      master.fill(0);
      await repo.close();
    }
  }

  /** Reach a remote location with these credentials and say what is wrong; stores nothing. */
  testConnection(input: RemoteLocationInput): Promise<TestConnectionOutcome> {
    return testConnection(input, this.deps.hostKeyOf);
  }

  /**
   * Rename a repository, or change how a remote one is reached: connections, append-only, its
   * credentials, the host key the user confirmed, or where it lives (the server or bucket moved).
   * New credentials, a new host key and a new location must open this very repository (its id
   * and master key) before they are stored.
   */
  async edit(id: string, patch: RepositoryPatch, caller: Caller): Promise<RepositoryRow> {
    const row = this.deps.sets.repository(id);
    const reach = patch.credentials !== undefined || patch.hostKey !== undefined || patch.location !== undefined;
    this.assertEditable(row, patch, caller);
    const moved = patch.location ? splitLocation(patch.location) : null;
    const location =
      moved?.location ?? (patch.hostKey !== undefined && row.location.kind === 'sftp' ? { ...row.location, hostKey: patch.hostKey } : row.location);
    const newCredentials = moved?.credentials ?? patch.credentials;
    const credentials = newCredentials ?? (await this.deps.sets.credentials(id));
    if (patch.credentials?.kind === 'sftp' && location.kind === 'sftp') location.auth = patch.credentials.auth.kind;
    if (reach) {
      const master = await this.deps.sets.masterKey(id);
      try {
        const storage = storageFor(location, credentials, { appendOnly: row.appendOnly, connections: 1 });
        await (await openConnected({ ...row, path: locationText(location) }, master, storage)).close();
      } finally {
        master.fill(0);
      }
    }
    const { location: _given, ...rest } = patch;
    const updated = await this.deps.sets.updateRepository(id, { ...rest, location, credentials: newCredentials ?? undefined });
    const changes = [
      ...(patch.name !== undefined && patch.name !== row.name ? [`renamed “${patch.name}”`] : []),
      ...(patch.connections !== undefined && patch.connections !== row.connections ? [`connections ${patch.connections ?? 'default'}`] : []),
      ...(patch.appendOnly !== undefined && patch.appendOnly !== row.appendOnly ? [patch.appendOnly ? 'marked append-only' : 'no longer append-only'] : []),
      ...(moved && updated.path !== row.path ? [`moved to ${updated.path}`] : []),
      ...(newCredentials ? ['new credentials'] : []),
      ...(patch.hostKey !== undefined ? [`host key ${patch.hostKey} trusted`] : []),
      ...(moved?.location.kind === 'sftp' && moved.location.hostKey !== null && moved.location.hostKey !== hostKeyOf(row)
        ? [`host key ${moved.location.hostKey} trusted`]
        : []),
    ];
    if (changes.length) this.deps.record(caller, { action: 'repository.changed', outcome: 'success', detail: `${repoText(row)}: ${changes.join('; ')}` });
    this.deps.logger.info('repository changed', {
      repository: id,
      credentials: newCredentials !== undefined,
      hostKey: patch.hostKey !== undefined,
      moved: moved !== null,
    });
    return updated;
  }

  /** What an edit may change: nothing of how a folder is reached, a remote one only after a step-up, and within its own kind. */
  private assertEditable(row: RepositoryRow, patch: RepositoryPatch, caller: Caller): void {
    const reach = patch.credentials !== undefined || patch.hostKey !== undefined || patch.location !== undefined;
    if (row.kind === 'folder' && (reach || patch.connections !== undefined || patch.appendOnly !== undefined))
      throw new CoreError('BAD_INPUT', BACKUP_MESSAGES.notRemote);
    if (row.kind !== 'folder' && caller?.confirmed !== true) throw new CoreError('STEP_UP_REQUIRED', BACKUP_MESSAGES.remoteNeedsConfirmation);
    if (patch.location && (patch.credentials !== undefined || patch.hostKey !== undefined)) throw new CoreError('BAD_INPUT', BACKUP_MESSAGES.moveAlone);
    if (patch.location && patch.location.kind !== row.kind) throw new CoreError('BAD_INPUT', BACKUP_MESSAGES.moveKeepsKind);
    if (patch.credentials && patch.credentials.kind !== row.kind) throw new CoreError('BAD_INPUT', BACKUP_MESSAGES.wrongCredentialKind);
    if (patch.hostKey !== undefined && row.location.kind !== 'sftp') throw new CoreError('BAD_INPUT', BACKUP_MESSAGES.hostKeyNotSftp);
  }

  /**
   * Open a connected repository: with its stored credentials, or with maintenance credentials
   * (append-only repositories, for one forget, prune, repair or removal). The caller closes it.
   */
  async open(id: string, maintenance?: MaintenanceCredentials): Promise<Repository> {
    const row = this.deps.sets.repository(id);
    const reach = withMaintenance(row, await this.deps.sets.credentials(id), maintenance);
    const master = await this.deps.sets.masterKey(id);
    try {
      return await openConnected(row, master, storageFor(reach.location, reach.credentials, { appendOnly: reach.appendOnly, connections: row.connections }));
    } finally {
      master.fill(0);
    }
  }

  /**
   * Whether the repository answers now: opened with its key (reachable, readable, and still the
   * one connected here), and the space left where it lives. A failure is the answer, in words.
   */
  async status(id: string): Promise<RepositoryStatus> {
    this.deps.sets.repository(id); // an unknown id is an error, not an unreachable repository
    let repo: Repository;
    try {
      repo = await this.open(id);
    } catch (e) {
      return { reachable: false, message: e instanceof CoreError ? e.message : BACKUP_MESSAGES.repositoryUnreadable, freeBytes: null };
    }
    try {
      const free = await repo.storage.freeBytes?.().catch(() => null);
      return { reachable: true, message: null, freeBytes: free === undefined || free === null ? null : Math.max(0, Math.floor(free)) };
    } finally {
      await repo.close();
    }
  }

  /** Open, run `work`, close: every path that reads or writes a repository goes through here or closes itself. */
  async with<T>(id: string, work: (repo: Repository) => Promise<T>, maintenance?: MaintenanceCredentials): Promise<T> {
    const repo = await this.open(id, maintenance);
    try {
      return await work(repo);
    } finally {
      await repo.close();
    }
  }

  /**
   * Before a call that deletes on this repository: an append-only one needs maintenance
   * credentials, and they must open it (checked now, before a second factor is spent on the call).
   */
  async assertCanDelete(id: string, maintenance: MaintenanceCredentials | undefined, what: string): Promise<void> {
    if (!this.requireMaintenance(this.deps.sets.repository(id), maintenance, what)) return;
    try {
      await (await this.open(id, maintenance)).close();
    } catch (e) {
      if (e instanceof CoreError && (e.code === 'STORAGE_AUTH_FAILED' || e.code === 'REPO_DAMAGED'))
        throw new CoreError('STORAGE_AUTH_FAILED', BACKUP_MESSAGES.maintenanceRefused);
      throw e;
    }
  }

  /**
   * The same rule without reaching the storage: true when this call deletes with maintenance
   * credentials (append-only), false when it needs none; a refusal otherwise.
   */
  requireMaintenance(row: RepositoryRow, maintenance: MaintenanceCredentials | undefined, what: string): boolean {
    if (!row.appendOnly) {
      if (maintenance) throw new CoreError('BAD_INPUT', BACKUP_MESSAGES.maintenanceNotNeeded);
      return false;
    }
    if (!maintenance) throw new CoreError('MAINTENANCE_REQUIRED', BACKUP_MESSAGES.maintenanceRequired(row.name, what));
    if (maintenance.kind !== row.kind) throw new CoreError('BAD_INPUT', BACKUP_MESSAGES.maintenanceWrongKind);
    return true;
  }

  /** An append-only repository cannot delete its old password keys: a new password would not replace them. */
  assertPasswordChangeable(row: RepositoryRow): void {
    if (row.appendOnly) throw new CoreError('MAINTENANCE_REQUIRED', BACKUP_MESSAGES.appendOnlyPassword);
  }

  /** Replace every password key of the repository by one new password, returned once. */
  async changePassword(id: string, caller: Caller): Promise<{ password: string }> {
    const row = this.deps.sets.repository(id);
    this.assertPasswordChangeable(row);
    const master = await this.deps.sets.masterKey(id);
    const repo = await this.open(id);
    try {
      const old = await repo.keyIds();
      const password = newRepositoryPassword();
      const added = await repo.addKey(master, password, this.deps.kdfCost);
      for (const k of old) if (k !== added) await repo.removeKey(k);
      this.deps.logger.info('repository password changed', { repository: id });
      this.deps.record(caller, {
        action: 'repository.password-changed',
        outcome: 'success',
        detail: `${repoText(row)}: ${count(old.length, 'old key')} removed`,
      });
      return { password };
    } finally {
      master.fill(0);
      await repo.close();
    }
  }

  /** Forget the repository here; with `deleteFiles`, also delete its files (under the exclusive lock). */
  async remove(id: string, deleteFiles: boolean, maintenance: MaintenanceCredentials | undefined, caller: Caller): Promise<void> {
    const row = this.deps.sets.repository(id);
    if (this.deps.jobs.running((j) => j.repositoryId === id)) throw new CoreError('JOB_RUNNING', BACKUP_MESSAGES.repositoryBusy);
    if (deleteFiles) {
      await this.assertCanDelete(id, maintenance, 'delete its files');
      const repo = await this.open(id, maintenance);
      try {
        const lock = await RepoLock.acquire(repo, true);
        await lock.release();
        this.deps.sets.removeRepository(id);
        if (row.kind === 'folder') await rm(row.path, { recursive: true, force: true });
        else await userFacing(deleteEverything(repo.storage));
      } finally {
        await repo.close();
      }
    } else {
      this.deps.sets.removeRepository(id);
    }
    this.deps.logger.info('repository removed', { repository: id, deleteFiles });
    const place = row.kind === 'folder' ? 'folder' : 'files';
    this.deps.record(caller, {
      action: 'repository.removed',
      outcome: 'success',
      detail: `${repoText(row)}: ${deleteFiles ? `its ${place} and every snapshot in it deleted` : `forgotten here; its ${place} ${row.kind === 'folder' ? 'is' : 'are'} kept`}`,
    });
  }
}

/** Every object of a remote repository, its config last: what an interrupted removal leaves is no repository. */
async function deleteEverything(storage: Storage): Promise<void> {
  const names = (await storage.list('')).map((o) => o.name).filter((n) => n !== 'config');
  for (let i = 0; i < names.length; i += DELETE_PARALLEL) {
    await Promise.all(names.slice(i, i + DELETE_PARALLEL).map((n) => storage.delete(n)));
  }
  await storage.delete('config');
}

const appendOnlyNote = (r: RepositoryRow) => (r.appendOnly ? ' (append-only)' : '');

const hostKeyOf = (r: RepositoryRow) => (r.location.kind === 'sftp' ? r.location.hostKey : null);
