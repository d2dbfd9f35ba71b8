/**
 * The files of a folder repository, for tests that damage one on purpose (flip a byte, cut a
 * pack, drop a lock): the engine itself only ever reaches them through its Storage.
 */
import { FolderStorage } from '../../src-main/core/backup/engine/storage/folder.js';
import { packName } from '../../src-main/core/backup/engine/storage/storage.js';
import type { Repository } from '../../src-main/core/backup/engine/repository.js';

function folderOf(repo: Repository): FolderStorage {
  if (!(repo.storage instanceof FolderStorage)) throw new Error('this test needs a folder repository');
  return repo.storage;
}

/** The folder the repository is in. */
export function repoPath(repo: Repository): string {
  return folderOf(repo).root;
}

/** The local path of a repository file or folder (`index`, `locks/<id>`, `tmp`). */
export function repoFile(repo: Repository, name: string): string {
  return folderOf(repo).localPath(name);
}

/** The local path of a pack. */
export function packFile(repo: Repository, packId: string): string {
  return folderOf(repo).localPath(packName(packId));
}
