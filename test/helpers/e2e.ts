/** What the end-to-end suites share: reading a QR code off the page, codes from oathtool, screenshots, axe. */
import { AxeBuilder } from '@axe-core/playwright';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locator, Page } from 'playwright-core';
import { oathtoolCode } from './oathtool.js';

export const SCREENSHOT_DIR = fileURLToPath(new URL('../../test-results/screenshots', import.meta.url));

/** Decode the PNG an <img> shows with zbarimg, an independent QR reader. */
export async function readQr(img: Locator): Promise<string> {
  const src = (await img.getAttribute('src')) ?? '';
  const match = /^data:image\/png;base64,(.+)$/.exec(src);
  if (!match) throw new Error('The QR image is not an inline PNG.');
  const dir = mkdtempSync(join(tmpdir(), 'twofold-qr-'));
  try {
    const file = join(dir, 'qr.png');
    writeFileSync(file, Buffer.from(match[1]!, 'base64'));
    return execFileSync('zbarimg', ['--raw', '-q', file], { encoding: 'utf8' }).trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * An authenticator app in a test: oathtool computes the code, and each code is from a time step
 * after the last one used (the core accepts a step once), waiting for the next step when needed.
 */
export class TestAuthenticator {
  private lastStep = -1;
  constructor(readonly secret: string) {}

  async code(): Promise<string> {
    let now = Date.now();
    if (Math.floor(now / 30_000) <= this.lastStep) {
      await new Promise((r) => setTimeout(r, (this.lastStep + 1) * 30_000 - now + 50));
      now = Date.now();
    }
    this.lastStep = Math.floor(now / 30_000);
    return oathtoolCode(this.secret, now);
  }
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Accessibility: the axe rules that are serious or critical, as "rule: target" lines. */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`));
}
