/**
 * How the backup service reaches a repository: where it is (a Storage for its location: a
 * folder for now, docs/repository-format.md §14), opening a connected one with its master key,
 * and storage failures turned into errors a person can act on (engine/messages.ts) before they
 * leave the service.
 */
import { CoreError } from '../platform/errors.js';
import type { RepositoryRow } from './backup-sets.js';
import { storageFailure } from './engine/messages.js';
import { BACKUP_MESSAGES } from './messages.js';
import { Repository } from './engine/repository.js';
import { folderStorage } from './engine/storage/folder.js';
import { StorageError, type Storage } from './engine/storage/storage.js';

/** The Storage of a repository's location. */
export function storageAt(path: string): Storage {
  return folderStorage(path);
}

/** `work`, with a storage failure worded for a person (its stable code kept), as the API shows it. */
export async function userFacing<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (e) {
    throw e instanceof StorageError ? storageFailure(e) : e;
  }
}

/** A connected repository, opened with its master key; it must still be the one connected. */
export async function openConnected(row: RepositoryRow, master: Buffer): Promise<Repository> {
  const repo = await userFacing(Repository.openWithMaster(storageAt(row.path), master));
  if (repo.id !== row.repoId) {
    await repo.close();
    throw new CoreError('REPO_DAMAGED', BACKUP_MESSAGES.differentRepository(row.path));
  }
  return repo;
}
