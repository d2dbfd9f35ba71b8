/**
 * A restore and damaged or existing data: a file with a damaged blob (in one chunk or in the
 * middle of many) is not left behind and the summary names it and the pack; a folder whose
 * listing is damaged, a pack that is gone, a pool task that fails as a whole are each named and
 * the rest of the snapshot is restored; an existing multi-chunk file is replaced only when asked,
 * whole.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup } from '../../src-main/core/backup/engine/backup.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { restore } from '../../src-main/core/backup/engine/restore.js';
import { RestoreBatches } from '../../src-main/core/backup/engine/restore-batches.js';
import type { WorkerPool } from '../../src-main/core/backup/engine/pool.js';
import { CHUNK_MAX } from '../../src-main/core/backup/engine/format.js';
import { diffTrees, flipByte, pseudoRandom, removeTree, statTree, tempDir, TEST_KDF } from '../helpers/backup-fixtures.js';
import { folderStorage } from '../../src-main/core/backup/engine/storage/folder.js';
import { packFile } from '../helpers/repo-files.js';

let work: string;
let source: string;
let repo: Repository;
let snapshotId: string;

const BIG = 3 * CHUNK_MAX + 12_345; // several chunks

beforeAll(async () => {
  work = tempDir('restore-damage');
  source = join(work, 'docs');
  mkdirSync(source);
  writeFileSync(join(source, 'small.txt'), 'a small file\n');
  writeFileSync(join(source, 'empty'), '');
  writeFileSync(join(source, 'medium.bin'), pseudoRandom('medium', CHUNK_MAX)); // one chunk at most
  writeFileSync(join(source, 'big.bin'), pseudoRandom('big', BIG));
  for (let i = 0; i < 200; i++) writeFileSync(join(source, `many-${i}.txt`), `file ${i}\n`.repeat(i + 1));
  repo = (await Repository.init(folderStorage(join(work, 'repo')), 'repository password', TEST_KDF)).repo;
  ({ snapshotId } = await backup(repo, { sources: [source] }));
});
afterAll(() => removeTree(work));

/** Where each of `fileName`'s blobs lies: its pack's path and its offset there. */
async function blobsOf(fileName: string): Promise<{ pack: string; offset: number; length: number }[]> {
  const { index } = await repo.loadIndex();
  const snap = await repo.loadSnapshot(snapshotId);
  const top = (await repo.loadTree(snap.tree, index)).nodes[0]!;
  const node = (await repo.loadTree(top.subtree!, index)).nodes.find((n) => n.name === fileName)!;
  return node.content!.map((id) => {
    const loc = index.get(id, 'data')!;
    return { pack: packFile(repo, loc.pack), offset: loc.offset, length: loc.length };
  });
}

async function restoreInto(name: string, onExisting: 'fail' | 'overwrite' = 'fail') {
  const target = join(work, name);
  const { index } = await repo.loadIndex();
  const summary = await restore(repo, index, await repo.loadSnapshot(snapshotId), { targetDir: target, onExisting });
  return { target: join(target, 'docs'), summary };
}

describe('a restore', () => {
  it('writes empty, small, chunk-sized and multi-chunk files byte for byte, with modes and times', async () => {
    expect((await blobsOf('big.bin')).length).toBeGreaterThan(3);
    const { target, summary } = await restoreInto('intact');
    expect(summary.errors).toEqual([]);
    expect(summary.files).toBe(204);
    expect(diffTrees(source, target)).toBe('');
    expect(statTree(target)).toEqual(statTree(source));
  });

  it('replaces an existing large file only when asked, through a temporary file', async () => {
    const target = join(work, 'replace', 'docs');
    mkdirSync(target, { recursive: true });
    writeFileSync(join(target, 'big.bin'), 'an older version');
    await expect(restoreInto('replace', 'fail')).rejects.toMatchObject({ code: 'RESTORE_CONFLICT' });
    expect(readFileSync(join(target, 'big.bin'), 'utf8')).toBe('an older version');
    const { summary } = await restoreInto('replace', 'overwrite');
    expect(summary.errors).toEqual([]);
    // Buffer.equals: a deep toEqual walks megabytes byte by byte, for minutes.
    expect(readFileSync(join(target, 'big.bin')).equals(pseudoRandom('big', BIG))).toBe(true);
    expect(readdirSync(target).filter((n) => n.endsWith('.part'))).toEqual([]);
  });

  it('leaves no file for a damaged blob (small or large), names the pack, and restores the rest', async () => {
    const small = (await blobsOf('small.txt'))[0]!;
    const bigMiddle = (await blobsOf('big.bin'))[2]!;
    flipByte(small.pack, small.offset + 20);
    flipByte(bigMiddle.pack, bigMiddle.offset + 20);
    const { target, summary } = await restoreInto('damaged');
    const pack = (p: string) => p.split('/').at(-1)!.slice(0, 12);
    // Files end in any order: the errors are compared by path.
    expect([...summary.errors].sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: join(target, 'big.bin'), message: `A blob in pack ${pack(bigMiddle.pack)} failed its integrity check.` },
      { path: join(target, 'small.txt'), message: `A blob in pack ${pack(small.pack)} failed its integrity check.` },
    ]);
    expect(existsSync(join(target, 'small.txt'))).toBe(false);
    expect(existsSync(join(target, 'big.bin'))).toBe(false);
    expect(summary.files).toBe(202);
    expect(readFileSync(join(target, 'medium.bin')).equals(pseudoRandom('medium', CHUNK_MAX))).toBe(true);
    expect(statSync(join(target, 'many-199.txt')).size).toBe('file 199\n'.length * 200);
  });
});

describe('a restore over a damaged repository', () => {
  let root: string;
  let src: string;
  let damaged: Repository;
  let master: Buffer;
  let snap: string;

  beforeAll(async () => {
    root = tempDir('restore-over-damage');
    src = join(root, 'docs');
    mkdirSync(join(src, 'sub', 'deeper'), { recursive: true });
    mkdirSync(join(src, 'data'));
    writeFileSync(join(src, 'top.txt'), 'at the top\n');
    for (let i = 0; i < 5; i++) writeFileSync(join(src, 'sub', `inner-${i}.txt`), `inner ${i}\n`);
    writeFileSync(join(src, 'sub', 'deeper', 'below.txt'), 'below the damaged folder\n');
    writeFileSync(join(src, 'data', 'hit.bin'), pseudoRandom('hit', 300_000));
    writeFileSync(join(src, 'data', 'spared.bin'), pseudoRandom('spared', 300_000));
    ({ repo: damaged, master } = await Repository.init(folderStorage(join(root, 'repo')), 'repository password', TEST_KDF));
    ({ snapshotId: snap } = await backup(damaged, { sources: [src] }));
  });
  afterAll(() => removeTree(root));

  /** Where a tree (by folder path under docs) and a file's first chunk lie. */
  async function locate() {
    const { index } = await damaged.loadIndex();
    const top = (await damaged.loadTree((await damaged.loadSnapshot(snap)).tree, index, { cache: false })).nodes[0]!;
    const docs = (await damaged.loadTree(top.subtree!, index, { cache: false })).nodes;
    const sub = docs.find((n) => n.name === 'sub')!;
    const data = (await damaged.loadTree(docs.find((n) => n.name === 'data')!.subtree!, index, { cache: false })).nodes;
    return { sub: index.get(sub.subtree!, 'tree')!, hit: index.get(data.find((n) => n.name === 'hit.bin')!.content![0]!, 'data')! };
  }

  it('with a flipped byte in a tree, in a data pack and in a pack header: restores everything else and names exactly what it could not', async () => {
    const { sub, hit } = await locate();
    flipByte(packFile(damaged, sub.pack), sub.offset + 30); // the listing of docs/sub
    flipByte(packFile(damaged, hit.pack), hit.offset + 30); // a chunk of docs/data/hit.bin
    const size = statSync(packFile(damaged, hit.pack)).size;
    flipByte(packFile(damaged, hit.pack), size - 40); // the data pack's header: restore reads by the index, not by it
    const fresh = await Repository.openWithMaster(folderStorage(join(root, 'repo')), master);
    const { index } = await fresh.readingIndex();
    const target = join(root, 'out');
    const summary = await restore(fresh, index, await fresh.loadSnapshot(snap), { targetDir: target, onExisting: 'fail' });
    const at = (p: string) => join(target, 'docs', p);
    expect([...summary.errors].sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: at('data/hit.bin'), message: `A blob in pack ${hit.pack.slice(0, 12)} failed its integrity check.` },
      {
        path: `${at('sub')}/`,
        message: `its listing cannot be read, so nothing in it can be restored: A blob in pack ${sub.pack.slice(0, 12)} failed its integrity check.`,
      },
    ]);
    expect(summary.files).toBe(2); // top.txt and spared.bin
    expect(readFileSync(at('top.txt'), 'utf8')).toBe('at the top\n');
    expect(readFileSync(at('data/spared.bin')).equals(pseudoRandom('spared', 300_000))).toBe(true);
    expect(existsSync(at('data/hit.bin'))).toBe(false);
    expect(readdirSync(at('sub'))).toEqual([]); // the folder is made; what it held cannot be known
  });

  it('with a pack cut short: names the pack as truncated for each file whose data lay past the cut', async () => {
    const { hit } = await locate();
    truncateSync(packFile(damaged, hit.pack), 10);
    const fresh = await Repository.openWithMaster(folderStorage(join(root, 'repo')), master);
    const { index } = await fresh.readingIndex();
    const target = join(root, 'out-cut');
    const summary = await restore(fresh, index, await fresh.loadSnapshot(snap), {
      targetDir: target,
      onExisting: 'fail',
      paths: ['docs/data', 'docs/top.txt'],
    });
    const cut = `Pack ${hit.pack.slice(0, 12)} is truncated: it ends before the data the index lists.`;
    expect([...summary.errors].sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: join(target, 'docs', 'data', 'hit.bin'), message: cut },
      { path: join(target, 'docs', 'data', 'spared.bin'), message: cut },
      { path: join(target, 'docs', 'top.txt'), message: cut },
    ]);
  });

  it('with a pack deleted: names the pack as missing for each file that needed it, and restores the rest', async () => {
    const { hit } = await locate();
    rmSync(packFile(damaged, hit.pack));
    const fresh = await Repository.openWithMaster(folderStorage(join(root, 'repo')), master);
    const { index } = await fresh.readingIndex();
    const target = join(root, 'out-missing');
    const summary = await restore(fresh, index, await fresh.loadSnapshot(snap), {
      targetDir: target,
      onExisting: 'fail',
      paths: ['docs/data', 'docs/top.txt'],
    });
    const missing = `Pack ${hit.pack.slice(0, 12)} is missing from the repository.`;
    // Every file's data was in that one data pack.
    expect([...summary.errors].sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: join(target, 'docs', 'data', 'hit.bin'), message: missing },
      { path: join(target, 'docs', 'data', 'spared.bin'), message: missing },
      { path: join(target, 'docs', 'top.txt'), message: missing },
    ]);
    expect(summary.dirs).toBe(2);
  });
});

describe('the batches of a restore', () => {
  it('name every file of a task that failed as a whole, and go on with the next', async () => {
    let calls = 0;
    // The first task's thread dies; the next one answers.
    const pool = {
      threads: 1,
      restore: async (task: { files: unknown[] }) => {
        if (calls++ === 0) throw new Error('a worker thread exited (1)');
        return { files: task.files.map(() => ({ bytes: 1 })) };
      },
    };
    const seen: { path: string; error?: string; bytes: number }[] = [];
    const batches = new RestoreBatches(pool as unknown as WorkerPool, {
      result: (item, r) => seen.push({ path: item.target, error: r.error, bytes: r.bytes }),
      batchDone: () => undefined,
    });
    const node = (name: string) => ({ name, type: 'file' as const, mode: 0o100644, mtime: '0', ctime: '0', inode: '1', uid: 0, gid: 0, size: 1, content: [] });
    const item = (name: string) => ({
      file: { target: `/t/${name}`, tmp: `/t/.${name}.part`, replace: false, inNewFolder: true, node: { ...node(name), xattrs: undefined }, blobs: [] },
      target: `/t/${name}`,
      node: node(name),
    });
    await batches.add(item('a'));
    await batches.add(item('b'));
    await batches.flush();
    await batches.drain();
    await batches.add(item('c'));
    await batches.flush();
    await batches.drain();
    const lost = 'the part of the restore that held it stopped before it was written; restore it again';
    expect(seen).toEqual([
      { path: '/t/a', error: lost, bytes: 0 },
      { path: '/t/b', error: lost, bytes: 0 },
      { path: '/t/c', error: undefined, bytes: 1 },
    ]);
    expect(batches.fatal).toBeNull();
  });
});
