/**
 * The web companion in Chromium, against the real desktop core and a real relay process. Its
 * page comes from the app's own companion host (what the console and the desktop app run), never
 * from the relay: pairing by opening the QR link, approving an unlock by number matching, the
 * one-time password view, keys that cannot leave the browser, Subresource Integrity, and a
 * hostile relay that would inject script into the page if it served it: in the default setup it
 * gets neither the pairing secret nor any plaintext (docs/security.md §4a).
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCompanionHost, type CompanionHost } from '../../src-relay/companion-host.js';
import { parsePairingLink } from '../../src-shared/push/pairing.js';
import type { TestApp } from '../helpers/app.js';
import { launchChromium } from '../helpers/console.js';
import { appWithRelay, toSecondFactor } from '../helpers/push.js';
import { HostileRelay, startRelayProcess, type RelayProcess } from '../helpers/relay.js';

const CONFIG = fileURLToPath(new URL('../../src-companion/web/vite.config.ts', import.meta.url));
let outDir: string;
let relay: RelayProcess;
let host: CompanionHost;
let browser: Browser;
let t: TestApp | undefined;
let page: Page | undefined;
let hostile: HostileRelay | undefined;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'twofold-companion-web-'));
  await build({ configFile: CONFIG, logLevel: 'error', build: { outDir, emptyOutDir: true } });
  relay = await startRelayProcess();
  host = await startCompanionHost({ companionDir: outDir });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await host?.close();
  await relay?.stop();
  rmSync(outDir, { recursive: true, force: true });
});
afterEach(async () => {
  await page?.context().close();
  page = undefined;
  t?.remove();
  t = undefined;
  await hostile?.stop();
  hostile = undefined;
});

/** The app as the console runs it: its own companion host serves the page; the relay is `relayUrl`. */
async function app(relayUrl = relay.url): Promise<TestApp> {
  const a = await appWithRelay(relayUrl);
  a.app.core.pushRelay.setAppCompanion(host.url);
  return a;
}

/** Pair a fresh browser profile by opening the QR link, the way a phone does. */
async function pairInBrowser(a: TestApp, relayHost = new URL(relay.url).host): Promise<Page> {
  return (await pairWithLink(a, relayHost)).page;
}

async function pairWithLink(a: TestApp, relayHost: string): Promise<{ page: Page; link: string }> {
  const begin = await a.ok('push.beginPairing', {});
  expect(begin.webCompanion).toEqual({ source: 'app', url: host.url });
  const context = await browser.newContext();
  const p = await context.newPage();
  page = p;
  await p.goto(begin.link);
  await expect.poll(() => p.textContent('#pair-who')).toBe('Ada on test-workstation wants to add this device for push approval.');
  expect(await p.textContent('#pair-trust')).toBe(`This page comes from ${host.origin}. Messages go through the relay at ${relayHost}, which sees only encrypted data.`);
  await p.getByRole('button', { name: 'Pair this device' }).click();
  const code = p.getByLabel('Comparison code');
  await code.waitFor();
  const status = await a.ok('push.pairingStatus', { pairingId: begin.pairingId, waitMs: 20_000 });
  expect(status.state).toBe('confirm');
  // The phone shows its code once the desktop's reply reaches it, which may be a moment after.
  await expect.poll(() => code.textContent()).toBe(status.comparisonCode);
  await a.ok('push.finishPairing', { pairingId: begin.pairingId, name: 'Browser phone' });
  await expect.poll(() => p.textContent('#pair-result')).toBe('Paired as "Browser phone" with Ada on test-workstation.');
  expect(new URL(p.url()).hash).toBe(''); // the spent link is gone from the address bar
  return { page: p, link: begin.link };
}

/** What the browser keeps of its pairing: the OTP seed, and whether the keys can leave it. */
function storedPairing(p: Page): Promise<{ otpSeed: string; signing: boolean; requests: boolean; answers: boolean; isCryptoKey: boolean }> {
  // A string, evaluated in the page: this file is type-checked without the DOM's types.
  return p.evaluate(`new Promise((resolve, reject) => {
    const req = indexedDB.open('twofold-companion', 1);
    req.onsuccess = () => {
      const get = req.result.transaction('pairings').objectStore('pairings').getAll();
      get.onsuccess = () => {
        const r = get.result[0];
        resolve({
          otpSeed: r.otpSeed,
          signing: r.device.privateKey.extractable,
          requests: r.reqKey.extractable,
          answers: r.ansKey.extractable,
          isCryptoKey: r.device.privateKey instanceof CryptoKey,
        });
      };
      get.onerror = () => reject(get.error);
    };
  })`);
}

async function approveUnlock(a: TestApp, p: Page): Promise<string> {
  await toSecondFactor(a);
  const push = await a.ok('push.start', {});
  const card = p.locator('.request').first();
  await card.getByRole('button', { name: `Approve with ${push.number}` }).click();
  expect(await a.ok('push.poll', { requestId: push.requestId, waitMs: 20_000 })).toMatchObject({ state: 'approved' });
  return push.requestId;
}

describe('the web companion', () => {
  it('pairs by opening the QR link, showing the same comparison code as the desktop', async () => {
    t = await app();
    await pairInBrowser(t);
    expect((await t.ok('devices.list', {})).devices).toEqual([expect.objectContaining({ kind: 'push', name: 'Browser phone' })]);
  });

  it('keeps its keys non-extractable in IndexedDB', async () => {
    t = await app();
    const p = await pairInBrowser(t);
    const { otpSeed, ...keys } = await storedPairing(p);
    expect(otpSeed).toMatch(/^[A-Z2-7]{32}$/);
    expect(keys).toEqual({ signing: false, requests: false, answers: false, isCryptoKey: true });
  });

  it('shows a request with its full context and a countdown, and approves it by the number', async () => {
    t = await app();
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
    t = await app();
    const p = await pairInBrowser(t);
    await toSecondFactor(t);
    const push = await t.ok('push.start', {});
    const card = p.locator('.request').first();
    await card.getByRole('button', { name: "This wasn't me" }).click();
    expect(await t.ok('push.poll', { requestId: push.requestId, waitMs: 20_000 })).toMatchObject({ state: 'reported' });
    expect((await t.ok('push.status', {})).mutedUntil).not.toBeNull();
  });

  it('takes a request off its screen once the desktop closed it', async () => {
    t = await app();
    const p = await pairInBrowser(t);
    await toSecondFactor(t);
    const push = await t.ok('push.start', {});
    const card = p.locator('.request').first();
    await card.waitFor();
    await t.ok('push.cancel', { requestId: push.requestId });
    await expect.poll(() => card.locator('.r-result').textContent()).toBe('Closed on the computer: cancelled.');
    expect(await card.getByRole('button', { name: `Approve with ${push.number}`, disabled: true }).count()).toBe(1);
  });

  it('shows a one-time password the desktop accepts when push is unavailable', async () => {
    t = await app();
    const p = await pairInBrowser(t);
    await toSecondFactor(t);
    await p.getByRole('button', { name: 'Show one-time password' }).click();
    const code = (await p.getByLabel('One-time password').textContent())!;
    expect(code).toMatch(/^\d{6}$/);
    expect(await t.ok('gate.submitCode', { code })).toMatchObject({ level: 'unlocked' });
  });

  it('runs only the scripts its page names by hash: an altered copy on the host does not run', async () => {
    const altered = mkdtempSync(join(tmpdir(), 'twofold-companion-altered-'));
    const other = await (async () => {
      cpSync(outDir, altered, { recursive: true });
      const js = readdirSync(join(altered, 'assets')).find((f) => f.endsWith('.js'))!;
      writeFileSync(join(altered, 'assets', js), `${readFileSync(join(altered, 'assets', js), 'utf8')}\n;window.altered = true;\n`);
      return startCompanionHost({ companionDir: altered });
    })();
    try {
      const html = readFileSync(join(outDir, 'index.html'), 'utf8');
      expect(html).toMatch(/<script type="module" crossorigin src="\.\/assets\/[^"]+\.js" integrity="sha384-[A-Za-z0-9+/=]+"><\/script>/);
      expect(html).toContain('http-equiv="Content-Security-Policy"');
      const context = await browser.newContext();
      page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => errors.push(m.text()));
      await page.goto(other.url);
      await expect.poll(() => errors.some((e) => e.includes('integrity'))).toBe(true);
      expect(await page.textContent('#connection')).toBe('Starting…');
      // The genuine copy runs.
      await page.goto(host.url);
      await expect.poll(() => page!.textContent('#connection')).toBe('Not paired.');
    } finally {
      await other.close();
      rmSync(altered, { recursive: true, force: true });
    }
  });
});

describe('a relay that injects script into the companion page it would serve', () => {
  it('gets neither the pairing secret nor any plaintext in the default setup: the page comes from the app', async () => {
    hostile = new HostileRelay(relay.url, outDir);
    await hostile.start();
    t = await app(hostile.url);
    const begin = await t.ok('push.beginPairing', {});
    await t.ok('push.cancelPairing', { pairingId: begin.pairingId });
    // The link names the app's page and, inside it, the relay: two different parties.
    expect(new URL(begin.link).origin).toBe(host.origin);
    expect(parsePairingLink(begin.link).relay).toBe(hostile.url);

    const { page: p, link } = await pairWithLink(t, new URL(hostile.url).host);
    const requestId = await approveUnlock(t, p);
    const { otpSeed } = await storedPairing(p);

    // Its page was never asked for, so its script never ran; and what it relayed is ciphertext.
    expect(hostile.pageRequests).toEqual([]);
    expect(hostile.loot).toEqual([]);
    const carried = hostile.recorded.map(({ frame }) => String(frame.body)).join('\n');
    expect(hostile.recorded.length).toBeGreaterThan(3);
    for (const visible of [otpSeed, parsePairingLink(link).s, parsePairingLink(begin.link).s, 'Ada', 'Unlock', 'test-workstation', 'Browser phone', requestId]) {
      expect(carried).not.toContain(visible);
    }
  });

  it('reads the pairing secret and what the desktop sends once the user says the relay may serve the page: why that is an explicit choice', async () => {
    hostile = new HostileRelay(relay.url, outDir);
    await hostile.start();
    t = await app(hostile.url);
    const trustRelay = { choice: { source: 'relay' as const } };
    expect((await t.ok('push.setWebCompanion', trustRelay, await t.passwordProof('push.setWebCompanion', trustRelay))).url).toBe(`${hostile.httpOrigin}/companion/`);
    const begin = await t.ok('push.beginPairing', {});
    expect(begin.webCompanion).toEqual({ source: 'relay', url: `${hostile.httpOrigin}/companion/` });
    const context = await browser.newContext();
    const p = await context.newPage();
    page = p;
    await p.goto(begin.link);
    await expect.poll(() => hostile!.loot.find((l) => l.what === 'url')?.value).toBe(begin.link);
    expect(parsePairingLink(hostile.loot[0]!.value).s).toBe(parsePairingLink(begin.link).s);
    // And it reads what the desktop seals for the phone: the one-time password seed included.
    await p.getByRole('button', { name: 'Pair this device' }).click();
    const status = await t.ok('push.pairingStatus', { pairingId: begin.pairingId, waitMs: 20_000 });
    await t.ok('push.finishPairing', { pairingId: begin.pairingId, name: 'Browser phone' });
    await expect.poll(() => p.textContent('#pair-result')).toBe('Paired as "Browser phone" with Ada on test-workstation.');
    expect(status.state).toBe('confirm');
    expect(hostile.loot.some((l) => l.what === 'plaintext' && l.value.includes('"otpSeed"'))).toBe(true);
  });
});
