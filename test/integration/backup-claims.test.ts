/**
 * Which thread stores a chunk (claims.ts, pack-writer.ts): each worker thread writes the chunks
 * it claims into packs of its own. A chunk many files share is stored once whichever thread
 * reads it; a chunk whose claim was wrong (two ids sharing a fingerprint) is stored anyway; a
 * cancelled backup leaves no half-written pack behind; a pack a thread cannot write fails the
 * backup instead of passing for an unreadable source file.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup } from '../../src-main/core/backup/engine/backup.js';
import { check } from '../../src-main/core/backup/engine/check.js';
import { chunkAll } from '../../src-main/core/backup/engine/chunker.js';
import { blobId } from '../../src-main/core/backup/engine/format.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { restore } from '../../src-main/core/backup/engine/restore.js';
import { encodeTree } from '../../src-main/core/backup/engine/tree.js';
import type { MasterIndex } from '../../src-main/core/backup/engine/index.js';
import { diffTrees, pseudoRandom, removeTree, tempDir, TEST_KDF } from '../helpers/backup-fixtures.js';
import { folderStorage } from '../../src-main/core/backup/engine/storage/folder.js';
import { repoFile, repoPath } from '../helpers/repo-files.js';

const CHILD = fileURLToPath(new URL('../helpers/backup-child.ts', import.meta.url));

let work: string;

beforeAll(() => {
  work = tempDir('claims');
});
afterAll(() => removeTree(work));

async function freshRepo(name: string): Promise<Repository> {
  return (await Repository.init(folderStorage(join(work, name)), 'repository password', TEST_KDF)).repo;
}

/** The chunk ids of every file under a snapshot's tree. */
async function contentIds(repo: Repository, index: MasterIndex, treeId: string): Promise<string[]> {
  const ids: string[] = [];
  for (const node of (await repo.loadTree(treeId, index)).nodes) {
    if (node.type === 'dir') ids.push(...(await contentIds(repo, index, node.subtree!)));
    if (node.type === 'file') ids.push(...(node.content ?? []));
  }
  return ids;
}

/** Data blobs as the pack headers list them, duplicates included. */
async function storedDataBlobs(repo: Repository): Promise<string[]> {
  const ids: string[] = [];
  for (const pack of (await repo.listPacks()).keys()) {
    for (const e of await repo.readPackHeader(pack)) if (e.type === 'data') ids.push(e.id);
  }
  return ids;
}

describe('chunks stored by the worker threads', () => {
  it('stores a chunk that many files share once, whichever thread reads it', async () => {
    const source = join(work, 'shared');
    mkdirSync(source, { recursive: true });
    const small = pseudoRandom('shared small', 40_000);
    const large = pseudoRandom('shared large', 6 * 1024 * 1024);
    for (let i = 0; i < 150; i++) writeFileSync(join(source, `small-${i}.bin`), small);
    for (let i = 0; i < 6; i++) writeFileSync(join(source, `large-${i}.bin`), large);
    writeFileSync(join(source, 'other.bin'), pseudoRandom('other', 3 * 1024 * 1024));

    const repo = await freshRepo('shared-repo');
    const { snapshotId, summary } = await backup(repo, { sources: [source], threads: 2 });
    expect(summary.errors).toEqual([]);
    expect(summary.files).toBe(157);

    const { index } = await repo.loadIndex();
    const snapshot = await repo.loadSnapshot(snapshotId);
    const referenced = new Set(await contentIds(repo, index, snapshot.tree));
    const expected = new Set(
      [small, large, pseudoRandom('other', 3 * 1024 * 1024)].flatMap((data) => {
        let at = 0;
        return chunkAll(repo.gear, data).map((n) => blobId(repo.keys.id, data.subarray(at, (at += n))).toString('hex'));
      }),
    );
    expect(referenced).toEqual(expected);
    const stored = await storedDataBlobs(repo);
    expect(stored.length).toBe(expected.size);
    expect(new Set(stored)).toEqual(expected);
  });

  it('stores a chunk anyway when its claim was wrong, and restores it byte for byte', async () => {
    const source = join(work, 'stale');
    mkdirSync(source, { recursive: true });
    const data = pseudoRandom('stale claims', 5 * 1024 * 1024);
    writeFileSync(join(source, 'victim.bin'), data);
    writeFileSync(join(source, 'bystander.bin'), pseudoRandom('bystander', 2 * 1024 * 1024));

    const repo = await freshRepo('stale-repo');
    let at = 0;
    const victimIds = chunkAll(repo.gear, data).map((n) => blobId(repo.keys.id, data.subarray(at, (at += n))));
    expect(victimIds.length).toBeGreaterThan(1);

    // Every chunk of victim.bin looks claimed from the start, as a fingerprint collision would make it.
    const { snapshotId, summary } = await backup(repo, { sources: [source], threads: 2, staleClaims: victimIds });
    expect(summary.errors).toEqual([]);

    const { index } = await repo.loadIndex();
    for (const id of victimIds) expect(index.has(id.toString('hex'), 'data')).toBe(true);
    const report = await check(repo, { readData: { kind: 'all' } });
    expect(report.problems).toEqual([]);
    const target = join(work, 'stale-restored');
    const restored = await restore(repo, index, await repo.loadSnapshot(snapshotId), { targetDir: target, onExisting: 'fail' });
    expect(restored.errors).toEqual([]);
    expect(diffTrees(source, join(target, 'stale'))).toBe('');
  });

  it('leaves no half-written pack in tmp/ when cancelled, and the repository checks clean', async () => {
    const source = join(work, 'cancelled');
    mkdirSync(source, { recursive: true });
    for (let i = 0; i < 120; i++) writeFileSync(join(source, `file-${i}.bin`), pseudoRandom(`cancel ${i}`, 1024 * 1024));

    const repo = await freshRepo('cancelled-repo');
    const controller = new AbortController();
    let filesDone = 0;
    const run = backup(repo, {
      sources: [source],
      threads: 2,
      signal: controller.signal,
      onProgress: (p) => {
        filesDone = p.filesDone;
        // A file is done: its chunks sit in a worker's open pack, which the cancel must remove.
        if (p.filesDone >= 1) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(filesDone).toBeGreaterThanOrEqual(1);
    expect(filesDone).toBeLessThan(120);
    expect(readdirSync(repoFile(repo, 'tmp'))).toEqual([]);
    expect((await check(repo, { readData: { kind: 'all' } })).ok).toBe(true);
  });

  it('fails the backup, and skips no file, when a worker thread cannot write its pack', async () => {
    const source = join(work, 'limited');
    mkdirSync(source, { recursive: true });
    writeFileSync(join(source, 'big.bin'), pseudoRandom('too big for the limit', 8 * 1024 * 1024));
    writeFileSync(join(source, 'small.txt'), 'small enough');
    const { repo, master } = await Repository.init(folderStorage(join(work, 'limited-repo')), 'repository password', TEST_KDF);

    // Files this process writes may not grow past 3 MiB (Node ignores SIGXFSZ, so writes fail
    // with EFBIG): the index, tree pack and snapshot stay under it, a data pack does not.
    const child = spawnSync('bash', ['-c', 'ulimit -f 3072; exec "$0" --import tsx "$1" "$2" "$3"', process.execPath, CHILD, repoPath(repo), source], {
      env: { ...process.env, TWOFOLD_TEST_MASTER: master.toString('hex') },
      encoding: 'utf8',
    });
    expect(child.status).not.toBe(0);
    expect(child.stdout).not.toContain('done');
    expect(child.stderr).toContain('EFBIG');
    expect(await repo.snapshots()).toEqual([]);
    expect(readdirSync(repoFile(repo, 'tmp'))).toEqual([]);
    expect((await check(repo, { readData: { kind: 'all' } })).ok).toBe(true);
  });

  it("keeps a file whose bytes are an empty folder's tree apart from that tree, whichever is stored first", async () => {
    for (const fileFirst of [true, false]) {
      const source = join(work, `lookalike-${fileFirst}`);
      mkdirSync(source, { recursive: true });
      const repo = await freshRepo(`lookalike-repo-${fileFirst}`);
      // Same bytes, so the same id: only the type tells the two blobs apart.
      const addFile = () => writeFileSync(join(source, 'fixture.json'), encodeTree([]));
      const addFolder = () => mkdirSync(join(source, 'empty'));
      (fileFirst ? addFile : addFolder)();
      await backup(repo, { sources: [source] });
      (fileFirst ? addFolder : addFile)();
      const { snapshotId, summary } = await backup(repo, { sources: [source] });
      expect(summary.errors).toEqual([]);

      const { index } = await repo.loadIndex();
      const id = blobId(repo.keys.id, encodeTree([])).toString('hex');
      expect([index.get(id, 'data')?.type, index.get(id, 'tree')?.type]).toEqual(['data', 'tree']);
      const target = join(work, `lookalike-restored-${fileFirst}`);
      const restored = await restore(repo, index, await repo.loadSnapshot(snapshotId), { targetDir: target, onExisting: 'fail' });
      expect(restored.errors).toEqual([]);
      expect(diffTrees(source, join(target, `lookalike-${fileFirst}`))).toBe('');
      const report = await check(repo, { readData: { kind: 'all' } });
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
    }
  });
});
