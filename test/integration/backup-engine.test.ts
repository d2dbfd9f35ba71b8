/**
 * First backups on an engine thread (engine.ts): the same snapshot, progress and errors as a
 * backup on the calling thread, cancel reaches the thread, and a thread that runs out of
 * memory hands the backup back to the caller, which finishes it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Progress } from '../../src-main/core/backup/backup.js';
import { check } from '../../src-main/core/backup/check.js';
import { backupInThread } from '../../src-main/core/backup/engine.js';
import { Repository } from '../../src-main/core/backup/repository.js';
import { restore } from '../../src-main/core/backup/restore.js';
import { diffTrees, pseudoRandom, removeTree, tempDir, TEST_KDF } from '../helpers/backup-fixtures.js';
import { CoreError } from '../../src-main/core/errors.js';

let work: string;
let source: string;

beforeAll(() => {
  work = tempDir('engine');
  source = join(work, 'source');
  mkdirSync(join(source, 'docs'), { recursive: true });
  for (let i = 0; i < 40; i++) writeFileSync(join(source, 'docs', `note-${i}.txt`), `note ${i}\n`.repeat(50 + i));
  writeFileSync(join(source, 'big.bin'), pseudoRandom('engine big', 24 * 1024 * 1024));
});
afterAll(() => removeTree(work));

async function newRepo(name: string): Promise<Repository> {
  return (await Repository.init(join(work, name), 'repository password', TEST_KDF)).repo;
}

describe('a first backup on the engine thread', () => {
  it('stores the same tree, reports progress, and restores byte-identical; the next backup finds it as parent', async () => {
    const repo = await newRepo('repo-a');
    const progress: Progress[] = [];
    const { snapshotId, summary } = await backupInThread(repo, { sources: [source], onProgress: (p) => progress.push(p) });
    expect(summary).toMatchObject({ files: 41, filesNew: 41, errors: [] });
    expect(progress.at(-1)).toMatchObject({ filesDone: 41, bytesDone: summary.bytes, etaSeconds: 0 });
    expect((await check(repo, { readData: { kind: 'all' } })).problems).toEqual([]);
    const { index } = await repo.loadIndex();
    const result = await restore(repo, index, await repo.loadSnapshot(snapshotId), { targetDir: join(work, 'restored-a'), onExisting: 'fail' });
    expect(result.errors).toEqual([]);
    expect(diffTrees(source, join(work, 'restored-a', 'source'))).toBe('');

    const again = await backupInThread(repo, { sources: [source] });
    expect(again.summary).toMatchObject({ filesUnmodified: 41, dataAdded: 0 });
    expect((await repo.loadSnapshot(again.snapshotId)).parent).toBe(snapshotId);
  });

  it('passes errors back with their codes', async () => {
    const repo = await newRepo('repo-b');
    const failure = await backupInThread(repo, { sources: [join(work, 'x', 'same'), join(work, 'y', 'same')] }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(CoreError);
    expect(failure).toMatchObject({ code: 'BAD_INPUT', message: 'Two sources have the same folder name; back them up in separate sets.' });
  });

  it('stops when cancelled, and leaves a repository that checks clean', async () => {
    const repo = await newRepo('repo-c');
    const controller = new AbortController();
    const failure = await backupInThread(repo, {
      sources: [source],
      signal: controller.signal,
      onProgress: () => controller.abort(),
    }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'CANCELLED' });
    expect(await repo.snapshots()).toEqual([]);
    expect((await check(repo, { readData: { kind: 'none' } })).problems).toEqual([]);
  });

  it('hands the backup back to the caller when the thread runs out of memory', async () => {
    const repo = await newRepo('repo-d');
    // A 4 MiB heap cannot even load the engine: the caller's thread does the whole backup.
    const { snapshotId, summary } = await backupInThread(repo, { sources: [source] }, 4);
    expect(summary).toMatchObject({ files: 41, errors: [] });
    expect((await repo.snapshots()).map((s) => s.id)).toEqual([snapshotId]);
    expect((await check(repo, { readData: { kind: 'all' } })).problems).toEqual([]);
  });
});
