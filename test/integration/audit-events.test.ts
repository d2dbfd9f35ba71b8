/**
 * The audit log sees everything docs/security.md lists: every restore (what, where to), every
 * deletion, every change of a set, a repository or the settings, every lock (by the user, idle,
 * the OS), every lockout and throttle step, and the app quitting or being ended; and its filters
 * find them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditRowView } from '../../src-shared/contract.js';
import { QUIT_REFUSED_MESSAGE } from '../../src-main/api/handlers-shell.js';
import { HARD_STOP_FAILURES } from '../../src-main/core/gate/throttle-policy.js';
import { removeTree, tempDir } from '../helpers/backup-fixtures.js';
import { makeTestApp, STRONG_PASSWORD, type TestApp } from '../helpers/app.js';

let t: TestApp;
let work: string;
beforeEach(async () => {
  work = tempDir('audit-events');
  t = makeTestApp();
  await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
});
afterEach(() => {
  t.remove();
  removeTree(work);
});

async function rows(app: TestApp, action: AuditRowView['action']): Promise<[string, string | null][]> {
  const log = await app.app.core.audit.open();
  return log
    .query({ action: action as never, limit: 1000 })
    .rows.reverse()
    .map((r) => [r.outcome, r.detail]);
}

async function settled(app: TestApp, jobId: string) {
  await app.app.core.backup.jobs.settled(jobId);
  return app.ok('backup.jobs.get', { jobId });
}

describe('the audit log records', () => {
  it('every lock, with who or what locked, and the filter finds them', async () => {
    await t.ok('settings.update', { autoLockMinutes: 1 }, await t.passwordProof('settings.update', { autoLockMinutes: 1 }));
    await t.ok('gate.lock', {});
    for (const reason of ['idle', 'os-lock', 'suspend', 'shutdown'] as const) {
      await t.ok('gate.submitPassword', { password: STRONG_PASSWORD });
      if (reason === 'idle') {
        t.clock.advance(60_000);
        t.app.core.gate.checkIdle();
      } else {
        t.app.lock(reason);
      }
    }
    expect(await rows(t, 'locked')).toEqual([
      ['info', 'locked by the user'],
      ['info', 'locked after the idle time'],
      ['info', 'locked because the computer locked its screen'],
      ['info', 'locked because the computer went to sleep'],
      ['info', 'locked because the app stopped'],
    ]);
    const viaContract = await t.call('audit.query', { filter: { action: 'locked' } });
    expect(viaContract.ok).toBe(false); // locked: the log is behind the gate
    await t.ok('gate.submitPassword', { password: STRONG_PASSWORD });
    expect((await t.ok('audit.query', { filter: { action: 'locked' } })).total).toBe(5);
  });

  it('every throttle step and the hard stop as a lockout, and the filter finds them', async () => {
    await t.ok('gate.lock', {});
    for (let i = 0; i < HARD_STOP_FAILURES; i++) {
      const r = await t.call('gate.submitPassword', { password: `wrong password number ${i}` });
      if (!r.ok) t.clock.advance(r.error.retryAfterMs ?? 0);
    }
    const lockouts = await rows(t, 'lockout');
    expect(lockouts.slice(0, 3)).toEqual([
      ['failure', '5 failed attempts in a row: next attempt in 1 s'],
      ['failure', '6 failed attempts in a row: next attempt in 2 s'],
      ['failure', '7 failed attempts in a row: next attempt in 4 s'],
    ]);
    expect(lockouts.at(-2)).toEqual(['failure', '19 failed attempts in a row: next attempt in 15 min']);
    expect(lockouts.at(-1)).toEqual(['failure', '20 failed attempts in a row: hard stop; one attempt an hour, and only a recovery code finishes an unlock']);
    expect(lockouts).toHaveLength(HARD_STOP_FAILURES - 4);
    t.clock.advance(60 * 60_000);
    await t.ok('gate.submitPassword', { password: STRONG_PASSWORD });
    expect((await t.ok('audit.query', { filter: { action: 'lockout', outcome: 'failure' } })).total).toBe(HARD_STOP_FAILURES - 4);
  });

  it('settings changes, with what changed', async () => {
    const input = { autoLockMinutes: 30, relayUrl: 'wss://relay.example.org/v1' };
    await t.ok('settings.update', input, await t.passwordProof('settings.update', input));
    expect(await rows(t, 'settings.changed')).toEqual([['success', 'auto-lock 10 → 30 min; push relay built-in → wss://relay.example.org/v1']]);
  });

  it('repository and set changes, deletions, prunes, and every restore with what and where to', async () => {
    const source = join(work, 'Documents');
    mkdirSync(source);
    writeFileSync(join(source, 'letter.txt'), 'Dear Grace,\n');
    const repoPath = join(work, 'repo');
    const { repository } = await t.ok('backup.repositories.init', { name: 'Disk', path: repoPath });
    const set = await t.ok('backup.sets.create', { name: 'Docs', repositoryId: repository.id, sources: [source] });
    await t.ok('backup.sets.update', { setId: set.id, excludes: ['*.tmp'] });
    for (let i = 0; i < 2; i++) await settled(t, (await t.ok('backup.sets.run', { setId: set.id })).jobId);
    const retention = { setId: set.id, retention: { last: 1 } };
    await t.ok('backup.sets.setRetention', retention, await t.passwordProof('backup.sets.setRetention', retention));
    await settled(t, (await t.ok('backup.sets.run', { setId: set.id })).jobId);
    const [snapshot] = (await t.ok('backup.snapshots.list', { repositoryId: repository.id })).snapshots;
    const target = join(work, 'restored');
    const restore = {
      repositoryId: repository.id,
      snapshotId: snapshot!.id,
      paths: ['Documents/letter.txt'],
      target: { kind: 'folder' as const, path: target },
    };
    await settled(t, (await t.ok('backup.restore.start', restore)).jobId);
    const forget = { repositoryId: repository.id, snapshotIds: [snapshot!.id] };
    await t.ok('backup.snapshots.forget', forget, await t.passwordProof('backup.snapshots.forget', forget));
    await settled(t, (await t.ok('backup.prune.start', { repositoryId: repository.id })).jobId);
    const repair = { repositoryId: repository.id, packs: [], index: true, snapshots: true };
    await settled(t, (await t.ok('backup.repair.start', repair, await t.passwordProof('backup.repair.start', repair))).jobId);
    const changePassword = { repositoryId: repository.id };
    await t.ok('backup.repositories.changePassword', changePassword, await t.passwordProof('backup.repositories.changePassword', changePassword));
    await t.ok('backup.sets.delete', { setId: set.id }, await t.passwordProof('backup.sets.delete', { setId: set.id }));
    const remove = { repositoryId: repository.id, deleteFiles: true };
    await t.ok('backup.repositories.remove', remove, await t.passwordProof('backup.repositories.remove', remove));

    const repo = `“Disk” (${repoPath})`;
    expect(await rows(t, 'repository.created')).toEqual([['success', repo]]);
    expect(await rows(t, 'set.created')).toEqual([['success', `“Docs” into “Disk”: folders ${source}; retention keep everything`]]);
    expect(await rows(t, 'set.changed')).toEqual([['success', '“Docs”: excludes none → *.tmp']]);
    expect(await rows(t, 'set.retention-changed')).toEqual([['success', '“Docs”: retention keep everything → keep last 1']]);
    const forgotten = await rows(t, 'snapshots.forgotten');
    expect(forgotten).toHaveLength(2);
    expect(forgotten[0]![1]).toMatch(/^2 snapshots of “Docs” in “Disk” by its retention \(manual run\): [0-9a-f]{8}, [0-9a-f]{8}$/);
    expect(forgotten[1]![1]).toBe(
      `1 snapshot from ${repo}: ${snapshot!.id.slice(0, 8)} of ${new Date(snapshot!.time).toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    );
    expect((await rows(t, 'prune.finished')).map(([o]) => o)).toEqual(['success', 'success']);
    expect(await rows(t, 'repair.finished')).toEqual([
      [
        'success',
        expect.stringMatching(
          /^“Disk”: 0 damaged packs removed; 0 blobs lost; index rebuilt over \d+ packs?; 0 snapshots rewritten; 0 snapshot files deleted$/,
        ),
      ],
    ]);
    const what = `1 item (Documents/letter.txt) from snapshot ${snapshot!.id.slice(0, 8)} of ${new Date(snapshot!.time).toISOString().slice(0, 16).replace('T', ' ')} UTC of ${repo} to ${target}; stops at an existing file`;
    expect(await rows(t, 'restore.started')).toEqual([['info', what]]);
    expect(await rows(t, 'restore.finished')).toEqual([['success', `${what}: 1 file, 12 bytes, 0 skipped, 0 errors`]]);
    expect(await rows(t, 'repository.password-changed')).toEqual([['success', `${repo}: 1 old key removed`]]);
    expect(await rows(t, 'set.deleted')).toEqual([['success', '“Docs” (its snapshots stay in “Disk”)']]);
    expect(await rows(t, 'repository.removed')).toEqual([['success', `${repo}: its folder and every snapshot in it deleted`]]);
    // Each row also says who: the account, the workstation and the address of the call.
    const log = await t.app.core.audit.open();
    expect(log.query({ action: 'restore.started' }).rows[0]).toMatchObject({ account: 'Ada', workstation: 'test-workstation', ip: '127.0.0.1' });
  });

  it('a change of a repository, and the filter finds it', async () => {
    const path = join(work, 'renamed-repo');
    const { repository } = await t.ok('backup.repositories.init', { name: 'Disk', path });
    await t.ok('backup.repositories.edit', { repositoryId: repository.id, name: 'External disk' });
    // Nothing changed: no row.
    await t.ok('backup.repositories.edit', { repositoryId: repository.id, name: 'External disk' });
    expect(await rows(t, 'repository.changed')).toEqual([['success', `“Disk” (${path}): renamed “External disk”`]]);
    expect((await t.ok('audit.query', { filter: { action: 'repository.changed' } })).total).toBe(1);
  });

  it('quitting from the desktop app: refused while locked, allowed while unlocked, and the OS ending the app', async () => {
    await t.ok('gate.lock', {});
    expect(await t.shell.quit()).toEqual({ allowed: false, message: QUIT_REFUSED_MESSAGE });
    await t.ok('gate.submitPassword', { password: STRONG_PASSWORD });
    expect(await t.shell.quit()).toEqual({ allowed: true, message: null });
    expect(await rows(t, 'app.quit')).toEqual([
      ['failure', 'refused: the app is locked'],
      ['success', 'quit from the desktop app'],
    ]);
    t.app.close('the OS ended the app (SIGTERM)');
    t = t.reopen();
    expect(await rows(t, 'app.stopped')).toEqual([['info', 'the OS ended the app (SIGTERM)']]);
  });
});
