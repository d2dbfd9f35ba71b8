/**
 * Push approval from the desktop UI: the console in one browser context, the web companion in a
 * second one at a phone's width (served by the app's own companion host, as the console runs
 * it), a real relay process between them. Pair by the QR code and the comparison code, seeing
 * what the phone trusts, unlock by picking the number on the phone, and see a denied push.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCompanionHost, type CompanionHost } from '../../src-relay/companion-host.js';
import { STRONG_PASSWORD } from '../helpers/app.js';
import { launchChromium, startTestConsole, type TestConsole } from '../helpers/console.js';
import { readQr, screenshot, seriousA11yViolations } from '../helpers/e2e.js';
import { tourShot } from '../helpers/screenshots.js';
import { startRelayProcess, type RelayProcess } from '../helpers/relay.js';

const CONFIG = fileURLToPath(new URL('../../src-companion/web/vite.config.ts', import.meta.url));
const TOKENS = fileURLToPath(new URL('../../src-shared/ui/design-tokens.css', import.meta.url));
let outDir: string;
let relay: RelayProcess;
let host: CompanionHost;
let browser: Browser;
let c: TestConsole;
let desktop: Page;
let phone: Page;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'twofold-companion-web-'));
  await build({ configFile: CONFIG, logLevel: 'error', build: { outDir, emptyOutDir: true } });
  relay = await startRelayProcess();
  host = await startCompanionHost({ companionDir: outDir });
  browser = await launchChromium();
  c = await startTestConsole();
  c.app.core.pushRelay.setAppCompanion(host.url);
  desktop = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, permissions: ['clipboard-read', 'clipboard-write'] })).newPage();
  phone = await (await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })).newPage();
  await desktop.goto(c.server.loginUrl);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await c?.close();
  await host?.close();
  await relay?.stop();
  rmSync(outDir, { recursive: true, force: true });
});

/** The values of the shared design tokens (src-shared/ui/design-tokens.css) as the page computes them. */
async function designTokens(p: Page): Promise<Record<string, string>> {
  const names = [...new Set(readFileSync(TOKENS, 'utf8').match(/--[a-z0-9-]+(?=:)/g))];
  expect(names.length).toBeGreaterThan(20);
  return p.evaluate(`Object.fromEntries(${JSON.stringify(names)}.map((n) => [n, getComputedStyle(document.documentElement).getPropertyValue(n).trim()]))`);
}

async function toSecondFactor(): Promise<void> {
  await desktop.getByRole('button', { name: 'Lock now' }).click();
  await desktop.getByRole('heading', { name: 'Locked' }).waitFor();
  await desktop.getByLabel('Password').fill(STRONG_PASSWORD);
  await desktop.getByRole('button', { name: 'Unlock' }).click();
  await desktop.getByRole('heading', { name: 'Second factor' }).waitFor();
}

describe('push approval from the desktop UI', { timeout: 120_000 }, () => {
  it('pairs the web companion by its QR code after both screens show the same comparison code', async () => {
    await desktop.getByLabel('Account name').fill('Ada');
    await desktop.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await desktop.getByLabel('Repeat the password').fill(STRONG_PASSWORD);
    await expect.poll(() => desktop.getByTestId('strength-label').textContent()).toContain('good to use');
    await desktop.getByRole('button', { name: 'Create account' }).click();
    await desktop.getByRole('button', { name: 'Skip: protect with the password only' }).click();
    // Set-up ends on the overview; the relay and the companions are in Security.
    await desktop.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await desktop.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name: 'Security', exact: true }).click();

    await desktop.getByLabel('Relay address').fill(relay.url);
    await desktop.getByRole('button', { name: 'Save relay' }).click();
    // Where pushes go is a step-up: the dialog names the new relay, the password confirms it.
    const confirm = desktop.getByRole('dialog', { name: /^Confirm: Change the push relay from .+ to ws:\/\// });
    await confirm.getByText(`Push requests and pairings go through ${relay.url} from now on.`).waitFor();
    await confirm.getByLabel('Password').fill(STRONG_PASSWORD);
    await confirm.getByRole('button', { name: 'Confirm' }).click();
    await desktop.getByText(`Saved: pushes go through ${relay.url}.`).waitFor();

    // Where phones get the companion is its own choice, next to the relay: this app, by default.
    await expect.poll(() => desktop.getByTestId('web-companion-now').textContent()).toBe(`Pairing links open ${host.url}.`);
    expect(await desktop.getByLabel('This app').isChecked()).toBe(true);
    await desktop.getByLabel('A web server you trust').check();
    await desktop.getByLabel('Companion address').fill('http://office.example/companion/');
    await desktop.getByRole('button', { name: 'Save web companion' }).click();
    await desktop.getByText('Enter an https:// address (or http://localhost on this machine), without a # part.').waitFor();
    await desktop.getByLabel('This app').check();

    await desktop.getByRole('button', { name: 'Pair a companion' }).click();
    const qr = desktop.getByTestId('pairing-qr');
    await qr.waitFor();
    const link = await readQr(qr);
    expect(link).toBe(await desktop.getByTestId('pairing-link').inputValue());
    expect(await desktop.getByTestId('pairing-countdown').textContent()).toMatch(/^[12]:\d\d$|^0:\d\d$/);
    expect(new URL(link).origin).toBe(host.origin);
    await desktop.getByRole('button', { name: 'Copy link' }).click();
    await desktop.getByText('Copied.').waitFor();
    expect(await desktop.evaluate<string>('navigator.clipboard.readText()')).toBe(link);
    expect(await desktop.getByTestId('pairing-trust').textContent()).toBe(
      `Your phone opens the companion from ${host.origin} (this app) and trusts that page with this pairing. Messages travel through the relay at ${new URL(relay.url).host}, which sees only encrypted data.`,
    );
    await screenshot(desktop, '09-pair-companion');
    await tourShot(desktop, 'pair-companion');
    expect(await seriousA11yViolations(desktop)).toEqual([]);

    await phone.goto(link);
    await expect.poll(() => phone.textContent('#pair-who')).toBe(`Ada on ${hostname()} wants to add this device as a companion for push approval.`);
    await screenshot(phone, '20-companion-pair');
    await tourShot(phone, 'companion-pairing', 'phone');
    await phone.getByRole('button', { name: 'Pair this device' }).click();
    // The phone fills the code in once the desktop's answer arrives: wait for it.
    await expect.poll(() => phone.getByLabel('Comparison code').textContent()).toMatch(/^\d{3} \d{3}$/);
    const phoneCode = await phone.getByLabel('Comparison code').textContent();
    const desktopCode = desktop.getByTestId('pairing-comparison');
    await desktopCode.waitFor();
    expect(await desktopCode.textContent()).toBe(phoneCode);
    await desktop.getByLabel('Name this companion').fill("Ada's phone");
    await desktop.getByRole('button', { name: 'The codes match: add companion' }).click();

    // The first device turns 2FA on and brings the recovery codes.
    await desktop.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
    await desktop.getByLabel('I have saved these codes somewhere safe').check();
    await desktop.getByRole('button', { name: 'Done' }).click();
    await expect.poll(() => desktop.getByRole('cell', { name: "Ada's phone", exact: true }).count()).toBe(1);
    expect(await desktop.getByRole('cell', { name: 'Companion (push)' }).count()).toBe(1);
    await expect.poll(() => phone.textContent('#notice')).toBe(`Companion “Ada's phone” paired with Ada on ${hostname()}.`);
    expect(await phone.getByRole('region', { name: 'Pair a companion' }).count()).toBe(0);

    // One look on both screens: the companion's design tokens are the desktop's, light and dark.
    for (const colorScheme of ['light', 'dark'] as const) {
      await desktop.emulateMedia({ colorScheme });
      await phone.emulateMedia({ colorScheme });
      expect(await designTokens(phone)).toEqual(await designTokens(desktop));
    }
    await desktop.emulateMedia({ colorScheme: 'light' });
    await phone.emulateMedia({ colorScheme: 'light' });
  });

  it('unlocks when the number shown on the desktop is picked on the phone', async () => {
    await toSecondFactor();
    const number = desktop.getByTestId('push-number');
    await number.waitFor();
    const shown = (await number.textContent())!;
    expect(await desktop.getByTestId('push-countdown').textContent()).toMatch(/^Waiting for an answer… [01]:\d\d left\.$/);
    await screenshot(desktop, '10-second-factor-push');
    expect(await seriousA11yViolations(desktop)).toEqual([]);

    const card = phone.locator('.request').first();
    await card.waitFor();
    expect(await card.locator('.r-action').textContent()).toBe('Unlock');
    expect(await card.locator('.r-account').textContent()).toBe('Ada');
    await screenshot(phone, '21-companion-request');
    await tourShot(phone, 'companion-request', 'phone');
    await card.getByRole('button', { name: `Approve with ${shown}` }).click();
    await desktop.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  });

  it('shows a denied push as denied, and offers to resend it', async () => {
    await toSecondFactor();
    const number = desktop.getByTestId('push-number');
    await number.waitFor();
    const shown = (await number.textContent())!;
    // The card of this push: the one still answerable (answered cards keep their buttons,
    // disabled) that offers the number the desktop shows.
    const card = phone.locator('.request').filter({ has: phone.getByRole('button', { name: `Approve with ${shown}`, disabled: false }) });
    await card.waitFor();
    // The app refreshes its status every few seconds while the push waits; the answer must
    // still reach this screen after such a refresh (it once silently stopped following it).
    await desktop.waitForResponse((r) => r.url().endsWith('/api/call') && (r.request().postData() ?? '').includes('"app.status"'), { timeout: 15_000 });
    await card.getByRole('button', { name: 'Deny' }).click();
    await expect.poll(() => desktop.getByTestId('push-ended').textContent()).toBe('The request was denied on your companion.');
    expect(await desktop.getByRole('button', { name: /^Resend push/ }).count()).toBe(1);
    expect(await desktop.getByRole('heading', { name: 'Second factor' }).count()).toBe(1);
  });

  it('records the pairing and every push in the audit log', async () => {
    await desktop.getByRole('button', { name: /^Resend push/ }).click();
    const shown = (await desktop.getByTestId('push-number').textContent())!;
    // The card still waiting for an answer (the denied one keeps its result, its buttons disabled).
    const pending = phone.locator('.request').filter({ has: phone.getByRole('button', { name: 'Deny', disabled: false }) });
    await pending.getByRole('button', { name: `Approve with ${shown}`, disabled: false }).click();
    await desktop.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    await desktop.getByRole('button', { name: 'Audit log' }).click();
    const table = desktop.getByTestId('audit-table');
    await table.waitFor();
    const events = await table.locator('tbody tr .event-name').allTextContents();
    for (const name of ['Device added', 'Push request sent', 'Push approved', 'Push denied']) expect(events).toContain(name);
  });

  it('confirms a sensitive action by push: the phone shows the same target, consequence and check code as the dialog', async () => {
    await desktop.getByRole('button', { name: 'Security', exact: true }).click();
    await desktop.getByRole('button', { name: 'Make new recovery codes' }).click();
    const dialog = desktop.getByRole('dialog', { name: 'Confirm: Make new recovery codes (the old ones stop working)' });
    const consequence = 'The 10 recovery codes you have now stop working at once; ten new ones are shown once.';
    await dialog.getByText(consequence).waitFor();
    const check = (await dialog.getByTestId('stepup-digest').textContent())!;
    expect(check).toMatch(/^[0-9a-f]{4} [0-9a-f]{4}$/);
    await dialog.getByRole('button', { name: 'Confirm by push' }).click();
    const number = (await dialog.getByTestId('push-number').textContent())!;
    const card = phone.locator('.request').filter({ has: phone.getByRole('button', { name: `Approve with ${number}`, disabled: false }) });
    await card.waitFor();
    expect(await card.locator('.r-action').textContent()).toBe('Make new recovery codes (the old ones stop working)');
    expect(await card.locator('.r-consequence').textContent()).toBe(consequence);
    expect(await card.locator('.r-digest').textContent()).toBe(check);
    await screenshot(phone, '22-companion-step-up');
    await card.getByRole('button', { name: `Approve with ${number}` }).click();
    await desktop.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
  });
});
