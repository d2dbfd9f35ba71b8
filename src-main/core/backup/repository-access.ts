/**
 * How the backup service reaches a repository: the Storage of its location (a folder, an SFTP
 * server or an S3 bucket, docs/repository-format.md §14) built from its row and its unsealed
 * credentials, opening a connected one with its master key, and storage failures turned into
 * errors a person can act on (engine/messages.ts) before they leave the service.
 */
import type { MaintenanceCredentials, RepositoryCredentials, StoredLocation } from '../../../src-shared/repository-location.js';
import { CoreError } from '../platform/errors.js';
import type { RepositoryRow } from './backup-sets.js';
import { storageFailure } from './engine/messages.js';
import { BACKUP_MESSAGES } from './messages.js';
import { Repository } from './engine/repository.js';
import { folderStorage } from './engine/storage/folder.js';
import { S3Storage } from './engine/storage/s3.js';
import { SftpStorage } from './engine/storage/sftp.js';
import { StorageError, type Storage } from './engine/storage/storage.js';

/** The Storage of a folder repository. */
export function storageAt(path: string): Storage {
  return folderStorage(path);
}

export interface StorageOptions {
  appendOnly: boolean;
  connections: number | null;
  /** Seconds-scale limits for a connection test; the storages' own defaults otherwise. */
  connectTimeoutMs?: number;
  maxAttempts?: number;
}

/** The Storage of a location with its credentials (null for a folder). */
export function storageFor(location: StoredLocation, credentials: RepositoryCredentials | null, options: StorageOptions): Storage {
  const connections = options.connections ?? undefined;
  const limits = { connectTimeoutMs: options.connectTimeoutMs, maxAttempts: options.maxAttempts };
  switch (location.kind) {
    case 'folder':
      return storageAt(location.path);
    case 's3': {
      if (credentials?.kind !== 's3') throw new CoreError('INTERNAL', BACKUP_MESSAGES.credentialsMissing);
      return new S3Storage({
        endpoint: location.endpoint ?? undefined,
        region: location.region,
        bucket: location.bucket,
        prefix: location.prefix,
        forcePathStyle: location.forcePathStyle,
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        appendOnly: options.appendOnly,
        connections,
        ...definedOnly(limits),
      });
    }
    case 'sftp': {
      if (credentials?.kind !== 'sftp') throw new CoreError('INTERNAL', BACKUP_MESSAGES.credentialsMissing);
      return new SftpStorage({
        host: location.host,
        port: location.port,
        username: location.username,
        path: location.path,
        auth: credentials.auth,
        ...(location.hostKey ? { hostKey: location.hostKey } : {}),
        appendOnly: options.appendOnly,
        connections,
        ...definedOnly(limits),
      });
    }
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The credentials a run uses: the stored ones, or for one maintenance run on an append-only
 * repository the maintenance credentials given for it (an SFTP maintenance account may have a
 * user name or a port of its own; the host and its pinned key stay the same).
 */
export function withMaintenance(
  row: RepositoryRow,
  stored: RepositoryCredentials | null,
  maintenance: MaintenanceCredentials | undefined,
): { location: StoredLocation; credentials: RepositoryCredentials | null; appendOnly: boolean } {
  if (!maintenance) return { location: row.location, credentials: stored, appendOnly: row.appendOnly };
  if (maintenance.kind !== row.kind) throw new CoreError('BAD_INPUT', BACKUP_MESSAGES.maintenanceWrongKind);
  if (maintenance.kind === 's3') {
    return {
      location: row.location,
      credentials: { kind: 's3', accessKeyId: maintenance.accessKeyId, secretAccessKey: maintenance.secretAccessKey },
      appendOnly: false,
    };
  }
  const location =
    row.location.kind === 'sftp'
      ? { ...row.location, username: maintenance.username ?? row.location.username, port: maintenance.port ?? row.location.port }
      : row.location;
  return { location, credentials: { kind: 'sftp', auth: maintenance.auth }, appendOnly: false };
}

/** `work`, with a storage failure worded for a person (its stable code kept), as the API shows it. */
export async function userFacing<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (e) {
    throw e instanceof StorageError ? storageFailure(e) : e;
  }
}

/** A connected repository, opened with its master key on `storage`; it must still be the one connected. */
export async function openConnected(row: RepositoryRow, master: Buffer, storage: Storage = storageAt(row.path)): Promise<Repository> {
  let repo: Repository;
  try {
    repo = await userFacing(Repository.openWithMaster(storage, master));
  } catch (e) {
    await storage.close().catch(() => undefined);
    throw e;
  }
  if (repo.id !== row.repoId) {
    await repo.close();
    throw new CoreError('REPO_DAMAGED', BACKUP_MESSAGES.differentRepository(row.path));
  }
  return repo;
}
