/**
 * How the backup service reaches a repository: where it is (a Storage for its location: a
 * folder for now, docs/repository-format.md §14), opening a connected one with its master key,
 * the passwords made for new repositories, and storage failures turned into errors a person can
 * act on (engine/messages.ts) before they leave the service.
 */
import { randomInt } from 'node:crypto';
import { absolutePathProblem } from '../../../src-shared/paths.js';
import { CoreError } from '../platform/errors.js';
import type { RepositoryRow } from './backup-sets.js';
import { storageFailure } from './engine/messages.js';
import { HOST_PATH_STYLE } from './engine/path-style.js';
import { Repository } from './engine/repository.js';
import { folderStorage } from './engine/storage/folder.js';
import { StorageError, type Storage } from './engine/storage/storage.js';

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

/** A full path of this machine's own family: a Windows path on Linux (or the reverse) is refused. */
export function requireAbsolute(path: string): void {
  const problem = absolutePathProblem(path, HOST_PATH_STYLE);
  if (problem) throw new CoreError('BAD_INPUT', problem);
}

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
    throw new CoreError('REPO_DAMAGED', `The folder ${row.path} now holds a different repository than the one connected.`);
  }
  return repo;
}
