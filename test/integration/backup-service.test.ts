/**
 * The backup service through the contract and the router, as the UI uses it: repositories,
 * backup sets, jobs with progress, snapshots, restore; and the scheduler, which runs a due set
 * while the app is locked and catches up a run missed while the app was closed.
 */
import { execFileSync } from 'node:child_process';
import { linkSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OutputOf } from '../../src-shared/contract.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { diffTrees, pseudoRandom, removeTree, tempDir } from '../helpers/backup-fixtures.js';
import { makeTestApp, STRONG_PASSWORD, type TestApp } from '../helpers/app.js';
import { folderStorage } from '../../src-main/core/backup/engine/storage/folder.js';

let t: TestApp;
let work: string;
let source: string;

beforeEach(async () => {
  work = tempDir('service');
  source = join(work, 'Documents');
  mkdirSync(join(source, 'letters'), { recursive: true });
  writeFileSync(join(source, 'letters', 'to-grace.txt'), 'Dear Grace,\n');
  writeFileSync(join(source, 'thesis.pdf'), pseudoRandom('thesis', 2_500_000));
  t = makeTestApp();
  await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
});
afterEach(() => {
  t.remove();
  removeTree(work);
});

/** Wait for a job to end, then read it through the contract as the UI would. */
async function settled(app: TestApp, jobId: string): Promise<OutputOf<'backup.jobs.get'>> {
  await app.app.core.backup.jobs.settled(jobId);
  return app.ok('backup.jobs.get', { jobId });
}

async function repoAndSet(schedule: string | null = null) {
  const { repository, password } = await t.ok('backup.repositories.init', { name: 'External drive', path: join(work, 'repo') });
  const set = await t.ok('backup.sets.create', {
    name: 'Documents',
    repositoryId: repository.id,
    sources: [source],
    excludes: ['*.tmp'],
    schedule,
    retention: { last: 2 },
  });
  return { repository, password, set };
}

describe('backup through the contract', () => {
  it('creates a repository (password shown once), runs a set as a job, and lists, browses, finds and restores', async () => {
    const { repository, password, set } = await repoAndSet();
    expect(password).toMatch(/^[A-Z2-9]{5}(-[A-Z2-9]{5}){5}$/);
    writeFileSync(join(source, 'scratch.tmp'), 'excluded');

    const { jobId } = await t.ok('backup.sets.run', { setId: set.id });
    const job = await settled(t, jobId);
    expect(job.state).toBe('succeeded');
    expect(job.kind === 'backup' && job.result?.summary.files).toBe(2);
    expect(job.progress.filesDone).toBe(2);

    const { snapshots } = await t.ok('backup.snapshots.list', { repositoryId: repository.id });
    expect(snapshots).toHaveLength(1);
    expect(snapshots[0]!.setId).toBe(set.id);
    const snap = snapshots[0]!.id;
    const top = await t.ok('backup.snapshots.browse', { repositoryId: repository.id, snapshotId: snap });
    expect(top.entries.map((e) => e.name)).toEqual(['Documents']);
    const inner = await t.ok('backup.snapshots.browse', { repositoryId: repository.id, snapshotId: snap.slice(0, 12), path: 'Documents' });
    expect(inner.entries.map((e) => `${e.type}:${e.name}`)).toEqual(['dir:letters', 'file:thesis.pdf']);
    const found = await t.ok('backup.snapshots.find', { repositoryId: repository.id, pattern: '*grace*' });
    expect(found.entries.map((e) => e.path)).toEqual(['Documents/letters/to-grace.txt']);

    const history = await t.ok('backup.history', { setId: set.id });
    expect(history.runs[0]).toMatchObject({ trigger: 'manual', state: 'succeeded', snapshotId: snap, files: 2, errors: 0 });

    writeFileSync(join(source, 'letters', 'to-alan.txt'), 'Dear Alan,\n');
    await settled(t, (await t.ok('backup.sets.run', { setId: set.id })).jobId);
    const after = (await t.ok('backup.snapshots.list', { repositoryId: repository.id })).snapshots;
    const diff = await t.ok('backup.snapshots.diff', { repositoryId: repository.id, from: snap, to: after[1]!.id });
    expect(diff).toEqual({ added: ['/Documents/letters/to-alan.txt'], removed: [], modified: [], truncated: false });

    const target = join(work, 'restored');
    const restoreJob = await settled(
      t,
      (await t.ok('backup.restore.start', { repositoryId: repository.id, snapshotId: after[1]!.id, target: { kind: 'folder', path: target } })).jobId,
    );
    expect(restoreJob.state).toBe('succeeded');
    expect(diffTrees(source, join(target, 'Documents')).split('\n').filter(Boolean)).toEqual([`Only in ${source}: scratch.tmp`]);

    const checkJob = await settled(t, (await t.ok('backup.check.start', { repositoryId: repository.id, readData: 'all' })).jobId);
    expect(checkJob.kind === 'check' && checkJob.result?.ok).toBe(true);
  });

  it('records a run that could not keep everything as incomplete, naming each item, and keeps its snapshot', async () => {
    const { set } = await repoAndSet();
    try {
      // A folder deeper than a path can name (4,096 bytes) cannot be listed, not even by root.
      const deepen = 'import os, sys\nos.chdir(sys.argv[1])\nfor _ in range(24):\n    os.mkdir(sys.argv[2])\n    os.chdir(sys.argv[2])';
      execFileSync('python3', ['-c', deepen, join(source, 'letters'), 'd'.repeat(200)]);
      const job = await settled(t, (await t.ok('backup.sets.run', { setId: set.id })).jobId);
      expect(job.state).toBe('succeeded');
      const errors = job.kind === 'backup' ? job.result!.summary.errors : [];
      expect(errors).toHaveLength(1);
      expect(errors[0]!.message).toBe('cannot be read (ENAMETOOLONG)');
      const run = (await t.ok('backup.history', { setId: set.id })).runs[0]!;
      expect(run).toMatchObject({ state: 'incomplete', errors: 1, message: '1 item could not be kept in full; the summary names it.' });
      expect(run.snapshotId).toBe(job.kind === 'backup' ? job.result!.snapshotId : null);
      const lastRun = (await t.ok('backup.sets.list', {})).sets[0]!.lastRun;
      expect(lastRun?.state).toBe('incomplete');
    } finally {
      execFileSync('rm', ['-rf', join(source, 'letters', 'd'.repeat(200))]);
    }
  });

  it('browses and restores a name that is not UTF-8, a pipe and a hard link through the contract', async () => {
    const { repository, set } = await repoAndSet();
    writeFileSync(Buffer.concat([Buffer.from(`${source}/`), Buffer.from('caf\xe9.txt', 'latin1')]), 'Latin-1');
    execFileSync('mkfifo', [join(source, 'queue')]);
    linkSync(join(source, 'thesis.pdf'), join(source, 'thesis-link.pdf'));
    await settled(t, (await t.ok('backup.sets.run', { setId: set.id })).jobId);
    const snap = (await t.ok('backup.snapshots.list', { repositoryId: repository.id })).snapshots[0]!.id;
    const inner = await t.ok('backup.snapshots.browse', { repositoryId: repository.id, snapshotId: snap, path: 'Documents' });
    expect(inner.entries.map((e) => `${e.type}:${e.name}`).sort()).toEqual(
      ['file:caf\udce9.txt', 'dir:letters', 'fifo:queue', 'file:thesis-link.pdf', 'file:thesis.pdf'].sort(),
    );
    // The path goes back as the UI got it, through JSON, and names the file by its bytes.
    const picked = JSON.parse(JSON.stringify(['Documents/caf\udce9.txt', 'Documents/queue', 'Documents/thesis.pdf', 'Documents/thesis-link.pdf'])) as string[];
    const target = join(work, 'picked');
    const job = await settled(
      t,
      (await t.ok('backup.restore.start', { repositoryId: repository.id, snapshotId: snap, paths: picked, target: { kind: 'folder', path: target } })).jobId,
    );
    expect(job.state).toBe('succeeded');
    expect(job.kind === 'restore' && job.result).toMatchObject({ files: 3, special: 1, errors: [] });
    expect(readFileSync(Buffer.concat([Buffer.from(`${target}/Documents/`), Buffer.from('caf\xe9.txt', 'latin1')]), 'utf8')).toBe('Latin-1');
    expect(lstatSync(join(target, 'Documents', 'queue')).isFIFO()).toBe(true);
    expect(lstatSync(join(target, 'Documents', 'thesis-link.pdf')).ino).toBe(lstatSync(join(target, 'Documents', 'thesis.pdf')).ino);
  });

  it('connects an existing repository by its password, and says plainly when the password is wrong', async () => {
    const { password } = await repoAndSet();
    const other = makeTestApp();
    try {
      await other.ok('account.setup', { accountName: 'Grace', password: STRONG_PASSWORD });
      const wrong = await other.call('backup.repositories.connect', { name: 'Old drive', path: join(work, 'repo'), password: 'WRONG-PASSWORD' });
      expect(wrong).toEqual({ ok: false, error: { code: 'REPO_PASSWORD_WRONG', message: 'That is not the password of this repository.' } });
      const { repository } = await other.ok('backup.repositories.connect', { name: 'Old drive', path: join(work, 'repo'), password });
      expect((await other.ok('backup.snapshots.list', { repositoryId: repository.id })).snapshots).toEqual([]);
    } finally {
      other.remove();
    }
  });

  it('changes the repository password behind a step-up; the old one stops working', async () => {
    const { repository, password } = await repoAndSet();
    const input = { repositoryId: repository.id };
    const refused = await t.call('backup.repositories.changePassword', input);
    expect(refused.ok ? 'ok' : refused.error.code).toBe('STEP_UP_REQUIRED');
    const { proof } = await t.ok('gate.stepUp', { method: 'backup.repositories.changePassword', input, password: STRONG_PASSWORD });
    const { password: fresh } = await t.ok('backup.repositories.changePassword', input, proof);
    expect(fresh).not.toBe(password);
    await expect(Repository.openWithPassword(folderStorage(join(work, 'repo')), password)).rejects.toMatchObject({ code: 'REPO_PASSWORD_WRONG' });
    await expect(Repository.openWithPassword(folderStorage(join(work, 'repo')), fresh)).resolves.toBeTruthy();
  });

  it('refuses an invalid schedule and a relative source with clear messages', async () => {
    const { repository } = await repoAndSet();
    const bad = await t.call('backup.sets.create', { name: 'Bad', repositoryId: repository.id, sources: [source], schedule: 'every day' });
    expect(bad.ok ? 'ok' : bad.error).toEqual({ code: 'BAD_INPUT', message: expect.stringMatching(/not a valid cron expression/) });
    const relative = await t.call('backup.sets.create', { name: 'Rel', repositoryId: repository.id, sources: ['Documents'] });
    expect(relative.ok ? 'ok' : relative.error.code).toBe('BAD_INPUT');
  });
});

describe('the scheduler', () => {
  it("runs a due set while the app is locked, and applies the set's retention", async () => {
    const { repository, set } = await repoAndSet('0 3 * * *');
    await t.ok('gate.lock', {});
    expect(t.app.core.gate.level()).toBe('locked');
    const core = t.app.core;
    expect(core.scheduler.tick()).toEqual([]); // created at 12:00, next due tomorrow 03:00
    for (let day = 0; day < 3; day++) {
      t.clock.advance(24 * 3600_000);
      const [jobId] = core.scheduler.tick();
      expect(jobId).toBeDefined();
      expect((await core.backup.jobs.settled(jobId!)).state).toBe('succeeded');
      expect(core.scheduler.tick()).toEqual([]); // not again until the next 03:00
    }
    const runs = core.backup.sets.runs(set.id, 10);
    expect(runs.map((r) => `${r.trigger}:${r.state}`)).toEqual(['schedule:succeeded', 'schedule:succeeded', 'schedule:succeeded']);
    const { snapshots } = await core.backup.snapshots(repository.id);
    expect(snapshots).toHaveLength(2); // retention: last 2
  });

  it('catches up a run missed while the app was closed, once', async () => {
    const { set } = await repoAndSet('0 3 * * *');
    t.close();
    t.clock.advance(5 * 24 * 3600_000);
    t = t.reopen();
    const jobs = t.app.core.backup.jobs.list();
    expect(jobs).toHaveLength(1);
    expect((await t.app.core.backup.jobs.settled(jobs[0]!.id)).state).toBe('succeeded');
    expect(t.app.core.backup.sets.runs(set.id, 10).map((r) => r.trigger)).toEqual(['catch-up']);
    expect(t.app.core.scheduler.tick()).toEqual([]);
  });
});
