/**
 * What a confirmation says (docs/security.md, "Step-up"): the concrete target and consequence,
 * made by the core from the exact input the proof is bound to, with that binding's digest; the
 * same text in the step-up grant, the audit log and (push-approval.test.ts) on the companion.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stepUpDigest } from '../../src-main/api/router.js';
import { localTime } from '../../src-main/api/confirmations-backup.js';
import { contract } from '../../src-shared/contract.js';
import { removeTree, tempDir } from '../helpers/backup-fixtures.js';
import { makeTestApp, STRONG_PASSWORD, type TestApp } from '../helpers/app.js';

let t: TestApp;
let work: string;
beforeEach(async () => {
  work = tempDir('confirm');
  t = makeTestApp();
  await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
});
afterEach(() => {
  t.remove();
  removeTree(work);
});

async function settled(jobId: string) {
  await t.app.core.backup.jobs.settled(jobId);
}

/** A repository with a set (retention: keep last 3) that has run three times. */
async function backedUp() {
  const source = join(work, 'Documents');
  mkdirSync(source);
  writeFileSync(join(source, 'letter.txt'), 'Dear Grace,\n');
  const repoPath = join(work, 'repo');
  const { repository } = await t.ok('backup.repositories.init', { name: 'Disk', path: repoPath });
  const set = await t.ok('backup.sets.create', { name: 'Docs', repositoryId: repository.id, sources: [source], retention: { last: 3 } });
  for (let i = 0; i < 3; i++) {
    await settled((await t.ok('backup.sets.run', { setId: set.id })).jobId);
    t.clock.advance(60_000);
  }
  const { snapshots } = await t.ok('backup.snapshots.list', { repositoryId: repository.id });
  return { source, repoPath, repository, set, snapshots };
}

describe('a confirmation', () => {
  it('is bound to the digest of exactly the input it describes, and the grant and the audit log say the same', async () => {
    const input = { autoLockMinutes: 60 };
    const described = await t.ok('gate.describeStepUp', { method: 'settings.update', input });
    const parsed = contract['settings.update'].input.parse(input);
    expect(described).toEqual({
      needed: true,
      confirmation: {
        title: 'Change auto-lock from 10 to 60 minutes',
        consequence: 'The app locks itself after 60 idle minutes.',
        digest: stepUpDigest('settings.update', parsed),
      },
    });
    const grant = await t.ok('gate.stepUp', { method: 'settings.update', input, password: STRONG_PASSWORD });
    expect(grant.confirmation).toEqual(described.confirmation);
    expect(grant.action).toBe('Change settings');
    // The proof opens only that input.
    expect((await t.call('settings.update', { autoLockMinutes: 1440 }, grant.proof)).ok).toBe(false);
    const { rows } = await t.ok('audit.query', { filter: { action: 'step-up.ok' } });
    expect(rows[0]!.detail).toBe('settings.update: Change auto-lock from 10 to 60 minutes');
  });

  it('names the relay a settings change sends pushes to', async () => {
    const { confirmation } = await t.ok('gate.describeStepUp', { method: 'settings.update', input: { relayUrl: 'wss://relay.example.org/v1' } });
    expect(confirmation.title).toMatch(/^Change the push relay from .+ to wss:\/\/relay\.example\.org\/v1$/);
    expect(confirmation.consequence).toBe('Push requests and pairings go through wss://relay.example.org/v1 from now on.');
  });

  it('names the repository, its folder and how many snapshots go with it', async () => {
    const { repository, repoPath } = await backedUp();
    const keep = await t.ok('gate.describeStepUp', { method: 'backup.repositories.remove', input: { repositoryId: repository.id } });
    expect(keep.confirmation).toMatchObject({
      title: 'Remove the repository “Disk”',
      consequence: `This app forgets it; the folder ${repoPath} and 3 snapshots in it stay where they are.`,
    });
    const del = await t.ok('gate.describeStepUp', { method: 'backup.repositories.remove', input: { repositoryId: repository.id, deleteFiles: true } });
    expect(del.confirmation).toMatchObject({
      title: 'Remove the repository “Disk” and delete its files',
      consequence: `The folder ${repoPath} and 3 snapshots in it are deleted for good.`,
    });
    expect(del.confirmation.digest).not.toBe(keep.confirmation.digest);
  });

  it('names the snapshots a deletion removes, and how many a new retention would', async () => {
    const { repository, repoPath, set, snapshots } = await backedUp();
    const one = snapshots[0]!;
    const forget = await t.ok('gate.describeStepUp', {
      method: 'backup.snapshots.forget',
      input: { repositoryId: repository.id, snapshotIds: [one.id.slice(0, 10)] },
    });
    expect(forget.confirmation).toMatchObject({
      title: `Delete the snapshot ${one.id.slice(0, 8)} of ${localTime(one.time)}`,
      consequence: `Deleted from “Disk” (${repoPath}): ${one.id.slice(0, 8)} of ${localTime(one.time)}. The data only they hold is freed by the next “Free space”.`,
    });
    const retention = await t.ok('gate.describeStepUp', { method: 'backup.sets.setRetention', input: { setId: set.id, retention: { last: 1 } } });
    expect(retention.confirmation).toMatchObject({
      title: 'Change the retention of “Docs” to keep last 1',
      consequence: `2 snapshots of the set's 3 in “Disk” (${repoPath}) no longer fit and are deleted at its next backup.`,
    });
  });

  it('names the destination of a restore that overwrites, and needs none for one that does not', async () => {
    const { repository, snapshots, source } = await backedUp();
    const base = { repositoryId: repository.id, snapshotId: snapshots[0]!.id, target: { kind: 'original' as const } };
    const skip = await t.ok('gate.describeStepUp', { method: 'backup.restore.start', input: { ...base, onExisting: 'skip' } });
    expect(skip.needed).toBe(false);
    const over = await t.ok('gate.describeStepUp', { method: 'backup.restore.start', input: { ...base, onExisting: 'overwrite' } });
    expect(over).toMatchObject({
      needed: true,
      confirmation: {
        title: `Restore everything from the snapshot ${snapshots[0]!.id.slice(0, 8)} of ${localTime(snapshots[0]!.time)} of “Disk”, overwriting existing files`,
        consequence: `Into their original places (${source}). Files that exist there are replaced by the snapshot’s copies.`,
      },
    });
    // Without the proof nothing is overwritten; with it, the restore runs.
    const refused = await t.call('backup.restore.start', { ...base, onExisting: 'overwrite' });
    expect(refused).toEqual({ ok: false, error: { code: 'STEP_UP_REQUIRED', message: 'Confirm this action first: Restore files.' } });
    const proof = await t.passwordProof('backup.restore.start', { ...base, onExisting: 'overwrite' });
    await settled((await t.ok('backup.restore.start', { ...base, onExisting: 'overwrite' }, proof)).jobId);
  });

  it('lists what changes in a set with retention, and needs none for a rename or a set without retention', async () => {
    const { set, source } = await backedUp();
    const other = join(work, 'Other');
    mkdirSync(other);
    const change = { setId: set.id, sources: [other], schedule: '0 3 * * *' };
    const described = await t.ok('gate.describeStepUp', { method: 'backup.sets.update', input: change });
    expect(described).toMatchObject({
      needed: true,
      confirmation: {
        title: 'Change the backup set “Docs”',
        consequence:
          `Changes: folders ${source} → ${other}; schedule none → 0 3 * * *. ` +
          'It keeps keep last 3, so once the changed set has run, the snapshots of what it backed up before can be deleted.',
      },
    });
    expect(await t.call('backup.sets.update', change)).toEqual({
      ok: false,
      error: { code: 'STEP_UP_REQUIRED', message: 'Confirm this action first: Change a backup set.' },
    });
    expect((await t.ok('gate.describeStepUp', { method: 'backup.sets.update', input: { setId: set.id, name: 'Papers' } })).needed).toBe(false);
    expect((await t.ok('backup.sets.update', { setId: set.id, name: 'Papers' })).name).toBe('Papers');
    expect((await t.ok('backup.sets.update', change, await t.passwordProof('backup.sets.update', change))).sources).toEqual([other]);
    // A set that keeps everything forgets nothing, so changing it needs no confirmation.
    const plain = await t.ok('backup.sets.create', { name: 'Plain', repositoryId: set.repositoryId, sources: [source] });
    expect((await t.ok('backup.sets.update', { setId: plain.id, sources: [other], excludes: ['*'] })).excludes).toEqual(['*']);
  });

  it('is refused for a method that needs none, for input the method refuses, and for a target that does not exist', async () => {
    expect(await t.call('gate.describeStepUp', { method: 'backup.sets.list', input: {} })).toEqual({
      ok: false,
      error: { code: 'BAD_INPUT', message: 'That action does not need a confirmation.' },
    });
    expect(await t.call('gate.describeStepUp', { method: 'backup.sets.delete', input: { setId: 'nope' } })).toEqual({
      ok: false,
      error: { code: 'BAD_INPUT', message: 'The action to confirm has invalid input.' },
    });
    const missing = await t.call('gate.describeStepUp', { method: 'devices.remove', input: { deviceId: '00000000-0000-4000-8000-000000000000' } });
    expect(missing).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: 'There is no such device.' } });
  });
});

describe('a restore', () => {
  it('never writes into a repository or the data folder, even without overwriting', async () => {
    const { repository, repoPath, snapshots } = await backedUp();
    const base = { repositoryId: repository.id, snapshotId: snapshots[0]!.id, onExisting: 'skip' as const };
    for (const path of [repoPath, join(repoPath, 'snapshots'), t.dataDir, join(t.dataDir, 'logs')]) {
      const r = await t.call('backup.restore.start', { ...base, target: { kind: 'folder', path } });
      expect(r.ok ? 'started' : r.error.code, path).toBe('RESTORE_REFUSED');
    }
    const r = await t.call('backup.restore.start', { ...base, target: { kind: 'folder', path: repoPath } });
    expect(r).toEqual({
      ok: false,
      error: {
        code: 'RESTORE_REFUSED',
        message: `Restoring there would write into the repository “Disk” (${repoPath}), which a restore never touches. Choose another folder.`,
      },
    });
    expect((await t.ok('audit.query', { filter: { action: 'restore.started' } })).total).toBe(0);
  });
});
