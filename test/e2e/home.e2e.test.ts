/**
 * The home screen in the browser, as a new person's first hour against the real console and core:
 * after set-up they land on the overview, whose first-run checklist ticks itself off as the real
 * state changes (a device, recovery codes, a repository, a set, a run, a restore) and then goes
 * away; the overview shows each set's health and each repository's last check, with one "Back up
 * now". Then the layout: every main screen fits a 390 px window without scrolling sideways, the
 * skip link leads to the main heading, and after an unlock the focus is on that heading.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRONG_PASSWORD } from '../helpers/app.js';
import { a11yFindingsBothThemes } from '../helpers/a11y.js';
import { launchChromium, startTestConsole, type TestConsole } from '../helpers/console.js';
import { readQr, screenshot, TestAuthenticator } from '../helpers/e2e.js';
import { tourShot } from '../helpers/screenshots.js';

// The functions given to page.evaluate run in the page: these are the page's globals they use.
interface PageElement {
  tagName: string;
  classList: Iterable<string>;
  children: Iterable<PageElement>;
  textContent: string | null;
  tabIndex: number;
  getBoundingClientRect(): { right: number };
  closest(selector: string): PageElement | null;
  focus(): void;
  removeAttribute(name: string): void;
}
declare const document: {
  documentElement: { clientWidth: number; scrollWidth: number };
  body: PageElement;
  activeElement: PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
};
declare function getComputedStyle(el: unknown): { position: string };

let browser: Browser;
let c: TestConsole;
let page: Page;
let app: TestAuthenticator;
let work: string;
let source: string;

const MAIN_SCREENS = [
  ['Overview', 'Overview'],
  ['Backup sets', 'Backup sets'],
  ['Snapshots & restore', 'Snapshots & restore'],
  ['History', 'History'],
  ['Repositories', 'Repositories'],
  ['Check & repair', 'Check & repair'],
  ['Security', 'Security'],
  ['Audit log', 'Audit log'],
] as const;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'twofold-home-e2e-'));
  source = join(work, 'Photos');
  mkdirSync(source);
  writeFileSync(join(source, 'holiday.txt'), 'a day at the sea\n');
  writeFileSync(join(source, 'list.md'), '# To frame\n');
  browser = await launchChromium();
  c = await startTestConsole();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  page = await context.newPage();
  await page.goto(c.server.loginUrl);
});
afterAll(async () => {
  await browser?.close();
  await c?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function section(name: string, heading = name): Promise<void> {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name, exact: true }).click();
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
}

/** The checklist's steps as [id, done] pairs, once the overview has loaded them. */
async function checklistState(): Promise<string[]> {
  const items = page.getByTestId('checklist').locator('li');
  return items.evaluateAll((lis) => lis.map((li) => `${li.getAttribute('data-testid')?.replace('checklist-', '')}:${li.getAttribute('data-done')}`));
}

/** How wide the page scrolls, and the innermost elements that reach past the window (to name in a failure). */
function sidewaysOverflow(): Promise<{ scroll: number; wider: string[] }> {
  return page.evaluate(() => {
    const client = document.documentElement.clientWidth;
    const wider = [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > client + 0.5 && ![...el.children].some((ch) => ch.getBoundingClientRect().right > client + 0.5))
      .filter((el) => !el.closest('.visually-hidden, .skip-link'))
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} ${(el.textContent ?? '').slice(0, 40)}`);
    return { scroll: document.documentElement.scrollWidth, wider };
  });
}

async function focusedHeading(): Promise<string | null> {
  return page.evaluate(() => (document.activeElement?.tagName === 'H1' ? document.activeElement.textContent : null));
}

describe('the home screen in the browser', { timeout: 120_000 }, () => {
  it('lands on the overview after set-up, with the device and the recovery codes ticked', async () => {
    await page.getByLabel('Account name').fill('Grace');
    await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await page.getByLabel('Repeat the password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByLabel('Device name').fill('Phone');
    await page.getByRole('button', { name: 'Continue' }).click();
    const uri = await readQr(page.getByTestId('totp-qr'));
    app = new TestAuthenticator(new URL(uri).searchParams.get('secret')!);
    await page.getByLabel('Code from the new app').fill(await app.code());
    await page.getByRole('button', { name: 'Confirm device' }).click();
    await page.getByLabel('I have saved these codes somewhere safe').check();
    await page.getByRole('button', { name: 'Done' }).click();

    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await expect.poll(focusedHeading).toBe('Overview');
    expect(await page.getByRole('button', { name: 'Overview', exact: true }).getAttribute('aria-current')).toBe('page');
    await page.getByTestId('checklist').waitFor();
    expect(await checklistState()).toEqual(['device:true', 'codes:true', 'repository:false', 'set:false', 'run:false', 'restore:false']);
    expect(await page.getByTestId('checklist-progress').textContent()).toBe('2 of 6 steps done.');
    expect(await page.getByTestId('verdict').textContent()).toBe('Nothing is backed up yet.');
    expect(await page.getByRole('button', { name: 'Back up now' }).isDisabled()).toBe(true);
    await screenshot(page, '40-home-first-run');
    expect(await a11yFindingsBothThemes(page)).toEqual([]);
  });

  it('ticks "Create a repository" once one exists, and lists it with no check yet', async () => {
    await page.getByRole('button', { name: 'Open Repositories: Create a repository' }).click();
    await page.getByRole('heading', { name: 'Repositories', level: 1 }).waitFor();
    await page.getByLabel('Repository name').fill('Backup disk');
    await page.getByLabel('Folder', { exact: true }).fill(join(work, 'repository'));
    await page.getByRole('button', { name: 'Create repository' }).click();
    await page.getByLabel('I have saved this password somewhere safe').check();
    await page.getByRole('button', { name: 'Done' }).click();

    await section('Overview');
    await expect.poll(checklistState).toEqual(['device:true', 'codes:true', 'repository:true', 'set:false', 'run:false', 'restore:false']);
    const repos = page.getByTestId('home-repositories');
    expect(await repos.getByRole('cell', { name: 'Backup disk', exact: true }).count()).toBe(1);
    expect(await page.getByTestId('home-repo-check').textContent()).toBe('Not checked since the app started');
    await expect.poll(() => page.getByTestId('home-repo-state').textContent()).toMatch(/^Reachable [\d.,]+ (B|KiB|MiB|GiB|TiB) free$/);
  });

  it('ticks the first set, then "Run it once" after Back up now, and shows the set healthy', async () => {
    await page.getByRole('button', { name: 'Open Backup sets: Create your first backup set' }).click();
    await page.getByRole('heading', { name: 'Backup sets', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'New backup set' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Photos');
    await page.getByLabel('Folders to back up').fill(source);
    await page.getByRole('button', { name: 'Create backup set' }).click();
    await page.getByText('Created the backup set “Photos”.').waitFor();

    await section('Overview');
    await expect.poll(checklistState).toEqual(['device:true', 'codes:true', 'repository:true', 'set:true', 'run:false', 'restore:false']);
    expect(await page.getByTestId('home-set-last-run').textContent()).toBe('Never run');
    expect(await page.getByTestId('backup-now-status').textContent()).toBe('Runs 1 backup set at once.');
    await page.getByRole('button', { name: 'Back up now' }).click();
    await expect.poll(() => page.getByTestId('home-set-last-run').textContent(), { timeout: 30_000 }).toMatch(/^Succeeded /);
    await expect.poll(checklistState).toEqual(['device:true', 'codes:true', 'repository:true', 'set:true', 'run:true', 'restore:false']);
    expect(await page.getByTestId('home-set-size').textContent()).toBe('28 B');
    expect(await page.getByTestId('home-set-skipped').textContent()).toBe('0');
    expect(await page.getByTestId('verdict').textContent()).toBe('Your backups are OK.');
    expect(await page.getByTestId('warnings').count()).toBe(0);
  });

  it('ticks "Test a restore" after a restore into a new folder, and the checklist goes away', async () => {
    await page.getByRole('button', { name: 'Open Snapshots & restore: Test a restore' }).click();
    await page.getByRole('heading', { name: 'Snapshots & restore', level: 1 }).waitFor();
    await page.getByRole('button', { name: /^Browse the snapshot of / }).click();
    const tree = page.getByTestId('snapshot-browser');
    await tree.getByRole('button', { name: `Open folder ${basename(source)}` }).click();
    await tree.getByLabel('Select holiday.txt').check();
    const into = join(work, 'restored');
    await page.getByLabel('Restore into folder').fill(into);
    await page.getByRole('button', { name: 'Restore 1 selected item' }).click();
    await page.getByTestId('job-outcome').waitFor({ timeout: 30_000 });
    expect(readFileSync(join(into, basename(source), 'holiday.txt'), 'utf8')).toBe('a day at the sea\n');

    await section('Overview');
    await page.getByTestId('home-sets').waitFor();
    expect(await page.getByTestId('checklist').count()).toBe(0);
  });

  it('shows the last check of the repository', async () => {
    await section('Check & repair');
    await page.getByRole('button', { name: 'Run check' }).click();
    await page.getByTestId('check-verdict').waitFor({ timeout: 30_000 });
    await section('Overview');
    await expect.poll(() => page.getByTestId('home-repo-check').textContent()).toMatch(/^No problems /);
    await screenshot(page, '41-home');
    await tourShot(page, 'overview');
    expect(await a11yFindingsBothThemes(page)).toEqual([]);
  });

  it('says a repository is unreachable, and what to check, while its folder is gone (a drive unplugged)', async () => {
    const where = join(work, 'repository');
    renameSync(where, `${where}-unplugged`);
    try {
      await section('Backup sets');
      await section('Overview');
      const state = page.getByTestId('home-repo-state');
      await expect.poll(() => state.textContent()).toBe('Unreachable There is no Twofold repository there (or it cannot be read).');
      expect(await state.locator('.badge').getAttribute('class')).toContain('bad');
      // It needs the person: a warning that sends them where to act, and the verdict says so.
      const warning = page.getByTestId('warnings').locator('li').filter({ hasText: 'cannot be reached' });
      expect(await warning.locator('span').textContent()).toBe('“Backup disk” cannot be reached: There is no Twofold repository there (or it cannot be read).');
      expect(await warning.getByRole('button').textContent()).toBe('Open Repositories');
      expect(await page.getByTestId('verdict').textContent()).toBe('1 thing needs your attention.');
    } finally {
      renameSync(`${where}-unplugged`, where);
    }
    await section('Backup sets');
    await section('Overview');
    await expect.poll(() => page.getByTestId('home-repo-state').textContent()).toMatch(/^Reachable /);
  });

  it('fits every main screen into a 390 px window without scrolling sideways', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      for (const [name, heading] of MAIN_SCREENS) {
        await section(name, heading);
        // Let what the screen loads arrive before measuring.
        await page.waitForLoadState('networkidle');
        const { scroll, wider } = await sidewaysOverflow();
        expect(scroll, `${name} scrolls sideways; past the edge: ${wider.join(' | ')}`).toBe(390);
      }
      await section('Overview');
      await page.getByTestId('home-sets').waitFor();
      await screenshot(page, '42-home-narrow');
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('offers a skip link as the first stop of the keyboard, which leads to the main heading', async () => {
    await page.reload();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    // Start from the top of the document, as a fresh page load does.
    await page.evaluate(() => {
      document.body.tabIndex = -1;
      document.body.focus();
      document.body.removeAttribute('tabindex');
    });
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: 'Skip to main content' });
    expect(await skip.evaluate((el) => el === document.activeElement)).toBe(true);
    const box = await skip.boundingBox();
    expect(box && box.y >= 0 && box.height > 0).toBe(true);
    await page.keyboard.press('Enter');
    expect(await focusedHeading()).toBe('Overview');
  });

  it('puts the focus on the overview heading after an unlock, with sticky navigation', async () => {
    await page.getByRole('button', { name: 'Lock now' }).click();
    await page.getByRole('heading', { name: 'Locked' }).waitFor();
    await page.getByLabel('Password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('heading', { name: 'Second factor' }).waitFor();
    await page.getByLabel('Code from your authenticator app').fill(await app.code());
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await expect.poll(focusedHeading).toBe('Overview');
    expect(await page.locator('.topbar').evaluate((el) => getComputedStyle(el).position)).toBe('sticky');
    expect(await page.locator('.sidebar').evaluate((el) => getComputedStyle(el).position)).toBe('sticky');
  });
});
