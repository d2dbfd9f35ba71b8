/**
 * The tests' own keychain (test/helpers/private-keyring.ts): a daemon that exits during a run is
 * reported and started again, and what was stored before is still there.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startPrivateKeyring, type PrivateKeyring } from '../helpers/private-keyring.js';

const KEYCHAIN = new URL('../../src-main/core/platform/keychain.ts', import.meta.url).href;

/** Runs keychain calls in a child that talks to `keyring` only (the binding reads the bus address at start). */
function inChild(keyring: PrivateKeyring, body: string): string {
  const script = `import { createOsKeychain } from ${JSON.stringify(KEYCHAIN)};\nconst k = createOsKeychain('Twofold Backup (supervisor test)');\n${body}\n`;
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, ...keyring.env },
    encoding: 'utf8',
  }).trim();
}

async function killAndWait(keyring: PrivateKeyring, pid: number | undefined): Promise<void> {
  expect(pid).toBeGreaterThan(0);
  process.kill(pid!, 'SIGKILL');
  await expect.poll(() => keyring.events.length, { timeout: 5000 }).toBeGreaterThan(0);
  await keyring.ready();
}

describe('the private keychain of the test run', () => {
  it('starts gnome-keyring again after it is killed, unlocked, with what was stored before', async () => {
    const keyring = await startPrivateKeyring({ report: false });
    try {
      inChild(keyring, 'await k.set("kept", Buffer.from("before the kill"));');
      const first = keyring.pids().keyring;
      await killAndWait(keyring, first);
      expect(keyring.events[0]).toMatch(/^gnome-keyring-daemon exited \(signal SIGKILL\) during the test run; starting it again\./);
      expect(keyring.pids().keyring).not.toBe(first);
      expect(inChild(keyring, 'console.log((await k.get("kept"))?.toString());')).toBe('before the kill');
      expect(inChild(keyring, 'await k.set("after", Buffer.from("x")); console.log((await k.get("after"))?.toString());')).toBe('x');
    } finally {
      keyring.stop();
    }
  });

  it('starts the bus and gnome-keyring again after the bus is killed', async () => {
    const keyring = await startPrivateKeyring({ report: false });
    try {
      inChild(keyring, 'await k.set("kept", Buffer.from("on disk"));');
      await killAndWait(keyring, keyring.pids().bus);
      expect(keyring.events[0]).toMatch(/^dbus-daemon exited \(signal SIGKILL\)/);
      expect(inChild(keyring, 'console.log((await k.get("kept"))?.toString());')).toBe('on disk');
    } finally {
      keyring.stop();
    }
  });
});
