/**
 * The pictures of the product tour in docs/user-guide.md, taken by the end-to-end tests at the
 * moment each one reaches its screen, so the tour shows the app as it is. Every picture has a
 * fixed size (the desktop window or a phone's), the light theme and settled content: no
 * animation, no caret, the web fonts loaded. The tests give fixed names to what they create.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

/**
 * `npm run docs:tour` (TWOFOLD_TOUR=1) writes the pictures into docs/images, to be committed; any
 * other run (`npm test`, CI) takes them all the same, into test-results/tour, so every test run
 * proves the tour can be taken and leaves the checkout as it was.
 */
export const TOUR_DIR = fileURLToPath(new URL(process.env.TWOFOLD_TOUR === '1' ? '../../docs/images' : '../../test-results/tour', import.meta.url));

export const TOUR_VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

/** The tour's pictures, by file name (docs/images/<name>.png): each is taken by one test. */
export type TourShot =
  | 'lock-screen'
  | 'second-factor'
  | 'overview'
  | 'backup-sets'
  | 'snapshots'
  | 'restore'
  | 'security-devices'
  | 'audit-log'
  | 'pair-companion'
  | 'companion-pairing'
  | 'companion-request';

// Evaluated in the page: this file is type-checked without the DOM's types.
const PREFERS_DARK = "matchMedia('(prefers-color-scheme: dark)').matches";
const SETTLED = 'document.fonts.ready.then(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))))';

/**
 * Write <name>.png (into TOUR_DIR) of the page as it is now, at the given size in the light theme;
 * the page's own size and colour scheme are put back afterwards.
 */
export async function tourShot(page: Page, name: TourShot, size: keyof typeof TOUR_VIEWPORTS = 'desktop'): Promise<void> {
  const viewport = TOUR_VIEWPORTS[size];
  const before = page.viewportSize();
  const dark = await page.evaluate<boolean>(PREFERS_DARK);
  const resize = before?.width !== viewport.width || before?.height !== viewport.height;
  try {
    if (dark) await page.emulateMedia({ colorScheme: 'light' });
    if (resize) await page.setViewportSize(viewport);
    await page.evaluate(SETTLED);
    mkdirSync(TOUR_DIR, { recursive: true });
    await page.screenshot({ path: join(TOUR_DIR, `${name}.png`), animations: 'disabled', caret: 'hide', scale: 'css' });
  } finally {
    if (resize && before) await page.setViewportSize(before);
    if (dark) await page.emulateMedia({ colorScheme: 'dark' });
  }
}
