/**
 * electron-builder.yml, read the way electron-builder reads it: it must pass electron-builder's
 * own schema (so a renamed or mistyped option fails here, not at `npm run dist`), and every fuse
 * the installed Electron tooling knows must be set explicitly, so an Electron upgrade that adds a
 * fuse makes this test name it instead of shipping it at its default.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Each module as electron-builder itself resolves it: the schema and fuse list it packages with.
const fromBuilder = createRequire(createRequire(import.meta.url).resolve('electron-builder'));
const fromLib = createRequire(fromBuilder.resolve('app-builder-lib'));
const root = fileURLToPath(new URL('../..', import.meta.url));
const yaml = fromLib('js-yaml') as { load(text: string): unknown };
const { validateConfiguration } = fromLib('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration(config: unknown, debugLogger: { add(): void; isEnabled: boolean }): Promise<void>;
};
const { FuseV1Options } = fromLib('@electron/fuses') as { FuseV1Options: Record<string, string | number> };

type Config = { electronFuses: Record<string, boolean>; asar: boolean; files: string[] };
const config = yaml.load(readFileSync(`${root}/electron-builder.yml`, 'utf8')) as Config;
const quietLogger = { add() {}, isEnabled: false };

describe('the packaging configuration', () => {
  it("passes electron-builder's own schema", async () => {
    await expect(validateConfiguration(config, quietLogger)).resolves.toBeUndefined();
  });

  it('is really checked: an unknown option is refused by the same schema', async () => {
    const typo = { ...config, electronFuses: { ...config.electronFuses, runAsNodee: false } };
    await expect(validateConfiguration(typo, quietLogger)).rejects.toThrow(/does not match the API schema/);
  });

  it('sets every fuse the installed Electron tooling knows', () => {
    const known = Object.keys(FuseV1Options)
      .filter((name) => Number.isNaN(Number(name)))
      .map((name) => name[0]!.toLowerCase() + name.slice(1));
    expect(known.length).toBeGreaterThanOrEqual(8);
    expect(Object.keys(config.electronFuses).sort()).toEqual(known.sort());
  });

  it('locks the shipped binary down', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
    expect(config.asar).toBe(true);
  });
});
