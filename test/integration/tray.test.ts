/** The desktop tray's actions: a status line and "back up now", which works while the app is locked. */
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
    expect(t.app.tray.status()).toEqual({ line: 'No backup sets yet · unlocked', locked: false, running: 0 });
    await t.ok('gate.lock', {});
    expect(t.app.tray.status()).toEqual({ line: 'No backup sets yet · locked', locked: true, running: 0 });
    expect(t.app.tray.backUpNow()).toBe(0);
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
    expect(t.app.tray.status().line).toBe('No backup has run yet · locked');

    expect(t.app.tray.backUpNow()).toBe(1);
    expect(t.app.tray.status()).toMatchObject({ locked: true, running: 1, line: 'Backing up (1 set)… · locked' });
    expect(t.app.tray.backUpNow()).toBe(0); // already running: not started twice
    await waitForJobs(t);
    expect(t.app.tray.status()).toEqual({ line: 'Last backup finished just now · locked', locked: true, running: 0 });
    await t.ok('gate.submitPassword', { password: STRONG_PASSWORD });
    const { runs } = await t.ok('backup.history', {});
    expect(runs).toEqual([expect.objectContaining({ trigger: 'manual', state: 'succeeded', files: 1 })]);
  });
});
