import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { layeringViolation } from '../../tools/eslint-layering.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: root });

/** Lint a snippet as if it were the file at `path`; return the layering messages. */
async function layering(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}${path}` });
  return result!.messages.filter((m) => m.ruleId === 'local/layering').map((m) => m.message);
}

describe('the layering rule (DESIGN.md §2) fails the lint', () => {
  it('when src-main/core imports electron', async () => {
    expect(await layering('src-main/core/bad.ts', "import { app } from 'electron';\nexport const x = app;\n")).toEqual([
      'src-main/core must not import electron; only src-main/electron may (DESIGN.md §2).',
    ]);
  });

  it('when src-main/core requires electron dynamically', async () => {
    expect(await layering('src-main/core/bad.ts', "export const e = await import('electron');\n")).toHaveLength(1);
  });

  it('when src-renderer imports src-main', async () => {
    expect(
      await layering('src-renderer/bad.tsx', "import { createCore } from '../src-main/core/composition.js';\nexport const c = createCore;\n"),
    ).toEqual(['src-renderer may not import from src-main/core (DESIGN.md §2).']);
  });

  it('when src-renderer imports a Node built-in', async () => {
    expect(await layering('src-renderer/bad.tsx', "import fs from 'node:fs';\nexport const f = fs;\n")).toEqual([
      'src-renderer runs in the browser too, so it may not import the Node built-in "node:fs".',
    ]);
  });

  it('when src-shared imports anything but src-shared and its pure packages (zod, otplib)', async () => {
    expect(await layering('src-shared/bad.ts', "export { Gate } from '../src-main/core/gate.js';\n")).toEqual([
      'src-shared may not import from src-main/core (DESIGN.md §2).',
    ]);
    expect(await layering('src-shared/bad.ts', "import { WebSocket } from 'ws';\nexport const w = WebSocket;\n")).toEqual([
      'src-shared may import only zod, otplib, not "ws".',
    ]);
  });

  it('when the core reaches up into the router, or a shell past the router into the core', async () => {
    expect(await layering('src-main/core/bad.ts', "export * from '../api/router.js';\n")).toEqual([
      'src-main/core may not import from src-main/api (DESIGN.md §2).',
    ]);
    expect(await layering('src-main/console/bad.ts', "export * from '../core/gate.js';\n")).toEqual([
      'src-main/console may not import from src-main/core (DESIGN.md §2).',
    ]);
  });

  it('when the relay or the companion import the desktop app', async () => {
    expect(await layering('src-relay/bad.ts', "export * from '../src-main/api/app.js';\n")).toHaveLength(1);
    expect(await layering('src-companion/bad.ts', "export * from '../src-main/core/totp.js';\n")).toHaveLength(1);
  });
});

describe('the layering rule allows the arrows DESIGN.md §2 draws', () => {
  it.each([
    ['src-main/electron/main.ts', 'electron'],
    ['src-main/electron/main.ts', '../api/app.js'],
    ['src-main/console/server.ts', '../api/app.js'],
    ['src-main/api/router.ts', '../core/gate.js'],
    ['src-main/core/gate.ts', '../../src-shared/contract.js'],
    ['src-main/core/store.ts', 'node:fs'],
    ['src-renderer/App.tsx', '../src-shared/contract.js'],
    ['src-renderer/App.tsx', 'react'],
    ['src-relay/server.ts', 'ws'],
    ['src-companion/cli.ts', '../src-shared/contract.js'],
    ['src-shared/contract.ts', 'zod'],
    ['test/anything.test.ts', '../src-main/core/gate.js'],
  ])('%s may import %s', (file, spec) => {
    expect(layeringViolation(root, `${root}${file}`, spec)).toBeNull();
  });
});
