/**
 * The engine on a repository on an SFTP server (Debian's sshd on loopback, test/helpers/sshd.ts),
 * through SftpStorage alone: made, backed up into (and again with nothing new), restored byte for
 * byte, checked with every pack read, forgotten and pruned; a backup killed at random moments
 * resumes and the repository checks clean; the server going away mid-backup is a clear error and
 * the next run succeeds; a server that flips a byte of a pack or serves an older index is caught
 * by check and restore; and an append-only account backs up and restores while forget and prune
 * are refused before anything is removed, until the full account runs them.
 */
import { randomInt } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup } from '../../src-main/core/backup/engine/backup.js';
import { check } from '../../src-main/core/backup/engine/check.js';
import { toUserError } from '../../src-main/core/backup/engine/messages.js';
import { forget, prune } from '../../src-main/core/backup/engine/prune.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { restore } from '../../src-main/core/backup/engine/restore.js';
import { SftpStorage } from '../../src-main/core/backup/engine/storage/sftp.js';
import { packName, type StagedFile, type Storage } from '../../src-main/core/backup/engine/storage/storage.js';
import { diffTrees, flipByte, makeSourceTree, pseudoRandom, removeTree, statTree, tempDir, TEST_KDF } from '../helpers/backup-fixtures.js';
import { startSshd, type SshdServer } from '../helpers/sshd.js';
import { runKilledAfter } from '../helpers/kill-child.js';

const CHILD = fileURLToPath(new URL('../helpers/backup-child.ts', import.meta.url));

let server: SshdServer;
let work: string;
beforeAll(async () => {
  server = await startSshd();
  work = tempDir('sftp-engine');
}, 60_000);
afterAll(async () => {
  await server.close();
  removeTree(work);
});

const names = async (storage: Storage, dir: string) => (await storage.list(dir)).map((o) => o.name).sort();
const dataBytes = async (storage: Storage) => (await storage.list('data')).reduce((a, o) => a + o.size, 0);

async function restoreInto(repo: Repository, snapshotId: string, target: string) {
  const { index } = await repo.loadIndex();
  return restore(repo, index, await repo.loadSnapshot(snapshotId), { targetDir: target, onExisting: 'fail' });
}

describe('a repository on an SFTP server', () => {
  it('is made, backed up into, backed up again with nothing new, restored byte for byte, checked reading every pack, forgotten and pruned', async () => {
    const source = join(work, 'roundtrip');
    makeSourceTree(source, 20);
    writeFileSync(join(source, 'gone-later.bin'), pseudoRandom('gone later', 6 * 1024 * 1024));
    const path = server.repoPath();
    const { repo, master } = await Repository.init(server.storage(path), 'repository password', TEST_KDF);
    const first = await backup(repo, { sources: [source] });
    expect(first.summary.errors).toEqual([]);
    await repo.close();

    const storage = server.storage(path);
    const stored = await names(storage, '');
    expect(stored).toContain('config');
    expect(stored.some((n) => n.startsWith('data/'))).toBe(true);
    expect(await names(storage, 'snapshots')).toEqual([`snapshots/${first.snapshotId}`]);
    expect(await names(storage, 'locks')).toEqual([]);
    expect(readdirSync(join(path, 'tmp'))).toEqual([]);

    const opened = await Repository.openWithMaster(storage, master);
    const summary = await restoreInto(opened, first.snapshotId, join(work, 'roundtrip-restored'));
    expect(summary.errors).toEqual([]);
    expect(diffTrees(source, join(work, 'roundtrip-restored', 'roundtrip'))).toBe('');
    expect(statTree(join(work, 'roundtrip-restored', 'roundtrip'))).toEqual(statTree(source));

    const packsBefore = await names(storage, 'data');
    const second = await backup(opened, { sources: [source] });
    expect(second.summary.errors).toEqual([]);
    expect(await names(storage, 'data')).toEqual(packsBefore);

    const report = await check(opened, { readData: { kind: 'all' } });
    expect(report).toMatchObject({ ok: true, problems: [], unindexedPacks: [], damagedPacks: [] });
    expect(report.packsRead).toBe(report.packs);

    rmSync(join(source, 'gone-later.bin'));
    const third = await backup(opened, { sources: [source] });
    expect(await forget(opened, [first.snapshotId, second.snapshotId])).toBe(2);
    const bytesBefore = await dataBytes(storage);
    const pruned = await prune(opened);
    expect(pruned.bytesFreed).toBeGreaterThan(6 * 1024 * 1024);
    expect(await dataBytes(storage)).toBeLessThan(bytesBefore - 6 * 1024 * 1024);
    expect(await names(storage, 'snapshots')).toEqual([`snapshots/${third.snapshotId}`]);
    expect(await check(opened, { readData: { kind: 'all' } })).toMatchObject({ ok: true, problems: [], unindexedPacks: [] });
    const after = await restoreInto(opened, third.snapshotId, join(work, 'roundtrip-pruned'));
    expect(after.errors).toEqual([]);
    expect(diffTrees(source, join(work, 'roundtrip-pruned', 'roundtrip'))).toBe('');
    await opened.close();
  }, 240_000);
});

/** The backup child of the crash tests on the SFTP repository, killed `killAfterMs` after its backup started. */
async function runChild(
  storageOptions: object,
  master: Buffer,
  source: string,
  killAfterMs: number,
): Promise<{ killed: boolean; done: boolean; backupMs: number }> {
  const env = { TWOFOLD_TEST_MASTER: master.toString('hex'), TWOFOLD_TEST_SFTP: JSON.stringify(storageOptions) };
  const r = await runKilledAfter(CHILD, ['-', source], env, killAfterMs);
  return { killed: r.killed, done: r.stdout.includes('done'), backupMs: r.workMs };
}

describe('a backup to an SFTP server killed at random moments', () => {
  const RUNS = 10;
  it(`leaves a repository that checks clean, ${RUNS} times over; the next backup reuses what was uploaded and restores byte for byte`, async () => {
    const source = join(work, 'crash');
    mkdirSync(source);
    const path = server.repoPath();
    const { repo, master } = await Repository.init(server.storage(path), 'pw', TEST_KDF);
    let sourceBytes = 0;
    let killedMidway = 0;
    let backupMs = 0;
    for (let run = 0; run <= RUNS; run++) {
      const dir = join(source, `run-${run}`);
      mkdirSync(dir);
      for (let f = 0; f < 8; f++) {
        const data = pseudoRandom(`run ${run} file ${f}`, randomInt(64 * 1024, 4 * 1024 * 1024));
        writeFileSync(join(dir, `file-${f}.bin`), data);
        sourceBytes += data.length;
      }
      for (let f = 0; f < 30; f++) writeFileSync(join(dir, `small-${f}.txt`), `small file ${run}/${f}\n`);
      // Run 0 finishes and is timed; each later run is killed at a random moment of its backup.
      const result = await runChild(server.options(path), master, source, run === 0 ? 600_000 : randomInt(0, Math.max(50, backupMs)));
      if (!result.killed) backupMs = result.backupMs;
      if (result.killed && !result.done) killedMidway++;
      const report = await check(repo, { readData: { kind: 'none' } });
      expect(report.problems, `run ${run}`).toEqual([]);
      expect(report.ok, `run ${run}`).toBe(true);
    }
    expect(killedMidway).toBeGreaterThanOrEqual(RUNS / 2);

    const { snapshotId, summary } = await backup(repo, { sources: [source] });
    expect(summary.errors).toEqual([]);
    const report = await check(repo, { readData: { kind: 'all' } });
    expect(report.problems).toEqual([]);
    expect(report.unindexedPacks).toEqual([]);
    // Packs uploaded by killed runs were indexed and reused, not uploaded again.
    expect(await dataBytes(repo.storage)).toBeLessThan(sourceBytes * 1.12);
    const restored = await restoreInto(repo, snapshotId, join(work, 'crash-restored'));
    expect(restored.errors).toEqual([]);
    expect(diffTrees(source, join(work, 'crash-restored', 'crash'))).toBe('');
    await repo.close();
  }, 600_000);
});

/** SftpStorage that stops the server once it has stored `after` packs: the server going away mid-backup. */
class StopsServerAfter extends SftpStorage {
  readonly packsWritten: string[] = [];
  constructor(
    options: ConstructorParameters<typeof SftpStorage>[0],
    private readonly after: number,
    private readonly stop: () => Promise<void>,
  ) {
    super(options);
  }
  override async write(name: string, data: Buffer | StagedFile): Promise<void> {
    await super.write(name, data);
    if (name.startsWith('data/')) {
      this.packsWritten.push(name);
      if (this.packsWritten.length === this.after) await this.stop();
    }
  }
}

describe('the SFTP server going away mid-backup', () => {
  it('fails the backup as UNREACHABLE with a clear message; once it is back the next backup reuses the packs stored and checks clean', async () => {
    const source = join(work, 'cut');
    makeSourceTree(source, 10);
    for (let i = 0; i < 3; i++) writeFileSync(join(source, `more-${i}.bin`), pseudoRandom(`cut ${i}`, 12 * 1024 * 1024));
    const path = server.repoPath();
    const { master } = await Repository.init(server.storage(path), 'pw', TEST_KDF);
    const cutting = new StopsServerAfter(server.options(path, { maxAttempts: 3 }), 2, () => server.stop());
    const repo = await Repository.openWithMaster(cutting, master);
    let failure: unknown;
    try {
      await backup(repo, { sources: [source] });
    } catch (e) {
      failure = e;
    } finally {
      await server.start();
    }
    expect(failure).toMatchObject({ code: 'UNREACHABLE' });
    expect((failure as { detail: string }).detail).toMatch(/connection refused|connection was lost/);
    expect(toUserError(failure).message).toBe('The storage that holds the repository cannot be reached. Check the network and the server, then try again.');
    await repo.close();

    const storage = server.storage(path);
    const storedBefore = await names(storage, 'data');
    // What was stored before the server went away stays (a write cut off at its rename may be there too);
    // uploads run in parallel (one per SFTP session), so those in flight as it stopped may have finished.
    expect(cutting.packsWritten.length).toBeGreaterThanOrEqual(2);
    expect(storedBefore).toEqual(expect.arrayContaining(cutting.packsWritten));
    expect(await names(storage, 'snapshots')).toEqual([]);
    const again = new StopsServerAfter(server.options(path), Number.POSITIVE_INFINITY, async () => undefined);
    const reopened = await Repository.openWithMaster(again, master);
    const second = await backup(reopened, { sources: [source] });
    expect(second.summary.errors).toEqual([]);
    // The packs the cut-off run stored were indexed from their headers, not uploaded again.
    expect(again.packsWritten.filter((n) => storedBefore.includes(n))).toEqual([]);
    expect(await check(reopened, { readData: { kind: 'all' } })).toMatchObject({ ok: true, problems: [], unindexedPacks: [], damagedPacks: [] });
    const restored = await restoreInto(reopened, second.snapshotId, join(work, 'cut-restored'));
    expect(restored.errors).toEqual([]);
    expect(diffTrees(source, join(work, 'cut-restored', 'cut'))).toBe('');
    await reopened.close();
    await storage.close();
  }, 240_000);
});

describe('an SFTP server that alters what it stores', () => {
  async function backedUp(name: string) {
    const source = join(work, name);
    mkdirSync(source);
    writeFileSync(join(source, 'letter.txt'), 'a letter\n'.repeat(100));
    writeFileSync(join(source, 'photo.bin'), pseudoRandom(`${name} photo`, 3 * 1024 * 1024));
    const path = server.repoPath();
    const { repo } = await Repository.init(server.storage(path), 'pw', TEST_KDF);
    const { snapshotId } = await backup(repo, { sources: [source] });
    return { source, path, repo, snapshotId };
  }

  it('a flipped byte in a stored pack is named by check and by restore, which restores the rest', async () => {
    const { path, repo, snapshotId } = await backedUp('flipped');
    const { index } = await repo.loadIndex();
    const snap = await repo.loadSnapshot(snapshotId);
    const top = (await repo.loadTree(snap.tree, index)).nodes[0]!;
    const letter = (await repo.loadTree(top.subtree!, index)).nodes.find((n) => n.name === 'letter.txt')!;
    const loc = index.get(letter.content![0]!, 'data')!;
    flipByte(join(path, packName(loc.pack)), loc.offset + 10);

    const report = await check(repo, { readData: { kind: 'all' } });
    expect(report.ok).toBe(false);
    expect(report.damagedPacks).toEqual([loc.pack]);
    const target = join(work, 'flipped-restored');
    const summary = await restoreInto(repo, snapshotId, target);
    expect(summary.errors).toEqual([
      { path: join(target, 'flipped', 'letter.txt'), message: `A blob in pack ${loc.pack.slice(0, 12)} failed its integrity check.` },
    ]);
    expect(readdirSync(join(target, 'flipped'))).toEqual(['photo.bin']);
    await repo.close();
  }, 120_000);

  it('an older index served in place of the current one is caught by check and by restore', async () => {
    const { source, path, repo } = await backedUp('rolled-back');
    const oldIndex = join(work, 'old-index');
    cpSync(join(path, 'index'), oldIndex, { recursive: true });
    writeFileSync(join(source, 'new.bin'), pseudoRandom('new', 2 * 1024 * 1024));
    const { snapshotId } = await backup(repo, { sources: [source] });
    // The server rolls its index folder back to before the second backup.
    for (const f of readdirSync(join(path, 'index'))) if (!readdirSync(oldIndex).includes(f)) unlinkSync(join(path, 'index', f));

    const report = await check(repo, { readData: { kind: 'none' } });
    const tree = (await repo.loadSnapshot(snapshotId)).tree;
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([{ kind: 'tree', id: tree, message: `Tree ${tree.slice(0, 12)} is missing from the index.` }]);
    expect(report.damagedSnapshots.map((d) => d.id)).toEqual([snapshotId]);
    // The second backup's packs are there, but no index the server shows lists them.
    expect(report.unindexedPacks).toHaveLength(2);
    await expect(restoreInto(repo, snapshotId, join(work, 'rolled-back-restored'))).rejects.toMatchObject({
      code: 'REPO_DAMAGED',
      message: `Tree ${tree.slice(0, 12)} is missing from the index.`,
    });
    await repo.close();
  }, 120_000);
});

describe('an append-only SFTP account', () => {
  it('backs up and restores; forget and prune are refused before anything is removed; the full account then runs them', async () => {
    const source = join(work, 'append');
    makeSourceTree(source, 5);
    writeFileSync(join(source, 'old.bin'), pseudoRandom('old', 4 * 1024 * 1024));
    const path = server.repoPath();
    const { master } = await Repository.init(server.storage(path), 'pw', TEST_KDF);
    const appendOnly = await Repository.openWithMaster(server.appendOnlyStorage(path), master);
    const first = await backup(appendOnly, { sources: [source] });
    rmSync(join(source, 'old.bin'));
    const second = await backup(appendOnly, { sources: [source] });
    expect(second.summary.errors).toEqual([]);
    const restored = await restoreInto(appendOnly, second.snapshotId, join(work, 'append-restored'));
    expect(restored.errors).toEqual([]);
    expect(diffTrees(source, join(work, 'append-restored', 'append'))).toBe('');

    const full = server.storage(path);
    const before = await full.list('');
    // The two backups' locks stay: the account may not delete them.
    expect(await names(full, 'locks')).toHaveLength(2);
    for (const refused of [forget(appendOnly, [first.snapshotId]), prune(appendOnly)]) {
      await expect(refused).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE', message: expect.stringContaining('append-only credentials') as string });
    }
    expect(await full.list('')).toEqual(before);
    // Credentials not declared append-only meet the server's own refusal, and still nothing goes.
    const undeclared = await Repository.openWithMaster(server.appendOnlyStorage(path, { appendOnly: false }), master);
    const denied = await forget(undeclared, [first.snapshotId]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(denied).toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(toUserError(denied).message).toBe('The storage refuses access (permission denied).');
    expect(await names(full, 'snapshots')).toEqual([`snapshots/${first.snapshotId}`, `snapshots/${second.snapshotId}`].sort());
    await undeclared.close();
    await appendOnly.close();

    const maintenance = await Repository.openWithMaster(full, master);
    expect(await forget(maintenance, [first.snapshotId])).toBe(1);
    const pruned = await prune(maintenance);
    expect(pruned.bytesFreed).toBeGreaterThan(4 * 1024 * 1024);
    // The locks the append-only account left are stale to the full account, and removed.
    expect(await names(full, 'locks')).toEqual([]);
    expect(await check(maintenance, { readData: { kind: 'all' } })).toMatchObject({ ok: true, problems: [] });
    await maintenance.close();
  }, 240_000);
});
