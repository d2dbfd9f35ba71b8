import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createOsKeychain, NO_KEYCHAIN_MESSAGE } from '../../src-main/core/platform/keychain.js';
import { STRONG_PASSWORD } from '../helpers/app.js';
import { results, runChild } from '../helpers/child.js';
import { startPrivateKeyring, type PrivateKeyring } from '../helpers/private-keyring.js';

const CONSOLE_MAIN = fileURLToPath(new URL('../../src-main/console/main.ts', import.meta.url));

const KEYCHAIN_MODULE = new URL('../../src-main/core/platform/keychain.ts', import.meta.url).href;

/** A child process whose keychain is `keyring` (the binding reads the bus address when it starts). */
function keychainChild(keyring: PrivateKeyring, body: string) {
  const script = `import { readdirSync } from 'node:fs';\nimport { createOsKeychain } from ${JSON.stringify(KEYCHAIN_MODULE)};\nconst k = createOsKeychain('Twofold Backup (test)');\n${body}\n`;
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, ...keyring.env, BUS_PID: String(keyring.pids().bus) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
}

async function outputOf(child: ReturnType<typeof keychainChild>): Promise<string[]> {
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await once(child, 'close');
  return out.trim().split('\n');
}

describe('the keychain port', () => {
  it('stores, reads and deletes a secret in the real OS keychain', async () => {
    const keychain = createOsKeychain('Twofold Backup (test)');
    const secret = Buffer.from([0, 1, 2, 250, 255, 128]);
    await keychain.set('roundtrip', secret);
    expect(await keychain.get('roundtrip')).toEqual(secret);
    expect(await keychain.delete('roundtrip')).toBe(true);
    expect(await keychain.get('roundtrip')).toBeNull();
  });

  it('keeps one connection to the Secret Service per secret, however many calls it makes', async () => {
    const keyring = await startPrivateKeyring({ report: false });
    try {
      const child = keychainChild(
        keyring,
        'const connections = () => readdirSync(`/proc/${process.env.BUS_PID}/fd`).length;\n' +
          'await k.get("a"); await k.get("b"); const before = connections();\n' +
          'for (let i = 0; i < 200; i++) { await k.set(i % 2 ? "a" : "b", Buffer.from([i])); await k.get(i % 2 ? "a" : "b"); }\n' +
          'console.log(connections() - before); console.log((await k.get("a"))?.[0]);',
      );
      // One entry made per call left a connection open per call until garbage collection (400 here).
      expect(await outputOf(child)).toEqual(['0', '199']);
    } finally {
      keyring.stop();
    }
  });

  it('works again when the Secret Service restarts under it, with what it kept', async () => {
    const keyring = await startPrivateKeyring({ report: false });
    try {
      const child = keychainChild(
        keyring,
        'await k.set("kept", Buffer.from("before"));\nconsole.log("ready");\n' +
          'await new Promise((resolve) => process.stdin.once("data", resolve));\n' +
          'console.log((await k.get("kept"))?.toString()); process.exit(0);',
      );
      const output = outputOf(child);
      await new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
      process.kill(keyring.pids().keyring!, 'SIGKILL');
      await expect.poll(() => keyring.events.length, { timeout: 5000 }).toBe(1);
      await keyring.ready();
      child.stdin!.write('go\n');
      expect(await output).toEqual(['ready', 'before']);
    } finally {
      keyring.stop();
    }
  });

  it('never falls back to the kernel keyring: with no Secret Service even a read fails', () => {
    // The binding's default on Linux is to fall back silently to keyutils, whose keys are gone at reboot.
    const keychainModule = new URL('../../src-main/core/platform/keychain.ts', import.meta.url).href;
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

  it('stops the console before it writes anything (no data folder, database or log) when no keychain is reachable', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'twofold-nokeychain-'));
    const dataDir = join(parent, 'data');
    try {
      const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(parent, 'no-bus-here')}` };
      const child = spawn(process.execPath, ['--import', 'tsx', CONSOLE_MAIN, '--data-dir', dataDir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      // A console that started anyway would serve forever: give it a bounded time to stop.
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      clearTimeout(timer);
      expect(code).toBe(1);
      expect(stderr).toContain(`Twofold Backup cannot start: ${NO_KEYCHAIN_MESSAGE}`);
      expect(stdout).not.toContain('open:');
      expect(existsSync(dataDir)).toBe(false);
      expect(readdirSync(parent)).toEqual([]);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('refuses every call, and creates no account, when the keychain goes away after the app started', async () => {
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
