/**
 * `backup.repositories.status`, what the overview shows for each repository: reachable or not
 * (opened with its key just now), why not in words, and the space left where it lives. Real
 * repositories in folders on disk, through the router.
 */
import { renameSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeTree, tempDir } from '../helpers/backup-fixtures.js';
import { makeTestApp, STRONG_PASSWORD, type TestApp } from '../helpers/app.js';

let t: TestApp;
let work: string;

beforeEach(async () => {
  work = tempDir('repository-status');
  t = makeTestApp();
  await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
});
afterEach(() => {
  t.remove();
  removeTree(work);
});

describe('the state of a repository', () => {
  it('is reachable, with the free space of the disk that holds it', async () => {
    const path = join(work, 'repo');
    const { repository } = await t.ok('backup.repositories.init', { name: 'Disk', path });
    const status = await t.ok('backup.repositories.status', { repositoryId: repository.id });
    const fs = statfsSync(path);
    expect(status.reachable).toBe(true);
    expect(status.message).toBeNull();
    // The disk's free space as the OS reports it (other writers may move it a little meanwhile).
    expect(Math.abs(status.freeBytes! - fs.bavail * fs.bsize)).toBeLessThan(64 * 1024 * 1024);
  });

  it('is unreachable, saying what to check, when its folder is gone (a drive unplugged), and reachable again once it is back', async () => {
    const path = join(work, 'repo');
    const { repository } = await t.ok('backup.repositories.init', { name: 'Disk', path });
    renameSync(path, join(work, 'elsewhere'));
    const gone = await t.ok('backup.repositories.status', { repositoryId: repository.id });
    expect(gone).toEqual({ reachable: false, message: 'There is no Twofold repository there (or it cannot be read).', freeBytes: null });
    renameSync(join(work, 'elsewhere'), path);
    expect((await t.ok('backup.repositories.status', { repositoryId: repository.id })).reachable).toBe(true);
  });

  it('is unreachable when another repository now sits where it was', async () => {
    const path = join(work, 'repo');
    const { repository } = await t.ok('backup.repositories.init', { name: 'Disk', path });
    renameSync(path, join(work, 'first'));
    await t.ok('backup.repositories.init', { name: 'Other', path: join(work, 'second') });
    renameSync(join(work, 'second'), path);
    const status = await t.ok('backup.repositories.status', { repositoryId: repository.id });
    expect(status.reachable).toBe(false);
    expect(status.message).toMatch(/different repository|not the repository/i);
  });

  it('of an unknown repository is an error, not an unreachable repository', async () => {
    const r = await t.call('backup.repositories.status', { repositoryId: '00000000-0000-4000-8000-000000000000' });
    expect(r).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });
});
