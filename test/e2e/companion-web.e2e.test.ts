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
import type { Browser, Locator, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCompanionHost, type CompanionHost } from '../../src-relay/companion-host.js';
import { currentOtp } from '../../src-shared/push/companion.js';
import { parsePairingLink } from '../../src-shared/push/pairing.js';
import type { TestApp } from '../helpers/app.js';
import { a11yFindingsBothThemes } from '../helpers/a11y.js';
import { launchChromium } from '../helpers/console.js';
import { appWithRelay, toSecondFactor } from '../helpers/push.js';
import { HostileRelay, startRelayProcess, type RelayProcess } from '../helpers/relay.js';

const CONFIG = fileURLToPath(new URL('../../src-companion/web/vite.config.ts', import.meta.url));
const TOKENS = fileURLToPath(new URL('../../src-shared/ui/design-tokens.css', import.meta.url));
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

/** A fresh browser profile the size of a phone (390 px wide, touch); `clock` lets the test move the page's time. */
async function phonePage(clock = false): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const p = await context.newPage();
  if (clock) await p.clock.install();
  page = p;
  return p;
}

/** Pair a fresh browser profile by opening the QR link, the way a phone does. */
async function pairInBrowser(a: TestApp, options: { relayHost?: string; clock?: boolean } = {}): Promise<Page> {
  return (await pairWithLink(a, options.relayHost ?? new URL(relay.url).host, await phonePage(options.clock))).page;
}

/** The pairing prompt as the phone shows it for `link`, up to the comparison code; then the desktop names the device. */
async function pairOnPage(a: TestApp, p: Page, begin: { link: string; pairingId: string }, relayHost: string, name: string): Promise<void> {
  const prompt = p.getByRole('region', { name: 'Pair a companion' });
  await prompt.waitFor();
  await expect.poll(() => p.textContent('#pair-who')).toBe('Ada on test-workstation wants to add this device as a companion for push approval.');
  expect(await p.textContent('#pair-trust')).toBe(
    `This page comes from ${host.origin}. Messages go through the relay at ${relayHost}, which sees only encrypted data.`,
  );
  await p.getByRole('button', { name: 'Pair this device' }).click();
  const code = p.getByLabel('Comparison code');
  await code.waitFor();
  const status = await a.ok('push.pairingStatus', { pairingId: begin.pairingId, waitMs: 20_000 });
  expect(status.state).toBe('confirm');
  // The phone shows its code once the desktop's reply reaches it, which may be a moment after.
  await expect.poll(() => code.textContent()).toBe(status.comparisonCode);
  await a.ok('push.finishPairing', { pairingId: begin.pairingId, name });
  // Paired: the prompt and its button are gone, a notice says so, in the desktop's words.
  const notice = p.locator('#notice');
  await expect.poll(() => notice.textContent()).toBe(`Companion “${name}” paired with Ada on test-workstation.`);
  expect(await notice.isVisible()).toBe(true);
  expect(await prompt.count()).toBe(0);
  expect(await p.getByRole('button', { name: 'Pair this device' }).isVisible()).toBe(false);
  expect(new URL(p.url()).hash).toBe(''); // the spent link is gone from the address bar
}

async function pairWithLink(a: TestApp, relayHost: string, p: Page): Promise<{ page: Page; link: string }> {
  const begin = await a.ok('push.beginPairing', {});
  expect(begin.webCompanion).toEqual({ source: 'app', url: host.url });
  await p.goto(begin.link);
  await pairOnPage(a, p, begin, relayHost, 'Browser phone');
  await expect.poll(() => p.textContent('#connection')).toBe('Connected: waiting for requests.');
  return { page: p, link: begin.link };
}

/**
 * What would be wrong on a phone: the page scrolling sideways, a button past the right edge, or a
 * button smaller than a fingertip (44 px) — each named, so an empty list is the pass.
 */
function phoneLayoutProblems(p: Page): Promise<string[]> {
  // A string, evaluated in the page: this file is type-checked without the DOM's types.
  return p.evaluate(`(() => {
    const problems = [];
    const root = document.documentElement;
    if (root.scrollWidth > root.clientWidth) problems.push('scrolls sideways: ' + root.scrollWidth + ' px in ' + root.clientWidth);
    for (const b of document.querySelectorAll('button')) {
      const r = b.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.width < 44 || r.height < 44) problems.push('small button "' + b.textContent + '": ' + Math.round(r.width) + 'x' + Math.round(r.height));
      if (r.right > root.clientWidth + 0.5) problems.push('button past the edge: "' + b.textContent + '"');
    }
    return problems;
  })()`);
}

/** The design tokens as the shared file declares them, for the light or the dark theme. */
function declaredTokens(theme: 'light' | 'dark'): Record<string, string> {
  const css = readFileSync(TOKENS, 'utf8');
  const block = (theme === 'light' ? /:root \{([^}]*)\}/ : /:root\[data-theme='dark'\] \{([^}]*)\}/).exec(css)![1]!;
  return Object.fromEntries([...block.matchAll(/(--[a-z0-9-]+):\s*([^;]+);/g)].map((m) => [m[1]!, m[2]!.trim()]));
}

function pageTokens(p: Page, names: string[]): Promise<Record<string, string>> {
  return p.evaluate(`Object.fromEntries(${JSON.stringify(names)}.map((n) => [n, getComputedStyle(document.documentElement).getPropertyValue(n).trim()]))`);
}

const rgb = (hex: string) => `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;

/** The state a finished request card shows: its word, its sentence, and whether anything in it can still be pressed. */
async function finishedCard(
  card: Locator,
): Promise<{ state: string | null; detail: string | null; answerShown: boolean; timeLeftShown: boolean; enabledButtons: number }> {
  return {
    state: await card.locator('.r-state').textContent(),
    detail: await card.locator('.r-detail').textContent(),
    answerShown: await card.locator('.r-answer').isVisible(),
    timeLeftShown: await card.getByText('Time left').isVisible(),
    enabledButtons: await card.locator('button:enabled').count(),
  };
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
  it('pairs by opening the QR link, showing the same comparison code as the desktop; then the prompt is gone', async () => {
    t = await app();
    const p = await phonePage();
    const begin = await t.ok('push.beginPairing', {});
    await p.goto(begin.link);
    await p.getByRole('button', { name: 'Pair this device' }).waitFor();
    // The prompt on a phone: no sideways scrolling, buttons a finger can hit, axe clean in both themes.
    expect(await phoneLayoutProblems(p)).toEqual([]);
    expect(await a11yFindingsBothThemes(p)).toEqual([]);
    await pairOnPage(t, p, begin, new URL(relay.url).host, 'Browser phone');
    expect((await t.ok('devices.list', {})).devices).toEqual([expect.objectContaining({ kind: 'push', name: 'Browser phone' })]);
    const paired = p.locator('.pairing');
    expect(await paired.locator('.p-name').textContent()).toBe('Browser phone');
    expect(await paired.innerText()).toContain('For Ada on test-workstation');
    await expect.poll(() => p.textContent('#connection')).toBe('Connected: waiting for requests.');
    expect(await p.getByText('No requests right now.').isVisible()).toBe(true);
    expect(await phoneLayoutProblems(p)).toEqual([]);
    expect(await a11yFindingsBothThemes(p)).toEqual([]);
  });

  it("wears the desktop UI's design tokens, light and dark", async () => {
    const p = await phonePage();
    await p.goto(host.url);
    await expect.poll(() => p.textContent('#connection')).toBe('Not paired yet.');
    for (const theme of ['light', 'dark'] as const) {
      await p.emulateMedia({ colorScheme: theme });
      const declared = { ...declaredTokens('light'), ...(theme === 'dark' ? declaredTokens('dark') : {}) };
      const colours = Object.keys(declared).filter((n) => declared[n]!.startsWith('#'));
      expect(colours.length).toBeGreaterThan(10);
      expect(await pageTokens(p, colours)).toEqual(Object.fromEntries(colours.map((n) => [n, declared[n]])));
      expect(await p.evaluate('getComputedStyle(document.body).backgroundColor')).toBe(rgb(declared['--bg']!));
      expect(await p.evaluate('getComputedStyle(document.body).color')).toBe(rgb(declared['--text']!));
    }
    await p.emulateMedia({ colorScheme: 'light' });
    // The browser's own bars take the page's surface colour.
    expect(await p.locator('meta[name="theme-color"][media="(prefers-color-scheme: light)"]').getAttribute('content')).toBe(
      declaredTokens('light')['--surface'],
    );
    expect(await p.locator('meta[name="theme-color"][media="(prefers-color-scheme: dark)"]').getAttribute('content')).toBe(declaredTokens('dark')['--surface']);
    // Not paired: the page says how to pair, in the desktop's words, and no request list.
    expect(await p.getByText('In Twofold Backup, open Security and choose Pair a companion under Devices').isVisible()).toBe(true);
    expect(await p.getByRole('region', { name: 'Requests' }).count()).toBe(0);
    expect(await phoneLayoutProblems(p)).toEqual([]);
  });

  it('can be added to the home screen: its manifest names it, opens it standalone, and its icon loads', async () => {
    const p = await phonePage();
    await p.goto(host.url);
    const href = await p.locator('link[rel="manifest"]').getAttribute('href');
    const manifest = await p.request.get(new URL(href!, host.url).href);
    expect(manifest.headers()['content-type']).toBe('application/manifest+json');
    const body = (await manifest.json()) as {
      name: string;
      display: string;
      start_url: string;
      background_color: string;
      theme_color: string;
      icons: { src: string }[];
    };
    expect(body).toMatchObject({ name: 'Twofold companion', display: 'standalone', start_url: './' });
    expect([body.background_color, body.theme_color]).toEqual([declaredTokens('light')['--bg'], declaredTokens('light')['--surface']]);
    const icon = await p.request.get(new URL(body.icons[0]!.src, new URL(href!, host.url)).href);
    expect([icon.status(), icon.headers()['content-type']]).toEqual([200, 'image/png']);
  });

  it('starts a new pairing when its link is opened in a tab that already shows the companion', async () => {
    t = await app();
    const p = await pairInBrowser(t);
    await p.evaluate('window.sameDocument = true');
    // The first companion turned 2FA on: pairing another is confirmed with a code (this one's).
    const { otpSeed } = await storedPairing(p);
    const proof = await t.ok('gate.stepUp', { method: 'push.beginPairing', input: {}, code: currentOtp({ otpSeed }, t.clock.now()) });
    const second = await t.ok('push.beginPairing', {}, proof.proof);
    await p.goto(second.link); // only the # part differs: no reload, a hashchange
    await pairOnPage(t, p, second, new URL(relay.url).host, 'Browser phone 2');
    expect(await p.evaluate('window.sameDocument')).toBe(true);
    expect((await t.ok('devices.list', {})).devices.map((d) => d.name).sort()).toEqual(['Browser phone', 'Browser phone 2']);
    await expect.poll(() => p.locator('.pairing .p-name').allTextContents()).toEqual(expect.arrayContaining(['Browser phone', 'Browser phone 2']));
  });

  it('keeps its keys non-extractable in IndexedDB', async () => {
    t = await app();
    const p = await pairInBrowser(t);
    const { otpSeed, ...keys } = await storedPairing(p);
    expect(otpSeed).toMatch(/^[A-Z2-7]{32}$/);
    expect(keys).toEqual({ signing: false, requests: false, answers: false, isCryptoKey: true });
  });

  it('shows a request with its full context and a countdown; approved by the number, it says "Approved" with nothing left to press, then waits again', async () => {
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
    // "m:ss", as the desktop counts down.
    expect(await card.locator('.r-left').textContent()).toMatch(/^[01]:\d\d$/);
    expect(await p.getByText('No requests right now.').isVisible()).toBe(false);
    const choices = await card.locator('.choices button').allTextContents();
    expect(choices).toHaveLength(3);
    expect(choices).toContain(String(push.number));
    // Keyboard first: the focus is on the first number as the request arrives.
    expect(await p.evaluate('document.activeElement.getAttribute("aria-label")')).toBe(`Approve with ${choices[0]}`);
    expect(await phoneLayoutProblems(p)).toEqual([]);
    expect(await a11yFindingsBothThemes(p)).toEqual([]);

    await card.getByRole('button', { name: `Approve with ${push.number}` }).click();
    await expect.poll(() => card.locator('.r-state').textContent()).toBe('Approved');
    expect(await finishedCard(card)).toEqual({
      state: 'Approved',
      detail: `You picked ${push.number}.`,
      answerShown: false,
      timeLeftShown: false,
      enabledButtons: 0,
    });
    // The pressed button is gone: the focus waits on the list's heading, not lost at the page's end.
    expect(await p.evaluate('document.activeElement.id')).toBe('requests-title');
    expect(await t.ok('push.poll', { requestId: push.requestId, waitMs: 20_000 })).toMatchObject({ state: 'approved' });
    expect((await t.ok('app.status', {})).level).toBe('unlocked');
    expect(await a11yFindingsBothThemes(p)).toEqual([]);
    // The computer's own "closed: approved" does not change what the card says.
    expect((await finishedCard(card)).state).toBe('Approved');
    // A few seconds later the list is back to waiting.
    await card.waitFor({ state: 'detached', timeout: 15_000 });
    expect(await p.getByText('No requests right now.').isVisible()).toBe(true);
    expect(await p.textContent('#connection')).toBe('Connected: waiting for requests.');
  });

  it('says "Denied" once a request is denied, and the desktop sees the denial', async () => {
    t = await app();
    const p = await pairInBrowser(t);
    await toSecondFactor(t);
    const push = await t.ok('push.start', {});
    const card = p.locator('.request').first();
    await card.getByRole('button', { name: 'Deny' }).click();
    await expect.poll(() => card.locator('.r-state').textContent()).toBe('Denied');
    expect(await finishedCard(card)).toEqual({ state: 'Denied', detail: '', answerShown: false, timeLeftShown: false, enabledButtons: 0 });
    expect(await card.locator('.r-state').getAttribute('class')).toContain('bad');
    expect(await t.ok('push.poll', { requestId: push.requestId, waitMs: 20_000 })).toMatchObject({ state: 'denied' });
    await card.waitFor({ state: 'detached', timeout: 15_000 });
    expect(await p.getByText('No requests right now.').isVisible()).toBe(true);
  });

  it('stops "Time left" when the request expires and says "Expired", with nothing left to press', async () => {
    t = await app();
    const p = await pairInBrowser(t, { clock: true });
    await toSecondFactor(t);
    const push = await t.ok('push.start', {});
    const card = p.locator('.request').first();
    await card.waitFor();
    expect(await card.locator('.r-left').textContent()).toMatch(/^[01]:\d\d$/);
    // The page's clock jumps past the request's end (the desktop's own clock stays put).
    await p.clock.fastForward(push.expiresAt - Date.now() + 1_000);
    await expect.poll(() => card.locator('.r-state').textContent()).toBe('Expired');
    expect(await finishedCard(card)).toEqual({
      state: 'Expired',
      detail: 'No answer arrived in time. Resend the push from Twofold Backup if you still need it.',
      answerShown: false,
      timeLeftShown: false,
      enabledButtons: 0,
    });
    const frozen = await card.locator('.r-left').textContent();
    await p.clock.fastForward(2_000);
    expect(await card.locator('.r-left').textContent()).toBe(frozen);
    expect(await a11yFindingsBothThemes(p)).toEqual([]);
    await p.clock.fastForward(10_000);
    await card.waitFor({ state: 'detached' });
    expect(await p.getByText('No requests right now.').isVisible()).toBe(true);
  });

  it('reports "this wasn\'t me", which mutes push on the desktop', async () => {
    t = await app();
    const p = await pairInBrowser(t);
    await toSecondFactor(t);
    const push = await t.ok('push.start', {});
    const card = p.locator('.request').first();
    await card.getByRole('button', { name: "This wasn't me" }).click();
    await expect.poll(() => card.locator('.r-state').textContent()).toBe('Reported');
    expect(await card.locator('.r-detail').textContent()).toBe('You reported that this was not you. Push is muted on the computer for 20 minutes.');
    expect(await t.ok('push.poll', { requestId: push.requestId, waitMs: 20_000 })).toMatchObject({ state: 'reported' });
    expect((await t.ok('push.status', {})).mutedUntil).not.toBeNull();
  });

  it('says "Cancelled" once the desktop cancelled the request, and nothing can be pressed', async () => {
    t = await app();
    const p = await pairInBrowser(t);
    await toSecondFactor(t);
    const push = await t.ok('push.start', {});
    const card = p.locator('.request').first();
    await card.waitFor();
    await t.ok('push.cancel', { requestId: push.requestId });
    await expect.poll(() => card.locator('.r-state').textContent()).toBe('Cancelled');
    expect(await finishedCard(card)).toEqual({
      state: 'Cancelled',
      detail: 'The request was cancelled on the computer.',
      answerShown: false,
      timeLeftShown: false,
      enabledButtons: 0,
    });
    expect(await card.getByRole('button', { name: `Approve with ${push.number}`, includeHidden: true, disabled: true }).count()).toBe(1);
  });

  it('shows a code the desktop accepts when push is unavailable', async () => {
    t = await app();
    const p = await pairInBrowser(t);
    await toSecondFactor(t);
    const show = p.getByRole('button', { name: 'Show code' });
    expect(await show.getAttribute('aria-expanded')).toBe('false');
    await show.click();
    expect(await p.getByRole('button', { name: 'Hide code' }).getAttribute('aria-expanded')).toBe('true');
    const code = (await p.getByLabel('Code', { exact: true }).textContent())!;
    expect(code).toMatch(/^\d{6}$/);
    expect(await p.locator('.p-code-left').textContent()).toMatch(/^A new code in ([1-9]|[12]\d|30) s\.$/);
    expect(await phoneLayoutProblems(p)).toEqual([]);
    expect(await a11yFindingsBothThemes(p)).toEqual([]);
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
      const ph = await phonePage();
      const errors: string[] = [];
      ph.on('console', (m) => errors.push(m.text()));
      await ph.goto(other.url);
      await expect.poll(() => errors.some((e) => e.includes('integrity'))).toBe(true);
      expect(await ph.textContent('#connection')).toBe('Starting…');
      // The genuine copy runs.
      await ph.goto(host.url);
      await expect.poll(() => ph.textContent('#connection')).toBe('Not paired yet.');
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

    const { page: p, link } = await pairWithLink(t, new URL(hostile.url).host, await phonePage());
    const requestId = await approveUnlock(t, p);
    const { otpSeed } = await storedPairing(p);

    // Its page was never asked for, so its script never ran; and what it relayed is ciphertext.
    expect(hostile.pageRequests).toEqual([]);
    expect(hostile.loot).toEqual([]);
    const carried = hostile.recorded.map(({ frame }) => String(frame.body)).join('\n');
    expect(hostile.recorded.length).toBeGreaterThan(3);
    for (const visible of [
      otpSeed,
      parsePairingLink(link).s,
      parsePairingLink(begin.link).s,
      'Ada',
      'Unlock',
      'test-workstation',
      'Browser phone',
      requestId,
    ]) {
      expect(carried).not.toContain(visible);
    }
  });

  it('reads the pairing secret and what the desktop sends once the user says the relay may serve the page: why that is an explicit choice', async () => {
    hostile = new HostileRelay(relay.url, outDir);
    await hostile.start();
    t = await app(hostile.url);
    const trustRelay = { choice: { source: 'relay' as const } };
    expect((await t.ok('push.setWebCompanion', trustRelay, await t.passwordProof('push.setWebCompanion', trustRelay))).url).toBe(
      `${hostile.httpOrigin}/companion/`,
    );
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
    await expect.poll(() => p.textContent('#notice')).toBe('Companion “Browser phone” paired with Ada on test-workstation.');
    expect(status.state).toBe('confirm');
    expect(hostile.loot.some((l) => l.what === 'plaintext' && l.value.includes('"otpSeed"'))).toBe(true);
  });
});
