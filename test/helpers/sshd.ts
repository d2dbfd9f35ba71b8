/**
 * A real OpenSSH server on loopback for the tests: Debian's /usr/sbin/sshd, run in the
 * foreground (-D -e) with its own host key, config and authorized_keys in a temp folder, on two
 * free ports, as root (the tests run as root; nothing in /etc is changed):
 *
 * - `port`: the full account. Keys in authorized_keys (one plain, one with a passphrase, one
 *   RSA key in PEM form with a passphrase) and, where this machine allows it, a password.
 * - `appendOnlyPort`: `Match LocalPort` with `ForceCommand internal-sftp -P remove,rmdir,
 *   posix-rename,setstat,fsetstat,lsetstat`: an append-only account (its own key; add and read
 *   allowed, delete and overwriting renames refused).
 * - the same restriction on the main port for one more key, by its authorized_keys line
 *   (`restrict,command="internal-sftp -P …"`): the set-up docs/user-guide.md gives.
 *
 * Password login needs root's password in /etc/shadow, which this container does not have. sshd
 * therefore runs in a private mount namespace (`unshare -m`) where a shadow file of the test's
 * own, holding only root with the test password, is bind-mounted over /etc/shadow: the machine's
 * file is untouched. Where unshare is not allowed, `password` is null and sshd runs as it is. The
 * same namespace gives the server a full disk to meet (`smallDisk`, a 2 MiB tmpfs).
 *
 * `stop()` kills sshd's whole process group and every connection's process (sshd gives each its
 * own session, so they are found by parent pid), which is what a crashed server is to a client:
 * connections cut, then refused. `start()` brings it back
 * on the same ports with the same host key; `rotateHostKey()` gives it a new one.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { SftpAuth, SftpStorageOptions } from '../../src-main/core/backup/engine/storage/sftp.js';
import { SftpStorage } from '../../src-main/core/backup/engine/storage/sftp.js';
import { removeTree, tempDir } from './backup-fixtures.js';

export const SSHD = '/usr/sbin/sshd';
/** The SFTP requests an append-only account is refused (docs/user-guide.md, "SFTP repositories"). */
export const APPEND_ONLY_DENIED = 'remove,rmdir,posix-rename,setstat,fsetstat,lsetstat@openssh.com';

export interface SshdServer {
  readonly host: string;
  readonly port: number;
  readonly appendOnlyPort: number;
  readonly user: string;
  /** Folder for the tests' repositories (the server's files are on this machine). */
  readonly root: string;
  /** What `ssh-keygen -l -f <host key>.pub` prints for the current host key. */
  fingerprint(): string;
  readonly keys: {
    plain: string;
    /** ed25519, OpenSSH format, encrypted with `passphrase`. */
    withPassphrase: string;
    /** RSA in PEM form (-----BEGIN RSA PRIVATE KEY-----), encrypted with `passphrase`. */
    pem: string;
    passphrase: string;
    /** Accepted only on appendOnlyPort. */
    appendOnly: string;
    /** Accepted on `port`, restricted by its authorized_keys line (`restrict,command="internal-sftp -P …"`). */
    appendOnlyByKey: string;
    /** Known to no authorized_keys. */
    stranger: string;
  };
  /** Root's password for this server, or null where password login cannot be set up. */
  readonly password: string | null;
  /**
   * A folder that is, for the server only, a 2 MiB file system of its own (a tmpfs in its mount
   * namespace): a full disk. Null where the namespace cannot be made.
   */
  readonly smallDisk: string | null;
  /** A fresh repository folder path under `root` (not made). */
  repoPath(): string;
  /** SftpStorage options for the full account (the plain key) on `path`. */
  options(path: string, more?: Partial<SftpStorageOptions>): SftpStorageOptions;
  /** The same for the append-only account (its port, `Match LocalPort`). */
  appendOnlyOptions(path: string, more?: Partial<SftpStorageOptions>): SftpStorageOptions;
  /** The same for the append-only key on the main port (authorized_keys `command=`). */
  appendOnlyKeyOptions(path: string, more?: Partial<SftpStorageOptions>): SftpStorageOptions;
  storage(path: string, more?: Partial<SftpStorageOptions>): SftpStorage;
  appendOnlyStorage(path: string, more?: Partial<SftpStorageOptions>): SftpStorage;
  /** Logins the server has accepted since it was first started: each is one SSH connection. */
  logins(): number;
  stop(): Promise<void>;
  start(): Promise<void>;
  rotateHostKey(): Promise<void>;
  /** Stops the server and removes its files. */
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function keygen(file: string, type: 'ed25519' | 'rsa', passphrase = '', pem = false): string {
  execFileSync(
    'ssh-keygen',
    ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), ...(pem ? ['-m', 'PEM'] : []), '-N', passphrase, '-C', 'twofold-test', '-f', file],
    {
      stdio: 'ignore',
    },
  );
  return readFileSync(file, 'utf8');
}

/** The fingerprint as OpenSSH's own ssh-keygen prints it: an implementation independent of ours. */
export function sshKeygenFingerprint(pubFile: string): string {
  const line = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubFile], { encoding: 'utf8' });
  return line.split(' ')[1]!;
}

/** Every process below `pid` (by the parent pid in /proc/<pid>/stat). */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after its last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parentOf) {
      if (parent === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

/** Whether sshd can run in a private mount namespace here (for the password login's shadow file and the full disk). */
export function canUnshare(): boolean {
  return spawnSync('unshare', ['-m', 'true'], { stdio: 'ignore' }).status === 0;
}

function sshdConfig(dir: string, port: number, appendOnlyPort: number, password: boolean): string {
  return [
    `Port ${port}`,
    `Port ${appendOnlyPort}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_key')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'StrictModes no',
    'UsePAM no',
    'PubkeyAuthentication yes',
    `PasswordAuthentication ${password ? 'yes' : 'no'}`,
    'KbdInteractiveAuthentication no',
    `PermitRootLogin ${password ? 'yes' : 'prohibit-password'}`,
    // Several test files connect at once, each with several sessions.
    'MaxStartups 100:30:200',
    'MaxSessions 32',
    'MaxAuthTries 10',
    'Subsystem sftp internal-sftp',
    'LogLevel VERBOSE',
    // The append-only account of docs/user-guide.md, told apart by the port it comes in on.
    `Match LocalPort ${appendOnlyPort}`,
    `  AuthorizedKeysFile ${join(dir, 'authorized_keys_append')}`,
    '  PasswordAuthentication no',
    `  ForceCommand internal-sftp -P ${APPEND_ONLY_DENIED}`,
    '',
  ].join('\n');
}

export async function startSshd(): Promise<SshdServer> {
  const dir = tempDir('sshd');
  const root = join(dir, 'repos');
  mkdirSync(root);
  // sshd's privilege separation wants its empty folder.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const [port, appendOnlyPort] = [await freePort(), await freePort()];
  keygen(join(dir, 'host_key'), 'ed25519');
  const passphrase = `pass-${randomBytes(9).toString('base64url')}`;
  const keys = {
    plain: keygen(join(dir, 'id_plain'), 'ed25519'),
    withPassphrase: keygen(join(dir, 'id_passphrase'), 'ed25519', passphrase),
    pem: keygen(join(dir, 'id_pem'), 'rsa', passphrase, true),
    passphrase,
    appendOnly: keygen(join(dir, 'id_append'), 'ed25519'),
    appendOnlyByKey: keygen(join(dir, 'id_append_key'), 'ed25519'),
    stranger: keygen(join(dir, 'id_stranger'), 'ed25519'),
  };
  const pub = (name: string) => readFileSync(join(dir, `${name}.pub`), 'utf8');
  // The user guide's set-up: one account, and the workstation's key held to append-only by its line.
  const restricted = `restrict,command="internal-sftp -P ${APPEND_ONLY_DENIED}" ${pub('id_append_key')}`;
  writeFileSync(join(dir, 'authorized_keys'), pub('id_plain') + pub('id_passphrase') + pub('id_pem') + restricted, { mode: 0o600 });
  writeFileSync(join(dir, 'authorized_keys_append'), pub('id_append'), { mode: 0o600 });

  const unshare = canUnshare();
  const smallDisk = join(dir, 'small-disk');
  mkdirSync(smallDisk);
  const password = unshare ? `pw-${randomBytes(12).toString('base64url')}` : null;
  if (password) {
    const hash = execFileSync('openssl', ['passwd', '-6', '-stdin'], { input: password, encoding: 'utf8' }).trim();
    writeFileSync(join(dir, 'shadow'), `root:${hash}:19000:0:99999:7:::\n`, { mode: 0o600 });
  }
  writeFileSync(join(dir, 'sshd_config'), sshdConfig(dir, port, appendOnlyPort, password !== null), { mode: 0o600 });
  const check = spawnSync(SSHD, ['-t', '-f', join(dir, 'sshd_config')], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`sshd -t refused the test config: ${check.stderr}`);

  let child: ChildProcess | null = null;
  let log = '';
  let logins = 0;
  const start = async (): Promise<void> => {
    if (child) return;
    const cfg = join(dir, 'sshd_config');
    const [cmd, args] = password
      ? [
          'unshare',
          [
            '-m',
            'sh',
            '-c',
            'mount --bind "$1" /etc/shadow && mount -t tmpfs -o size=2m tmpfs "$4" && exec "$2" -D -e -f "$3"',
            'sh',
            join(dir, 'shadow'),
            SSHD,
            cfg,
            smallDisk,
          ],
        ]
      : [SSHD, ['-D', '-e', '-f', cfg]];
    // A process group of its own: stop() kills the listener and every session it forked.
    const c = spawn(cmd as string, args as string[], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    await new Promise<void>((resolve, reject) => {
      let listening = 0;
      c.once('exit', (code) => reject(new Error(`sshd exited (${code}) before it was ready:\n${log.slice(-2000)}`)));
      let partial = '';
      c.stderr!.on('data', (chunk: Buffer) => {
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop()!;
        logins += lines.filter((l) => /^Accepted \S+ for /.test(l)).length;
        log = (log + chunk.toString()).slice(-20_000);
        listening = (log.match(/Server listening on/g) ?? []).length;
        if (listening >= 2) resolve();
      });
    });
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      // sshd puts each connection in a session of its own (setsid): those are killed by pid.
      for (const pid of [...descendants(c.pid!), -c.pid!]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    });
  };
  await start();

  const host = '127.0.0.1';
  const user = 'root';
  const options = (path: string, more: Partial<SftpStorageOptions> = {}): SftpStorageOptions => ({
    host,
    port,
    username: user,
    path,
    auth: { kind: 'key', privateKey: keys.plain } satisfies SftpAuth,
    hostKey: sshKeygenFingerprint(join(dir, 'host_key.pub')),
    ...more,
  });
  const appendOnlyOptions = (path: string, more: Partial<SftpStorageOptions> = {}): SftpStorageOptions =>
    options(path, { port: appendOnlyPort, auth: { kind: 'key', privateKey: keys.appendOnly }, appendOnly: true, ...more });
  const appendOnlyKeyOptions = (path: string, more: Partial<SftpStorageOptions> = {}): SftpStorageOptions =>
    options(path, { auth: { kind: 'key', privateKey: keys.appendOnlyByKey }, appendOnly: true, ...more });
  let n = 0;
  return {
    host,
    port,
    appendOnlyPort,
    user,
    root,
    fingerprint: () => sshKeygenFingerprint(join(dir, 'host_key.pub')),
    keys,
    password,
    smallDisk: unshare ? smallDisk : null,
    repoPath: () => join(root, `repo-${++n}-${randomBytes(4).toString('hex')}`),
    options,
    appendOnlyOptions,
    appendOnlyKeyOptions,
    storage: (path, more) => new SftpStorage(options(path, more)),
    appendOnlyStorage: (path, more) => new SftpStorage(appendOnlyOptions(path, more)),
    logins: () => logins,
    stop,
    start,
    rotateHostKey: async () => {
      await stop();
      removeTree(join(dir, 'host_key'));
      removeTree(join(dir, 'host_key.pub'));
      keygen(join(dir, 'host_key'), 'ed25519');
      await start();
    },
    close: async () => {
      await stop();
      removeTree(dir);
    },
  };
}
