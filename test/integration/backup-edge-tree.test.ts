/**
 * Everything a file system holds comes back: a tree with names and symlink targets that are not
 * UTF-8, extended attributes and ACLs, hard links, a FIFO, a socket, a device node, setuid and
 * setgid files not owned by root, and times in 1969 and to the nanosecond, backed up and restored
 * into a new folder, is the same tree by `diff -r`, `stat`, `getfattr -d` and link counts; and
 * restic 0.14, given the same tree, keeps no more of it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup } from '../../src-main/core/backup/engine/backup.js';
import { check } from '../../src-main/core/backup/engine/check.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { restore } from '../../src-main/core/backup/engine/restore.js';
import { removeTree, tempDir, TEST_KDF } from '../helpers/backup-fixtures.js';
import { diffTree, makeEdgeTree, reportTree, type TreeReport } from '../helpers/edge-tree.js';
import { folderStorage } from '../../src-main/core/backup/engine/storage/folder.js';

let work: string;
let source: string;
let before: TreeReport;
let repo: Repository;
let firstTree: string;

beforeAll(async () => {
  work = tempDir('edge');
  source = join(work, 'source');
  makeEdgeTree(source);
  // What the tools say before any backup reads the tree.
  before = reportTree(source);
  repo = (await Repository.init(folderStorage(join(work, 'repo')), 'pw', TEST_KDF)).repo;
});
afterAll(() => removeTree(work));

/** The lines of `a` that `b` lacks: what was lost on the way from a to b. */
const lost = (a: string, b: string) => {
  const have = new Set(b.split('\n'));
  return a.split('\n').filter((line) => !have.has(line));
};

describe('a tree with everything a file system holds', () => {
  it('is backed up whole: nothing skipped, nothing reported', async () => {
    const { snapshotId, summary } = await backup(repo, { sources: [source] });
    expect(summary.errors).toEqual([]);
    const snapshot = await repo.loadSnapshot(snapshotId);
    expect(snapshot.version).toBe(2);
    firstTree = snapshot.tree;
    expect((await check(repo, { readData: { kind: 'all' } })).problems).toEqual([]);
  });

  it('restores identical by diff -r, stat, getfattr -d and link counts, with access times set to modification times', async () => {
    const target = join(work, 'restored');
    const { index } = await repo.loadIndex();
    const snapshot = (await repo.snapshots()).at(-1)!;
    const summary = await restore(repo, index, snapshot, { targetDir: target, onExisting: 'fail' });
    expect(summary.errors).toEqual([]);
    expect(summary.special).toBe(process.getuid?.() === 0 ? 3 : 2); // fifo, socket (and the device node)
    const after = reportTree(join(target, 'source'));
    expect(after.atimeNotMtime).toEqual([]);
    expect(lost(before.stat, after.stat)).toEqual([]);
    expect(after.stat).toBe(before.stat);
    expect(after.xattrs).toBe(before.xattrs);
    expect(after.xattrs).toContain('system.posix_acl_access=0x');
    expect(after.xattrs).toContain('system.posix_acl_default=0x');
    expect(after.links).toEqual(before.links);
    expect(after.links).toEqual([
      ['./a/one', './b/two', './three'],
      ['./pair-1', './pair-2'],
    ]);
    expect(diffTree(source, join(target, 'source'))).toBe('');
  });

  it('stores nothing new when backed up again unchanged: the same trees, every file unmodified', async () => {
    const { snapshotId, summary } = await backup(repo, { sources: [source] });
    expect(summary.errors).toEqual([]);
    expect(summary.filesUnmodified).toBe(summary.files);
    expect(summary.dataAdded).toBe(0);
    expect((await repo.loadSnapshot(snapshotId)).tree).toBe(firstTree);
  });

  it('keeps at least what restic keeps of the same tree: restic 0.14 loses symlink targets and an attribute name that are not UTF-8, and the socket', () => {
    const env = { ...process.env, RESTIC_PASSWORD: 'pw', RESTIC_CACHE_DIR: join(work, 'restic-cache') };
    const resticRepo = join(work, 'restic-repo');
    const target = join(work, 'restic-restored');
    const restic = (...args: string[]) => execFileSync('restic', ['-q', '-r', resticRepo, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const version = spawnSync('restic', ['version'], { encoding: 'utf8' });
    expect(version.status, 'restic must be installed (apt-get install restic)').toBe(0);
    restic('init');
    restic('backup', source);
    restic('restore', 'latest', '--target', target);
    const theirs = reportTree(join(target, source));
    // Ours lost nothing (above), so it keeps all restic keeps. What restic loses, for the record:
    const resticLost = {
      stat: lost(before.stat, theirs.stat).map((line) => line.split('|')[0]),
      xattrs: lost(before.xattrs, theirs.xattrs).map((line) => line.split('=')[0]),
      links: theirs.links,
    };
    if (/^restic 0\.14\./.test(version.stdout)) {
      expect(resticLost).toEqual({
        // Targets stored as text (the bytes that are not UTF-8 become U+FFFD); a socket not made.
        stat: ['./dangling-latin1', './d\xe9j\xe0/link', './socket'],
        xattrs: ['user.caf\xe9'],
        links: before.links,
      });
    }
  }, 60_000);
});
