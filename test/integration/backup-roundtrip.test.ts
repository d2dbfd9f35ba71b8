/**
 * Backup and restore, end to end on real files: what goes in comes out byte for byte, with its
 * modes, times and symlinks; a second backup reads nothing that did not change; a byte inserted
 * at the start of a big file costs only a chunk or two; a wrong password says so plainly.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup } from '../../src-main/core/backup/engine/backup.js';
import { check } from '../../src-main/core/backup/engine/check.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { restore } from '../../src-main/core/backup/engine/restore.js';
import type { Progress } from '../../src-main/core/backup/engine/backup.js';
import { diffTrees, makeSourceTree, pseudoRandom, removeTree, statTree, tempDir, TEST_KDF } from '../helpers/backup-fixtures.js';
import { folderStorage } from '../../src-main/core/backup/engine/storage/folder.js';

let work: string;
let source: string;
let repo: Repository;
let firstSnapshot: string;

beforeAll(async () => {
  work = tempDir('roundtrip');
  source = join(work, 'source');
  makeSourceTree(source, 100);
  repo = (await Repository.init(folderStorage(join(work, 'repo')), 'repository password', TEST_KDF)).repo;
});
afterAll(() => removeTree(work));

describe('a backup of a generated tree', () => {
  it('stores every file and reports honest totals and progress', async () => {
    const progress: Progress[] = [];
    const { snapshotId, summary } = await backup(repo, { sources: [source], onProgress: (p) => progress.push(p) });
    firstSnapshot = snapshotId;
    expect(summary.errors).toEqual([]);
    expect(summary.filesNew).toBe(summary.files);
    expect(summary.files).toBe(statTree(source).filter((e) => e.type === 'file').length);
    expect(summary.bytes).toBeGreaterThan(100 * 1024 * 1024);
    // Random data does not compress: stored size stays close to the input.
    expect(summary.dataAdded).toBeLessThan(summary.bytes * 1.01);
    const last = progress.at(-1)!;
    expect(last.filesDone).toBe(summary.files);
    expect(last.bytesDone).toBe(summary.bytes);
    expect(last.etaSeconds).toBe(0);
  });

  it('restores byte-identical, with modes, times and symlinks (diff -r and stat agree)', async () => {
    const target = join(work, 'restored');
    const { index } = await repo.loadIndex();
    const snapshot = await repo.loadSnapshot(firstSnapshot);
    const progress: Progress[] = [];
    const summary = await restore(repo, index, snapshot, { targetDir: target, onExisting: 'fail', onProgress: (p) => progress.push(p) });
    expect(summary.errors).toEqual([]);
    expect(diffTrees(source, join(target, 'source'))).toBe('');
    expect(statTree(join(target, 'source'))).toEqual(statTree(source));
    // Into a new folder the totals come from the snapshot's summary, from the first report on.
    expect(progress.length).toBeGreaterThan(0);
    for (const p of progress) expect([p.filesTotal, p.bytesTotal]).toEqual([snapshot.summary.files, snapshot.summary.bytes]);
    expect(progress.at(-1)).toMatchObject({ filesDone: summary.files, bytesDone: summary.bytes });
    expect(summary.files).toBe(snapshot.summary.files);
    expect(summary.bytes).toBe(snapshot.summary.bytes);
  });

  it('reads no unchanged file again and stores nothing new when nothing changed', async () => {
    const { summary } = await backup(repo, { sources: [source] });
    expect(summary.filesUnmodified).toBe(summary.files);
    expect(summary.filesNew + summary.filesChanged).toBe(0);
    expect(summary.dataAdded).toBe(0);
  });

  it('reuses all but a few chunks when bytes are inserted at the start of a large file', async () => {
    const big = join(source, 'big.bin');
    const before = readFileSync(big);
    writeFileSync(big, Buffer.concat([Buffer.from('inserted at the start'), before]));
    const { snapshotId, summary } = await backup(repo, { sources: [source] });
    expect(summary.filesChanged).toBe(1);
    const { index } = await repo.loadIndex();
    const snap = await repo.loadSnapshot(snapshotId);
    const first = await repo.loadSnapshot(firstSnapshot);
    const contentOf = async (treeId: string) => {
      const top = (await repo.loadTree(treeId, index)).nodes.find((n) => n.name === 'source')!;
      return (await repo.loadTree(top.subtree!, index)).nodes.find((n) => n.name === 'big.bin')!.content!;
    };
    const oldIds = new Set(await contentOf(first.tree));
    const newIds = await contentOf(snap.tree);
    expect(newIds.length).toBeGreaterThan(60);
    expect(newIds.filter((id) => !oldIds.has(id)).length).toBeLessThanOrEqual(2);
    expect(summary.dataAdded).toBeLessThan(5 * 1024 * 1024);
  });

  it('picks up new and changed files and restores only chosen paths', async () => {
    appendFileSync(join(source, 'small.txt'), 'one more line\n');
    mkdirSync(join(source, 'new-folder'));
    writeFileSync(join(source, 'new-folder', 'fresh.txt'), pseudoRandom('fresh', 10_000));
    const { snapshotId, summary } = await backup(repo, { sources: [source] });
    expect(summary.filesNew).toBe(1);
    expect(summary.filesChanged).toBe(1);
    const target = join(work, 'chosen');
    const { index } = await repo.loadIndex();
    const result = await restore(repo, index, await repo.loadSnapshot(snapshotId), {
      targetDir: target,
      paths: ['source/new-folder/fresh.txt', 'source/ünïcödé'],
      onExisting: 'fail',
    });
    expect(result.errors).toEqual([]);
    expect(readFileSync(join(target, 'source/new-folder/fresh.txt'))).toEqual(pseudoRandom('fresh', 10_000));
    expect(diffTrees(join(source, 'ünïcödé'), join(target, 'source/ünïcödé'))).toBe('');
    expect(statTree(join(target, 'source')).map((e) => e.path)).not.toContain('big.bin');

    // A path chosen twice, or inside another chosen path, is restored once.
    const again = await restore(repo, index, await repo.loadSnapshot(snapshotId), {
      targetDir: join(work, 'chosen-twice'),
      paths: ['source/new-folder/fresh.txt', 'source/new-folder', 'source/new-folder/'],
      onExisting: 'fail',
    });
    expect(again).toMatchObject({ files: 1, dirs: 2, skipped: 0, errors: [] });
    expect(statTree(join(work, 'chosen-twice')).map((e) => e.path)).toEqual(['source', 'source/new-folder', 'source/new-folder/fresh.txt']);
  });

  it('never overwrites an existing file unless asked: fail refuses, skip keeps, overwrite replaces', async () => {
    const target = join(work, 'existing');
    const victim = join(target, 'source', 'small.txt');
    mkdirSync(join(target, 'source'), { recursive: true });
    writeFileSync(victim, 'mine, keep me\n');
    const { index } = await repo.loadIndex();
    const snapshot = await repo.loadSnapshot(firstSnapshot);
    const opts = { targetDir: target, paths: ['source/small.txt', 'source/text.log'] };
    await expect(restore(repo, index, snapshot, { ...opts, onExisting: 'fail' })).rejects.toMatchObject({ code: 'RESTORE_CONFLICT' });
    expect(statTree(join(target, 'source')).map((e) => e.path)).toEqual(['small.txt']);
    const skipped = await restore(repo, index, snapshot, { ...opts, onExisting: 'skip' });
    expect(skipped.skipped).toBe(1);
    expect(readFileSync(victim, 'utf8')).toBe('mine, keep me\n');
    const replaced = await restore(repo, index, snapshot, { ...opts, onExisting: 'overwrite' });
    expect(replaced.errors).toEqual([]);
    expect(readFileSync(victim, 'utf8')).toBe('hello, twofold\n');
  });

  it('reports an unreadable file in the summary, skips it and goes on', async () => {
    const secret = join(source, 'no-access.txt');
    writeFileSync(secret, 'private');
    chmodSync(secret, 0o000);
    try {
      const { snapshotId, summary } = await backup(repo, { sources: [source] });
      if (process.getuid?.() === 0) return; // root reads anything; nothing to report
      expect(summary.errors).toEqual([{ path: secret, message: 'permission denied' }]);
      const snap = await repo.loadSnapshot(snapshotId);
      expect(snap.summary.errors).toHaveLength(1);
      expect((await check(repo, { readData: { kind: 'none' } })).ok).toBe(true);
    } finally {
      chmodSync(secret, 0o600);
    }
  });

  it('stores a file whose name is not UTF-8 under its exact bytes, and restores it under them', async () => {
    const odd = join(work, 'odd-names');
    mkdirSync(odd);
    writeFileSync(join(odd, 'fine.txt'), 'fine');
    // "caf\xe9.txt": Latin-1, not UTF-8.
    const latin1 = Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from('.txt')]);
    writeFileSync(Buffer.concat([Buffer.from(`${odd}/`), latin1]), 'latin-1 name');
    const oddRepo = (await Repository.init(folderStorage(join(work, 'odd-repo')), 'repository password', TEST_KDF)).repo;
    const { snapshotId, summary } = await backup(oddRepo, { sources: [odd] });
    expect(summary.errors).toEqual([]);
    expect(summary.files).toBe(2);
    const target = join(work, 'odd-restored');
    const { index } = await oddRepo.loadIndex();
    const restored = await restore(oddRepo, index, await oddRepo.loadSnapshot(snapshotId), { targetDir: target, onExisting: 'fail' });
    expect(restored.errors).toEqual([]);
    expect(
      readdirSync(join(target, 'odd-names'), { encoding: 'buffer' })
        .map((b) => b.toString('hex'))
        .sort(),
    ).toEqual([latin1.toString('hex'), Buffer.from('fine.txt').toString('hex')].sort());
    expect(readFileSync(Buffer.concat([Buffer.from(`${target}/odd-names/`), latin1]), 'utf8')).toBe('latin-1 name');
  });

  it('checks clean, reading every byte', async () => {
    const report = await check(repo, { readData: { kind: 'all' } });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.packsRead).toBe(report.packs);
    expect(report.snapshots).toBe(5);
  });

  it('refuses a wrong repository password with a clear error, and opens with the right one', async () => {
    await expect(Repository.openWithPassword(repo.storage, 'not the password')).rejects.toMatchObject({
      code: 'REPO_PASSWORD_WRONG',
      message: 'That is not the password of this repository.',
    });
    const { repo: reopened } = await Repository.openWithPassword(repo.storage, 'repository password');
    expect(reopened.id).toBe(repo.id);
    expect((await reopened.snapshots()).length).toBe(5);
  });
});
