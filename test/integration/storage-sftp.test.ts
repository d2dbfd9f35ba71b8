/**
 * A repository's Storage on an SFTP server, against Debian's own sshd on loopback
 * (test/helpers/sshd.ts): the Storage contract; the 256 data folders made and listed; large
 * objects streamed from a file and read back by range without fetching the rest; parallel writes
 * over few sessions; the host key pinned (unknown and changed keys refused, with the fingerprint
 * ssh-keygen prints); every credential that is wrong refused as AUTH_FAILED with no secret in the
 * error; the server down (UNREACHABLE) and back; and the append-only account, which may add and
 * read but whose deletes and replacements are refused as PERMISSION_DENIED with nothing removed.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SftpStorage, sftpHostKey, type SftpStorageOptions } from '../../src-main/core/backup/engine/storage/sftp.js';
import { StorageError } from '../../src-main/core/backup/engine/storage/storage.js';
import { pseudoRandom, removeTree, tempDir } from '../helpers/backup-fixtures.js';
import { canUnshare, startSshd, type SshdServer } from '../helpers/sshd.js';
import { describeStorageContract } from '../helpers/storage-contract.js';

let server: SshdServer;
let local: string;
beforeAll(async () => {
  server = await startSshd();
  local = tempDir('sftp-local');
}, 60_000);
afterAll(async () => {
  await server.close();
  removeTree(local);
});

async function failure(p: Promise<unknown>): Promise<StorageError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(StorageError);
  return e as StorageError;
}

/** All a log or a person could see of an error: its message, detail, fields and causes. */
const everythingSaid = (e: unknown) => `${String(e)} ${inspect(e, { depth: 8, showHidden: true })} ${JSON.stringify(e)}`;

const PACK = `data/3f/3f${'0'.repeat(62)}`;
/** sshd runs in a mount namespace of its own here: password login and a full disk can be set up. */
const NAMESPACES = canUnshare();

describeStorageContract('sftp', async () => ({ storage: server.storage(server.repoPath()), cleanup: () => undefined }));

describe('a repository on an SFTP server', () => {
  it('is made with its six folders and all 256 data folders, and a listing of them all is quick and empty', async () => {
    const path = server.repoPath();
    const storage = server.storage(path);
    try {
      await storage.prepare();
      expect(readdirSync(path).sort()).toEqual(['data', 'index', 'keys', 'locks', 'snapshots', 'tmp']);
      expect(readdirSync(join(path, 'data'))).toHaveLength(256);
      const started = Date.now();
      expect(await storage.list('')).toEqual([]);
      expect(await storage.list('data')).toEqual([]);
      expect(Date.now() - started).toBeLessThan(10_000);
      // Again, with everything there: idempotent, and it leaves what is stored alone.
      await storage.write(PACK, Buffer.from('pack'));
      await storage.prepare();
      expect(await storage.list('data')).toEqual([{ name: PACK, size: 4 }]);
    } finally {
      await storage.close();
    }
  });

  it('refuses to make a repository whose parent folder is not on the server', async () => {
    const storage = server.storage(join(server.root, 'no-such-parent', 'repo'));
    try {
      expect((await failure(storage.prepare())).code).toBe('NOT_FOUND');
    } finally {
      await storage.close();
    }
  });

  it('stores each object read-only through tmp/ and a rename, leaving nothing in tmp/, and lists without tmp/', async () => {
    const path = server.repoPath();
    const storage = server.storage(path);
    try {
      await storage.prepare();
      await storage.write(PACK, pseudoRandom('x', 1000));
      expect(statSync(join(path, PACK)).mode & 0o777).toBe(0o400);
      expect(readdirSync(join(path, 'tmp'))).toEqual([]);
      // A stray upload of an interrupted run is not an object of the repository.
      writeFileSync(join(path, 'tmp', 'stray'), 'half an upload');
      expect((await storage.list('')).map((o) => o.name)).toEqual([PACK]);
    } finally {
      await storage.close();
    }
  });

  it('removes upload leftovers in tmp/ that are a day old before its first write, and leaves newer ones', async () => {
    const path = server.repoPath();
    const setup = server.storage(path);
    await setup.prepare();
    await setup.close();
    const old = join(path, 'tmp', 'a'.repeat(32));
    const recent = join(path, 'tmp', 'b'.repeat(32));
    writeFileSync(old, 'cut off two days ago');
    writeFileSync(recent, 'an upload of another process, now');
    utimesSync(old, new Date(Date.now() - 2 * 86_400_000), new Date(Date.now() - 2 * 86_400_000));
    const appendOnly = server.appendOnlyStorage(path);
    const storage = server.storage(path);
    try {
      await appendOnly.write('keys/a', Buffer.from('k'));
      expect(readdirSync(join(path, 'tmp')).sort()).toEqual(['a'.repeat(32), 'b'.repeat(32)]);
      await storage.write('keys/b', Buffer.from('k'));
      expect(readdirSync(join(path, 'tmp'))).toEqual(['b'.repeat(32)]);
    } finally {
      await appendOnly.close();
      await storage.close();
    }
  });

  it('uploads a 24 MiB staged file and reads it back whole and by ranges across request boundaries', async () => {
    const storage = server.storage(server.repoPath());
    try {
      await storage.prepare();
      const bytes = pseudoRandom('big', 24 * 1024 * 1024 + 333);
      const file = join(local, 'big.pack');
      writeFileSync(file, bytes);
      await storage.write(PACK, { file, size: bytes.length });
      expect(await storage.stat(PACK)).toEqual({ name: PACK, size: bytes.length });
      expect((await storage.read(PACK)).equals(bytes)).toBe(true);
      for (const [offset, length] of [
        [131_072 - 10, 20],
        [1_000_000, 3 * 131_072 + 7],
        [bytes.length - 333, 333],
      ] as const) {
        expect((await storage.read(PACK, { offset, length })).equals(bytes.subarray(offset, offset + length))).toBe(true);
      }
    } finally {
      await storage.close();
    }
  });

  it('reads a byte range of an 8 GiB object without fetching the rest of it', async () => {
    const path = server.repoPath();
    const storage = server.storage(path);
    try {
      await storage.prepare();
      // Sparse: 8 GiB on the server, nothing on its disk; fetched whole it would not fit in a Buffer here.
      writeFileSync(join(path, PACK), '');
      truncateSync(join(path, PACK), 8 * 1024 ** 3);
      const started = Date.now();
      const tail = await storage.read(PACK, { offset: 8 * 1024 ** 3 - 16, length: 16 });
      expect(tail.equals(Buffer.alloc(16))).toBe(true);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await storage.stat(PACK)).toEqual({ name: PACK, size: 8 * 1024 ** 3 });
    } finally {
      await storage.close();
    }
  });

  it('writes many objects at once over three sessions, each whole', async () => {
    const storage = server.storage(server.repoPath(), { connections: 3 });
    try {
      await storage.prepare();
      const objects = Array.from({ length: 40 }, (_, i) => ({
        name: `index/${i.toString(16).padStart(64, '0')}`,
        bytes: pseudoRandom(`par ${i}`, 10_000 + i * 997),
      }));
      await Promise.all(objects.map((o) => storage.write(o.name, o.bytes)));
      expect(await storage.list('index')).toHaveLength(objects.length);
      const back = await Promise.all(objects.map((o) => storage.read(o.name)));
      back.forEach((b, i) => expect(b.equals(objects[i]!.bytes)).toBe(true));
    } finally {
      await storage.close();
    }
  });

  it('the same object written by several clients at once is stored once, whole, and every write succeeds', async () => {
    const path = server.repoPath();
    const first = server.storage(path);
    await first.prepare();
    const writers = [first, ...Array.from({ length: 5 }, () => server.storage(path))];
    try {
      const bytes = pseudoRandom('raced', 3 * 1024 * 1024);
      // Each finds the name free, uploads, renames: the server's link refuses all but one rename.
      await Promise.all(writers.map((w) => w.write(PACK, bytes)));
      expect((await first.read(PACK)).equals(bytes)).toBe(true);
      expect(await first.list('data')).toEqual([{ name: PACK, size: bytes.length }]);
      expect(readdirSync(join(path, 'tmp'))).toEqual([]);
    } finally {
      await Promise.all(writers.map((w) => w.close()));
    }
  });

  it('names its user, host, port and folder for people, and no credential', () => {
    const storage = server.storage('/srv/twofold/');
    expect(storage.location).toBe(`sftp://root@127.0.0.1:${server.port}/srv/twofold`);
    expect(storage.kind).toBe('sftp');
    expect(storage.appendOnly).toBe(false);
    expect(server.appendOnlyStorage('/x').appendOnly).toBe(true);
    expect(new SftpStorage({ ...server.options('/x'), host: '::1', port: undefined }).location).toBe('sftp://root@[::1]:22/x');
  });
});

describe("the server's host key", () => {
  it('unpinned: every connection is refused as HOST_KEY_UNKNOWN with the fingerprint ssh-keygen prints', async () => {
    const storage = server.storage(server.repoPath(), { hostKey: undefined });
    try {
      for (const attempt of [storage.prepare(), storage.list(''), storage.read('config'), storage.write('config', Buffer.from('{}'))]) {
        const e = await failure(attempt);
        expect(e.code).toBe('HOST_KEY_UNKNOWN');
        expect(e.fingerprint).toBe(server.fingerprint());
        expect(e.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
      }
    } finally {
      await storage.close();
    }
  });

  it('sftpHostKey shows the fingerprint and algorithm without logging in', async () => {
    expect(await sftpHostKey({ host: server.host, port: server.port })).toEqual({ fingerprint: server.fingerprint(), algorithm: 'ssh-ed25519' });
  });

  it('sftpHostKey of a port where nothing listens says UNREACHABLE', async () => {
    const e = await failure(sftpHostKey({ host: '127.0.0.1', port: 1, connectTimeoutMs: 3000 }));
    expect(e.code).toBe('UNREACHABLE');
    expect(e.detail).toContain('connection refused');
  });
});

describe('credentials', () => {
  const secrets = () => [
    server.keys.passphrase,
    server.password ?? 'no password here',
    server.keys.plain.split('\n')[1]!,
    server.keys.stranger.split('\n')[1]!,
  ];

  const refusedWith = async (auth: Partial<SftpStorageOptions>) => {
    const storage = server.storage(server.repoPath(), { ...auth, maxAttempts: 1 });
    try {
      const e = await failure(storage.prepare());
      expect(e.code).toBe('AUTH_FAILED');
      for (const s of secrets()) expect(everythingSaid(e)).not.toContain(s);
      return e;
    } finally {
      await storage.close();
    }
  };

  it('a key the server does not know is AUTH_FAILED', async () => {
    const e = await refusedWith({ auth: { kind: 'key', privateKey: server.keys.stranger } });
    expect(e.detail).toContain('refused the user name and credentials');
  });

  it('a wrong or missing passphrase is AUTH_FAILED, for an OpenSSH key and a PEM key; the right one works', async () => {
    for (const privateKey of [server.keys.withPassphrase, server.keys.pem]) {
      const wrong = await refusedWith({ auth: { kind: 'key', privateKey, passphrase: 'not the passphrase' } });
      expect(wrong.detail).toContain('passphrase');
      const none = await refusedWith({ auth: { kind: 'key', privateKey } });
      expect(none.detail).toContain('passphrase');
      const storage = server.storage(server.repoPath(), { auth: { kind: 'key', privateKey, passphrase: server.keys.passphrase } });
      try {
        await storage.prepare();
        await storage.write('config', Buffer.from('{}'));
        expect((await storage.read('config')).toString()).toBe('{}');
      } finally {
        await storage.close();
      }
    }
  });

  it('text that is no private key is AUTH_FAILED and is not repeated in the error', async () => {
    const e = await refusedWith({ auth: { kind: 'key', privateKey: 'not-a-key-but-a-secret-looking-text' } });
    expect(everythingSaid(e)).not.toContain('not-a-key-but-a-secret-looking-text');
  });

  it('a wrong password is AUTH_FAILED', async () => {
    await refusedWith({ auth: { kind: 'password', password: 'certainly-not-the-password' } });
  });

  // Root's password is the test's own only inside sshd's mount namespace (test/helpers/sshd.ts).
  it.runIf(NAMESPACES)('the right password logs in', async () => {
    const storage = server.storage(server.repoPath(), { auth: { kind: 'password', password: server.password! } });
    try {
      await storage.prepare();
      expect(await storage.list('')).toEqual([]);
    } finally {
      await storage.close();
    }
  });

  it('the SSH agent logs in with the key it holds, and a missing agent is AUTH_FAILED', async () => {
    const socket = join(local, 'agent.sock');
    const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 50 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 100));
      const keyFile = join(local, 'agent_key');
      writeFileSync(keyFile, server.keys.plain, { mode: 0o600 });
      execFileSync('ssh-add', [keyFile], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
      const storage = server.storage(server.repoPath(), { auth: { kind: 'agent', socket } });
      try {
        await storage.prepare();
        expect(await storage.list('')).toEqual([]);
      } finally {
        await storage.close();
      }
      const saved = process.env.SSH_AUTH_SOCK;
      delete process.env.SSH_AUTH_SOCK;
      try {
        const e = await refusedWith({ auth: { kind: 'agent' } });
        expect(e.detail).toContain('no SSH agent');
      } finally {
        if (saved !== undefined) process.env.SSH_AUTH_SOCK = saved;
      }
    } finally {
      agent.kill('SIGTERM');
    }
  });
});

describe.each([
  ['a Match block (ForceCommand)', (path: string, more?: Partial<SftpStorageOptions>) => server.appendOnlyOptions(path, more)],
  ['its authorized_keys line (command=)', (path: string, more?: Partial<SftpStorageOptions>) => server.appendOnlyKeyOptions(path, more)],
])('an append-only account (internal-sftp -P remove,rmdir,posix-rename,…) by %s', (_how, optionsOf) => {
  it('adds, reads and lists; a delete or a replace is PERMISSION_DENIED and nothing is removed or changed', async () => {
    const path = server.repoPath();
    const full = server.storage(path);
    const appendOnly = new SftpStorage(optionsOf(path, { maxAttempts: 1 }));
    try {
      await full.prepare();
      await full.write('config', Buffer.from('{"version":2}'));
      await appendOnly.prepare();
      await appendOnly.write(PACK, Buffer.from('a pack'));
      await appendOnly.write(PACK, Buffer.from('a pack')); // a repeat
      expect((await appendOnly.read(PACK)).toString()).toBe('a pack');
      const before = await appendOnly.list('');
      expect(before.map((o) => o.name).sort()).toEqual(['config', PACK]);

      const deleted = await failure(appendOnly.delete(PACK));
      expect(deleted.code).toBe('PERMISSION_DENIED');
      const replaced = await failure(appendOnly.replace('config', Buffer.from('{"version":9}')));
      expect(replaced.code).toBe('PERMISSION_DENIED');
      expect(await full.list('')).toEqual(before);
      expect((await full.read('config')).toString()).toBe('{"version":2}');
      // Other bytes under a stored name are refused, and the object stays as it was.
      await expect(appendOnly.write(PACK, Buffer.from('another pack!'))).rejects.toMatchObject({ code: 'FAILED' });
      expect((await full.read(PACK)).toString()).toBe('a pack');
    } finally {
      await full.close();
      await appendOnly.close();
    }
  });
});

describe('the server down', () => {
  it('is UNREACHABLE, saying the connection is refused, after its retries; the same storage works again once it is back', async () => {
    const storage = server.storage(server.repoPath(), { maxAttempts: 3 });
    try {
      await storage.prepare();
      await storage.write('config', Buffer.from('{"version":2}'));
      await server.stop();
      const started = Date.now();
      for (const e of [await failure(storage.read('config')), await failure(storage.list('')), await failure(storage.write('keys/k', Buffer.from('key')))]) {
        expect(e.code).toBe('UNREACHABLE');
        expect(e.detail).toMatch(/connection refused .*\(after 3 attempts\)$/);
      }
      expect(Date.now() - started).toBeLessThan(30_000);
      await server.start();
      expect((await storage.read('config')).toString()).toBe('{"version":2}');
    } finally {
      await server.start();
      await storage.close();
    }
  });

  it('a transfer cut off by the server going away is run again on a new connection once the server is back', async () => {
    const storage = server.storage(server.repoPath(), { maxAttempts: 6 });
    try {
      await storage.prepare();
      const bytes = pseudoRandom('cut off', 24 * 1024 * 1024);
      await storage.write(PACK, bytes);
      const logins = server.logins();
      const reading = storage.read(PACK);
      await new Promise((r) => setTimeout(r, 20));
      await server.stop();
      setTimeout(() => void server.start(), 300);
      expect((await reading).equals(bytes)).toBe(true);
      // One connection more: the read was cut off, and run again on a new one.
      expect(server.logins() - logins).toBe(1);
    } finally {
      await server.start();
      await storage.close();
    }
  });

  it('a pack staged into a local file, cut off by the server going away, is staged afresh on a new connection: the file holds exactly the pack', async () => {
    const storage = server.storage(server.repoPath(), { maxAttempts: 6 });
    try {
      await storage.prepare();
      const bytes = pseudoRandom('staged cut off', 24 * 1024 * 1024);
      await storage.write(PACK, bytes);
      const logins = server.logins();
      const file = join(local, 'staged-cut-off');
      const staging = storage.download(PACK, file);
      await new Promise((r) => setTimeout(r, 20));
      await server.stop();
      setTimeout(() => void server.start(), 300);
      await staging;
      expect(readFileSync(file).equals(bytes)).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(server.logins() - logins).toBe(1);
      await expect(storage.download('data/00/' + '0'.repeat(64), join(local, 'absent'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      await server.start();
      await storage.close();
    }
  });
});

describe('other failures, as a person needs them told apart', () => {
  it.runIf(NAMESPACES)('a full disk on the server is NO_SPACE', async () => {
    const storage = server.storage(join(server.smallDisk!, 'repo'), { maxAttempts: 1 });
    try {
      await storage.prepare();
      const e = await failure(storage.write(PACK, pseudoRandom('too big', 4 * 1024 * 1024)));
      expect(e.code).toBe('NO_SPACE');
      expect(e.detail).toBe(`write ${PACK}: the server's disk is full`);
      expect(await storage.list('')).toEqual([]);
    } finally {
      await storage.close();
    }
  });

  it('a server that accepts the connection but never answers is UNREACHABLE once the connect timeout passes', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const storage = new SftpStorage({ ...server.options('/x'), port, connectTimeoutMs: 1500, maxAttempts: 2 });
    try {
      const started = Date.now();
      const e = await failure(storage.list(''));
      expect(e.code).toBe('UNREACHABLE');
      expect(e.detail).toBe(`connect root@127.0.0.1:${port}: timed out waiting for the SSH server (after 2 attempts)`);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await storage.close();
      silent.close();
    }
  });

  it('a host name that does not resolve is UNREACHABLE, saying so', async () => {
    const storage = new SftpStorage({ ...server.options('/x'), host: 'no-such-host.invalid', maxAttempts: 1 });
    try {
      const e = await failure(storage.list(''));
      expect(e.code).toBe('UNREACHABLE');
      expect(e.detail).toMatch(/^connect root@no-such-host\.invalid:\d+: no such host \((ENOTFOUND|EAI_AGAIN)\)$/);
    } finally {
      await storage.close();
    }
  });
});

describe('a changed host key', () => {
  it('is refused as HOST_KEY_CHANGED, carrying the new fingerprint; pinning the new one connects', async () => {
    const path = server.repoPath();
    const pinned = server.fingerprint();
    await server.rotateHostKey();
    const storage = server.storage(path, { hostKey: pinned });
    try {
      const e = await failure(storage.prepare());
      expect(e.code).toBe('HOST_KEY_CHANGED');
      expect(e.fingerprint).toBe(server.fingerprint());
      expect(e.fingerprint).not.toBe(pinned);
      expect((await sftpHostKey({ host: server.host, port: server.port })).fingerprint).toBe(server.fingerprint());
    } finally {
      await storage.close();
    }
    const repinned = server.storage(path, { hostKey: server.fingerprint() });
    try {
      await repinned.prepare();
    } finally {
      await repinned.close();
    }
  });
});
