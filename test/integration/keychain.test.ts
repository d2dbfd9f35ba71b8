import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createOsKeychain, NO_KEYCHAIN_MESSAGE } from '../../src-main/core/keychain.js';
import { STRONG_PASSWORD } from '../helpers/app.js';
import { results, runChild } from '../helpers/child.js';

describe('the keychain port', () => {
  it('stores, reads and deletes a secret in the real OS keychain', async () => {
    const keychain = createOsKeychain('Twofold Backup (test)');
    const secret = Buffer.from([0, 1, 2, 250, 255, 128]);
    await keychain.set('roundtrip', secret);
    expect(await keychain.get('roundtrip')).toEqual(secret);
    expect(await keychain.delete('roundtrip')).toBe(true);
    expect(await keychain.get('roundtrip')).toBeNull();
  });

  it('never falls back to the kernel keyring: with no Secret Service even a read fails', () => {
    // The binding's default on Linux is to fall back silently to keyutils, whose keys are gone at reboot.
    const keychainModule = new URL('../../src-main/core/keychain.ts', import.meta.url).href;
    const script =
      `import { createOsKeychain } from ${JSON.stringify(keychainModule)};\n` +
      'const k = createOsKeychain();\n' +
      'for (const op of [() => k.get("probe"), () => k.set("probe", Buffer.from("x"))]) {\n' +
      '  try { await op(); console.log("ok"); } catch (e) { console.log(e.code); }\n' +
      '}\n';
    const noBus = `unix:path=${join(tmpdir(), 'twofold-no-bus-here')}`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: noBus },
      encoding: 'utf8',
    });
    expect(out.trim().split('\n')).toEqual(['KEYCHAIN_UNAVAILABLE', 'KEYCHAIN_UNAVAILABLE']);
  });

  it('stops with a clear error, and creates nothing, when no keychain is reachable', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'twofold-nokeychain-'));
    try {
      const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(dataDir, 'no-bus-here')}` };
      const output = await runChild(
        {
          dataDir,
          calls: [
            { method: 'account.setup', input: { accountName: 'Ada', password: STRONG_PASSWORD } },
            { method: 'app.status', input: {} },
          ],
        },
        env,
      );
      expect(output.code, output.stderr).toBe(0);
      const [setup, status] = results(output) as [unknown, { value: { setupNeeded: boolean } }];
      expect(setup).toEqual({ ok: false, error: { code: 'KEYCHAIN_UNAVAILABLE', message: NO_KEYCHAIN_MESSAGE } });
      expect(status.value.setupNeeded).toBe(true);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
