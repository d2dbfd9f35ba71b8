/**
 * The engine reaches a repository only through its Storage: on a storage with no folder behind
 * it (objects in memory, test/helpers/memory-storage.ts) a repository is made, backed up into,
 * restored from and checked, with locks and packs as objects; and when the storage fails
 * mid-backup, the next backup reuses the packs that were stored and the repository checks clean.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backup } from '../../src-main/core/backup/engine/backup.js';
import { RepoLock } from '../../src-main/core/backup/engine/lock.js';
import { check } from '../../src-main/core/backup/engine/check.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { restore } from '../../src-main/core/backup/engine/restore.js';
import { diffTrees, makeSourceTree, pseudoRandom, removeTree, statTree, tempDir, TEST_KDF } from '../helpers/backup-fixtures.js';
import type { StagedFile } from '../../src-main/core/backup/engine/storage/storage.js';
import { MemoryStorage } from '../helpers/memory-storage.js';

let work: string;
let source: string;
let storage: MemoryStorage;

beforeEach(() => {
  work = tempDir('storage-engine');
  source = join(work, 'source');
  storage = new MemoryStorage();
});
afterEach(() => removeTree(work));

const dataBytes = () => [...storage.objects].filter(([n]) => n.startsWith('data/')).reduce((a, [, o]) => a + o.length, 0);

describe('a repository on a storage with no folder behind it', () => {
  it('is made, backed up into, restored from and checked through the Storage alone', async () => {
    makeSourceTree(source, 20);
    const { repo, master } = await Repository.init(storage, 'repository password', TEST_KDF);
    expect(storage.objects.has('config')).toBe(true);
    expect(storage.count('write', 'keys/')).toBe(1);

    const first = await backup(repo, { sources: [source] });
    expect(first.summary.errors).toEqual([]);
    // Packs, their index and the snapshot are objects; the lock was one, and is gone.
    expect(storage.count('write', 'data/')).toBeGreaterThan(1);
    expect(storage.count('write', 'index/')).toBeGreaterThan(0);
    expect(storage.count('write', 'snapshots/')).toBe(1);
    expect(storage.count('write', 'locks/')).toBeGreaterThan(0);
    expect(await storage.list('locks')).toEqual([]);
    expect(storage.count('replace')).toBe(0); // a new repository is of the current format already

    const opened = await Repository.openWithMaster(storage, master);
    const reads = storage.calls.length;
    const { index } = await opened.loadIndex();
    const snapshot = await opened.loadSnapshot(first.snapshotId);
    const target = join(work, 'restored');
    const summary = await restore(opened, index, snapshot, { targetDir: target, onExisting: 'fail' });
    expect(summary.errors).toEqual([]);
    expect(diffTrees(source, join(target, 'source'))).toBe('');
    expect(statTree(join(target, 'source'))).toEqual(statTree(source));
    // Trees are read by pack, blobs by range or by fetching their pack for the worker threads.
    expect(storage.calls.slice(reads).some((c) => c.name.startsWith('data/') && (c.call === 'read' || c.call === 'readRange'))).toBe(true);

    const report = await check(opened, { readData: { kind: 'all' } });
    expect(report).toMatchObject({ ok: true, problems: [], unindexedPacks: [], damagedPacks: [] });
    expect(report.packsRead).toBe(report.packs);
    expect(opened.stagedPacks()).toBe(0);

    // What was fetched to read locally lives in a staging folder of its own, gone on close.
    const staging = opened.stagingDir();
    expect(existsSync(staging)).toBe(true);
    await opened.close();
    expect(existsSync(staging)).toBe(false);
  });

  it('holds a lock as an object, refreshed by a new object before the old one goes, and refuses a second exclusive one', async () => {
    const { repo } = await Repository.init(storage, 'repository password', TEST_KDF);
    const lock = await RepoLock.acquire(repo, false);
    const before = await storage.list('locks');
    expect(before.map((o) => o.name)).toEqual([`locks/${lock.id}`]);
    const deletes = storage.count('delete', 'locks/');
    await lock.refresh();
    const after = await storage.list('locks');
    expect(after).toHaveLength(1);
    expect(after[0]!.name).not.toBe(before[0]!.name);
    expect(after[0]!.name).toBe(`locks/${lock.id}`);
    // Written first, then the old one deleted: never a moment without a lock.
    const lockCalls = storage.calls.filter((c) => c.name.startsWith('locks/') && (c.call === 'write' || c.call === 'delete'));
    expect(lockCalls.slice(-2).map((c) => c.call)).toEqual(['write', 'delete']);
    expect(storage.count('delete', 'locks/')).toBe(deletes + 1);
    await expect(RepoLock.acquire(repo, true)).rejects.toMatchObject({ code: 'REPO_LOCKED' });
    expect(await storage.list('locks')).toHaveLength(1);
    await lock.release();
    expect(await storage.list('locks')).toEqual([]);
  });

  it('after its writes failed mid-backup, the next backup reuses the packs stored and checks clean', async () => {
    makeSourceTree(source, 40);
    for (let i = 0; i < 3; i++) writeFileSync(join(source, `more-${i}.bin`), pseudoRandom(`more ${i}`, 12 * 1024 * 1024));
    const { repo } = await Repository.init(storage, 'repository password', TEST_KDF);
    // The server goes away after two packs, before any index file: nothing more is stored.
    let packs = 0;
    let gone = false;
    storage.failWrite = (name) => (gone ||= name.startsWith('data/') && ++packs > 2);
    await expect(backup(repo, { sources: [source] })).rejects.toMatchObject({ code: 'UNREACHABLE' });
    const stored = [...storage.objects.keys()].filter((n) => n.startsWith('data/'));
    expect(stored).toHaveLength(2);
    expect(await storage.list('index')).toEqual([]);
    expect(await storage.list('snapshots')).toEqual([]);
    expect(await storage.list('locks')).toEqual([]);

    storage.failWrite = null;
    const writesBefore = storage.count('write', 'data/');
    const second = await backup(repo, { sources: [source] });
    expect(second.summary.errors).toEqual([]);
    // The two packs were read from their headers and indexed, not stored again.
    for (const name of stored) expect(storage.calls.filter((c) => c.call === 'write' && c.name === name)).toHaveLength(1);
    expect(storage.count('write', 'data/') - writesBefore).toBeGreaterThan(0);
    const sourceBytes = statTree(source).reduce((a, e) => a + (e.type === 'file' ? e.size : 0), 0);
    expect(dataBytes()).toBeLessThan(sourceBytes * 1.05);

    const report = await check(repo, { readData: { kind: 'all' } });
    expect(report).toMatchObject({ ok: true, problems: [], unindexedPacks: [], damagedPacks: [] });
    const { index } = await repo.loadIndex();
    for (const name of stored) expect(index.hasPack(name.slice(-64))).toBe(true);
    const target = join(work, 'restored');
    const restored = await restore(repo, index, await repo.loadSnapshot(second.snapshotId), { targetDir: target, onExisting: 'fail' });
    expect(restored.errors).toEqual([]);
    expect(diffTrees(source, join(target, 'source'))).toBe('');
    await repo.close();
  });
});

/**
 * A storage serving `connections` requests at once whose pack writes are held until that many are
 * in flight (or 5 s pass: a backup that never overlaps them shows as `most` below connections),
 * so how many overlap does not depend on how fast this machine packs. It records the most.
 */
class SlowUploads extends MemoryStorage {
  inFlight = 0;
  most = 0;
  private held: (() => void)[] = [];
  constructor(readonly connections: number | undefined) {
    super();
  }
  override async write(name: string, data: Buffer | StagedFile): Promise<void> {
    if (!name.startsWith('data/')) return super.write(name, data);
    this.inFlight++;
    this.most = Math.max(this.most, this.inFlight);
    try {
      if (this.inFlight >= (this.connections ?? 1)) this.held.splice(0).forEach((release) => release());
      else await new Promise<void>((resolve) => (this.held.push(resolve), setTimeout(resolve, 5_000)));
      await super.write(name, data);
    } finally {
      this.inFlight--;
    }
  }
}

describe('pack uploads', () => {
  it("overlap up to the storage's connections, and the snapshot restores whole", async () => {
    makeSourceTree(source, 10);
    for (let i = 0; i < 5; i++) writeFileSync(join(source, `big-${i}.bin`), pseudoRandom(`big ${i}`, 12 * 1024 * 1024));
    const slow = new SlowUploads(3);
    const { repo } = await Repository.init(slow, 'repository password', TEST_KDF);
    const done = await backup(repo, { sources: [source] });
    expect(slow.count('write', 'data/')).toBeGreaterThanOrEqual(4);
    expect(slow.most).toBe(3);
    const { index } = await repo.loadIndex();
    const target = join(work, 'restored');
    const summary = await restore(repo, index, await repo.loadSnapshot(done.snapshotId), { targetDir: target, onExisting: 'fail' });
    expect(summary.errors).toEqual([]);
    expect(diffTrees(source, join(target, 'source'))).toBe('');
    expect(await check(repo, { readData: { kind: 'all' } })).toMatchObject({ ok: true, problems: [] });
  }, 120_000);

  it('go one at a time where the storage says nothing of connections (a folder: each is a rename)', async () => {
    makeSourceTree(source, 10);
    for (let i = 0; i < 3; i++) writeFileSync(join(source, `big-${i}.bin`), pseudoRandom(`big ${i}`, 12 * 1024 * 1024));
    const slow = new SlowUploads(undefined);
    const { repo } = await Repository.init(slow, 'repository password', TEST_KDF);
    await backup(repo, { sources: [source] });
    expect(slow.count('write', 'data/')).toBeGreaterThanOrEqual(2);
    expect(slow.most).toBe(1);
  }, 120_000);
});

/** A storage whose whole-object reads of packs take a while: it records how many overlapped and which packs were fetched. */
class SlowFetches extends MemoryStorage {
  inFlight = 0;
  most = 0;
  readonly fetchedPacks: string[] = [];
  constructor(readonly connections: number) {
    super();
  }
  override async read(name: string, range?: { offset: number; length: number }): Promise<Buffer> {
    if (range || !name.startsWith('data/')) return super.read(name, range);
    this.fetchedPacks.push(name);
    this.inFlight++;
    this.most = Math.max(this.most, this.inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return await super.read(name);
    } finally {
      this.inFlight--;
    }
  }
}

describe('a restore from a remote storage', () => {
  it("fetches the packs it needs ahead of its walk, up to the storage's connections at once, each pack once, lets each go once restored, and restores whole", async () => {
    makeSourceTree(source, 10);
    for (let i = 0; i < 5; i++) writeFileSync(join(source, `big-${i}.bin`), pseudoRandom(`big ${i}`, 12 * 1024 * 1024));
    const slow = new SlowFetches(3);
    const { repo, master } = await Repository.init(slow, 'repository password', TEST_KDF);
    const done = await backup(repo, { sources: [source] });
    await repo.close();
    const opened = await Repository.openWithMaster(slow, master);
    const { index } = await opened.loadIndex();
    const target = join(work, 'restored');
    const summary = await restore(opened, index, await opened.loadSnapshot(done.snapshotId), { targetDir: target, onExisting: 'fail' });
    expect(summary.errors).toEqual([]);
    expect(diffTrees(source, join(target, 'source'))).toBe('');
    expect(slow.most).toBe(3);
    expect(new Set(slow.fetchedPacks).size).toBe(slow.fetchedPacks.length);
    expect(slow.fetchedPacks.length).toBeGreaterThanOrEqual(4);
    // Every pack was let go as its last file was restored: none is held for the rest of the run.
    expect(opened.stagedPacks()).toBe(0);
    await opened.close();
  }, 120_000);
});
