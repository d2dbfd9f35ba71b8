/**
 * The desktop tray, through the router as the `shell` face (src-main/api/shell-client.ts): a
 * status line, "Back up now" (which works while the app is locked) and "Lock now".
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTestApp, STRONG_PASSWORD, type TestApp } from '../helpers/app.js';

let t: TestApp | undefined;
let work: string | undefined;
afterEach(() => {
  t?.remove();
  if (work) rmSync(work, { recursive: true, force: true });
  t = work = undefined;
});

async function waitForJobs(app: TestApp): Promise<void> {
  for (let i = 0; i < 600 && app.app.core.backup.jobs.running(() => true); i++) await new Promise((r) => setTimeout(r, 50));
}

describe('the tray', () => {
  it('says when there is nothing to back up yet, and whether the app is locked', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    expect(await t.shell.status()).toEqual({ line: 'No backup sets yet · unlocked', locked: false, running: 0 });
    await t.shell.lock();
    expect(await t.shell.status()).toEqual({ line: 'No backup sets yet · locked', locked: true, running: 0 });
    expect(await t.shell.backUpNow()).toBe(0);
  });

  it('backs up every set now while the app is locked, and reports the run', async () => {
    work = mkdtempSync(join(tmpdir(), 'twofold-tray-'));
    const source = join(work, 'documents');
    mkdirSync(source);
    writeFileSync(join(source, 'letter.txt'), 'Dear Ada,\n');
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    const { repository } = await t.ok('backup.repositories.init', { name: 'Disk', path: join(work, 'repo') });
    await t.ok('backup.sets.create', { name: 'Documents', repositoryId: repository.id, sources: [source] });
    await t.ok('gate.lock', {});
    expect((await t.shell.status()).line).toBe('No backup has run yet · locked');

    expect(await t.shell.backUpNow()).toBe(1);
    expect(await t.shell.status()).toMatchObject({ locked: true, running: 1, line: 'Backing up (1 set)… · locked' });
    expect(await t.shell.backUpNow()).toBe(0); // already running: not started twice
    await waitForJobs(t);
    expect(await t.shell.status()).toEqual({ line: 'Last backup finished just now · locked', locked: true, running: 0 });
    await t.ok('gate.submitPassword', { password: STRONG_PASSWORD });
    const { runs } = await t.ok('backup.history', {});
    expect(runs).toEqual([expect.objectContaining({ trigger: 'manual', state: 'succeeded', files: 1 })]);
  });

  it('locks from the tray like the lock button, and the audit log says so', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    await t.shell.lock();
    expect((await t.ok('app.status', {})).level).toBe('locked');
    await t.ok('gate.submitPassword', { password: STRONG_PASSWORD });
    const { rows } = await t.ok('audit.query', { filter: { action: 'locked' } });
    expect(rows.map((r) => [r.outcome, r.workstation])).toEqual([['info', 'test-workstation']]);
  });

  it('cannot be reached from the window or the console: the lock screen sees no status and writes no quit rows', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    await t.ok('gate.lock', {});
    for (const method of ['shell.status', 'shell.backUpNow', 'shell.quit'] as const) {
      expect(await t.call(method, {})).toEqual({ ok: false, error: { code: 'NOT_ALLOWED', message: "Only the desktop app's own menus can do this." } });
    }
    await t.ok('gate.submitPassword', { password: STRONG_PASSWORD });
    expect((await t.ok('audit.query', { filter: { action: 'app.quit' } })).total).toBe(0);
  });
});
