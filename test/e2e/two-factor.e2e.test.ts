/**
 * Second factors in the browser, as one person's story against the real console, core and
 * keychain: set up with an authenticator app (QR read back with zbarimg, codes from oathtool),
 * save the recovery codes, unlock with a code, get throttled, unlock with a recovery code,
 * remove the device with a step-up, and find all of it in the audit log.
 */
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRONG_PASSWORD } from '../helpers/app.js';
import { launchChromium, startTestConsole, type TestConsole } from '../helpers/console.js';
import { readQr, screenshot, seriousA11yViolations, TestAuthenticator } from '../helpers/e2e.js';

let browser: Browser;
let c: TestConsole;
let page: Page;
let app: TestAuthenticator;
let recoveryCodes: string[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  c = await startTestConsole();
  // axe needs a page of an explicit context.
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  page = await context.newPage();
  await page.goto(c.server.loginUrl);
});
afterAll(async () => {
  await browser?.close();
  await c?.close();
});

async function lockNow(): Promise<void> {
  await page.getByRole('button', { name: 'Lock now' }).click();
  await page.getByRole('heading', { name: 'Locked' }).waitFor();
}

async function password(): Promise<void> {
  await page.getByLabel('Password').fill(STRONG_PASSWORD);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await page.getByRole('heading', { name: 'Second factor' }).waitFor();
}

describe('two-factor authentication in the browser', { timeout: 120_000 }, () => {
  it('sets up the account with an authenticator app read from the QR code, and shows ten recovery codes to save', async () => {
    await page.getByLabel('Account name').fill('Ada');
    await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await page.getByLabel('Repeat the password').fill(STRONG_PASSWORD);
    await expect.poll(() => page.getByTestId('strength-label').textContent()).toContain('good to use');
    await screenshot(page, '01-setup-password');
    await page.getByRole('button', { name: 'Create account' }).click();

    await page.getByRole('heading', { name: 'Add your first device' }).waitFor();
    await page.getByLabel('Device name').fill('Pixel 8');
    await page.getByRole('button', { name: 'Continue' }).click();
    const qr = page.getByTestId('totp-qr');
    await qr.waitFor();
    await screenshot(page, '02-setup-first-device');
    expect(await seriousA11yViolations(page)).toEqual([]);

    const uri = await readQr(qr);
    expect(uri).toMatch(/^otpauth:\/\/totp\/Twofold%20Backup:Ada\?secret=[A-Z2-7]{32}&issuer=Twofold%20Backup&algorithm=SHA1&digits=6&period=30$/);
    const secret = new URL(uri).searchParams.get('secret')!;
    expect((await page.getByTestId('totp-secret').textContent())?.replace(/ /g, '')).toBe(secret);
    app = new TestAuthenticator(secret);

    await page.getByLabel('Code from the new app').fill(await app.code());
    await page.getByRole('button', { name: 'Confirm device' }).click();
    await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
    recoveryCodes = (await page.getByTestId('recovery-codes').locator('li').allTextContents()).map((t) => t.trim());
    expect(recoveryCodes).toHaveLength(10);
    for (const code of recoveryCodes) expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$/);
    await screenshot(page, '03-setup-recovery-codes');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download as .txt' }).click()]);
    expect(download.suggestedFilename()).toBe('twofold-backup-recovery-codes.txt');
    const text = readFileSync((await download.path())!, 'utf8');
    for (const code of recoveryCodes) expect(text).toContain(code);

    expect(await page.getByRole('button', { name: 'Done' }).isDisabled()).toBe(true);
    await page.getByLabel('I have saved these codes somewhere safe').check();
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('heading', { name: 'Security', level: 1 }).waitFor();
    await expect.poll(() => page.getByRole('cell', { name: 'Pixel 8', exact: true }).count()).toBe(1);
    expect(await page.getByTestId('recovery-left').textContent()).toBe('10 of 10 recovery codes left.');
    await screenshot(page, '04-security-settings');
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  it('locks, then unlocks with the password and a code from the app', async () => {
    await lockNow();
    await screenshot(page, '05-lock-screen');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await password();
    await screenshot(page, '06-second-factor');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByLabel('Code from your authenticator app').fill(await app.code());
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('heading', { name: 'Security', level: 1 }).waitFor();
  });

  it('refuses wrong codes with a generic message and shows the throttle countdown', async () => {
    await lockNow();
    await password();
    const field = page.getByLabel('Code from your authenticator app');
    for (let i = 0; i < 5; i++) {
      await field.fill('000000');
      await page.getByRole('button', { name: 'Unlock' }).click();
      await expect.poll(() => field.inputValue()).toBe('');
    }
    expect(await page.getByRole('alert').textContent()).toBe('That did not work. Check what you entered and try again.');
    const wait = page.getByTestId('throttle-wait');
    await wait.waitFor();
    expect(await wait.textContent()).toMatch(/You can try again in 0:0[01]\./);
    expect(await page.getByRole('button', { name: 'Unlock' }).isDisabled()).toBe(true);
    await wait.waitFor({ state: 'detached', timeout: 5_000 });
  });

  it('unlocks with a recovery code, which then prompts to review the devices', async () => {
    await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await page.getByLabel('Recovery code').fill(recoveryCodes[0]!.toLowerCase());
    await page.getByRole('button', { name: 'Unlock' }).click();
    const banner = page.getByRole('alert').filter({ hasText: 'You unlocked with a recovery code' });
    await banner.waitFor();
    expect(await banner.textContent()).toContain('9 recovery codes left');
    await page.getByRole('button', { name: 'Review my devices' }).click();
    await expect.poll(() => page.getByTestId('recovery-left').textContent()).toBe('9 of 10 recovery codes left.');
  });

  it('removes the last device only after explicit consent and a step-up code that names the action', async () => {
    await page.getByRole('button', { name: 'Remove Pixel 8' }).click();
    const consent = page.getByRole('alertdialog', { name: 'Remove your last device?' });
    await consent.waitFor();
    await consent.getByRole('button', { name: 'Remove and turn 2FA off' }).click();
    const stepUp = page.getByRole('dialog', { name: 'Confirm: Remove the device “Pixel 8”' });
    await stepUp.getByLabel('Code from your authenticator app').waitFor();
    await screenshot(page, '07-step-up');
    await stepUp.getByLabel('Code from your authenticator app').fill(await app.code());
    await stepUp.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('Removed “Pixel 8”. Two-factor authentication is now off.').waitFor();
    // The message shows as soon as the call returns; the device list reloads after it.
    await expect.poll(() => page.getByRole('cell', { name: 'Pixel 8', exact: true }).count()).toBe(0);
  });

  it('shows every one of these events in the audit log, with an intact chain and a CSV export', async () => {
    await page.getByRole('button', { name: 'Audit log' }).click();
    const table = page.getByTestId('audit-table');
    await table.waitFor();
    const events = await table.locator('tbody tr td:nth-child(2)').allTextContents();
    for (const action of ['setup', 'device.added', 'recovery.regenerated', 'factor.ok', 'factor.failed', 'recovery.used', 'step-up.ok', 'device.removed', 'twofa.disabled']) {
      expect(events).toContain(action);
    }
    await page.getByLabel('Event').selectOption('factor.failed');
    await expect.poll(() => table.locator('tbody tr').count()).toBe(5);
    await page.getByRole('button', { name: 'Check integrity' }).click();
    expect(await page.getByTestId('audit-verify').textContent()).toMatch(/^The log is intact: all \d+ rows verify\.$/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const csv = readFileSync((await download.path())!, 'utf8').trim().split('\r\n'); // RFC 4180 lines
    expect(csv[0]).toBe('time,account,device,action,workstation,ip,outcome,detail');
    expect(csv).toHaveLength(6);
    await screenshot(page, '08-audit-log');
    expect(await seriousA11yViolations(page)).toEqual([]);
    const page_text = await page.content();
    for (const code of recoveryCodes) expect(page_text).not.toContain(code);
  });
});
