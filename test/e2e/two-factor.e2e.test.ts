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
import { a11yFindingsBothThemes } from '../helpers/a11y.js';
import { readQr, screenshot, seriousA11yViolations, TestAuthenticator } from '../helpers/e2e.js';
import { tourShot } from '../helpers/screenshots.js';

let browser: Browser;
let c: TestConsole;
let page: Page;
let app: TestAuthenticator;
let recoveryCodes: string[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  c = await startTestConsole();
  // axe needs a page of an explicit context.
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
});

const clipboard = () => page.evaluate<string>('navigator.clipboard.readText()');

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
    const field = page.getByLabel('Password', { exact: true });
    // The meter rates as the person types, in words and colour, before anything is submitted.
    await field.fill('abc123');
    await expect.poll(() => page.getByTestId('strength-label').textContent()).toMatch(/^Very weak — not accepted yet\./);
    expect(await page.locator('.strength-label').getAttribute('class')).toContain('weak');
    // Show and Hide switch what the field shows, not what it holds.
    expect(await field.getAttribute('type')).toBe('password');
    await page.getByRole('button', { name: 'Show password', exact: true }).click();
    expect(await field.getAttribute('type')).toBe('text');
    expect(await page.getByRole('button', { name: 'Hide password', exact: true }).getAttribute('aria-pressed')).toBe('true');
    await page.getByRole('button', { name: 'Hide password', exact: true }).click();
    expect(await field.getAttribute('type')).toBe('password');
    await field.fill(STRONG_PASSWORD);
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
    await page.getByRole('button', { name: 'Copy key' }).click();
    await page.getByText('Copied.').waitFor();
    expect(await clipboard()).toBe(secret);

    await page.getByLabel('Code from the new app').fill(await app.code());
    await page.getByRole('button', { name: 'Confirm device' }).click();
    await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
    recoveryCodes = (await page.getByTestId('recovery-codes').locator('li').allTextContents()).map((t) => t.trim());
    expect(recoveryCodes).toHaveLength(10);
    for (const code of recoveryCodes) expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$/);
    // One column: every code starts at the same place, on one line, clear of its number ("10." included).
    const boxes = await page
      .getByTestId('recovery-codes')
      .locator('li')
      .evaluateAll((items) =>
        items.map((li) => {
          const row = li.getBoundingClientRect();
          const code = li.querySelector('code')!.getBoundingClientRect();
          return {
            left: code.left,
            top: code.top,
            height: code.height,
            gap: code.left - row.left,
            lineHeight: parseFloat(li.ownerDocument.defaultView!.getComputedStyle(li).lineHeight),
          };
        }),
      );
    expect(new Set(boxes.map((b) => Math.round(b.left))).size).toBe(1);
    for (const [i, b] of boxes.entries()) {
      expect(b.height).toBeLessThan(b.lineHeight * 1.5);
      expect(b.gap).toBeGreaterThanOrEqual(24);
      if (i > 0) expect(b.top).toBeGreaterThan(boxes[i - 1]!.top);
    }
    await page.getByRole('button', { name: 'Copy codes' }).click();
    await expect.poll(clipboard).toBe(recoveryCodes.join('\n'));
    await screenshot(page, '03-setup-recovery-codes');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download as .txt' }).click()]);
    expect(download.suggestedFilename()).toBe('twofold-backup-recovery-codes.txt');
    const text = readFileSync((await download.path())!, 'utf8');
    for (const code of recoveryCodes) expect(text).toContain(code);

    expect(await page.getByRole('button', { name: 'Done' }).isDisabled()).toBe(true);
    await page.getByLabel('I have saved these codes somewhere safe').check();
    await page.getByRole('button', { name: 'Done' }).click();
    // Set-up ends on the overview; the devices are in Security.
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name: 'Security', exact: true }).click();
    await page.getByRole('heading', { name: 'Security', level: 1 }).waitFor();
    await expect.poll(() => page.getByRole('cell', { name: 'Pixel 8', exact: true }).count()).toBe(1);
    expect(await page.getByTestId('recovery-left').textContent()).toBe('10 of 10 recovery codes left.');
    await screenshot(page, '04-security-settings');
    await tourShot(page, 'security-devices');
    expect(await a11yFindingsBothThemes(page)).toEqual([]);
  });

  it('refuses a device name already in use as it is typed, before any code is asked for', async () => {
    await page.getByRole('button', { name: 'Add an authenticator app' }).click();
    await page.getByLabel('Device name').fill('pixel 8');
    expect(await page.getByTestId('device-name-error').textContent()).toBe('You already have a device named “Pixel 8”. Choose another name.');
    expect(await page.getByRole('button', { name: 'Continue' }).isDisabled()).toBe(true);
    expect(await page.getByRole('dialog').count()).toBe(0);
    await page.getByLabel('Device name').fill('iPad');
    expect(await page.getByTestId('device-name-error').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Continue' }).isEnabled()).toBe(true);
    await page.getByRole('button', { name: 'Cancel' }).click();
  });

  it('locks, then unlocks with the password and a code from the app', async () => {
    await lockNow();
    await screenshot(page, '05-lock-screen');
    await tourShot(page, 'lock-screen');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await password();
    await screenshot(page, '06-second-factor');
    await tourShot(page, 'second-factor');
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByLabel('Code from your authenticator app').fill(await app.code());
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  });

  it('refuses wrong codes with a generic message and shows the throttle countdown', async () => {
    await lockNow();
    await password();
    const field = page.getByLabel('Code from your authenticator app');
    await field.fill('000000');
    await page.getByRole('button', { name: 'Unlock' }).click();
    // Generic (it never says which part was wrong), but it says what to do.
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toBe(
        'That code did not work. Enter the code your authenticator app or companion shows right now (it changes every 30 seconds), or use a recovery code.',
      );
    for (let i = 1; i < 5; i++) {
      await field.fill('000000');
      await page.getByRole('button', { name: 'Unlock' }).click();
      await expect.poll(() => field.inputValue()).toBe('');
    }
    const wait = page.getByTestId('throttle-wait');
    await wait.waitFor();
    expect(await wait.textContent()).toMatch(/^That did not work, and there were too many failed attempts: you can try again in 0:0[01]\.$/);
    // The countdown replaces the stale error, and nothing can be typed while it runs.
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(await field.isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Unlock' }).isDisabled()).toBe(true);
    await wait.waitFor({ state: 'detached', timeout: 5_000 });
    expect(await field.isEnabled()).toBe(true);
  });

  it('unlocks with a recovery code, which then prompts to review the devices', async () => {
    await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await page.getByLabel('Recovery code').fill(recoveryCodes[0]!.toLowerCase());
    await page.getByRole('button', { name: 'Unlock' }).click();
    const banner = page.getByRole('alert').filter({ hasText: 'You unlocked with a recovery code' });
    await banner.waitFor();
    expect(await banner.textContent()).toContain('9 recovery codes left');
    expect(await banner.textContent()).toContain('remove it in Security under Devices');
    expect(await banner.getByRole('button', { name: 'Dismiss' }).isVisible()).toBe(true);
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
    // Destructive, so red; no companion is paired, so no push is offered.
    expect(await stepUp.getAttribute('class')).toContain('destructive');
    expect(await stepUp.getByRole('button', { name: 'Confirm' }).getAttribute('class')).toContain('danger');
    expect(await stepUp.getByRole('button', { name: 'Confirm by push' }).count()).toBe(0);
    expect(await stepUp.getByTestId('stepup-target').textContent()).toContain('two-factor authentication turns off and your 9 recovery codes are deleted');
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
    const events = await table.locator('tbody tr .event-name').allTextContents();
    for (const name of [
      'Account created',
      'Device added',
      'New recovery codes made',
      'Second factor accepted',
      'Wrong code',
      'Recovery code used',
      'Action confirmed',
      'Device removed',
      'Two-factor authentication turned off',
    ]) {
      expect(events).toContain(name);
    }
    await tourShot(page, 'audit-log');
    // Internal names stay out of the main text; the details keep them.
    const mainText = await table.locator('tbody tr td:nth-child(2)').allTextContents();
    for (const text of mainText) {
      expect(text).not.toMatch(/\b(factor|device|step-up|recovery)\.[a-z]/);
      expect(text).not.toMatch(/\b[a-z]+(\.[a-zA-Z]+)+: /); // a method name before what was confirmed
    }
    const confirmedRow = table.locator('tbody tr').filter({ hasText: 'Action confirmed' }).filter({ hasText: 'Pixel 8' }).first();
    expect(await confirmedRow.locator('td:nth-child(2) .small').textContent()).toMatch(/^Remove the device “Pixel 8”/);
    const failedRow = table.locator('tbody tr').filter({ hasText: 'Wrong code' }).first();
    expect(await failedRow.locator('.badge').textContent()).toBe('Failed');
    expect(await failedRow.locator('.badge').getAttribute('class')).toContain('bad');
    await failedRow.getByText('Details').click();
    expect(await failedRow.locator('.row-details code').textContent()).toBe('factor.failed');
    await page.getByLabel('Event').selectOption({ label: 'Wrong code' });
    await expect.poll(() => table.locator('tbody tr').count()).toBe(5);
    // "Locks and lockouts" is what it says: the locks and the throttle's lockouts.
    await page.getByLabel('Event').selectOption({ label: 'Locks and lockouts' });
    await expect
      .poll(async () => new Set(await table.locator('tbody tr .event-name').allTextContents()))
      .toEqual(new Set(['Locked', 'Locked out for a while (too many failed attempts)']));
    await page.getByLabel('Event').selectOption({ label: 'Wrong code' });
    await expect.poll(() => table.locator('tbody tr').count()).toBe(5);
    await page.getByRole('button', { name: 'Check integrity' }).click();
    expect(await page.getByTestId('audit-verify').textContent()).toMatch(/^The log is intact: all \d+ rows verify\.$/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const csv = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\r\n'); // RFC 4180 lines
    expect(csv[0]).toBe('time,account,device,action,workstation,ip,outcome,detail');
    expect(csv).toHaveLength(6);
    await screenshot(page, '08-audit-log');
    expect(await a11yFindingsBothThemes(page)).toEqual([]);
    const page_text = await page.content();
    for (const code of recoveryCodes) expect(page_text).not.toContain(code);
  });
});
