/**
 * SFTP repositories through the contract and the router, against a real OpenSSH server on
 * loopback (test/helpers/sshd.ts): Test connection names each outcome (host key unknown, with its
 * fingerprint; changed; auth failed; unreachable; append-only), a repository is added with a
 * password or a key after its host key is trusted, and the restricted account of
 * `internal-sftp -P remove,…` backs up and restores, refuses forget and prune without maintenance
 * credentials before anything is deleted, and does them with.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { InputOf, OutputOf } from '../../src-shared/contract.js';
import { BACKUP_MESSAGES, CONNECTION_TEST_MESSAGES } from '../../src-main/core/backup/messages.js';
import { LOG_FILE } from '../../src-main/core/platform/logger.js';
import { diffTrees, pseudoRandom, removeTree, tempDir } from '../helpers/backup-fixtures.js';
import { makeTestApp, STRONG_PASSWORD, type TestApp } from '../helpers/app.js';
import { startSshd, type SshdServer } from '../helpers/sshd.js';

let server: SshdServer;
let t: TestApp;
let work: string;
let source: string;

beforeAll(async () => {
  server = await startSshd();
}, 60_000);
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  work = tempDir('repos-sftp');
  source = join(work, 'Documents');
  mkdirSync(join(source, 'letters'), { recursive: true });
  writeFileSync(join(source, 'letters', 'to-grace.txt'), 'Dear Grace,\n');
  writeFileSync(join(source, 'thesis.pdf'), pseudoRandom('thesis', 300_000));
  t = makeTestApp();
  await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
});
afterEach(() => {
  t.remove();
  removeTree(work);
});

type SftpInput = Extract<NonNullable<InputOf<'backup.repositories.init'>['location']>, { kind: 'sftp' }>;

function sftpLocation(path: string, more: Partial<SftpInput> = {}): SftpInput {
  return {
    kind: 'sftp',
    host: server.host,
    port: server.port,
    username: server.user,
    path,
    auth: { kind: 'key', privateKey: server.keys.plain },
    hostKey: server.fingerprint(),
    ...more,
  };
}
const appendOnlyLocation = (path: string) => sftpLocation(path, { port: server.appendOnlyPort, auth: { kind: 'key', privateKey: server.keys.appendOnly } });

async function settled(jobId: string): Promise<OutputOf<'backup.jobs.get'>> {
  await t.app.core.backup.jobs.settled(jobId);
  return t.ok('backup.jobs.get', { jobId });
}

async function confirmed<M extends 'backup.repositories.init' | 'backup.snapshots.forget' | 'backup.prune.start'>(method: M, input: InputOf<M>) {
  return t.ok(method, input, await t.passwordProof(method, input));
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe('Test connection to an SFTP server', () => {
  it('shows an unknown server key to confirm, refuses a changed one, and then says OK', async () => {
    const path = server.repoPath();
    const unknown = await t.ok('backup.repositories.testConnection', { location: sftpLocation(path, { hostKey: null }) });
    expect(unknown).toEqual({
      code: 'HOST_KEY_UNKNOWN',
      message: CONNECTION_TEST_MESSAGES.HOST_KEY_UNKNOWN,
      fingerprint: server.fingerprint(),
      algorithm: 'ssh-ed25519',
      repositoryFound: null,
      appendOnly: null,
    });
    const changed = await t.ok('backup.repositories.testConnection', { location: sftpLocation(path, { hostKey: `SHA256:${'A'.repeat(43)}` }) });
    expect(changed).toMatchObject({ code: 'HOST_KEY_CHANGED', message: CONNECTION_TEST_MESSAGES.HOST_KEY_CHANGED, fingerprint: server.fingerprint() });
    expect(await t.ok('backup.repositories.testConnection', { location: sftpLocation(path) })).toMatchObject({
      code: 'OK',
      message: CONNECTION_TEST_MESSAGES.OK,
      repositoryFound: false,
      appendOnly: false,
    });
    // Nothing left on the server but the folders: the probe was deleted.
    expect(readdirSync(path).filter((n) => n.startsWith('connection-test-'))).toEqual([]);
  });

  it('names refused credentials, an unreachable server, and finds an append-only account', async () => {
    const path = server.repoPath();
    const stranger = await t.ok('backup.repositories.testConnection', {
      location: sftpLocation(path, { auth: { kind: 'key', privateKey: server.keys.stranger } }),
    });
    expect(stranger).toMatchObject({ code: 'AUTH_FAILED', message: CONNECTION_TEST_MESSAGES.AUTH_FAILED });
    const nobody = await t.ok('backup.repositories.testConnection', { location: sftpLocation(path, { port: await freePort() }) });
    expect(nobody).toMatchObject({ code: 'UNREACHABLE', message: CONNECTION_TEST_MESSAGES.UNREACHABLE });
    const appendOnly = await t.ok('backup.repositories.testConnection', { location: appendOnlyLocation(path) });
    expect(appendOnly).toMatchObject({ code: 'OK', message: CONNECTION_TEST_MESSAGES.OK_APPEND_ONLY, appendOnly: true });
    expect(JSON.stringify([stranger, nobody, appendOnly])).not.toContain(server.keys.plain.slice(40, 80));
  }, 60_000);

  it('signs in with a password, and names a wrong one', async () => {
    if (!server.password) throw new Error('this machine cannot give sshd a password (see test/helpers/sshd.ts)');
    const path = server.repoPath();
    const ok = await t.ok('backup.repositories.testConnection', { location: sftpLocation(path, { auth: { kind: 'password', password: server.password } }) });
    expect(ok.code).toBe('OK');
    const wrong = await t.ok('backup.repositories.testConnection', {
      location: sftpLocation(path, { auth: { kind: 'password', password: 'not the password' } }),
    });
    expect(wrong.code).toBe('AUTH_FAILED');
  }, 60_000);
});

describe('an SFTP repository through the contract', () => {
  it('is added with a password once its key is trusted, backed up into, restored from and checked; the password is sealed', async () => {
    if (!server.password) throw new Error('this machine cannot give sshd a password (see test/helpers/sshd.ts)');
    const path = server.repoPath();
    const untrusted = { name: 'NAS', location: sftpLocation(path, { hostKey: null, auth: { kind: 'password', password: server.password } }) };
    const refused = await t.call('backup.repositories.init', untrusted, await t.passwordProof('backup.repositories.init', untrusted));
    expect(refused).toMatchObject({ ok: false, error: { code: 'STORAGE_HOST_KEY' } });
    const input = { name: 'NAS', location: sftpLocation(path, { auth: { kind: 'password', password: server.password } }) };
    const described = await t.ok('gate.describeStepUp', { method: 'backup.repositories.init', input });
    expect(described.confirmation).toMatchObject({
      title: 'Add the SFTP repository “NAS”',
      consequence: expect.stringContaining(`sftp://${server.user}@${server.host}:${server.port}${path}`) as string,
    });
    expect(described.confirmation.consequence).toContain(`The server key ${server.fingerprint()} is trusted from now on.`);
    const { repository } = await confirmed('backup.repositories.init', input);
    expect(repository).toMatchObject({ kind: 'sftp', location: `sftp://${server.user}@${server.host}:${server.port}${path}`, appendOnly: false });
    expect(repository.details).toEqual({
      kind: 'sftp',
      host: server.host,
      port: server.port,
      username: server.user,
      path,
      auth: 'password',
      hostKey: server.fingerprint(),
    });
    expect(existsSync(join(path, 'config'))).toBe(true);

    const set = await t.ok('backup.sets.create', { name: 'Documents', repositoryId: repository.id, sources: [source] });
    expect((await settled((await t.ok('backup.sets.run', { setId: set.id })).jobId)).state).toBe('succeeded');
    const { snapshots } = await t.ok('backup.snapshots.list', { repositoryId: repository.id });
    const target = join(work, 'restored');
    const restored = await settled(
      (await t.ok('backup.restore.start', { repositoryId: repository.id, snapshotId: snapshots[0]!.id, target: { kind: 'folder', path: target } })).jobId,
    );
    expect(restored.state).toBe('succeeded');
    expect(diffTrees(source, join(target, 'Documents'))).toBe('');
    const checked = await settled((await t.ok('backup.check.start', { repositoryId: repository.id, readData: 'all' })).jobId);
    expect(checked.kind === 'check' && checked.result?.ok).toBe(true);

    const views = JSON.stringify(await t.ok('backup.repositories.list', {}));
    expect(views).not.toContain(server.password);
    expect(readFileSync(join(t.dataDir, LOG_FILE), 'utf8')).not.toContain(server.password);
    expect(JSON.stringify((await t.app.core.audit.open()).query({ limit: 1000 }).rows)).not.toContain(server.password);
    t.close();
    const db = readFileSync(join(t.dataDir, 'twofold.db'));
    expect(db.includes(Buffer.from(server.password))).toBe(false);
    t = t.reopen();
  }, 120_000);
});

describe('an SFTP repository whose folder moved on the server', () => {
  it('follows it there after a step-up, once the new place opens as this very repository, and refuses another repository or another kind', async () => {
    const oldPath = server.repoPath();
    const { repository } = await confirmed('backup.repositories.init', { name: 'NAS', location: sftpLocation(oldPath) });
    const set = await t.ok('backup.sets.create', { name: 'Documents', repositoryId: repository.id, sources: [source] });
    expect((await settled((await t.ok('backup.sets.run', { setId: set.id })).jobId)).state).toBe('succeeded');
    const otherPath = server.repoPath();
    await confirmed('backup.repositories.init', { name: 'Other', location: sftpLocation(otherPath) });
    const newPath = server.repoPath();
    renameSync(oldPath, newPath); // what the server's administrator did

    const edit = (input: InputOf<'backup.repositories.edit'>) =>
      t.passwordProof('backup.repositories.edit', input).then((proof) => t.call('backup.repositories.edit', input, proof));
    const where = (path: string) => `sftp://${server.user}@${server.host}:${server.port}${path}`;
    const toOther = { repositoryId: repository.id, location: sftpLocation(otherPath) };
    expect(await t.call('backup.repositories.edit', toOther)).toMatchObject({ ok: false, error: { code: 'STEP_UP_REQUIRED' } });
    expect(await edit(toOther)).toEqual({ ok: false, error: { code: 'REPO_DAMAGED', message: BACKUP_MESSAGES.differentRepository(where(otherPath)) } });
    const toBucket = {
      repositoryId: repository.id,
      location: {
        kind: 's3' as const,
        endpoint: 'http://127.0.0.1:9',
        region: 'us-east-1',
        bucket: 'nas',
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'secret',
      },
    };
    expect(await edit(toBucket)).toEqual({ ok: false, error: { code: 'BAD_INPUT', message: BACKUP_MESSAGES.moveKeepsKind } });
    expect((await t.ok('backup.repositories.list', {})).repositories.find((r) => r.id === repository.id)?.location).toBe(where(oldPath));

    const move = { repositoryId: repository.id, location: sftpLocation(newPath) };
    const described = await t.ok('gate.describeStepUp', { method: 'backup.repositories.edit', input: move });
    expect(described.confirmation.consequence).toBe(
      `${where(oldPath)}: moved to ${where(newPath)}, with the credentials given (checked against the repository first).`,
    );
    expect(JSON.stringify(described)).not.toContain(server.keys.plain.slice(40, 80));
    expect(await edit(move)).toMatchObject({ ok: true, value: { repository: { location: where(newPath) } } });
    const second = await settled((await t.ok('backup.sets.run', { setId: set.id })).jobId);
    expect(second.state).toBe('succeeded');
    expect((await t.ok('backup.snapshots.list', { repositoryId: repository.id })).snapshots).toHaveLength(2);
    const audit = (await t.app.core.audit.open()).query({ limit: 1000 }).rows;
    expect(audit.map((r) => r.detail)).toContain(`“NAS” (${where(oldPath)}): moved to ${where(newPath)}; new credentials`);
  }, 90_000);
});

describe('an append-only SFTP account (internal-sftp -P remove,…)', () => {
  it('backs up and restores, refuses forget and prune without maintenance credentials before deleting anything, and does them with', async () => {
    const path = server.repoPath();
    const { repository } = await confirmed('backup.repositories.init', { name: 'Vault', location: appendOnlyLocation(path), appendOnly: true });
    const set = await t.ok('backup.sets.create', { name: 'Documents', repositoryId: repository.id, sources: [source], retention: { last: 1 } });
    expect((await settled((await t.ok('backup.sets.run', { setId: set.id })).jobId)).state).toBe('succeeded');
    writeFileSync(join(source, 'letters', 'to-alan.txt'), 'Dear Alan,\n');
    const second = await settled((await t.ok('backup.sets.run', { setId: set.id })).jobId);
    expect(second).toMatchObject({ state: 'succeeded', result: { forgotten: 0, retentionNote: BACKUP_MESSAGES.retentionAppendOnly } });
    const { snapshots } = await t.ok('backup.snapshots.list', { repositoryId: repository.id });
    expect(snapshots).toHaveLength(2);
    const target = join(work, 'restored');
    const restored = await settled(
      (await t.ok('backup.restore.start', { repositoryId: repository.id, snapshotId: snapshots[0]!.id, target: { kind: 'folder', path: target } })).jobId,
    );
    expect(restored.state).toBe('succeeded');

    const onServer = () => readdirSync(join(path, 'snapshots')).sort();
    const before = onServer();
    const forget = { repositoryId: repository.id, snapshotIds: [snapshots[1]!.id] };
    expect(await t.call('gate.stepUp', { method: 'backup.snapshots.forget', input: forget, password: STRONG_PASSWORD })).toEqual({
      ok: false,
      error: { code: 'MAINTENANCE_REQUIRED', message: BACKUP_MESSAGES.maintenanceRequired('Vault', 'delete snapshots') },
    });
    expect(await t.call('backup.snapshots.forget', forget)).toMatchObject({ ok: false, error: { code: 'MAINTENANCE_REQUIRED' } });
    expect(await t.call('backup.prune.start', { repositoryId: repository.id })).toMatchObject({ ok: false, error: { code: 'MAINTENANCE_REQUIRED' } });
    // Nothing was deleted on the server.
    expect(onServer()).toEqual(before);

    const maintenance = { kind: 'sftp' as const, port: server.port, auth: { kind: 'key' as const, privateKey: server.keys.plain } };
    const wrong = { ...forget, maintenance: { ...maintenance, auth: { kind: 'key' as const, privateKey: server.keys.stranger } } };
    expect(await t.call('backup.snapshots.forget', wrong)).toEqual({
      ok: false,
      error: { code: 'STORAGE_AUTH_FAILED', message: BACKUP_MESSAGES.maintenanceRefused },
    });
    expect(await confirmed('backup.snapshots.forget', { ...forget, maintenance })).toEqual({ removed: 1 });
    expect(onServer()).toEqual(before.filter((n) => n !== snapshots[1]!.id));
    const pruned = await settled((await confirmed('backup.prune.start', { repositoryId: repository.id, maintenance })).jobId);
    expect(pruned.state).toBe('succeeded');
    const checked = await settled((await t.ok('backup.check.start', { repositoryId: repository.id, readData: 'all' })).jobId);
    expect(checked.kind === 'check' && checked.result?.ok).toBe(true);
    expect(JSON.stringify((await t.app.core.audit.open()).query({ limit: 1000 }).rows)).not.toContain(server.keys.plain.slice(40, 80));
    expect(readFileSync(join(t.dataDir, LOG_FILE), 'utf8')).not.toContain(server.keys.plain.slice(40, 80));
  }, 180_000);
});
