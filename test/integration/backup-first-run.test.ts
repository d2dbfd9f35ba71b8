/**
 * A first backup (no parent snapshot: every file is read) of a tree with a large file and many
 * small ones: progress to the end, a snapshot that restores byte-identical and is the next
 * backup's parent, errors with their codes, and a cancel that leaves a repository that checks
 * clean, also when it lands while a large file is still being read (whose failing segments
 * must not surface as an unhandled rejection, which would end the app's process).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup, type Progress } from '../../src-main/core/backup/engine/backup.js';
import { check } from '../../src-main/core/backup/engine/check.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { restore } from '../../src-main/core/backup/engine/restore.js';
import { diffTrees, pseudoRandom, removeTree, tempDir, TEST_KDF } from '../helpers/backup-fixtures.js';
import { CoreError } from '../../src-main/core/platform/errors.js';
import { folderStorage } from '../../src-main/core/backup/engine/storage/folder.js';

let work: string;
let source: string;

beforeAll(() => {
  work = tempDir('first-run');
  source = join(work, 'source');
  mkdirSync(join(source, 'docs'), { recursive: true });
  for (let i = 0; i < 40; i++) writeFileSync(join(source, 'docs', `note-${i}.txt`), `note ${i}\n`.repeat(50 + i));
  writeFileSync(join(source, 'big.bin'), pseudoRandom('first run big', 24 * 1024 * 1024));
});
afterAll(() => removeTree(work));

async function newRepo(name: string): Promise<Repository> {
  return (await Repository.init(folderStorage(join(work, name)), 'repository password', TEST_KDF)).repo;
}

describe('a first backup', () => {
  it('stores the same tree, reports progress, and restores byte-identical; the next backup finds it as parent', async () => {
    const repo = await newRepo('repo-a');
    const progress: Progress[] = [];
    const { snapshotId, summary } = await backup(repo, { sources: [source], onProgress: (p) => progress.push(p) });
    expect(summary).toMatchObject({ files: 41, filesNew: 41, errors: [] });
    expect(progress.at(-1)).toMatchObject({ filesDone: 41, bytesDone: summary.bytes, etaSeconds: 0 });
    expect((await check(repo, { readData: { kind: 'all' } })).problems).toEqual([]);
    const { index } = await repo.loadIndex();
    const result = await restore(repo, index, await repo.loadSnapshot(snapshotId), { targetDir: join(work, 'restored-a'), onExisting: 'fail' });
    expect(result.errors).toEqual([]);
    expect(diffTrees(source, join(work, 'restored-a', 'source'))).toBe('');

    const again = await backup(repo, { sources: [source] });
    expect(again.summary).toMatchObject({ filesUnmodified: 41, dataAdded: 0 });
    expect((await repo.loadSnapshot(again.snapshotId)).parent).toBe(snapshotId);
  });

  it('passes errors back with their codes', async () => {
    const repo = await newRepo('repo-b');
    const failure = await backup(repo, { sources: [join(work, 'x', 'same'), join(work, 'y', 'same')] }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CoreError);
    expect(failure).toMatchObject({ code: 'BAD_INPUT', message: 'Two sources have the same folder name; back them up in separate sets.' });
  });

  it('stops when cancelled, and leaves a repository that checks clean', async () => {
    const repo = await newRepo('repo-c');
    const controller = new AbortController();
    const failure = await backup(repo, {
      sources: [source],
      signal: controller.signal,
      onProgress: () => controller.abort(),
    }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'CANCELLED' });
    expect(await repo.snapshots()).toEqual([]);
    expect((await check(repo, { readData: { kind: 'none' } })).problems).toEqual([]);
  });
});

describe('a first backup cancelled while a large file is in flight', () => {
  it('rejects with CANCELLED and leaves no error unobserved, wherever the cancel lands', async () => {
    const unobserved: unknown[] = [];
    const record = (e: unknown) => unobserved.push(e);
    process.on('unhandledRejection', record);
    try {
      // A large file first, then folders the walk is still entering when the cancel lands.
      const tree = join(work, 'in-flight');
      for (let d = 0; d < 30; d++) {
        mkdirSync(join(tree, `z-${d}`), { recursive: true });
        for (let i = 0; i < 20; i++) writeFileSync(join(tree, `z-${d}`, `f-${i}.txt`), `file ${d}/${i}\n`);
      }
      writeFileSync(join(tree, 'a-big.bin'), pseudoRandom('in flight big', 40 * 1024 * 1024));
      for (const delayMs of [0, 5, 20, 60]) {
        const repo = await newRepo(`repo-in-flight-${delayMs}`);
        const controller = new AbortController();
        const failure = await backup(repo, {
          sources: [tree],
          signal: controller.signal,
          onProgress: () => setTimeout(() => controller.abort(), delayMs),
        }).catch((e: unknown) => e);
        expect(failure).toMatchObject({ code: 'CANCELLED' });
        // Let the segments still being read finish and fail on the cancel.
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect((await check(repo, { readData: { kind: 'none' } })).problems).toEqual([]);
      }
      expect(unobserved).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  });
});
