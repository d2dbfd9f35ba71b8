/** Starts the real console (core + router + built UI) on loopback for a test, and Chromium to drive it. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { createApp, type App } from '../../src-main/api/app.js';
import { startConsole, type ConsoleServer } from '../../src-main/console/server.js';

export const RENDERER_DIR = fileURLToPath(new URL('../../dist/renderer', import.meta.url));

export interface TestConsole {
  app: App;
  server: ConsoleServer;
  dataDir: string;
  close(): Promise<void>;
}

export async function startTestConsole(): Promise<TestConsole> {
  const dataDir = mkdtempSync(join(tmpdir(), 'twofold-console-'));
  const app = createApp({ dataDir, appVersion: '0.0.0-test', idleCheckMs: 0, kdfTargetMs: 1 });
  const server = await startConsole({ router: app.router, rendererDir: RENDERER_DIR });
  return {
    app,
    server,
    dataDir,
    async close() {
      await server.close();
      app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`The end-to-end tests need Chromium at ${CHROMIUM} (Debian package chromium).`);
  return chromium.launch({
    executablePath: CHROMIUM,
    // The background-networking flags keep Chromium from reaching for Google's hosts,
    // which this closed network refuses.
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
