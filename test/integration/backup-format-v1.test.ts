/**
 * Repositories written before format version 2 stay readable and usable: a repository written by
 * the version-1 engine (test/fixtures/repo-v1-letters: two snapshots of a small tree, password "version
 * one password") lists, checks, browses and restores as it did; a backup into it marks it version
 * 2 and leaves its old snapshots restorable; and a backup whose parent snapshot is version 1
 * reads again what that parent could not record (extended attributes, hard links).
 */
import { cpSync, lstatSync, mkdirSync, readFileSync, readlinkSync, writeFileSync, linkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup } from '../../src-main/core/backup/engine/backup.js';
import { listFolder } from '../../src-main/core/backup/engine/browse.js';
import { check } from '../../src-main/core/backup/engine/check.js';
import { blobAad, blobId, encrypt } from '../../src-main/core/backup/engine/format.js';
import { indexFileFor } from '../../src-main/core/backup/engine/index.js';
import type { PackEntry } from '../../src-main/core/backup/engine/pack.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { restore } from '../../src-main/core/backup/engine/restore.js';
import type { SnapshotWithId } from '../../src-main/core/backup/engine/snapshot.js';
import { encodeTree, type TreeNode } from '../../src-main/core/backup/engine/tree.js';
import { removeTree, tempDir, TEST_KDF } from '../helpers/backup-fixtures.js';
import { folderStorage } from '../../src-main/core/backup/engine/storage/folder.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/repo-v1-letters', import.meta.url));
const T = 1_620_285_289; // the fixture's times, in seconds (2021-05-06T07:14:49Z)

let work: string;
let repo: Repository;

beforeAll(async () => {
  work = tempDir('format-v1');
  cpSync(FIXTURE, join(work, 'repo'), { recursive: true });
  // Git keeps no empty folders: the layout's are made as a copied repository would have them.
  for (const d of ['locks', 'tmp']) mkdirSync(join(work, 'repo', d), { recursive: true });
  repo = (await Repository.openWithPassword(folderStorage(join(work, 'repo')), 'version one password')).repo;
});
afterAll(() => removeTree(work));

const mtimeOf = (path: string) => lstatSync(path, { bigint: true }).mtimeNs;

describe('a version-1 repository', () => {
  it('opens, lists its two version-1 snapshots, and checks clean reading every byte', async () => {
    expect(repo.config.version).toBe(1);
    const snapshots = await repo.snapshots();
    expect(snapshots.map((s) => [s.version, s.paths, s.summary.files])).toEqual([
      [1, ['/tmp/em-gen/letters'], 3],
      [1, ['/tmp/em-gen/letters'], 3],
    ]);
    const report = await check(repo, { readData: { kind: 'all' } });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('browses and restores both snapshots with their contents, modes, times and symlink', async () => {
    const [first, second] = await repo.snapshots();
    const { index } = await repo.loadIndex();
    expect((await listFolder(repo, index, first!, 'letters')).map((e) => [e.name, e.type, e.mode & 0o7777])).toEqual([
      ['drafts', 'dir', 0o750],
      ['empty', 'file', 0o644],
      ['hello.txt', 'file', 0o640],
      ['latest', 'symlink', 0o777],
    ]);
    for (const [snapshot, hello] of [
      [first!, 'hello from a version 1 repository\n'],
      [second!, 'hello again, second snapshot\n'],
    ] as const) {
      const target = join(work, `restored-${snapshot.id.slice(0, 8)}`);
      const summary = await restore(repo, index, snapshot, { targetDir: target, onExisting: 'fail' });
      expect(summary.errors).toEqual([]);
      const root = join(target, 'letters');
      expect(readFileSync(join(root, 'hello.txt'), 'utf8')).toBe(hello);
      expect(readFileSync(join(root, 'drafts', 'notes.md'), 'utf8')).toBe(`# notes\n${'a line of notes\n'.repeat(200)}`);
      expect(readFileSync(join(root, 'empty'), 'utf8')).toBe('');
      expect(readlinkSync(join(root, 'latest'))).toBe('drafts/notes.md');
      expect(lstatSync(join(root, 'hello.txt')).mode & 0o7777).toBe(0o640);
      expect(lstatSync(join(root, 'drafts')).mode & 0o7777).toBe(0o750);
      expect(mtimeOf(join(root, 'drafts', 'notes.md'))).toBe(BigInt(T + 60) * 1_000_000_000n);
      expect(mtimeOf(join(root, 'latest'))).toBe(BigInt(T + 180) * 1_000_000_000n);
      expect(mtimeOf(root)).toBe(BigInt(T + 300) * 1_000_000_000n);
    }
  });

  it('becomes version 2 on the first backup into it, and its old snapshots still restore', async () => {
    const source = join(work, 'new-source');
    mkdirSync(source);
    writeFileSync(join(source, 'new.txt'), 'written by version 2\n');
    const { snapshotId, summary } = await backup(repo, { sources: [source] });
    expect(summary.errors).toEqual([]);
    expect(repo.config.version).toBe(2);
    expect(await Repository.readConfig(repo.storage)).toEqual({ ...repo.config, version: 2 });
    expect((await repo.loadSnapshot(snapshotId)).version).toBe(2);
    const reopened = (await Repository.openWithPassword(repo.storage, 'version one password')).repo;
    const { index } = await reopened.loadIndex();
    const old = (await reopened.snapshots()).find((s) => s.version === 1)!;
    const target = join(work, 'restored-after-upgrade');
    expect((await restore(reopened, index, old, { targetDir: target, onExisting: 'fail' })).errors).toEqual([]);
    expect(readFileSync(join(target, 'letters', 'hello.txt'), 'utf8')).toMatch(/^hello/);
    expect((await check(reopened, { readData: { kind: 'all' } })).problems).toEqual([]);
  });
});

/**
 * A version-1 snapshot of the tree under `tree`: the same nodes without what version 1 did not
 * record (extended attributes, hard links), stored as the version-1 engine stored trees.
 */
async function asVersion1(r: Repository, snapshot: SnapshotWithId): Promise<SnapshotWithId> {
  const { index } = await r.loadIndex();
  const blobs: Buffer[] = [];
  const entries: PackEntry[] = [];
  let offset = 0;
  const strip = async (treeId: string): Promise<string> => {
    const nodes: TreeNode[] = [];
    for (const n of (await r.loadTree(treeId, index, { cache: false })).nodes) {
      const { xattrs: _x, links: _l, device: _d, ...v1 } = n;
      nodes.push(n.type === 'dir' ? { ...v1, subtree: await strip(n.subtree!) } : v1);
    }
    const plain = encodeTree(nodes);
    const id = blobId(r.keys.id, plain);
    const sealed = encrypt(r.keys.data, plain, blobAad('tree', id));
    entries.push({ id: id.toString('hex'), type: 'tree', compressed: false, length: sealed.length, rawLength: plain.length, offset });
    blobs.push(sealed);
    offset += sealed.length;
    return id.toString('hex');
  };
  const tree = await strip(snapshot.tree);
  const pack = await r.savePack(blobs, entries);
  await r.saveSealed('index', indexFileFor(new Map([[pack.id, entries]])));
  const { id: _id, ...rest } = snapshot;
  const id = await r.saveSnapshot({ ...rest, version: 1, tree });
  return r.loadSnapshot(id);
}

describe('a backup whose parent snapshot is version 1', () => {
  it('reads again what the parent did not record, for unchanged files too, and keeps their stored contents', async () => {
    const r = (await Repository.init(folderStorage(join(work, 'repo-parent')), 'pw', TEST_KDF)).repo;
    const source = join(work, 'tagged');
    mkdirSync(source);
    writeFileSync(join(source, 'tagged.txt'), 'tagged\n');
    execFileSync('setfattr', ['-n', 'user.comment', '-v', 'kept', join(source, 'tagged.txt')]);
    writeFileSync(join(source, 'one'), 'one file, two names\n');
    linkSync(join(source, 'one'), join(source, 'two'));
    const full = await backup(r, { sources: [source] });
    const v1 = await asVersion1(r, await r.loadSnapshot(full.snapshotId));
    expect(v1.tree).not.toBe((await r.loadSnapshot(full.snapshotId)).tree);

    const next = await backup(r, { sources: [source], parent: v1 });
    expect(next.summary.errors).toEqual([]);
    expect(next.summary.filesUnmodified).toBe(3); // contents kept, not read again
    // The nodes are the full ones again: the same tree as the first version-2 snapshot.
    expect((await r.loadSnapshot(next.snapshotId)).tree).toBe((await r.loadSnapshot(full.snapshotId)).tree);
  });
});
