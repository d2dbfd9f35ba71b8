/**
 * A private, real OS keychain for tests: a D-Bus session bus of our own and gnome-keyring's
 * Secret Service on it, in a throwaway home folder. @napi-rs/keyring reaches it through
 * DBUS_SESSION_BUS_ADDRESS exactly as it reaches a desktop's keychain.
 *
 * The daemons are supervised for the length of the run: if either exits, the exit and the last
 * lines it printed are reported on stderr (and kept in `events`), and it is started again on the
 * same socket and keyring file, unlocked with the same password, so what the tests stored stays.
 * Without this, one daemon exit would fail every later test with KEYCHAIN_UNAVAILABLE and say
 * nothing about why.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PrivateKeyring {
  env: Record<string, string>;
  /** Unexpected daemon exits seen so far, each with the last lines the daemon printed. */
  events: string[];
  /** The running daemons' process ids (for the supervisor's own test). */
  pids(): { bus: number | undefined; keyring: number | undefined };
  /** Resolves once a restart under way (if any) has finished. */
  ready(): Promise<void>;
  stop(): void;
}

const UNLOCK_PASSWORD = 'twofold-test-keyring';

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

/** One supervised daemon: its last output is kept, and an exit not asked for is reported. */
class Daemon {
  private child: ChildProcess | null = null;
  private tail = '';

  constructor(
    readonly name: string,
    private readonly launch: () => ChildProcess,
    private readonly onUnexpectedExit: (name: string, how: string, tail: string) => void,
  ) {}

  start(): void {
    const child = this.launch();
    this.child = child;
    const keep = (chunk: Buffer) => {
      this.tail = (this.tail + chunk.toString()).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      this.onUnexpectedExit(this.name, signal ? `signal ${signal}` : `code ${code}`, this.tail);
    });
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  stop(): void {
    const child = this.child;
    this.child = null;
    child?.kill('SIGTERM');
  }
}

/** `report: false` keeps a test's own, deliberate daemon kills out of the run's output. */
export async function startPrivateKeyring({ report = true }: { report?: boolean } = {}): Promise<PrivateKeyring> {
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
  const daemonEnv = { ...process.env, ...env };
  const events: string[] = [];
  let stopping = false;
  let restarting: Promise<void> = Promise.resolve();
  // The bus's own configuration, without the system's service folders: a client calling a
  // Secret Service that has gone must not get one started by D-Bus activation (locked, without
  // our password) in place of the supervisor's restart.
  const busConfig = join(home, 'bus.conf');
  writeFileSync(busConfig, busConfigFor(socket));

  const bus = new Daemon(
    'dbus-daemon',
    () =>
      spawn('dbus-daemon', [`--config-file=${busConfig}`, '--nofork', '--nopidfile'], {
        env: daemonEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    (name, how, tail) => restartAfter(name, how, tail, true),
  );
  const keyring = new Daemon(
    'gnome-keyring-daemon',
    () => {
      // A non-empty unlock password makes gnome-keyring create (or unlock) the "login" collection.
      const child = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], {
        env: daemonEnv,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      child.stdin!.end(UNLOCK_PASSWORD);
      return child;
    },
    (name, how, tail) => restartAfter(name, how, tail, false),
  );

  const startBus = async () => {
    rmSync(socket, { force: true });
    bus.start();
    await waitFor('the D-Bus session bus', () => existsSync(socket));
  };
  const startKeyring = async () => {
    keyring.start();
    await waitFor('gnome-keyring on the bus', () => secretServiceOwned(env));
  };

  function restartAfter(name: string, how: string, tail: string, withKeyring: boolean): void {
    if (stopping) return;
    const event = `${name} exited (${how}) during the test run; starting it again. Its last output:\n${tail.trim() || '(nothing)'}`;
    events.push(event);
    if (report) process.stderr.write(`\n[private keyring] ${event}\n`);
    restarting = restarting
      .then(async () => {
        if (withKeyring) {
          keyring.stop();
          await startBus();
        }
        await startKeyring();
      })
      .catch((error: unknown) => {
        process.stderr.write(`\n[private keyring] restart failed: ${String(error)}\n`);
      });
  }

  const stop = () => {
    stopping = true;
    keyring.stop();
    bus.stop();
    rmSync(home, { recursive: true, force: true });
  };
  try {
    await startBus();
    await startKeyring();
    return { env, events, stop, pids: () => ({ bus: bus.pid, keyring: keyring.pid }), ready: () => restarting };
  } catch (error) {
    stop();
    throw error;
  }
}

const busConfigFor = (socket: string) => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
  <!-- The session bus's own limits (Debian's session.conf): the built-in ones are a system
       bus's, far lower (256 connections per user, 128 pending replies per connection). -->
  <limit name="max_incoming_bytes">1000000000</limit>
  <limit name="max_outgoing_bytes">1000000000</limit>
  <limit name="max_message_size">1000000000</limit>
  <limit name="auth_timeout">240000</limit>
  <limit name="pending_fd_timeout">150000</limit>
  <limit name="max_completed_connections">100000</limit>
  <limit name="max_incomplete_connections">10000</limit>
  <limit name="max_connections_per_user">100000</limit>
  <limit name="max_names_per_connection">50000</limit>
  <limit name="max_match_rules_per_connection">50000</limit>
  <limit name="max_replies_per_connection">50000</limit>
</busconfig>
`;

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
