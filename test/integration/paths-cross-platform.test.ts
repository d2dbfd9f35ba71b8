/**
 * Paths across platforms, on a real repository: snapshots keep their source paths in one
 * platform-neutral form (docs/repository-format.md §9), so a snapshot made on Windows lists and
 * restores here and the reverse; Windows paths are refused by this Linux machine's core with a
 * clear reason, accepted by the contract (which does not know the machine), and Windows' rules
 * (drive letters, UNC, case) apply to excludes and comparisons where the core runs on Windows.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbsolutePathSchema } from '../../src-shared/contract-backup.js';
import { backup, findParent } from '../../src-main/core/backup/engine/backup.js';
import { makeExcluder } from '../../src-main/core/backup/engine/excludes.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { restore } from '../../src-main/core/backup/engine/restore.js';
import type { SnapshotWithId } from '../../src-main/core/backup/engine/snapshot.js';
import { displayPaths } from '../../src-main/core/backup/engine/snapshot-paths.js';
import { makeTestApp, STRONG_PASSWORD } from '../helpers/app.js';
import { diffTrees, removeTree, statTree, tempDir, TEST_KDF } from '../helpers/backup-fixtures.js';
import { folderStorage } from '../../src-main/core/backup/engine/storage/folder.js';

let work: string;
let source: string;
let repo: Repository;
let posixSnapshot: SnapshotWithId;
let windowsSnapshot: SnapshotWithId;

/** The same tree as a Windows machine would have recorded it: its paths, and its path family. */
async function asMadeOnWindows(s: SnapshotWithId, paths: string[]): Promise<SnapshotWithId> {
  const { id: _id, ...rest } = s;
  return repo.loadSnapshot(await repo.saveSnapshot({ ...rest, paths, pathStyle: 'win32' }));
}

beforeAll(async () => {
  work = tempDir('paths');
  source = join(work, 'Documents');
  mkdirSync(join(source, 'Taxes'), { recursive: true });
  writeFileSync(join(source, 'Taxes', '2026.txt'), 'filed\n');
  writeFileSync(join(source, 'letter.txt'), 'Dear Grace,\n');
  repo = (await Repository.init(folderStorage(join(work, 'repo')), 'repository password', TEST_KDF)).repo;
  posixSnapshot = await repo.loadSnapshot((await backup(repo, { sources: [source] })).snapshotId);
  windowsSnapshot = await asMadeOnWindows(posixSnapshot, ['/C/Users/Ada/Documents']);
});
afterAll(() => removeTree(work));

describe('a snapshot made here (POSIX)', () => {
  it('stores its paths as they are and names no path family, as every earlier snapshot did', () => {
    expect(posixSnapshot.paths).toEqual([source]);
    expect(posixSnapshot.pathStyle).toBeUndefined();
    expect(displayPaths(posixSnapshot)).toEqual([source]);
  });
});

describe('a snapshot made on Windows, read on Linux', () => {
  it('lists with its paths as Windows wrote them', async () => {
    const listed = (await repo.snapshots()).find((s) => s.id === windowsSnapshot.id)!;
    expect(listed.pathStyle).toBe('win32');
    expect(displayPaths(listed)).toEqual(['C:\\Users\\Ada\\Documents']);
  });

  it('restores into a folder, byte for byte', async () => {
    const { index } = await repo.loadIndex();
    const target = join(work, 'from-windows');
    const summary = await restore(repo, index, windowsSnapshot, { targetDir: target, onExisting: 'fail' });
    expect(summary.errors).toEqual([]);
    expect(diffTrees(source, join(target, 'Documents'))).toBe('');
    expect(statTree(join(target, 'Documents'))).toEqual(statTree(source));
  });

  it('refuses its original places, which do not exist here, and says what to do instead', async () => {
    const { index } = await repo.loadIndex();
    await expect(restore(repo, index, windowsSnapshot, { targetDir: null, onExisting: 'fail' })).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: 'This snapshot was made on Windows, so its original places do not exist on this computer. Restore it into a folder instead.',
    });
  });

  it('is never the parent of a backup made here, though it holds the same tree', async () => {
    const parent = await findParent(repo, [source]);
    expect(parent?.id).toBe(posixSnapshot.id);
    await expect(findParent(repo, ['/C/Users/Ada/Documents'])).resolves.toBeNull();
  });
});

describe('paths at the boundary', () => {
  it('the contract takes a full path of either family and explains anything else', () => {
    for (const ok of ['/home/ada/Documents', 'C:\\Users\\Ada\\Documents', 'd:/Photos', '\\\\nas\\backups\\ada']) {
      expect(AbsolutePathSchema.safeParse(ok).success, ok).toBe(true);
    }
    const reason = (p: string) => {
      const r = AbsolutePathSchema.safeParse(p);
      return r.success ? null : r.error.issues[0]!.message;
    };
    expect(reason('Documents')).toBe('Use a full path, such as /home/you/Documents or C:\\Users\\you\\Documents.');
    expect(reason('C:Documents')).toBe('Put a backslash after the drive letter (for example C:\\Users).');
    expect(reason('/home/ada/../root')).toBe('Use a path without "..".');
  });

  it('the core on Linux refuses a Windows path with its own reason, and stores nothing', async () => {
    const t = makeTestApp();
    try {
      await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
      const { repository } = await t.ok('backup.repositories.init', { name: 'Disk', path: join(work, 'repo-app') });
      const r = await t.call('backup.sets.create', { name: 'Docs', repositoryId: repository.id, sources: ['C:\\Users\\Ada\\Documents'] });
      expect(r).toEqual({ ok: false, error: { code: 'BAD_INPUT', message: 'Use a full path (starting with /).' } });
      expect((await t.ok('backup.sets.list', {})).sets).toEqual([]);
    } finally {
      t.remove();
    }
  });
});

describe('excludes under Windows rules', () => {
  const windows = makeExcluder(['C:/Users/*/AppData/**', '*.TMP', 'node_modules'], 'win32');
  const posix = makeExcluder(['/home/*/.cache/**', '*.TMP'], 'posix');

  it('match a Windows path written with backslashes, without regard to case', () => {
    expect(windows('C:\\Users\\Ada\\AppData\\Local\\Temp\\x.log', 'x.log')).toBe(true);
    expect(windows('c:\\users\\ada\\appdata\\roaming', 'roaming')).toBe(true);
    expect(windows('C:\\Users\\Ada\\Documents\\draft.tmp', 'draft.tmp')).toBe(true);
    expect(windows('C:\\Users\\Ada\\Node_Modules', 'Node_Modules')).toBe(true);
    expect(windows('C:\\Users\\Ada\\Documents\\letter.txt', 'letter.txt')).toBe(false);
  });

  it('keep POSIX matching exact, as before', () => {
    expect(posix('/home/ada/.cache/thumbnails/a.png', 'a.png')).toBe(true);
    expect(posix('/home/ada/draft.tmp', 'draft.tmp')).toBe(false);
    expect(posix('/home/ada/draft.TMP', 'draft.TMP')).toBe(true);
  });
});
