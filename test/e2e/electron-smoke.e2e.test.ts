import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron as electron } from 'playwright-core';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const electronDir = dirname(require.resolve('electron/package.json'));
const pathFile = join(electronDir, 'path.txt');
const binary = existsSync(pathFile) ? join(electronDir, 'dist', readFileSync(pathFile, 'utf8').trim()) : null;
const hasElectron = binary !== null && existsSync(binary);
const root = fileURLToPath(new URL('../..', import.meta.url));
const builtMain = join(root, 'dist', 'main', 'src-main', 'electron', 'main.js');

const reason = hasElectron
  ? ''
  : ' (skipped: no Electron binary here. Electron downloads it on the first `npm start`, which this machine ' +
    'cannot reach; on a desktop run `npm start` once (or `npx install-electron`) and `npm run build` to enable this test.)';

describe('the Electron shell', () => {
  it.skipIf(!hasElectron || !existsSync(builtMain))(`opens the hardened window on the app:// protocol${reason}`, async () => {
    const userData = mkdtempSync(join(tmpdir(), 'twofold-electron-'));
    const app = await electron.launch({ executablePath: binary!, args: [root, `--user-data-dir=${userData}`] });
    try {
      const page = await app.firstWindow();
      await page.getByRole('heading', { name: 'Set up Twofold Backup' }).waitFor();
      expect(page.url()).toBe('app://twofold/index.html');
      expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
      expect(await page.evaluate(() => typeof (globalThis as { twofold?: { call?: unknown } }).twofold?.call)).toBe('function');
    } finally {
      await app.close();
      rmSync(userData, { recursive: true, force: true });
    }
  });
});
