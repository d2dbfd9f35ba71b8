/**
 * A private, real OS keychain for tests: a D-Bus session bus of our own and gnome-keyring's
 * Secret Service on it, in a throwaway home folder. @napi-rs/keyring reaches it through
 * DBUS_SESSION_BUS_ADDRESS exactly as it reaches a desktop's keychain.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PrivateKeyring {
  env: Record<string, string>;
  stop(): void;
}

function need(command: string, debianPackage: string): void {
  if (spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0) {
    throw new Error(`The tests need ${command} (Debian package ${debianPackage}); .ci/run installs it.`);
  }
}

async function waitFor(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startPrivateKeyring(): Promise<PrivateKeyring> {
  need('dbus-daemon', 'dbus');
  need('gnome-keyring-daemon', 'gnome-keyring');
  const home = mkdtempSync(join(tmpdir(), 'twofold-keyring-'));
  const runtime = join(home, 'run');
  mkdirSync(runtime, { mode: 0o700 });
  const socket = join(runtime, 'bus');
  const env: Record<string, string> = {
    HOME: home,
    XDG_DATA_HOME: join(home, 'data'),
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_RUNTIME_DIR: runtime,
    DBUS_SESSION_BUS_ADDRESS: `unix:path=${socket}`,
  };
  const children: ChildProcess[] = [];
  const stop = () => {
    for (const child of children.reverse()) child.kill('SIGTERM');
    rmSync(home, { recursive: true, force: true });
  };
  try {
    const bus = spawn('dbus-daemon', ['--session', '--nofork', '--nopidfile', `--address=unix:path=${socket}`], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
    children.push(bus);
    await waitFor('the D-Bus session bus', () => existsSync(socket));

    // A non-empty unlock password makes gnome-keyring create the default ("login") collection.
    const keyring = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    children.push(keyring);
    keyring.stdin!.end('twofold-test-keyring');
    await waitFor('gnome-keyring on the bus', () => secretServiceOwned(env));
    return { env, stop };
  } catch (error) {
    stop();
    throw error;
  }
}

function secretServiceOwned(env: Record<string, string>): boolean {
  const probe = spawnSync(
    'dbus-send',
    [
      '--session',
      '--print-reply',
      '--dest=org.freedesktop.DBus',
      '/org/freedesktop/DBus',
      'org.freedesktop.DBus.NameHasOwner',
      'string:org.freedesktop.secrets',
    ],
    { env: { ...process.env, ...env }, encoding: 'utf8' },
  );
  return probe.status === 0 && probe.stdout.includes('boolean true');
}
