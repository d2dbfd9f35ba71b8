/**
 * The web companion (served by the relay at /companion/) in Chromium, against the real desktop
 * core and a real relay process: pairing by opening the QR link, approving an unlock by number
 * matching, the one-time password view, and keys that cannot leave the browser.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { launchChromium } from '../helpers/console.js';
import { appWithRelay, toSecondFactor } from '../helpers/push.js';
import { startRelayProcess, type RelayProcess } from '../helpers/relay.js';

const CONFIG = fileURLToPath(new URL('../../src-companion/web/vite.config.ts', import.meta.url));
let outDir: string;
let relay: RelayProcess;
let browser: Browser;
let t: TestApp | undefined;
let page: Page | undefined;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'twofold-companion-web-'));
  await build({ configFile: CONFIG, logLevel: 'error', build: { outDir, emptyOutDir: true } });
  relay = await startRelayProcess({ args: ['--companion-dir', outDir] });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await relay?.stop();
  rmSync(outDir, { recursive: true, force: true });
});
afterEach(async () => {
  await page?.context().close();
  t?.remove();
  t = undefined;
});

/** Pair a fresh browser profile by opening the QR link, the way a phone does. */
async function pairInBrowser(app: TestApp): Promise<Page> {
  const begin = await app.ok('push.beginPairing', {});
  const context = await browser.newContext();
  const p = await context.newPage();
  page = p;
  await p.goto(begin.link);
  await expect.poll(() => p.textContent('#pair-who')).toBe('Ada on test-workstation wants to add this device for push approval.');
  await p.getByRole('button', { name: 'Pair this device' }).click();
  const code = p.getByLabel('Comparison code');
  await code.waitFor();
  const status = await app.ok('push.pairingStatus', { pairingId: begin.pairingId, waitMs: 20_000 });
  expect(status.state).toBe('confirm');
  // The phone shows its code once the desktop's reply reaches it, which may be a moment after.
  await expect.poll(() => code.textContent()).toBe(status.comparisonCode);
  await app.ok('push.finishPairing', { pairingId: begin.pairingId, name: 'Browser phone' });
  await expect.poll(() => p.textContent('#pair-result')).toBe('Paired as "Browser phone" with Ada on test-workstation.');
  expect(new URL(p.url()).hash).toBe(''); // the spent link is gone from the address bar
  return p;
}

describe('the web companion', () => {
  it('pairs by opening the QR link, showing the same comparison code as the desktop', async () => {
    t = await appWithRelay(relay.url);
    await pairInBrowser(t);
    expect((await t.ok('devices.list', {})).devices).toEqual([expect.objectContaining({ kind: 'push', name: 'Browser phone' })]);
  });

  it('keeps its keys non-extractable in IndexedDB', async () => {
    t = await appWithRelay(relay.url);
    const p = await pairInBrowser(t);
    // A string, evaluated in the page: this file is type-checked without the DOM's types.
    const keys = await p.evaluate(`new Promise((resolve, reject) => {
      const req = indexedDB.open('twofold-companion', 1);
      req.onsuccess = () => {
        const get = req.result.transaction('pairings').objectStore('pairings').getAll();
        get.onsuccess = () => {
          const r = get.result[0];
          resolve({
            signing: r.device.privateKey.extractable,
            requests: r.reqKey.extractable,
            answers: r.ansKey.extractable,
            isCryptoKey: r.device.privateKey instanceof CryptoKey,
          });
        };
        get.onerror = () => reject(get.error);
      };
    })`);
    expect(keys).toEqual({ signing: false, requests: false, answers: false, isCryptoKey: true });
  });

  it('shows a request with its full context and a countdown, and approves it by the number', async () => {
    t = await appWithRelay(relay.url);
    const p = await pairInBrowser(t);
    await toSecondFactor(t);
    const push = await t.ok('push.start', {});
    const card = p.locator('.request').first();
    await card.waitFor();
    expect(await card.locator('.r-action').textContent()).toBe('Unlock');
    expect(await card.locator('.r-account').textContent()).toBe('Ada');
    expect(await card.locator('.r-workstation').textContent()).toBe('test-workstation');
    expect(await card.locator('.r-app').textContent()).toBe('Twofold Backup 0.0.0-test');
    expect(await card.locator('.r-ip').textContent()).toBe('127.0.0.1');
    expect(await card.locator('.r-left').textContent()).toMatch(/^\d+ s$/);
    const choices = await card.locator('.choices button').allTextContents();
    expect(choices).toHaveLength(3);
    expect(choices).toContain(String(push.number));
    await card.getByRole('button', { name: `Approve with ${push.number}` }).click();
    await expect.poll(() => card.locator('.r-result').textContent()).toBe(`Approved with ${push.number}.`);
    expect(await t.ok('push.poll', { requestId: push.requestId, waitMs: 20_000 })).toMatchObject({ state: 'approved' });
    expect((await t.ok('app.status', {})).level).toBe('unlocked');
  });

  it('reports "this wasn\'t me", which mutes push on the desktop', async () => {
    t = await appWithRelay(relay.url);
    const p = await pairInBrowser(t);
    await toSecondFactor(t);
    const push = await t.ok('push.start', {});
    const card = p.locator('.request').first();
    await card.getByRole('button', { name: "This wasn't me" }).click();
    expect(await t.ok('push.poll', { requestId: push.requestId, waitMs: 20_000 })).toMatchObject({ state: 'reported' });
    expect((await t.ok('push.status', {})).mutedUntil).not.toBeNull();
  });

  it('shows a one-time password the desktop accepts when push is unavailable', async () => {
    t = await appWithRelay(relay.url);
    const p = await pairInBrowser(t);
    await toSecondFactor(t);
    await p.getByRole('button', { name: 'Show one-time password' }).click();
    const code = (await p.getByLabel('One-time password').textContent())!;
    expect(code).toMatch(/^\d{6}$/);
    expect(await t.ok('gate.submitCode', { code })).toMatchObject({ level: 'unlocked' });
  });
});
