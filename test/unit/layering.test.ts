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

describe('the layering rule (docs/design.md, "The house") fails the lint', () => {
  it('when src-main/core imports electron', async () => {
    expect(await layering('src-main/core/bad.ts', "import { app } from 'electron';\nexport const x = app;\n")).toEqual([
      'src-main/core must not import electron; only src-main/electron may (docs/design.md, "The house").',
    ]);
  });

  it('when src-main/core requires electron dynamically', async () => {
    expect(await layering('src-main/core/bad.ts', "export const e = await import('electron');\n")).toHaveLength(1);
  });

  it('when src-renderer imports src-main', async () => {
    expect(await layering('src-renderer/bad.tsx', "import { createCore } from '../src-main/core/composition.js';\nexport const c = createCore;\n")).toEqual([
      'src-renderer may not import from src-main/core (docs/design.md, "The house").',
    ]);
  });

  it('when src-renderer imports a Node built-in', async () => {
    expect(await layering('src-renderer/bad.tsx', "import fs from 'node:fs';\nexport const f = fs;\n")).toEqual([
      'src-renderer runs in the browser too, so it may not import the Node built-in "node:fs".',
    ]);
  });

  it('when src-shared imports anything but src-shared and its pure packages (zod, otplib)', async () => {
    expect(await layering('src-shared/bad.ts', "export { Gate } from '../src-main/core/gate/gate.js';\n")).toEqual([
      'src-shared may not import from src-main/core/gate (docs/design.md, "The house").',
    ]);
    expect(await layering('src-shared/bad.ts', "import { WebSocket } from 'ws';\nexport const w = WebSocket;\n")).toEqual([
      'src-shared may import only zod, otplib, not "ws".',
    ]);
  });

  it('when the core reaches up into the router, or a shell past the router into the core', async () => {
    expect(await layering('src-main/core/bad.ts', "export * from '../api/router.js';\n")).toEqual([
      'src-main/core may not import from src-main/api (docs/design.md, "The house").',
    ]);
    expect(await layering('src-main/console/bad.ts', "export * from '../core/gate/gate.js';\n")).toEqual([
      'src-main/console may not import from src-main/core/gate (docs/design.md, "The house").',
    ]);
  });

  it('when the Node-side web helpers (src-node) reach into the app, or use a package', async () => {
    expect(await layering('src-node/bad.ts', "export * from '../src-main/api/app.js';\n")).toEqual([
      'src-node may not import from src-main/api (docs/design.md, "The house").',
    ]);
    expect(await layering('src-node/bad.ts', "export * from '../src-relay/server.js';\n")).toEqual([
      'src-node may not import from src-relay (docs/design.md, "The house").',
    ]);
    expect(await layering('src-node/bad.ts', "import { WebSocket } from 'ws';\nexport const w = WebSocket;\n")).toHaveLength(1);
    expect(await layering('src-node/ok.ts', "import { join } from 'node:path';\nexport const j = join;\n")).toEqual([]);
    expect(await layering('src-relay/ok.ts', "export * from '../src-node/web-files.js';\n")).toEqual([]);
    expect(await layering('src-renderer/bad.tsx', "export * from '../src-node/web-files.js';\n")).toHaveLength(1);
  });

  it('when the relay or the companion import the desktop app', async () => {
    expect(await layering('src-relay/bad.ts', "export * from '../src-main/api/app.js';\n")).toHaveLength(1);
    expect(await layering('src-companion/bad.ts', "export * from '../src-main/core/totp.js';\n")).toHaveLength(1);
  });

  it('when the engine imports a gate file, or the backup services do', async () => {
    expect(await layering('src-main/core/backup/engine/bad.ts', "export { Vault } from '../../gate/vault.js';\n")).toEqual([
      'src-main/core/backup/engine may not import from src-main/core/gate (docs/design.md, "The house").',
    ]);
    expect(await layering('src-main/core/backup/bad.ts', "export { Gate } from '../gate/gate.js';\n")).toEqual([
      'src-main/core/backup may not import from src-main/core/gate (docs/design.md, "The house").',
    ]);
  });

  it('when the gate imports the backups, or the engine the backup services above it', async () => {
    expect(await layering('src-main/core/gate/bad.ts', "export * from '../backup/engine/repository.js';\n")).toEqual([
      'src-main/core/gate may not import from src-main/core/backup/engine (docs/design.md, "The house").',
    ]);
    expect(await layering('src-main/core/backup/engine/bad.ts', "export * from '../service.js';\n")).toEqual([
      'src-main/core/backup/engine may not import from src-main/core/backup (docs/design.md, "The house").',
    ]);
  });

  it('when platform reaches up into the gate', async () => {
    expect(await layering('src-main/core/platform/bad.ts', "export * from '../gate/audit.js';\n")).toHaveLength(1);
  });

  it('when a package is used where it cannot run, or does not belong', async () => {
    expect(await layering('src-renderer/bad.tsx', "import Database from 'better-sqlite3';\nexport const d = Database;\n")).toEqual([
      'src-renderer may import only react, react-dom, zod, not "better-sqlite3".',
    ]);
    expect(await layering('src-main/core/backup/engine/bad.ts', "import { useState } from 'react';\nexport const u = useState;\n")).toEqual([
      'src-main/core/backup/engine may import only zod, zstd-napi, picomatch, not "react".',
    ]);
    expect(await layering('src-main/core/backup/engine/bad.ts', "import Database from 'better-sqlite3';\nexport const d = Database;\n")).toHaveLength(1);
  });

  it('when the engine outside its storages uses the S3 client: only a storage talks to a server', async () => {
    const s3 = "import { S3Client } from '@aws-sdk/client-s3';\nexport const c = S3Client;\n";
    expect(await layering('src-main/core/backup/engine/repository-s3.ts', s3)).toEqual([
      'src-main/core/backup/engine may import only zod, zstd-napi, picomatch, not "@aws-sdk/client-s3".',
    ]);
    expect(await layering('src-main/core/backup/engine/storage/s3-other.ts', s3)).toEqual([]);
    expect(await layering('src-main/core/backup/engine/storage/s3-other.ts', "export * from '../../service.js';\n")).toHaveLength(1);
  });
});

describe('the layering rule allows the arrows docs/design.md draws', () => {
  it.each([
    ['src-main/electron/main.ts', 'electron'],
    ['src-main/electron/main.ts', '../api/app.js'],
    ['src-main/console/server.ts', '../api/app.js'],
    ['src-main/api/router.ts', '../core/gate/gate.js'],
    ['src-main/core/gate/gate.ts', '../../../src-shared/contract.js'],
    ['src-main/core/gate/gate.ts', '../platform/store.js'],
    ['src-main/core/gate/push/pairing.ts', '../vault.js'],
    ['src-main/core/platform/store.ts', 'node:fs'],
    ['src-main/core/platform/store.ts', 'better-sqlite3'],
    ['src-main/core/backup/engine/repository.ts', '../../platform/crypto.js'],
    ['src-main/core/backup/engine/blob.ts', 'zstd-napi/binding.js'],
    ['src-main/core/backup/service.ts', './engine/repository.js'],
    ['src-main/core/composition.ts', './gate/gate.js'],
    ['src-main/core/composition.ts', './backup/service.js'],
    ['src-renderer/App.tsx', '../src-shared/contract.js'],
    ['src-renderer/App.tsx', 'react'],
    ['src-relay/server.ts', 'ws'],
    ['src-companion/cli.ts', '../src-shared/contract.js'],
    ['src-shared/contract.ts', 'zod'],
    ['test/anything.test.ts', '../src-main/core/gate/gate.js'],
  ])('%s may import %s', (file, spec) => {
    expect(layeringViolation(root, `${root}${file}`, spec)).toBeNull();
  });
});
