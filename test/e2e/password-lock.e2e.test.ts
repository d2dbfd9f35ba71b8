import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchChromium, startTestConsole, type TestConsole } from '../helpers/console.js';
import { OTHER_STRONG_PASSWORD, STRONG_PASSWORD } from '../helpers/app.js';

let browser: Browser;
let c: TestConsole;
let page: Page;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());
beforeEach(async () => {
  c = await startTestConsole();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(c.server.loginUrl);
});
afterEach(async () => {
  await page.close();
  await c.close();
});

async function createAccount(): Promise<void> {
  await page.getByLabel('Account name').fill('Ada');
  await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
  await page.getByLabel('Repeat the password').fill(STRONG_PASSWORD);
  await expect.poll(() => page.getByTestId('strength-label').textContent()).toContain('good to use');
  await page.getByRole('button', { name: 'Create account' }).click();
  // These tests are about the password alone: skip the wizard's second-factor step.
  await page.getByRole('heading', { name: 'Add your first device' }).waitFor();
  await page.getByRole('button', { name: 'Skip: protect with the password only' }).click();
  // Set-up ends on the overview; the password is changed in Security.
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name: 'Security', exact: true }).click();
  await page.getByRole('heading', { name: 'Security', level: 1 }).waitFor();
}

async function lockNow(): Promise<void> {
  await page.getByRole('button', { name: 'Lock now' }).click();
  await page.getByRole('heading', { name: 'Locked' }).waitFor();
}

/** A new account asks to change its password; returns the step-up dialog that opens. */
async function askToChangePassword() {
  await createAccount();
  await page.getByLabel('Current password').fill(STRONG_PASSWORD);
  await page.getByLabel('New password', { exact: true }).fill(OTHER_STRONG_PASSWORD);
  await page.getByLabel('Repeat the new password').fill(OTHER_STRONG_PASSWORD);
  await expect.poll(() => page.getByRole('button', { name: 'Change password' }).isEnabled()).toBe(true);
  await page.getByRole('button', { name: 'Change password' }).click();
  return page.getByRole('dialog', { name: 'Confirm: Change the password' });
}

describe('the password lock in the browser', () => {
  it('walks the first-run wizard, refusing a weak password until a strong one is chosen', async () => {
    await page.getByLabel('Account name').fill('Ada');
    await page.getByLabel('Password', { exact: true }).fill('password123');
    await page.getByLabel('Repeat the password').fill('password123');
    await expect.poll(() => page.getByTestId('strength-label').textContent()).toContain('not accepted yet');
    expect(await page.getByRole('button', { name: 'Create account' }).isDisabled()).toBe(true);
    await createAccount();
    expect(await page.getByText('Signed in as Ada').isVisible()).toBe(true);
  });

  it('locks, refuses a wrong password with a countdown, and unlocks with the right one', async () => {
    await createAccount();
    await lockNow();
    for (let i = 0; i < 5; i++) {
      await page.getByLabel('Password').fill('definitely not it 000');
      await page.getByRole('button', { name: 'Unlock' }).click();
      // The lock screen clears the field once the core has answered.
      await expect.poll(() => page.getByLabel('Password').inputValue()).toBe('');
      // Generic, but it says what to check (until the throttle's countdown takes its place).
      if (i === 0) {
        expect(await page.getByRole('alert').textContent()).toBe(
          'That password did not work. Check Caps Lock and the keyboard layout (Show lets you see what you typed), then try again.',
        );
      }
    }
    const wait = page.getByTestId('throttle-wait');
    await wait.waitFor();
    expect(await wait.textContent()).toMatch(/^That did not work, and there were too many failed attempts: you can try again in 0:0[01]\.$/);
    // The stale error is gone and the field waits with the button.
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(await page.getByLabel('Password').isDisabled()).toBe(true);
    await wait.waitFor({ state: 'detached', timeout: 5_000 });
    expect(await page.getByLabel('Password').isEnabled()).toBe(true);
    await page.getByLabel('Password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  });

  it('changes the password after a step-up confirmation that names the action', async () => {
    const dialog = await askToChangePassword();
    await dialog.waitFor();
    await dialog.getByLabel('Password').fill(STRONG_PASSWORD);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('Password changed.').waitFor();
    await lockNow();
    await page.getByLabel('Password').fill(OTHER_STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  });

  it('keeps keyboard focus inside a confirmation dialog and closes it with Escape', async () => {
    const dialog = await askToChangePassword();
    await dialog.getByLabel('Password').waitFor();
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Tab');
      expect(await page.evaluate("document.querySelector('[role=dialog]').contains(document.activeElement)")).toBe(true);
    }
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Change password');
  });
});
