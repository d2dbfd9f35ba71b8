/**
 * FolderStorage: the Storage contract (test/helpers/storage-contract.ts), and the folder layout
 * every Twofold repository has had: each object the file of its name, written through tmp/
 * and renamed into place, tmp/ left empty and never listed.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FolderStorage } from '../../src-main/core/backup/engine/storage/folder.js';
import { StorageError } from '../../src-main/core/backup/engine/storage/storage.js';
import { removeTree, tempDir } from '../helpers/backup-fixtures.js';
import { describeStorageContract } from '../helpers/storage-contract.js';

describeStorageContract('a folder', async () => {
  const work = tempDir('storage-folder');
  return { storage: new FolderStorage(join(work, 'repo')), cleanup: () => removeTree(work) };
});

describe('a folder storage on disk', () => {
  let work: string;
  let storage: FolderStorage;
  beforeEach(async () => {
    work = tempDir('storage-folder-layout');
    storage = new FolderStorage(join(work, 'repo'));
    await storage.prepare();
  });
  afterEach(() => removeTree(work));

  it('makes the layout of a repository: its folders, and data/ with one folder per first byte', () => {
    expect(readdirSync(join(work, 'repo')).sort()).toEqual(['data', 'index', 'keys', 'locks', 'snapshots', 'tmp']);
    const subs = readdirSync(join(work, 'repo', 'data'));
    expect(subs).toHaveLength(256);
    expect(subs).toContain('00');
    expect(subs).toContain('ff');
    expect(statSync(join(work, 'repo')).mode & 0o777).toBe(0o700);
  });

  it('keeps each object as the file of its name, written through tmp/, which it leaves empty and never lists', async () => {
    const name = `index/${'c'.repeat(64)}`;
    await storage.write(name, Buffer.from('sealed bytes'));
    expect(readFileSync(join(work, 'repo', 'index', 'c'.repeat(64)), 'utf8')).toBe('sealed bytes');
    expect(readdirSync(join(work, 'repo', 'tmp'))).toEqual([]);
    writeFileSync(join(work, 'repo', 'tmp', 'someone-1-0123456789abcdef.tmp'), 'half a pack');
    expect((await storage.list('')).map((o) => o.name)).toEqual([name]);
  });

  it('installs a pack staged in its own tmp/ by renaming it: the same file, not a copy', async () => {
    const staged = join(storage.stagingDir(), 'host-1-0123456789abcdef.tmp');
    writeFileSync(staged, Buffer.alloc(4096, 7));
    const inode = statSync(staged).ino;
    const name = `data/7a/7a${'e'.repeat(62)}`;
    await storage.write(name, { file: staged, size: 4096 });
    expect(statSync(storage.localPath(name)).ino).toBe(inode);
    expect(readdirSync(storage.stagingDir())).toEqual([]);
  });

  it('never makes a missing parent folder (a drive that is not mounted), and refuses a file for a folder', async () => {
    await expect(new FolderStorage(join(work, 'not', 'mounted')).prepare()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    writeFileSync(join(work, 'a-file'), 'x');
    await expect(new FolderStorage(join(work, 'a-file')).prepare()).rejects.toBeInstanceOf(StorageError);
  });

  it('says NOT_FOUND when the whole folder is gone, and an empty listing for a folder of it that is', async () => {
    mkdirSync(join(work, 'bare'));
    expect(await new FolderStorage(join(work, 'bare')).list('locks')).toEqual([]);
    await expect(new FolderStorage(join(work, 'gone')).list('locks')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
