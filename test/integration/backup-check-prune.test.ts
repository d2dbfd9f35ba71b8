/**
 * Check finds damage and names it; forget and prune remove only what no kept snapshot needs.
 */
import { rmSync, truncateSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backup } from '../../src-main/core/backup/engine/backup.js';
import { check } from '../../src-main/core/backup/engine/check.js';
import { RepoLock } from '../../src-main/core/backup/engine/lock.js';
import { forget, prune } from '../../src-main/core/backup/engine/prune.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { restore } from '../../src-main/core/backup/engine/restore.js';
import { diffTrees, flipByte, pseudoRandom, removeTree, tempDir, TEST_KDF } from '../helpers/backup-fixtures.js';
import { folderStorage } from '../../src-main/core/backup/engine/storage/folder.js';
import { packFile, repoFile } from '../helpers/repo-files.js';

let work: string;
let repo: Repository;

beforeEach(async () => {
  work = tempDir('check');
  repo = (await Repository.init(folderStorage(join(work, 'repo')), 'pw', TEST_KDF)).repo;
});
afterEach(() => removeTree(work));

function writeTree(dir: string, files: Record<string, Buffer | string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
}

/** The one data pack that holds `fileName`'s first chunk. */
async function packOf(snapshotId: string, fileName: string): Promise<string> {
  const { index } = await repo.loadIndex();
  const snap = await repo.loadSnapshot(snapshotId);
  const top = (await repo.loadTree(snap.tree, index)).nodes[0]!;
  const node = (await repo.loadTree(top.subtree!, index)).nodes.find((n) => n.name === fileName)!;
  return index.get(node.content![0]!, 'data')!.pack;
}

describe('check', () => {
  it('finds a corrupted pack when reading data, and names the pack, the snapshot and the file', async () => {
    const source = join(work, 'docs');
    writeTree(source, { 'report.pdf': pseudoRandom('report', 3 * 1024 * 1024), 'notes.txt': 'short notes\n' });
    const { snapshotId } = await backup(repo, { sources: [source] });
    expect((await check(repo, { readData: { kind: 'all' } })).ok).toBe(true);

    const pack = await packOf(snapshotId, 'report.pdf');
    flipByte(packFile(repo, pack), 1000);

    const structural = await check(repo, { readData: { kind: 'none' } });
    expect(structural.ok).toBe(true); // the header is intact: only reading data can see this
    const report = await check(repo, { readData: { kind: 'all' } });
    expect(report.ok).toBe(false);
    expect(report.damagedPacks).toEqual([pack]);
    expect(report.problems.map((p) => p.id)).toContain(pack);
    expect(report.damagedSnapshots).toEqual([{ id: snapshotId, time: expect.any(String), files: ['docs/report.pdf'] }]);
  });

  it('finds a truncated pack and a missing pack without reading data, and blames only the files whose data is gone', async () => {
    const source = join(work, 'a');
    writeTree(source, { 'one.bin': pseudoRandom('one', 100_000) });
    const { snapshotId } = await backup(repo, { sources: [source] });
    const pack = await packOf(snapshotId, 'one.bin');
    const path = packFile(repo, pack);
    // Cut into the trailer only: the header is lost, every blob is still whole.
    truncateSync(path, statSync(path).size - 3);
    let report = await check(repo, { readData: { kind: 'none' } });
    expect(report.damagedPacks).toEqual([pack]);
    expect(report.problems).toEqual([{ kind: 'pack', id: pack, message: `Pack ${pack.slice(0, 12)}: its header has no valid trailer.` }]);
    expect(report.damagedSnapshots).toEqual([]);
    // Cut into the data: the file that needs it is named.
    truncateSync(path, 1000);
    report = await check(repo, { readData: { kind: 'none' } });
    expect(report.damagedPacks).toEqual([pack]);
    expect(report.damagedSnapshots).toEqual([{ id: snapshotId, time: expect.any(String), files: ['a/one.bin'] }]);
    rmSync(path);
    report = await check(repo, { readData: { kind: 'none' } });
    expect(report.problems[0]).toEqual({ kind: 'pack', id: pack, message: `Pack ${pack.slice(0, 12)} is missing.` });
    expect(report.damagedSnapshots[0]!.id).toBe(snapshotId);
  });

  it('reads a random subset of packs when asked', async () => {
    const source = join(work, 'many');
    // Three files of ~10 MiB: at least two data packs.
    writeTree(source, Object.fromEntries([1, 2, 3].map((i) => [`f${i}`, pseudoRandom(`f${i}`, 10 * 1024 * 1024)])));
    await backup(repo, { sources: [source] });
    const report = await check(repo, { readData: { kind: 'subset', percent: 1 } });
    expect(report.ok).toBe(true);
    expect(report.packsRead).toBe(1);
    expect(report.packs).toBeGreaterThan(2);
  });
});

describe('forget and prune', () => {
  it('keep every byte a kept snapshot needs, and free what none needs (rewriting partly used packs)', async () => {
    const source = join(work, 'src');
    writeTree(source, { 'keep.bin': pseudoRandom('keep', 2_000_000), 'small-keep.txt': 'stays\n', 'small-drop.txt': 'goes\n' });
    const first = await backup(repo, { sources: [source] });
    rmSync(join(source, 'small-drop.txt'));
    writeTree(source, { 'temp.bin': pseudoRandom('temp', 4_000_000) });
    const second = await backup(repo, { sources: [source] });
    rmSync(join(source, 'temp.bin'));
    writeTree(source, { 'later.bin': pseudoRandom('later', 1_000_000) });
    const third = await backup(repo, { sources: [source] });

    // Forget the first and the second: small-drop.txt and temp.bin are then needed by nobody.
    expect(await forget(repo, [first.snapshotId, second.snapshotId])).toBe(2);
    const result = await prune(repo);
    expect(result.packsRemoved + result.packsRewritten).toBeGreaterThan(0);
    expect(result.packsRewritten).toBeGreaterThan(0); // the pack holding small-keep.txt and small-drop.txt
    expect(result.bytesFreed).toBeGreaterThan(4_000_000);

    const report = await check(repo, { readData: { kind: 'all' } });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    const target = join(work, 'out');
    const { index } = await repo.loadIndex();
    const summary = await restore(repo, index, await repo.loadSnapshot(third.snapshotId), { targetDir: target, onExisting: 'fail' });
    expect(summary.errors).toEqual([]);
    expect(diffTrees(source, join(target, 'src'))).toBe('');
  });

  it('does not run while a backup holds the repository, and ignores a stale lock of a dead process', async () => {
    const held = await RepoLock.acquire(repo, false);
    await expect(prune(repo)).rejects.toMatchObject({ code: 'REPO_LOCKED' });
    await held.release();
    // A lock left by a process that no longer exists on this host is stale.
    writeFileSync(join(repoFile(repo, 'locks'), 'a'.repeat(64)), JSON.stringify({ host: hostname(), pid: 2 ** 22 + 12345, time: Date.now(), exclusive: true }));
    await expect(prune(repo)).resolves.toMatchObject({ packsRemoved: 0 });
  });
});
