/**
 * S3 repositories through the contract and the router, against a real S3 API server on loopback
 * (test/helpers/s3-server.ts): added only with a step-up, backed up into, restored from,
 * checked and removed (its objects deleted through the storage); Test connection names each
 * failure; the credentials never come back out (views, errors, the log file, the audit log)
 * and are sealed in the SQLite file; an append-only repository deletes nothing without
 * maintenance credentials, is refused before any proof is spent, and skips scheduled retention.
 */
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { InputOf, OutputOf } from '../../src-shared/contract.js';
import { CONNECTION_TEST_MESSAGES, BACKUP_MESSAGES } from '../../src-main/core/backup/messages.js';
import { LOG_FILE } from '../../src-main/core/platform/logger.js';
import { diffTrees, pseudoRandom, removeTree, tempDir } from '../helpers/backup-fixtures.js';
import { makeTestApp, STRONG_PASSWORD, type TestApp } from '../helpers/app.js';
import { startS3Server, type S3Server } from '../helpers/s3-server.js';

let server: S3Server;
let t: TestApp;
let work: string;
let source: string;

beforeAll(async () => {
  server = await startS3Server();
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  work = tempDir('repos-s3');
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

type S3Input = Extract<NonNullable<InputOf<'backup.repositories.init'>['location']>, { kind: 's3' }>;

function s3Location(prefix = `laptop/${randomBytes(4).toString('hex')}`, more: Partial<S3Input> = {}): S3Input {
  return {
    kind: 's3',
    endpoint: server.endpoint,
    region: 'us-east-1',
    bucket: server.bucket,
    prefix,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    forcePathStyle: true,
    ...more,
  };
}

async function addS3(name: string, location: S3Input, appendOnly = false) {
  const input = { name, location, appendOnly };
  return t.ok('backup.repositories.init', input, await t.passwordProof('backup.repositories.init', input));
}

async function settled(jobId: string): Promise<OutputOf<'backup.jobs.get'>> {
  await t.app.core.backup.jobs.settled(jobId);
  return t.ok('backup.jobs.get', { jobId });
}

async function objectsUnder(prefix: string): Promise<string[]> {
  const storage = server.storage(prefix);
  try {
    return (await storage.list('')).map((o) => o.name).sort();
  } finally {
    await storage.close();
  }
}

/** Every byte the app keeps on disk: the SQLite file and its journal, the log files. */
function everythingOnDisk(dataDir: string): Buffer {
  const parts: Buffer[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else parts.push(readFileSync(join(dir, e.name)));
    }
  };
  walk(dataDir);
  return Buffer.concat(parts);
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe('an S3 repository through the contract', () => {
  it('is added only with a step-up, shows where it lives without a credential, backs up, restores, checks and is removed with its objects', async () => {
    const location = s3Location();
    const input = { name: 'Off-site', location };
    const unconfirmed = await t.call('backup.repositories.init', input);
    expect(unconfirmed).toEqual({ ok: false, error: { code: 'STEP_UP_REQUIRED', message: 'Confirm this action first: Create a backup repository.' } });
    expect(await objectsUnder(location.prefix!)).toEqual([]);

    const described = await t.ok('gate.describeStepUp', { method: 'backup.repositories.init', input });
    expect(described.confirmation.title).toBe('Add the S3 repository “Off-site”');
    expect(described.confirmation.consequence).toContain(`s3://${server.bucket}/${location.prefix} (${server.endpoint})`);
    expect(JSON.stringify(described)).not.toContain(server.secretAccessKey);

    const { repository, password } = await t.ok('backup.repositories.init', input, await t.passwordProof('backup.repositories.init', input));
    expect(repository).toMatchObject({
      name: 'Off-site',
      kind: 's3',
      location: `s3://${server.bucket}/${location.prefix} (${server.endpoint})`,
      appendOnly: false,
      connections: null,
      details: { kind: 's3', endpoint: server.endpoint, region: 'us-east-1', bucket: server.bucket, prefix: location.prefix, forcePathStyle: true },
    });
    expect(await objectsUnder(location.prefix!)).toContain('config');

    const set = await t.ok('backup.sets.create', { name: 'Documents', repositoryId: repository.id, sources: [source] });
    const job = await settled((await t.ok('backup.sets.run', { setId: set.id })).jobId);
    expect(job.state).toBe('succeeded');
    const { snapshots } = await t.ok('backup.snapshots.list', { repositoryId: repository.id });
    expect(snapshots).toHaveLength(1);
    const target = join(work, 'restored');
    const restoreJob = await settled(
      (await t.ok('backup.restore.start', { repositoryId: repository.id, snapshotId: snapshots[0]!.id, target: { kind: 'folder', path: target } })).jobId,
    );
    expect(restoreJob.state).toBe('succeeded');
    expect(diffTrees(source, join(target, 'Documents'))).toBe('');
    const checkJob = await settled((await t.ok('backup.check.start', { repositoryId: repository.id, readData: 'all' })).jobId);
    expect(checkJob.kind === 'check' && checkJob.result?.ok).toBe(true);

    // Connected again on another machine (a second app) with the repository password.
    const other = makeTestApp();
    try {
      await other.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
      const again = { name: 'From the laptop', location, password };
      const connected = await other.ok('backup.repositories.connect', again, await other.passwordProof('backup.repositories.connect', again));
      expect(connected.repository.location).toBe(repository.location);
      expect((await other.ok('backup.snapshots.list', { repositoryId: connected.repository.id })).snapshots.map((s) => s.id)).toEqual([snapshots[0]!.id]);
    } finally {
      other.remove();
    }

    await t.ok('backup.sets.delete', { setId: set.id }, await t.passwordProof('backup.sets.delete', { setId: set.id }));
    const remove = { repositoryId: repository.id, deleteFiles: true };
    expect((await t.call('backup.repositories.remove', remove)).ok).toBe(false);
    const removeConfirmation = await t.ok('gate.describeStepUp', { method: 'backup.repositories.remove', input: remove });
    expect(removeConfirmation.confirmation.consequence).toBe(`The repository at ${repository.location} and 1 snapshot in it are deleted for good.`);
    await t.ok('backup.repositories.remove', remove, await t.passwordProof('backup.repositories.remove', remove));
    expect(await objectsUnder(location.prefix!)).toEqual([]);
    expect((await t.ok('backup.repositories.list', {})).repositories).toEqual([]);
  }, 120_000);

  it('refuses remote repositories to a locked session, and adding one twice', async () => {
    const input = { name: 'Off-site', location: s3Location() };
    const proof = await t.passwordProof('backup.repositories.init', input);
    await t.ok('gate.lock', {});
    expect(await t.call('backup.repositories.init', input, proof)).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
    expect(await t.call('backup.repositories.testConnection', { location: input.location })).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
    await t.ok('gate.submitPassword', { password: STRONG_PASSWORD });
    await addS3('Off-site', input.location);
    const twice = { name: 'Again', location: input.location };
    expect(await t.call('backup.repositories.init', twice, await t.passwordProof('backup.repositories.init', twice))).toEqual({
      ok: false,
      error: { code: 'NAME_TAKEN', message: BACKUP_MESSAGES.repositoryTaken },
    });
  });

  it('keeps its credentials sealed: never in a view, an error, the log, the audit log or the database file in the clear', async () => {
    const { repository } = await addS3('Off-site', s3Location());
    const wrongKey = { ...s3Location(), accessKeyId: 'AKNOSUCHKEY0000' };
    const refused = await t.call(
      'backup.repositories.init',
      { name: 'Wrong', location: wrongKey },
      await t.passwordProof('backup.repositories.init', { name: 'Wrong', location: wrongKey }),
    );
    expect(refused).toMatchObject({ ok: false, error: { code: 'STORAGE_AUTH_FAILED' } });
    const set = await t.ok('backup.sets.create', { name: 'Documents', repositoryId: repository.id, sources: [source] });
    await settled((await t.ok('backup.sets.run', { setId: set.id })).jobId);
    const views = JSON.stringify([await t.ok('backup.repositories.list', {}), refused]);
    expect(views).not.toContain(server.secretAccessKey);
    expect(views).not.toContain(server.accessKeyId);

    const audit = (await t.app.core.audit.open()).query({ limit: 1000 }).rows;
    expect(audit.some((r) => r.action === 'repository.created')).toBe(true);
    expect(JSON.stringify(audit)).not.toContain(server.secretAccessKey);
    const log = readFileSync(join(t.dataDir, LOG_FILE), 'utf8');
    expect(log).toContain('repository created');
    expect(log).not.toContain(server.secretAccessKey);

    t.close();
    const disk = everythingOnDisk(t.dataDir);
    expect(disk.includes(Buffer.from(server.secretAccessKey))).toBe(false);
    expect(disk.includes(Buffer.from(server.accessKeyId))).toBe(false);
    // Sealed, not gone: the reopened app still reaches the bucket (scheduled runs do so while locked).
    t = t.reopen();
    await t.ok('gate.submitPassword', { password: STRONG_PASSWORD });
    expect((await t.ok('backup.snapshots.list', { repositoryId: repository.id })).snapshots).toHaveLength(1);
  }, 60_000);

  it('is edited only with a step-up, and only to credentials that open it', async () => {
    const { repository } = await addS3('Off-site', s3Location());
    const rename = { repositoryId: repository.id, name: 'Bucket', connections: 2 };
    expect(await t.call('backup.repositories.edit', rename)).toMatchObject({ ok: false, error: { code: 'STEP_UP_REQUIRED' } });
    const renamed = await t.ok('backup.repositories.edit', rename, await t.passwordProof('backup.repositories.edit', rename));
    expect(renamed.repository).toMatchObject({ name: 'Bucket', connections: 2 });

    const wrong = { repositoryId: repository.id, credentials: { kind: 's3' as const, accessKeyId: 'AKNOSUCHKEY0000', secretAccessKey: 'whatever' } };
    expect(await t.call('backup.repositories.edit', wrong, await t.passwordProof('backup.repositories.edit', wrong))).toMatchObject({
      ok: false,
      error: { code: 'STORAGE_AUTH_FAILED' },
    });
    // The stored credentials are the old ones still.
    expect((await t.ok('backup.snapshots.list', { repositoryId: repository.id })).snapshots).toEqual([]);
    const sftpOnly = { repositoryId: repository.id, hostKey: `SHA256:${'A'.repeat(43)}` };
    expect(await t.call('backup.repositories.edit', sftpOnly, await t.passwordProof('backup.repositories.edit', sftpOnly))).toEqual({
      ok: false,
      error: { code: 'BAD_INPUT', message: BACKUP_MESSAGES.hostKeyNotSftp },
    });
    const audit = (await t.app.core.audit.open()).query({ action: 'repository.changed' as never, limit: 10 }).rows;
    expect(audit.map((r) => r.detail)).toEqual([`“Off-site” (${repository.location}): renamed “Bucket”; connections 2`]);
  });

  it('folder repositories are added and renamed below step-up, as before', async () => {
    const { repository } = await t.ok('backup.repositories.init', { name: 'Drive', path: join(work, 'repo') });
    expect(repository).toMatchObject({ kind: 'folder', location: join(work, 'repo'), path: join(work, 'repo'), appendOnly: false });
    const renamed = await t.ok('backup.repositories.edit', { repositoryId: repository.id, name: 'External drive' });
    expect(renamed.repository.name).toBe('External drive');
    expect(await t.call('backup.repositories.edit', { repositoryId: repository.id, connections: 3 })).toEqual({
      ok: false,
      error: { code: 'BAD_INPUT', message: BACKUP_MESSAGES.notRemote },
    });
  });
});

describe('Test connection', () => {
  it('says OK, whether a repository is there, and that these credentials can delete', async () => {
    const location = s3Location();
    expect(await t.ok('backup.repositories.testConnection', { location })).toEqual({
      code: 'OK',
      message: CONNECTION_TEST_MESSAGES.OK,
      fingerprint: null,
      algorithm: null,
      repositoryFound: false,
      appendOnly: false,
    });
    // Nothing stored: neither in the app nor in the bucket.
    expect((await t.ok('backup.repositories.list', {})).repositories).toEqual([]);
    expect(await objectsUnder(location.prefix!)).toEqual([]);
    await addS3('Off-site', location);
    expect(await t.ok('backup.repositories.testConnection', { location })).toMatchObject({ code: 'OK', repositoryFound: true });
  });

  it('names a missing bucket, refused credentials and an unreachable server', async () => {
    const missing = await t.ok('backup.repositories.testConnection', { location: s3Location('x', { bucket: 'no-such-bucket' }) });
    expect(missing).toMatchObject({ code: 'BUCKET_MISSING', message: CONNECTION_TEST_MESSAGES.BUCKET_MISSING, appendOnly: null });
    const refused = await t.ok('backup.repositories.testConnection', { location: s3Location('x', { accessKeyId: 'AKNOSUCHKEY0000' }) });
    expect(refused).toMatchObject({ code: 'AUTH_FAILED', message: CONNECTION_TEST_MESSAGES.AUTH_FAILED });
    const nobody = await t.ok('backup.repositories.testConnection', { location: s3Location('x', { endpoint: `http://127.0.0.1:${await freePort()}` }) });
    expect(nobody).toMatchObject({ code: 'UNREACHABLE', message: CONNECTION_TEST_MESSAGES.UNREACHABLE });
    expect(JSON.stringify([missing, refused, nobody])).not.toContain(server.secretAccessKey);
  }, 60_000);

  it('checks its input with clear messages', async () => {
    const bad = await t.call('backup.repositories.testConnection', { location: s3Location('/abs', { bucket: 'Bad_Bucket' }) });
    expect(bad).toEqual({
      ok: false,
      error: {
        code: 'BAD_INPUT',
        message:
          'Bucket names use lowercase letters, digits, dots and hyphens only. Write the prefix as folder names separated by / (for example laptop/home), without a leading / or "..".',
      },
    });
    const port = await t.call('backup.repositories.testConnection', {
      location: { kind: 'sftp', host: 'nas..local', port: 70000, username: 'backup', path: 'srv', auth: { kind: 'password', password: 'p' } },
    });
    expect(port).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    const message = port.ok ? '' : port.error.message;
    expect(message).toContain('That is not a host name or IP address');
    expect(message).toContain('Ports are 1 to 65535.');
    expect(message).toContain('Use a full path on the server, starting with /');
    expect(message).not.toMatch(/location\./); // the contract's own words, without internal field names
  });
});

describe('an append-only S3 repository', () => {
  const maintenance = () => ({ kind: 's3' as const, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey });

  async function appendOnlyWithSnapshots() {
    const location = s3Location();
    const { repository } = await addS3('Vault', location, true);
    expect(repository.appendOnly).toBe(true);
    const set = await t.ok('backup.sets.create', { name: 'Documents', repositoryId: repository.id, sources: [source], retention: { last: 1 } });
    const first = await settled((await t.ok('backup.sets.run', { setId: set.id })).jobId);
    writeFileSync(join(source, 'letters', 'to-alan.txt'), 'Dear Alan,\n');
    const second = await settled((await t.ok('backup.sets.run', { setId: set.id })).jobId);
    return { location, repository, set, first, second };
  }

  it('skips retention on its runs with a clear note, and the run still succeeds', async () => {
    const { repository, second } = await appendOnlyWithSnapshots();
    expect(second.state).toBe('succeeded');
    expect(second.result).toMatchObject({ forgotten: 0, prune: null, retentionNote: BACKUP_MESSAGES.retentionAppendOnly });
    expect((await t.ok('backup.snapshots.list', { repositoryId: repository.id })).snapshots).toHaveLength(2);
  }, 60_000);

  it('refuses forget and prune without maintenance credentials before a proof is spent or anything deleted, and does them with', async () => {
    const { location, repository, set } = await appendOnlyWithSnapshots();
    const before = await objectsUnder(location.prefix!);
    const { snapshots } = await t.ok('backup.snapshots.list', { repositoryId: repository.id });
    const forget = { repositoryId: repository.id, snapshotIds: [snapshots[0]!.id] };
    const required = { code: 'MAINTENANCE_REQUIRED', message: BACKUP_MESSAGES.maintenanceRequired('Vault', 'delete snapshots') };
    // No proof is even granted for it, so no second factor is spent on a call that would fail.
    expect(await t.call('gate.stepUp', { method: 'backup.snapshots.forget', input: forget, password: STRONG_PASSWORD })).toEqual({
      ok: false,
      error: required,
    });
    expect(await t.call('backup.snapshots.forget', forget)).toEqual({ ok: false, error: required });
    expect(await t.call('backup.prune.start', { repositoryId: repository.id })).toEqual({
      ok: false,
      error: { code: 'MAINTENANCE_REQUIRED', message: BACKUP_MESSAGES.maintenanceRequired('Vault', 'free space') },
    });
    // Its old password keys cannot be deleted, so a new password is refused before any proof.
    expect(
      await t.call('gate.stepUp', { method: 'backup.repositories.changePassword', input: { repositoryId: repository.id }, password: STRONG_PASSWORD }),
    ).toEqual({
      ok: false,
      error: { code: 'MAINTENANCE_REQUIRED', message: BACKUP_MESSAGES.appendOnlyPassword },
    });
    const wrongKey = { ...forget, maintenance: { kind: 's3' as const, accessKeyId: 'AKNOSUCHKEY0000', secretAccessKey: 'x' } };
    expect(await t.call('backup.snapshots.forget', wrongKey)).toEqual({
      ok: false,
      error: { code: 'STORAGE_AUTH_FAILED', message: BACKUP_MESSAGES.maintenanceRefused },
    });
    expect(await objectsUnder(location.prefix!)).toEqual(before);

    const withCredentials = { ...forget, maintenance: maintenance() };
    const described = await t.ok('gate.describeStepUp', { method: 'backup.snapshots.forget', input: withCredentials });
    expect(described.confirmation.consequence).toContain('with the maintenance credentials given for this run only');
    expect(JSON.stringify(described)).not.toContain(server.secretAccessKey);
    expect(await t.ok('backup.snapshots.forget', withCredentials, await t.passwordProof('backup.snapshots.forget', withCredentials))).toEqual({ removed: 1 });

    const prune = { repositoryId: repository.id, maintenance: maintenance() };
    expect(await t.call('backup.prune.start', prune)).toMatchObject({ ok: false, error: { code: 'STEP_UP_REQUIRED' } });
    const pruned = await settled((await t.ok('backup.prune.start', prune, await t.passwordProof('backup.prune.start', prune))).jobId);
    expect(pruned.state).toBe('succeeded');
    // A run with maintenance credentials applies the set's retention: a step-up, as the forget and the prune it makes are.
    const runInput = { setId: set.id, maintenance: maintenance() };
    expect(await t.call('backup.sets.run', runInput)).toMatchObject({ ok: false, error: { code: 'STEP_UP_REQUIRED' } });
    const runDescribed = await t.ok('gate.describeStepUp', { method: 'backup.sets.run', input: runInput });
    expect(runDescribed.confirmation).toMatchObject({
      title: 'Back up “Documents” and apply its retention',
      consequence: expect.stringContaining(
        'that its retention (keep last 1) no longer keeps are deleted, with the maintenance credentials given for this run only',
      ),
    });
    expect(JSON.stringify(runDescribed)).not.toContain(server.secretAccessKey);
    // Credentials that cannot open it are refused before a proof is granted.
    expect(
      await t.call('gate.stepUp', { method: 'backup.sets.run', input: { setId: set.id, maintenance: wrongKey.maintenance }, password: STRONG_PASSWORD }),
    ).toEqual({ ok: false, error: { code: 'STORAGE_AUTH_FAILED', message: BACKUP_MESSAGES.maintenanceRefused } });
    const run = await settled((await t.ok('backup.sets.run', runInput, await t.passwordProof('backup.sets.run', runInput))).jobId);
    expect(run.result).toMatchObject({ retentionNote: null });
    expect((await t.ok('backup.snapshots.list', { repositoryId: repository.id })).snapshots).toHaveLength(1);
    const audit = JSON.stringify((await t.app.core.audit.open()).query({ limit: 1000 }).rows);
    expect(audit).not.toContain(server.secretAccessKey);
    expect(readFileSync(join(t.dataDir, LOG_FILE), 'utf8')).not.toContain(server.secretAccessKey);
  }, 90_000);
});
