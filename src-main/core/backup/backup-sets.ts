/**
 * Repositories, backup sets and run history in the app's SQLite store (migration "backup").
 * A repository row keeps the master key, and a remote repository's credentials, sealed under keys
 * derived from the vault key alone, so scheduled backups run while the app is locked; the
 * repository password is never stored.
 */
import { randomUUID } from 'node:crypto';
import { Cron } from 'croner';
import { z } from 'zod';
import type { Clock } from '../platform/clock.js';
import { open, seal } from '../platform/crypto.js';
import { CoreError } from '../platform/errors.js';
import type { Store } from '../platform/store.js';
import type { RepositoryKeySource } from './key-source.js';
import { RetentionSchema, RunViewSchema } from '../../../src-shared/contract-backup.js';
import {
  locationText,
  StoredLocationSchema,
  type RepositoryCredentials,
  type RepositoryKind,
  type StoredLocation,
} from '../../../src-shared/repository-location.js';
import type { Retention } from './engine/prune.js';
import { BACKUP_MESSAGES } from './messages.js';

const WRAP_LABEL = 'twofold/v1/backup-repository-wrap';
const CREDENTIALS_LABEL = 'twofold/v1/backup-repository-credentials';

export interface RepositoryRow {
  id: string;
  name: string;
  /** A folder repository's folder; a remote one's location text (unique all the same). */
  path: string;
  repoId: string;
  createdAt: number;
  kind: RepositoryKind;
  /** Where it is, without a secret. */
  location: StoredLocation;
  appendOnly: boolean;
  connections: number | null;
}

/** How a repository is reached besides its location. */
export interface RepositoryAccessInput {
  credentials: RepositoryCredentials | null;
  appendOnly: boolean;
  connections: number | null;
}

interface RepositoryDbRow {
  id: string;
  name: string;
  path: string;
  repo_id: string;
  created_at: number;
  kind: string;
  location: string | null;
  append_only: number;
  connections: number | null;
}

function repositoryFromRow(r: RepositoryDbRow): RepositoryRow {
  // Rows from before migration 5 are folders with no location JSON.
  const location = r.location === null ? { kind: 'folder' as const, path: r.path } : StoredLocationSchema.parse(JSON.parse(r.location));
  return {
    id: r.id,
    name: r.name,
    path: r.path,
    repoId: r.repo_id,
    createdAt: r.created_at,
    kind: location.kind,
    location,
    appendOnly: r.append_only === 1,
    connections: r.connections,
  };
}

export interface BackupSet {
  id: string;
  name: string;
  repositoryId: string;
  sources: string[];
  excludes: string[];
  schedule: string | null;
  retention: Retention;
  createdAt: number;
  updatedAt: number;
  lastScheduledAt: number | null;
}

/** A run as the history shows it: the contract's shape (src-shared), declared once. */
export type RunRow = z.infer<typeof RunViewSchema>;
export type RunTrigger = RunRow['trigger'];
/** incomplete: the snapshot was saved, but some items could not be kept (its summary names them). */
export type RunState = RunRow['state'];

/** What a person gives to make a set. */
export type SetInput = Pick<BackupSet, 'name' | 'repositoryId' | 'sources' | 'excludes' | 'schedule' | 'retention'>;

/** A cron string croner accepts, or a CoreError a person can act on. */
export function validateSchedule(schedule: string | null): void {
  if (schedule === null) return;
  try {
    new Cron(schedule, { paused: true });
  } catch {
    throw new CoreError('BAD_INPUT', BACKUP_MESSAGES.badSchedule);
  }
}

/** When a set is next due after `after` (ms), or null for no schedule. */
export function nextDue(schedule: string | null, after: number): number | null {
  if (schedule === null) return null;
  const next = new Cron(schedule, { paused: true }).nextRun(new Date(after));
  return next ? next.getTime() : null;
}

interface SetDbRow {
  id: string;
  name: string;
  repository_id: string;
  sources: string;
  excludes: string;
  schedule: string | null;
  retention: string;
  created_at: number;
  updated_at: number;
  last_scheduled_at: number | null;
}

export class BackupSetStore {
  constructor(
    private readonly store: Store,
    private readonly vault: RepositoryKeySource,
    private readonly clock: Clock,
  ) {}

  // ---- repositories ----

  repositories(): RepositoryRow[] {
    return (
      this.store.db
        .prepare('SELECT id, name, path, repo_id, created_at, kind, location, append_only, connections FROM backup_repositories ORDER BY name')
        .all() as RepositoryDbRow[]
    ).map(repositoryFromRow);
  }

  repository(id: string): RepositoryRow {
    const r = this.repositories().find((x) => x.id === id);
    if (!r) throw new CoreError('NOT_FOUND', BACKUP_MESSAGES.noSuchRepository);
    return r;
  }

  async addRepository(name: string, location: StoredLocation, repoId: string, master: Buffer, access: RepositoryAccessInput): Promise<RepositoryRow> {
    const id = randomUUID();
    const wrapped = seal(await this.wrapKey(), master, wrapAad(id, repoId));
    const sealed = access.credentials ? await this.sealCredentials(id, repoId, access.credentials) : null;
    const path = locationText(location);
    const createdAt = this.clock.now();
    try {
      this.store.tx(() =>
        this.store.db
          .prepare(
            `INSERT INTO backup_repositories (id, name, path, repo_id, wrapped_key, created_at, kind, location, sealed_credentials, append_only, connections)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(id, name, path, repoId, wrapped, createdAt, location.kind, JSON.stringify(location), sealed, access.appendOnly ? 1 : 0, access.connections),
      );
    } catch (e) {
      if (String(e).includes('UNIQUE')) throw new CoreError('NAME_TAKEN', BACKUP_MESSAGES.repositoryTaken);
      throw e;
    }
    return this.repository(id);
  }

  /** Change what an edit may change; credentials are sealed again, bound to the row as before. */
  async updateRepository(
    id: string,
    patch: { name?: string; location?: StoredLocation; credentials?: RepositoryCredentials; appendOnly?: boolean; connections?: number | null },
  ): Promise<RepositoryRow> {
    const current = this.repository(id);
    const location = patch.location ?? current.location;
    const sealed = patch.credentials ? await this.sealCredentials(id, current.repoId, patch.credentials) : undefined;
    try {
      this.store.tx(() => {
        this.store.db
          .prepare('UPDATE backup_repositories SET name = ?, path = ?, location = ?, append_only = ?, connections = ? WHERE id = ?')
          .run(
            patch.name ?? current.name,
            locationText(location),
            JSON.stringify(location),
            (patch.appendOnly ?? current.appendOnly) ? 1 : 0,
            patch.connections === undefined ? current.connections : patch.connections,
            id,
          );
        if (sealed) this.store.db.prepare('UPDATE backup_repositories SET sealed_credentials = ? WHERE id = ?').run(sealed, id);
      });
    } catch (e) {
      if (String(e).includes('UNIQUE')) throw new CoreError('NAME_TAKEN', BACKUP_MESSAGES.repositoryTaken);
      throw e;
    }
    return this.repository(id);
  }

  /** The repository's master key, unwrapped with the vault-derived key (no gate session needed). */
  async masterKey(id: string): Promise<Buffer> {
    const row = this.store.db.prepare('SELECT repo_id, wrapped_key FROM backup_repositories WHERE id = ?').get(id) as
      { repo_id: string; wrapped_key: Buffer } | undefined;
    if (!row) throw new CoreError('NOT_FOUND', BACKUP_MESSAGES.noSuchRepository);
    return open(await this.wrapKey(), row.wrapped_key, wrapAad(id, row.repo_id));
  }

  /** A remote repository's credentials, unsealed like the master key (scheduled runs need them while locked); null for a folder. */
  async credentials(id: string): Promise<RepositoryCredentials | null> {
    const row = this.store.db.prepare('SELECT repo_id, sealed_credentials FROM backup_repositories WHERE id = ?').get(id) as
      { repo_id: string; sealed_credentials: Buffer | null } | undefined;
    if (!row) throw new CoreError('NOT_FOUND', BACKUP_MESSAGES.noSuchRepository);
    if (row.sealed_credentials === null) return null;
    const plain = open(await this.vault.derivedKey(CREDENTIALS_LABEL), row.sealed_credentials, credentialsAad(id, row.repo_id));
    try {
      return JSON.parse(plain.toString('utf8')) as RepositoryCredentials;
    } finally {
      plain.fill(0);
    }
  }

  private async sealCredentials(id: string, repoId: string, credentials: RepositoryCredentials): Promise<Buffer> {
    const plain = Buffer.from(JSON.stringify(credentials), 'utf8');
    try {
      return seal(await this.vault.derivedKey(CREDENTIALS_LABEL), plain, credentialsAad(id, repoId));
    } finally {
      plain.fill(0);
    }
  }

  removeRepository(id: string): void {
    this.store.tx(() => {
      const used = this.store.db.prepare('SELECT COUNT(*) AS n FROM backup_sets WHERE repository_id = ?').get(id) as { n: number };
      if (used.n > 0) throw new CoreError('BAD_INPUT', BACKUP_MESSAGES.repositoryInUse);
      const r = this.store.db.prepare('DELETE FROM backup_repositories WHERE id = ?').run(id);
      if (r.changes === 0) throw new CoreError('NOT_FOUND', BACKUP_MESSAGES.noSuchRepository);
    });
  }

  private wrapKey(): Promise<Buffer> {
    return this.vault.derivedKey(WRAP_LABEL);
  }

  // ---- backup sets ----

  sets(): BackupSet[] {
    return (this.store.db.prepare('SELECT * FROM backup_sets ORDER BY name').all() as SetDbRow[]).map(setFromRow);
  }

  set(id: string): BackupSet {
    const row = this.store.db.prepare('SELECT * FROM backup_sets WHERE id = ?').get(id) as SetDbRow | undefined;
    if (!row) throw new CoreError('NOT_FOUND', BACKUP_MESSAGES.noSuchSet);
    return setFromRow(row);
  }

  createSet(input: SetInput): BackupSet {
    validateSchedule(input.schedule);
    this.repository(input.repositoryId);
    const id = randomUUID();
    const t = this.clock.now();
    this.write(() =>
      this.store.db
        .prepare(
          `INSERT INTO backup_sets (id, name, repository_id, sources, excludes, schedule, retention, created_at, updated_at, last_scheduled_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
        )
        .run(
          id,
          input.name,
          input.repositoryId,
          JSON.stringify(input.sources),
          JSON.stringify(input.excludes),
          input.schedule,
          JSON.stringify(input.retention),
          t,
          t,
        ),
    );
    return this.set(id);
  }

  updateSet(id: string, patch: Partial<Omit<SetInput, 'retention'>> & { retention?: Retention }): BackupSet {
    const current = this.set(id);
    const next = { ...current, ...patch };
    validateSchedule(next.schedule);
    if (patch.repositoryId) this.repository(patch.repositoryId);
    this.write(() =>
      this.store.db
        .prepare(
          `UPDATE backup_sets SET name = ?, repository_id = ?, sources = ?, excludes = ?, schedule = ?, retention = ?, updated_at = ?,
             last_scheduled_at = CASE WHEN ? THEN NULL ELSE last_scheduled_at END WHERE id = ?`,
        )
        .run(
          next.name,
          next.repositoryId,
          JSON.stringify(next.sources),
          JSON.stringify(next.excludes),
          next.schedule,
          JSON.stringify(next.retention),
          this.clock.now(),
          // A new schedule counts from now, not from the old one's last run.
          patch.schedule !== undefined && patch.schedule !== current.schedule ? 1 : 0,
          id,
        ),
    );
    return this.set(id);
  }

  deleteSet(id: string): void {
    const r = this.store.tx(() => this.store.db.prepare('DELETE FROM backup_sets WHERE id = ?').run(id));
    if (r.changes === 0) throw new CoreError('NOT_FOUND', BACKUP_MESSAGES.noSuchSet);
  }

  markScheduled(id: string, at: number): void {
    this.store.tx(() => this.store.db.prepare('UPDATE backup_sets SET last_scheduled_at = ? WHERE id = ?').run(at, id));
  }

  private write(fn: () => unknown): void {
    try {
      this.store.tx(fn);
    } catch (e) {
      if (String(e).includes('UNIQUE')) throw new CoreError('NAME_TAKEN', BACKUP_MESSAGES.setNameTaken);
      throw e;
    }
  }

  // ---- run history ----

  startRun(setId: string, trigger: RunTrigger): number {
    const r = this.store.tx(() =>
      this.store.db.prepare("INSERT INTO backup_runs (set_id, trigger, started_at, state) VALUES (?, ?, ?, 'running')").run(setId, trigger, this.clock.now()),
    );
    return Number(r.lastInsertRowid);
  }

  finishRun(
    runId: number,
    outcome: {
      state: Exclude<RunState, 'running'>;
      snapshotId?: string;
      files?: number;
      bytes?: number;
      dataAdded?: number;
      errors?: number;
      message?: string;
    },
  ): void {
    this.store.tx(() =>
      this.store.db
        .prepare(
          `UPDATE backup_runs SET finished_at = ?, state = ?, snapshot_id = ?, files = ?, bytes = ?, data_added = ?, errors = ?, message = ?
           WHERE id = ?`,
        )
        .run(
          this.clock.now(),
          outcome.state,
          outcome.snapshotId ?? null,
          outcome.files ?? null,
          outcome.bytes ?? null,
          outcome.dataAdded ?? null,
          outcome.errors ?? null,
          outcome.message ?? null,
          runId,
        ),
    );
  }

  /** Runs left 'running' by a process that ended without finishing them. */
  markInterrupted(): void {
    this.store.tx(() =>
      this.store.db
        .prepare("UPDATE backup_runs SET state = 'interrupted', finished_at = ?, message = 'The app stopped during this run.' WHERE state = 'running'")
        .run(this.clock.now()),
    );
  }

  runs(setId: string | null, limit: number): RunRow[] {
    const rows = (
      setId
        ? this.store.db.prepare('SELECT * FROM backup_runs WHERE set_id = ? ORDER BY id DESC LIMIT ?').all(setId, limit)
        : this.store.db.prepare('SELECT * FROM backup_runs ORDER BY id DESC LIMIT ?').all(limit)
    ) as {
      id: number;
      set_id: string;
      trigger: RunTrigger;
      started_at: number;
      finished_at: number | null;
      state: RunState;
      snapshot_id: string | null;
      files: number | null;
      bytes: number | null;
      data_added: number | null;
      errors: number | null;
      message: string | null;
    }[];
    return rows.map((r) => ({
      id: r.id,
      setId: r.set_id,
      trigger: r.trigger,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      state: r.state,
      snapshotId: r.snapshot_id,
      files: r.files,
      bytes: r.bytes,
      dataAdded: r.data_added,
      errors: r.errors,
      message: r.message,
    }));
  }
}

function setFromRow(r: SetDbRow): BackupSet {
  return {
    id: r.id,
    name: r.name,
    repositoryId: r.repository_id,
    sources: z.array(z.string()).parse(JSON.parse(r.sources)),
    excludes: z.array(z.string()).parse(JSON.parse(r.excludes)),
    schedule: r.schedule,
    retention: RetentionSchema.parse(JSON.parse(r.retention)),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    lastScheduledAt: r.last_scheduled_at,
  };
}

/** Binds a wrapped key to its row and its repository: a key cannot be moved to another row. */
function wrapAad(rowId: string, repoId: string): string {
  return `twofold/v1|backup-repository|${rowId}|${repoId}`;
}

/** Binds sealed credentials to their row and repository, apart from the master key's binding. */
function credentialsAad(rowId: string, repoId: string): string {
  return `twofold/v1|backup-repository-credentials|${rowId}|${repoId}`;
}
