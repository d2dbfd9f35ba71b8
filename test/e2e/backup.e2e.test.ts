/**
 * Backups in the browser, as one person's story against the real console and core: create a
 * repository (its password shown once), a backup set over a generated folder, run it and watch
 * the progress, see it in the history, browse the snapshot, find and compare, restore one file
 * into another folder (byte for byte), change the retention with a step-up, and check the
 * repository. Every main screen is screenshotted and scanned with axe.
 */
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  ftruncateSync,
  statSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRONG_PASSWORD } from '../helpers/app.js';
import { launchChromium, startTestConsole, type TestConsole } from '../helpers/console.js';
import { a11yFindingsBothThemes } from '../helpers/a11y.js';
import { screenshot } from '../helpers/e2e.js';
import { tourShot } from '../helpers/screenshots.js';

let browser: Browser;
let c: TestConsole;
let page: Page;
let work: string;
let source: string;
let repoDir: string;
let restoreDir: string;
let firstPassword = '';

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'twofold-backup-e2e-'));
  source = join(work, 'Documents');
  repoDir = join(work, 'repository');
  restoreDir = join(work, 'restored');
  mkdirSync(join(source, 'sub', 'nested'), { recursive: true });
  writeFileSync(join(source, 'a.txt'), 'the first file\n');
  writeFileSync(join(source, 'notes.md'), '# Notes\n\nSome words.\n');
  writeFileSync(join(source, 'scratch.tmp'), 'left out by the exclude pattern\n');
  writeFileSync(join(source, 'sub', 'nested', 'deep.txt'), randomBytes(3000).toString('base64'));
  // Enough data that the run is visibly in progress for a moment.
  mkdirSync(join(source, 'media'));
  for (let i = 0; i < 8; i++) writeFileSync(join(source, 'media', `clip-${i}.bin`), randomBytes(4 * 1024 * 1024));

  browser = await launchChromium();
  c = await startTestConsole();
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    acceptDownloads: true,
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  page = await context.newPage();
  await page.goto(c.server.loginUrl);
});
afterAll(async () => {
  await browser?.close();
  await c?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function section(name: string, heading: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name, exact: true }).click();
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
}

/** Create a repository in the Repositories section; returns the once-shown password and its element. */
async function createRepository(name: string, folder: string) {
  await section('Repositories', 'Repositories');
  await page.getByLabel('Repository name').fill(name);
  await page.getByLabel('Folder', { exact: true }).fill(folder);
  await page.getByRole('button', { name: 'Create repository' }).click();
  const shown = page.getByTestId('repo-password');
  await shown.waitFor();
  return { shown, password: (await shown.textContent())?.trim() ?? '' };
}

/** Confirm the step-up dialog of that name (it names the action) with the account password. */
async function confirmStepUp(name: string | RegExp): Promise<void> {
  const dialog = page.getByRole('dialog', { name });
  await dialog.getByLabel('Password').fill(STRONG_PASSWORD);
  await dialog.getByRole('button', { name: 'Confirm' }).click();
}

/** No moderate, serious or critical axe finding, in the light theme and the dark one. */
async function a11y(): Promise<void> {
  expect(await a11yFindingsBothThemes(page)).toEqual([]);
}

describe('backups in the browser', { timeout: 90_000 }, () => {
  it('sets up an account with the password only', async () => {
    await page.getByLabel('Account name').fill('Ada');
    await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await page.getByLabel('Repeat the password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('button', { name: 'Skip: protect with the password only' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  });

  it('creates a repository and shows its password once, to download and confirm', async () => {
    const { shown, password } = await createRepository('Local disk', repoDir);
    expect(password).toMatch(/^[A-Z2-9]{5}(-[A-Z2-9]{5}){5}$/);
    firstPassword = password;
    await screenshot(page, '09-repository-password');
    await a11y();
    await page.getByRole('button', { name: 'Copy password' }).click();
    await page.getByText('Copied.').waitFor();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(password);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download as .txt' }).click()]);
    expect(download.suggestedFilename()).toBe('twofold-repository-Local-disk.txt');
    const text = readFileSync((await download.path())!, 'utf8');
    expect(text).toContain(password);
    expect(text).toContain(repoDir);

    expect(await page.getByRole('button', { name: 'Done' }).isDisabled()).toBe(true);
    await page.getByLabel('I have saved this password somewhere safe').check();
    await page.getByRole('button', { name: 'Done' }).click();
    await shown.waitFor({ state: 'detached' });
    expect(await page.getByTestId('repositories-table').getByRole('cell', { name: 'Local disk', exact: true }).count()).toBe(1);
    expect(await page.content()).not.toContain(password);
  });

  it('creates a backup set with an exclude pattern, a schedule and retention', async () => {
    await section('Backup sets', 'Backup sets');
    await page.getByRole('button', { name: 'New backup set' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Documents');
    await page.getByLabel('Folders to back up').fill(source);
    await page.getByLabel('Leave out').fill('*.tmp');
    await page.getByLabel('Schedule').selectOption({ label: 'Daily at 02:00' });
    await page.getByLabel('Keep last').fill('10');
    await screenshot(page, '10-backup-set-form');
    await a11y();
    await page.getByRole('button', { name: 'Create backup set' }).click();
    await page.getByText('Created the backup set “Documents”.').waitFor();
    const row = page.getByTestId('sets-table').locator('tbody tr');
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.textContent()).toContain('Daily at 02:00');
    expect(await page.getByTestId('set-last-run').textContent()).toBe('Never');
    await screenshot(page, '10-backup-sets');
    await tourShot(page, 'backup-sets');
    await a11y();
  });

  it('runs the set with a progress bar and cancels it', async () => {
    // A sparse file of 64 GiB (no disk space, all zeros) keeps even a fast machine busy long
    // enough to cancel: the 32 MiB of clips alone are backed up in a third of a second.
    const huge = join(source, 'media', 'huge.sparse');
    const fd = openSync(huge, 'w');
    ftruncateSync(fd, 64 * 1024 ** 3);
    closeSync(fd);
    await page.getByRole('button', { name: 'Run Documents now' }).click();
    const progress = page.getByTestId('job-progress');
    await progress.waitFor();
    expect(await progress.getByText(/^Backup in progress/).count()).toBe(1);
    // What has gone up to the repository so far, beside the data read.
    expect(await progress.getByText('Uploaded', { exact: true }).count()).toBe(1);
    expect(await progress.getByTestId('job-uploaded').textContent()).toMatch(/^\d+(\.\d)? (B|KiB|MiB|GiB)/);
    await progress.getByRole('button', { name: 'Cancel' }).click();
    const outcome = page.getByTestId('job-outcome');
    await outcome.waitFor();
    expect(await outcome.textContent()).toContain('Backup cancelled.');
    expect(await page.getByTestId('job-title').textContent()).toBe('Backup cancelled');
    await expect.poll(() => page.getByTestId('set-last-run').textContent()).toContain('Cancelled');
    await page.getByTestId('job-panel').getByRole('button', { name: 'Close' }).click();
    rmSync(huge);
  });

  it('runs the set again to the end and shows the finished summary', async () => {
    await page.getByRole('button', { name: 'Run Documents now' }).click();
    // 32 MiB may be backed up before the first progress poll on a fast machine: either will do.
    await page.getByTestId('job-progress').or(page.getByTestId('job-outcome')).first().waitFor();
    await screenshot(page, '11-run-progress');
    // A better picture once the bytes move, if the run is not over by then.
    const moving = async () => (await page.getByTestId('job-bytes').allTextContents()).some((t) => !t.startsWith('0 B'));
    await expect.poll(async () => (await page.getByTestId('job-outcome').count()) > 0 || (await moving()), { timeout: 20_000, interval: 50 }).toBe(true);
    if (await moving()) await screenshot(page, '11-run-progress');

    const outcome = page.getByTestId('job-outcome');
    await outcome.waitFor({ timeout: 30_000 });
    expect(await outcome.textContent()).toMatch(/Backup finished in .+: snapshot [0-9a-f]{8}\./);
    expect(await page.getByTestId('job-title').textContent()).toBe('Backup finished');
    const summary = await page.getByTestId('backup-summary').innerText();
    expect(summary).toMatch(/New files\s+11/);
    expect(summary).toMatch(/Unmodified files\s+0/);
    await expect.poll(() => page.getByTestId('set-last-run').textContent()).toContain('Succeeded');
    await screenshot(page, '11-run-summary');
    await a11y();
  });

  it('shows the run in the history, with a chart', async () => {
    await section('History', 'History');
    const rows = page.getByTestId('history-table').locator('tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(0).textContent()).toMatch(/Documents.*Manual.*Succeeded/);
    expect(await rows.nth(1).textContent()).toMatch(/Documents.*Manual.*Cancelled/);
    // One chart per set, of the runs that finished: the cancelled one is left out.
    const chart = page.getByRole('img', { name: 'Data added (bars) and duration (line) of the last 1 backup run of “Documents”' });
    expect(await chart.count()).toBe(1);
    expect(await page.getByTestId('history-chart').locator('rect.chart-bar').count()).toBe(1);
    expect(await page.getByRole('heading', { name: '“Documents”: data added and duration per run' }).count()).toBe(1);
    await screenshot(page, '12-history');
    await a11y();
    // The run's snapshot id opens that snapshot.
    const id = (await rows.nth(0).locator('td').last().textContent())!.trim();
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    await rows
      .nth(0)
      .getByRole('button', { name: `Open snapshot ${id}` })
      .click();
    await page.getByRole('heading', { name: 'Snapshots & restore', level: 1 }).waitFor();
    await page.getByTestId('snapshot-browser').waitFor();
    expect(await page.getByTestId('snapshots-table').locator('tr[aria-current="true"] code').first().textContent()).toBe(id);
  });

  it('browses the snapshot, folders first, without the excluded file', async () => {
    await section('Snapshots & restore', 'Snapshots & restore');
    const snapshots = page.getByTestId('snapshots-table').locator('tbody tr');
    await snapshots.first().waitFor();
    expect(await snapshots.count()).toBe(1);
    await page.getByRole('button', { name: /^Browse the snapshot of / }).click();
    const tree = page.getByTestId('snapshot-browser');
    await tree.getByRole('button', { name: `Open folder ${basename(source)}` }).click();
    await tree.getByRole('button', { name: 'Open folder sub' }).waitFor();
    const names = await tree.getByTestId('browser-table').locator('tbody tr td:nth-child(2)').allInnerTexts();
    expect(names.map((n) => n.replace(/^\W+/u, '').trim())).toEqual(['media/', 'sub/', 'a.txt', 'notes.md']);
    await tree.getByRole('button', { name: 'Open folder sub' }).click();
    await tree.getByRole('button', { name: 'Open folder nested' }).click();
    await tree.getByLabel('Select deep.txt').check();
    const crumbs = await tree.getByRole('navigation', { name: 'Folder path' }).locator('li').allInnerTexts();
    expect(crumbs.map((t) => t.trim())).toEqual(['All folders', basename(source), 'sub', 'nested']);
    await screenshot(page, '13-snapshots');
    await tourShot(page, 'snapshots');
    await a11y();
  });

  it('restores the selected file into another folder, byte for byte', async () => {
    await page.getByLabel('Restore into folder').fill(restoreDir);
    expect(await page.getByLabel('Stop the restore (nothing is overwritten)').isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Restore 1 selected item' }).click();
    const outcome = page.getByTestId('job-outcome');
    await outcome.waitFor();
    expect(await outcome.textContent()).toMatch(/^Restored 1 file \(3\.9 KiB\)/);
    expect(await page.getByTestId('restore-destination').textContent()).toBe(`The files are in ${restoreDir}.`);
    expect(await page.getByTestId('job-title').textContent()).toBe('Restore finished');
    // The line under the title says which snapshot it came from, not a bare "Restoring".
    expect(await page.getByTestId('job-panel').locator('.job-subtitle').textContent()).toMatch(/^Restoring from the snapshot of \S.*\d/);
    const restored = readFileSync(join(restoreDir, basename(source), 'sub', 'nested', 'deep.txt'));
    expect(restored.equals(readFileSync(join(source, 'sub', 'nested', 'deep.txt')))).toBe(true);
    await screenshot(page, '14-restore');
    await tourShot(page, 'restore');
    await a11y();
  });

  it('finds files across snapshots and compares a second run with the first', async () => {
    await page.getByLabel('Name or pattern').fill('deep*');
    await page.getByRole('button', { name: 'Search' }).click();
    const found = page.getByTestId('find-table').locator('tbody tr');
    await found.first().waitFor();
    expect(await found.first().textContent()).toContain(`${basename(source)}/sub/nested/deep.txt`);

    writeFileSync(join(source, 'a.txt'), 'the first file, changed\n');
    await section('Backup sets', 'Backup sets');
    await page.getByRole('button', { name: 'Run Documents now' }).click();
    await page.getByTestId('job-outcome').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('backup-summary').innerText()).toMatch(/Changed files\s+1/);

    await section('Snapshots & restore', 'Snapshots & restore');
    await expect.poll(() => page.getByTestId('snapshots-table').locator('tbody tr').count()).toBe(2);
    await page.getByRole('button', { name: 'Compare' }).click();
    const diff = page.getByTestId('diff-result');
    await diff.waitFor();
    expect(await diff.innerText()).toContain(`/${basename(source)}/a.txt`);
    expect(await diff.innerText()).toContain('Changed: 1');
  });

  it('changes the retention only after a step-up that names it', async () => {
    await section('Backup sets', 'Backup sets');
    await page.getByRole('button', { name: 'Edit Documents' }).click();
    await page.getByLabel('Keep last').fill('5');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await confirmStepUp('Confirm: Change the retention of “Documents” to keep last 5');
    await page.getByText('Saved “Documents” with the new retention (keep last 5).').waitFor();
  });

  it('changes what a set with retention backs up only after a step-up that says what changes', async () => {
    await page.getByRole('button', { name: 'Edit Documents' }).click();
    await page.getByLabel('Leave out').fill('*.log');
    await page.getByRole('button', { name: 'Save changes' }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirm: Change the backup set “Documents”' });
    await dialog.getByText(/^Changes: excludes .* → \*\.log\. It keeps keep last 5, so once the changed set has run/).waitFor();
    expect(await dialog.getByTestId('stepup-digest').textContent()).toMatch(/^[0-9a-f]{4} [0-9a-f]{4}$/);
    await a11y();
    await confirmStepUp('Confirm: Change the backup set “Documents”');
    await page.getByText('Saved “Documents”.').waitFor();
  });

  it('checks all the data of the repository and finds no problem', async () => {
    await section('Check & repair', 'Check & repair');
    await page.getByLabel('All data').check();
    await page.getByRole('button', { name: 'Run check' }).click();
    const verdict = page.getByTestId('check-verdict');
    await verdict.waitFor({ timeout: 30_000 });
    expect(await verdict.textContent()).toMatch(/^No problems found .*: 2 snapshots and \d+ packs, [\d,]+ objects checked, \d+ packs read in full\.$/);
    expect(await page.getByTestId('job-title').first().textContent()).toBe('Check finished');
    await screenshot(page, '15-check');
    await a11y();
  });

  it('deletes the older snapshot with a step-up, then frees the space it alone used', async () => {
    await section('Snapshots & restore', 'Snapshots & restore');
    const rows = page.getByTestId('snapshots-table').locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    await page
      .getByRole('button', { name: /^Delete the snapshot of / })
      .last()
      .click();
    await confirmStepUp(/^Confirm: Delete the snapshot [0-9a-f]{8} of /);
    await page.getByText(/^Deleted the snapshot [0-9a-f]{8}\./).waitFor();
    await expect.poll(() => rows.count()).toBe(1);

    await section('Check & repair', 'Check & repair');
    await page.getByRole('button', { name: 'Free space', exact: true }).click();
    const outcome = page.getByTestId('job-outcome').filter({ hasText: 'Freed' });
    await outcome.waitFor({ timeout: 30_000 });
    expect(await outcome.textContent()).toMatch(/^Freed \d/);
  });

  it('changes the repository password with a step-up and shows the new one once', async () => {
    await section('Repositories', 'Repositories');
    await page.getByRole('button', { name: 'Change the password of Local disk' }).click();
    await confirmStepUp('Confirm: Change the password of the repository “Local disk”');
    const shown = page.getByTestId('repo-password');
    await shown.waitFor();
    const password = (await shown.textContent())?.trim() ?? '';
    expect(password).toMatch(/^[A-Z2-9]{5}(-[A-Z2-9]{5}){5}$/);
    expect(password).not.toBe(firstPassword);
    await page.getByLabel('I have saved this password somewhere safe').check();
    await page.getByRole('button', { name: 'Done' }).click();
    await shown.waitFor({ state: 'detached' });
  });

  it('reads well in the dark theme too', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await section('History', 'History');
    await page.getByTestId('history-chart').waitFor();
    await screenshot(page, '16-history-dark');
    await a11y();
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('removes a repository but keeps its files, connects it again with its password, then removes it with its files', async () => {
    const spare = join(work, 'spare');
    const { password } = await createRepository('Spare', spare);
    await page.getByLabel('I have saved this password somewhere safe').check();
    await page.getByRole('button', { name: 'Done' }).click();

    await page.getByRole('button', { name: 'Remove Spare' }).click();
    const consent = page.getByRole('alertdialog', { name: 'Remove “Spare”?' });
    await consent.getByRole('button', { name: 'Remove', exact: true }).click();
    await confirmStepUp('Confirm: Remove the repository “Spare”');
    await page.getByText('Removed “Spare” (its files are still in the folder).').waitFor();
    expect(existsSync(join(spare, 'config'))).toBe(true);

    const connect = page.getByRole('form', { name: 'Connect an existing repository' });
    await connect.getByLabel('Name on this computer').fill('Spare again');
    await connect.getByLabel('Repository folder').fill(spare);
    await connect.getByLabel('Repository password').fill('WRONG-WRONG-WRONG-WRONG-WRONG-WRONG');
    await connect.getByRole('button', { name: 'Connect repository' }).click();
    await connect.getByRole('alert').waitFor();
    await connect.getByLabel('Repository password').fill(password);
    await connect.getByRole('button', { name: 'Connect repository' }).click();
    await page.getByText('Connected “Spare again”.').waitFor();

    await page.getByRole('button', { name: 'Remove Spare again' }).click();
    await page.getByLabel('Also delete the files: every snapshot in it is lost').check();
    await page.getByRole('button', { name: 'Remove and delete files' }).click();
    await confirmStepUp('Confirm: Remove the repository “Spare again” and delete its files');
    await page.getByText('Removed “Spare again” and deleted its files.').waitFor();
    expect(existsSync(spare)).toBe(false);
  });

  it('names the damaged snapshot and files when a pack is damaged', async () => {
    // Overwrite bytes in the middle of the largest pack: some file's data.
    const packs: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) (e.isDirectory() ? walk : (f: string) => packs.push(f))(join(dir, e.name));
    };
    walk(join(repoDir, 'data'));
    const largest = packs.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
    const fd = openSync(largest, 'r+');
    writeSync(fd, Buffer.alloc(64, 0xff), 0, 64, Math.floor(statSync(largest).size / 2));
    closeSync(fd);

    await section('Check & repair', 'Check & repair');
    await page.getByLabel('All data').check();
    await page.getByRole('button', { name: 'Run check' }).click();
    const verdict = page.getByTestId('check-verdict');
    await verdict.waitFor({ timeout: 30_000 });
    expect(await verdict.textContent()).toMatch(/^The check found \d+ problems? \(/);
    await screenshot(page, '15-check-damaged');
    const report = await page.getByTestId('job-outcome').innerText();
    expect(report).toContain('Damaged snapshots');
    expect(report).toMatch(new RegExp(`[0-9a-f]{8} of .+ — damaged files:\\s+${basename(source)}/\\S+`));
    await a11y();
  });

  it('repairs what the check found, behind a step-up that names it, and reports what was lost; the next check is clean', async () => {
    const card = page.getByTestId('repair-card');
    expect(await card.getByTestId('repair-basis').textContent()).toMatch(/^The last check found \d+ problems?\.$/);
    // Preselected from the check: the damaged pack, and the snapshots that lost data.
    expect(await card.getByLabel(/^Remove the damaged packs the check named/).isChecked()).toBe(true);
    expect(await card.getByLabel('Rewrite snapshots that lost data without it, and delete snapshot files that cannot be opened').isChecked()).toBe(true);
    await screenshot(page, '15-repair');
    await a11y();
    await card.getByRole('button', { name: 'Repair…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirm: Repair the repository “Local disk”' });
    expect(await dialog.innerText()).toMatch(
      /1 damaged pack \([0-9a-f]{8}\): what still verifies is saved, then it is deleted; the index is rebuilt from the packs and the old index files are deleted; snapshots that lost data are rewritten without it/,
    );
    await confirmStepUp('Confirm: Repair the repository “Local disk”');
    const verdict = page.getByTestId('repair-verdict');
    await verdict.waitFor({ timeout: 30_000 });
    expect(await verdict.textContent()).toMatch(/^Repair finished in .+\. Lost: \d+ objects? of data, \d+ (file or folder|files and folders) in snapshots\./);
    const packs = await page.getByTestId('repair-packs').innerText();
    expect(packs).toMatch(/[0-9a-f]{8} was removed: \d+ objects? saved, \d+ objects? lost\./);
    const rewritten = await page.getByTestId('repair-snapshots').innerText();
    expect(rewritten).toMatch(
      new RegExp(`is now [0-9a-f]{8}, marked repaired; it lost \\d+ items?:\\s+${basename(source)}/\\S+: its data is missing from the repository`),
    );
    await screenshot(page, '15-repair-report');
    await a11y();

    await page.getByLabel('All data').check();
    await page.getByRole('button', { name: 'Run check' }).click();
    const clean = page.getByTestId('check-verdict').filter({ hasText: 'No problems found' });
    await clean.waitFor({ timeout: 30_000 });

    // The repaired snapshot says so in the list.
    await section('Snapshots & restore', 'Snapshots & restore');
    await expect
      .poll(() =>
        page
          .getByTestId('snapshots-table')
          .getByText(/^Repaired: \d+ items? lost$/)
          .count(),
      )
      .toBe(1);
  });

  it('deletes the backup set with a step-up', async () => {
    await section('Backup sets', 'Backup sets');
    await page.getByRole('button', { name: 'Delete Documents' }).click();
    await confirmStepUp('Confirm: Delete the backup set “Documents”');
    await page.getByText('Deleted the backup set “Documents”. Its snapshots stay in the repository.').waitFor();
    await expect.poll(() => page.getByTestId('sets-table').count()).toBe(0);
  });
});
