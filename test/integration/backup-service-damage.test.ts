/**
 * Damage, a full disk and a busy repository through the contract, as the UI meets them: a
 * check remembers a damaged pack and the next backup stores its data again; repair is a step-up
 * and reports what it saved and lost; a damaged snapshot file never blocks the listing and
 * forget removes it; a set whose retention meets another set's backup is recorded as succeeded;
 * a full disk says so, for the repository and for a restore's target.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OutputOf } from '../../src-shared/contract.js';
import { RepoLock } from '../../src-main/core/backup/engine/lock.js';
import { diffTrees, flipByte, pseudoRandom, removeTree, tempDir } from '../helpers/backup-fixtures.js';
import { makeTestApp, STRONG_PASSWORD, type TestApp } from '../helpers/app.js';

let t: TestApp;
let work: string;
let source: string;

beforeEach(async () => {
  work = tempDir('service-damage');
  source = join(work, 'Documents');
  mkdirSync(join(source, 'letters'), { recursive: true });
  writeFileSync(join(source, 'letters', 'to-grace.txt'), 'Dear Grace,\n');
  writeFileSync(join(source, 'thesis.pdf'), pseudoRandom('thesis', 3_000_000));
  t = makeTestApp();
  await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
});
afterEach(() => {
  t.remove();
  removeTree(work);
});

async function settled(jobId: string): Promise<OutputOf<'backup.jobs.get'>> {
  await t.app.core.backup.jobs.settled(jobId);
  return t.ok('backup.jobs.get', { jobId });
}

async function repoAndSet(repoPath = join(work, 'repo'), retention: { last?: number } = {}, name = 'Documents') {
  const { repository } = await t.ok('backup.repositories.init', { name: `${name} drive`, path: repoPath });
  const set = await t.ok('backup.sets.create', { name, repositoryId: repository.id, sources: [source], retention });
  return { repository, set };
}

async function run(setId: string) {
  const job = await settled((await t.ok('backup.sets.run', { setId })).jobId);
  if (job.kind !== 'backup') throw new Error('not a backup job');
  return job;
}

/** The pack files of a repository folder, largest first. */
function packFiles(repoPath: string): string[] {
  const out: string[] = [];
  for (const sub of readdirSync(join(repoPath, 'data'))) for (const f of readdirSync(join(repoPath, 'data', sub))) out.push(join(repoPath, 'data', sub, f));
  return out.sort((a, b) => statSync(b).size - statSync(a).size);
}

describe('damage through the contract', () => {
  it('a check remembers a damaged pack, the next backup stores its data again, and repair (a step-up) removes it losing nothing', async () => {
    const { repository, set } = await repoAndSet();
    expect((await run(set.id)).state).toBe('succeeded');
    const pack = packFiles(join(work, 'repo'))[0]!;
    flipByte(pack, 3000);
    const packId = pack.split('/').at(-1)!;

    const checked = await settled((await t.ok('backup.check.start', { repositoryId: repository.id, readData: 'all' })).jobId);
    expect(checked.kind === 'check' && checked.result?.damagedPacks).toEqual([packId]);

    const second = await run(set.id);
    expect(second.state).toBe('succeeded');
    expect(second.result?.damage).toEqual([{ kind: 'pack', id: packId, message: `Pack ${packId.slice(0, 12)} was found damaged by an earlier check.` }]);
    // Both files' chunks lay in that pack (one lane fills one pack): both are read again, their chunks stored again.
    expect(second.result?.summary.filesChanged).toBe(2);
    expect(t.app.core.backup.sets.runs(set.id, 1)[0]!.message).toBe('The repository has damage this backup worked around: run Check & repair.');
    const target = join(work, 'restored');
    const restored = await settled(
      (await t.ok('backup.restore.start', { repositoryId: repository.id, snapshotId: second.result!.snapshotId, target: { kind: 'folder', path: target } }))
        .jobId,
    );
    expect(restored.kind === 'restore' && restored.result?.errors).toEqual([]);
    expect(diffTrees(source, join(target, 'Documents'))).toBe('');

    const input = { repositoryId: repository.id, packs: [packId], index: true, snapshots: true };
    const refused = await t.call('backup.repair.start', input);
    expect(refused.ok ? 'ok' : refused.error.code).toBe('STEP_UP_REQUIRED');
    const { proof } = await t.ok('gate.stepUp', { method: 'backup.repair.start', input, password: STRONG_PASSWORD });
    const repaired = await settled((await t.ok('backup.repair.start', input, proof)).jobId);
    expect(repaired.state).toBe('succeeded');
    expect(repaired.kind === 'repair' && repaired.result?.packs).toEqual([{ id: packId, outcome: 'removed', blobsSaved: expect.any(Number), blobsLost: 0 }]);
    // Both snapshots share the chunks stored again: neither lost anything.
    expect(repaired.kind === 'repair' && repaired.result?.snapshots).toMatchObject({ snapshotsChecked: 2, rewritten: [], removed: [] });

    const clean = await settled((await t.ok('backup.check.start', { repositoryId: repository.id, readData: 'all' })).jobId);
    expect(clean.kind === 'check' && clean.result?.ok).toBe(true);
    // Known damaged no more: the next backup finds nothing to work around.
    expect((await run(set.id)).result?.damage).toEqual([]);
  });

  it('lists the snapshots around a damaged snapshot file and names it; forget (a step-up) removes it by id', async () => {
    const { repository, set } = await repoAndSet();
    const first = await run(set.id);
    writeFileSync(join(source, 'letters', 'to-alan.txt'), 'Dear Alan,\n');
    const second = await run(set.id);
    const damagedId = first.result!.snapshotId;
    flipByte(join(work, 'repo', 'snapshots', damagedId), 10);

    const listed = await t.ok('backup.snapshots.list', { repositoryId: repository.id });
    expect(listed.snapshots.map((s) => s.id)).toEqual([second.result!.snapshotId]);
    expect(listed.damaged).toEqual([
      { kind: 'snapshot', id: damagedId, message: `Snapshot ${damagedId.slice(0, 12)} is damaged (its bytes do not match its name).` },
    ]);

    const input = { repositoryId: repository.id, snapshotIds: [damagedId.slice(0, 12)] };
    const { proof } = await t.ok('gate.stepUp', { method: 'backup.snapshots.forget', input, password: STRONG_PASSWORD });
    expect(await t.ok('backup.snapshots.forget', input, proof)).toEqual({ removed: 1 });
    expect((await t.ok('backup.snapshots.list', { repositoryId: repository.id })).damaged).toEqual([]);
  });
});

describe('retention and another job on the same repository', () => {
  it('records the run as succeeded when its snapshot was written, and says retention waits for the next run', async () => {
    const { repository, set } = await repoAndSet(join(work, 'repo'), { last: 1 });
    await run(set.id);
    // Another set's backup into the same repository holds a shared lock meanwhile.
    const repo = await t.app.core.backup.openRepo(repository.id);
    const other = await RepoLock.acquire(repo, false);
    let job;
    try {
      writeFileSync(join(source, 'letters', 'to-alan.txt'), 'Dear Alan,\n');
      job = await run(set.id);
    } finally {
      await other.release();
    }
    expect(job.state).toBe('succeeded');
    const note = 'Older snapshots were not removed this time: another job was using the repository. The next run removes them.';
    expect(job.result).toMatchObject({ forgotten: 0, prune: null, retentionNote: note });
    const last = t.app.core.backup.sets.runs(set.id, 1)[0]!;
    expect(last).toMatchObject({ state: 'succeeded', snapshotId: job.result!.snapshotId, message: note });
    expect((await t.ok('backup.snapshots.list', { repositoryId: repository.id })).snapshots).toHaveLength(2);
    // Free again: the next run applies it.
    const next = await run(set.id);
    expect(next.result).toMatchObject({ forgotten: 2, retentionNote: null });
    expect((await t.ok('backup.snapshots.list', { repositoryId: repository.id })).snapshots).toHaveLength(1);
  });
});

/** A tmpfs of `size` at `dir`, for a disk that fills up (root only). */
function smallDisk(dir: string, size: string): () => void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  return () => execFileSync('umount', ['-l', dir]);
}

const asRoot = process.getuid?.() === 0;

describe.skipIf(!asRoot)('a full disk (needs root to mount a small tmpfs)', () => {
  const unmount: (() => void)[] = [];
  afterEach(() => {
    for (const u of unmount.splice(0)) u();
  });

  it('stops a backup with DISK_FULL and says so, in the job and in the history', async () => {
    unmount.push(smallDisk(join(work, 'small'), '1m'));
    const { repository, set } = await repoAndSet(join(work, 'small', 'repo'));
    const job = await run(set.id);
    expect(job.state).toBe('failed');
    const message =
      'The disk that holds the repository is full. Free some space there (deleting old snapshots and then freeing space helps), then run it again.';
    expect(job.error).toEqual({ code: 'DISK_FULL', message });
    expect(t.app.core.backup.sets.runs(set.id, 1)[0]).toMatchObject({ state: 'failed', message });
    // The repository is left as it was: a check finds nothing damaged.
    const checked = await settled((await t.ok('backup.check.start', { repositoryId: repository.id })).jobId);
    expect(checked.kind === 'check' && checked.result?.problems).toEqual([]);
  });

  it('stops a restore into a full disk with DISK_FULL naming the target', async () => {
    const { repository, set } = await repoAndSet();
    const done = await run(set.id);
    unmount.push(smallDisk(join(work, 'target'), '1m'));
    const job = await settled(
      (
        await t.ok('backup.restore.start', {
          repositoryId: repository.id,
          snapshotId: done.result!.snapshotId,
          target: { kind: 'folder', path: join(work, 'target') },
        })
      ).jobId,
    );
    expect(job.state).toBe('failed');
    expect(job.error).toEqual({ code: 'DISK_FULL', message: 'The disk you are restoring to is full. Free some space there or restore into another folder.' });
  });
});
