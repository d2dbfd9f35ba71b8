/**
 * An SFTP repository through the UI, against a real sshd on loopback (test/helpers/sshd.ts):
 * fill in the server, test the connection, trust the server's key after comparing its
 * fingerprint (copied to the clipboard), confirm the step-up, save the repository password,
 * see where it lives in the list, run a backup set into it and restore a file from it, byte for
 * byte; marked append-only, run the set with retention through maintenance credentials and a
 * step-up. The dialogs and the form are scanned with axe in both themes.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRONG_PASSWORD } from '../helpers/app.js';
import { launchChromium, startTestConsole, type TestConsole } from '../helpers/console.js';
import { a11yFindingsBothThemes } from '../helpers/a11y.js';
import { screenshot } from '../helpers/e2e.js';
import { startSshd, type SshdServer } from '../helpers/sshd.js';

let browser: Browser;
let c: TestConsole;
let sshd: SshdServer;
let page: Page;
let work: string;
let source: string;
let remotePath: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'twofold-remote-e2e-'));
  source = join(work, 'Documents');
  mkdirSync(join(source, 'letters'), { recursive: true });
  writeFileSync(join(source, 'letters', 'to-grace.txt'), 'Dear Grace,\n');
  writeFileSync(join(source, 'photo.jpg'), randomBytes(300_000));
  sshd = await startSshd();
  remotePath = sshd.repoPath();
  browser = await launchChromium();
  c = await startTestConsole();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] });
  page = await context.newPage();
  await page.goto(c.server.loginUrl);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await c?.close();
  await sshd?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function section(name: string, heading: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name, exact: true }).click();
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
}

async function a11y(): Promise<void> {
  expect(await a11yFindingsBothThemes(page)).toEqual([]);
}

describe('an SFTP repository through the UI', { timeout: 90_000 }, () => {
  let form: Locator;

  it('sets up an account with the password only', async () => {
    await page.getByLabel('Account name').fill('Ada');
    await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await page.getByLabel('Repeat the password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('button', { name: 'Skip: protect with the password only' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  });

  it('tests the connection and asks to trust the server, showing its fingerprint with a copy button', async () => {
    await section('Repositories', 'Repositories');
    form = page.getByRole('form', { name: 'Create a repository' });
    await form.getByLabel('Repository name').fill('NAS');
    await form.getByLabel('An SFTP server').check();
    await form.getByLabel('Server', { exact: true }).fill(sshd.host);
    await form.getByLabel('Port', { exact: true }).fill(String(sshd.port));
    await form.getByLabel('User name', { exact: true }).fill(sshd.user);
    await form.getByLabel('Folder on the server').fill(remotePath);
    await form.getByLabel('A private key').check();
    await form.getByLabel('Private key', { exact: true }).fill(sshd.keys.plain);
    await screenshot(page, '30-sftp-form');
    await a11y();
    await form.getByRole('button', { name: 'Test connection' }).click();

    const trust = page.getByRole('alertdialog', { name: 'Trust this server?' });
    await trust.waitFor();
    expect(await trust.getByTestId('host-key-fingerprint').textContent()).toBe(sshd.fingerprint());
    expect(await trust.textContent()).toContain(`Twofold Backup has not connected to ${sshd.host}:${sshd.port} before.`);
    await trust.getByRole('button', { name: 'Copy fingerprint' }).click();
    await trust.getByText('Copied.').waitFor();
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(sshd.fingerprint());
    await screenshot(page, '31-trust-server');
    await a11y();
    await trust.getByRole('button', { name: 'Trust this server' }).click();

    const outcome = form.getByTestId('connection-outcome');
    await expect.poll(() => outcome.textContent()).toContain('Connected: these credentials can write and delete there.');
    expect(await outcome.textContent()).toContain('No repository is there yet.');
    expect(await form.textContent()).toContain(`Trusted server key: ${sshd.fingerprint()}`);
  });

  it('creates it after a step-up, shows its password once, and lists where it lives', async () => {
    await form.getByRole('button', { name: 'Create repository' }).click();
    const stepUp = page.getByRole('dialog', { name: 'Confirm: Add the SFTP repository “NAS”' });
    await stepUp.waitFor();
    expect(await stepUp.getByTestId('stepup-target').textContent()).toContain(`sftp://${sshd.user}@${sshd.host}:${sshd.port}${remotePath}`);
    await a11y();
    await stepUp.getByLabel('Password').fill(STRONG_PASSWORD);
    await stepUp.getByRole('button', { name: 'Confirm' }).click();

    const shown = page.getByTestId('repo-password');
    await shown.waitFor();
    expect((await shown.textContent())?.trim()).toMatch(/^[A-Z2-9]{5}(-[A-Z2-9]{5}){5}$/);
    await page.getByLabel('I have saved this password somewhere safe').check();
    await page.getByRole('button', { name: 'Done' }).click();
    const row = page.getByTestId('repositories-table').locator('tbody tr');
    await expect.poll(() => row.count()).toBe(1);
    const text = await row.textContent();
    expect(text).toContain('NAS');
    expect(text).toContain('SFTP');
    expect(text).toContain(`sftp://${sshd.user}@${sshd.host}:${sshd.port}${remotePath}`);
    expect(await page.content()).not.toContain(sshd.keys.plain.slice(40, 80));
    await screenshot(page, '32-remote-repositories');
    await a11y();
    expect(readFileSync(join(remotePath, 'config'), 'utf8')).toContain('"id"');
  });

  it('edits it behind a step-up: its connections', async () => {
    await page.getByRole('button', { name: 'Edit NAS' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit “NAS”' });
    await edit.waitFor();
    expect(await edit.textContent()).toContain(`sftp://${sshd.user}@${sshd.host}:${sshd.port}${remotePath}`);
    await a11y();
    await edit.getByLabel('Connections').fill('2');
    await edit.getByLabel('Append-only: these credentials can add files but not delete them').check();
    await edit.getByRole('button', { name: 'Save changes' }).click();
    const stepUp = page.getByRole('dialog', { name: 'Confirm: Change the repository “NAS”' });
    await stepUp.waitFor();
    expect(await stepUp.getByTestId('stepup-target').textContent()).toContain('2 connections');
    expect(await stepUp.getByTestId('stepup-target').textContent()).toContain('marked append-only');
    await stepUp.getByLabel('Password').fill(STRONG_PASSWORD);
    await stepUp.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('Saved the changes to “NAS”.').waitFor();
  });

  it('runs a backup set into it and restores a file from it, byte for byte', async () => {
    await section('Backup sets', 'Backup sets');
    await page.getByRole('button', { name: 'New backup set' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Documents');
    await page.getByLabel('Folders to back up').fill(source);
    await page.getByLabel('Keep last').fill('1');
    await page.getByRole('button', { name: 'Create backup set' }).click();
    await page.getByText('Created the backup set “Documents”.').waitFor();
    await page.getByRole('button', { name: 'Run Documents now' }).click();
    const outcome = page.getByTestId('job-outcome');
    await outcome.waitFor({ timeout: 60_000 });
    expect(await outcome.textContent()).toMatch(/Backup finished in .+: snapshot [0-9a-f]{8}\./);

    await section('Snapshots & restore', 'Snapshots & restore');
    await page.getByRole('button', { name: /^Browse the snapshot of / }).click();
    const tree = page.getByTestId('snapshot-browser');
    await tree.getByRole('button', { name: `Open folder ${basename(source)}` }).click();
    await tree.getByRole('button', { name: 'Open folder letters' }).click();
    await tree.getByLabel('Select to-grace.txt').check();
    const restoreDir = join(work, 'restored');
    await page.getByLabel('Restore into folder').fill(restoreDir);
    await page.getByRole('button', { name: 'Restore 1 selected item' }).click();
    const restored = page.getByTestId('job-outcome');
    await restored.waitFor();
    expect(await restored.textContent()).toMatch(/^Restored 1 file/);
    expect(readFileSync(join(restoreDir, basename(source), 'letters', 'to-grace.txt'), 'utf8')).toBe('Dear Grace,\n');
  });

  it('runs the set with retention on the append-only repository, with maintenance credentials and a step-up', async () => {
    await section('Backup sets', 'Backup sets');
    // A plain run keeps every snapshot and says why.
    await page.getByRole('button', { name: 'Run Documents now' }).click();
    const plain = page.getByTestId('job-outcome');
    await plain.waitFor({ timeout: 60_000 });
    expect(await plain.textContent()).toContain('its retention runs only when you choose “Run with retention”');
    expect(readdirSync(join(remotePath, 'snapshots'))).toHaveLength(2);
    await page.getByRole('button', { name: 'Close' }).click();

    await page.getByRole('button', { name: 'Run Documents with retention' }).click();
    const asked = page.getByRole('dialog', { name: 'Run “Documents” with retention' });
    await asked.waitFor();
    expect(await asked.textContent()).toContain('“NAS” is append-only');
    await asked.getByLabel('A private key').check();
    await asked.getByLabel('Maintenance private key').fill(sshd.keys.plain);
    await a11y();
    await asked.getByRole('button', { name: 'Continue' }).click();
    const stepUp = page.getByRole('dialog', { name: 'Confirm: Back up “Documents” and apply its retention' });
    await stepUp.waitFor();
    const target = await stepUp.getByTestId('stepup-target').textContent();
    expect(target).toContain('(keep last 1) no longer keeps are deleted, with the maintenance credentials given for this run only');
    expect(target).toContain('It has 2 snapshots there now.');
    await stepUp.getByLabel('Password').fill(STRONG_PASSWORD);
    await stepUp.getByRole('button', { name: 'Confirm' }).click();
    const outcome = page.getByTestId('job-outcome');
    await outcome.waitFor({ timeout: 60_000 });
    expect(await outcome.textContent()).toMatch(/Backup finished in .+: snapshot [0-9a-f]{8}\./);
    expect(await outcome.textContent()).toContain('Retention removed 2 older snapshots and freed');
    expect(await outcome.textContent()).not.toContain('Run with retention');
    expect(readdirSync(join(remotePath, 'snapshots'))).toHaveLength(1);
    expect(await page.content()).not.toContain(sshd.keys.plain.slice(40, 80));
  });
});
