/**
 * A restore and damaged or existing data: a file with a damaged blob (in one chunk or in the
 * middle of many) is not left behind and the summary names it and the pack; the rest of the
 * snapshot is restored; an existing multi-chunk file is replaced only when asked, whole.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup } from '../../src-main/core/backup/backup.js';
import { Repository } from '../../src-main/core/backup/repository.js';
import { restore } from '../../src-main/core/backup/restore.js';
import { CHUNK_MAX } from '../../src-main/core/backup/format.js';
import { diffTrees, flipByte, pseudoRandom, removeTree, statTree, tempDir, TEST_KDF } from '../helpers/backup-fixtures.js';

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
  repo = (await Repository.init(join(work, 'repo'), 'repository password', TEST_KDF)).repo;
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
    return { pack: repo.packPath(loc.pack), offset: loc.offset, length: loc.length };
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
