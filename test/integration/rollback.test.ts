/**
 * The database's seal against the real keychain and a real SQLite file: an older copy of the
 * data folder put back, a cut-off audit log, and rows edited outside the app are all refused at
 * unlock, before the password is looked at, with a clear error and an audit row; a crash
 * between a commit and the keychain write is not mistaken for one.
 */
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createOsKeychain } from '../../src-main/core/platform/keychain.js';
import { ROLLED_BACK_MESSAGE, TAMPERED_MESSAGE } from '../../src-main/core/gate/state-seal.js';
import { DATABASE_FILE } from '../../src-main/core/platform/store.js';
import { makeTestApp, OTHER_STRONG_PASSWORD, STRONG_PASSWORD, type TestApp } from '../helpers/app.js';

let t: TestApp | undefined;
const spares: string[] = [];
afterEach(() => {
  t?.remove();
  t = undefined;
  for (const dir of spares.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const FILES = [DATABASE_FILE, `${DATABASE_FILE}-wal`, `${DATABASE_FILE}-shm`];

/** Close the app (after its keychain writes) and copy the database files aside, as a backup of the home folder would. */
async function closeAndCopy(app: TestApp): Promise<string> {
  await app.app.core.seal.settled();
  app.close();
  const copy = mkdtempSync(join(tmpdir(), 'twofold-copy-'));
  spares.push(copy);
  for (const f of FILES) if (existsSync(join(app.dataDir, f))) copyFileSync(join(app.dataDir, f), join(copy, f));
  return copy;
}

function putBack(app: TestApp, copy: string): void {
  for (const f of FILES) {
    rmSync(join(app.dataDir, f), { force: true });
    if (existsSync(join(copy, f))) copyFileSync(join(copy, f), join(app.dataDir, f));
  }
}

/** Edit the database file behind the app's back. */
function edit(app: TestApp, ...sql: string[]): void {
  const db = new Database(join(app.dataDir, DATABASE_FILE));
  for (const s of sql) db.exec(s);
  db.close();
}

async function integrityRows(app: TestApp) {
  return (await app.app.core.audit.open()).query({ action: 'integrity.failed' }).rows.map((r) => [r.outcome, r.detail]);
}

async function lockedAccount(): Promise<TestApp> {
  const app = makeTestApp();
  await app.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
  await app.ok('gate.lock', {});
  return app;
}

describe('rollback detection', () => {
  it('refuses a database copied back to an earlier state, says why, audits it, and keeps refusing', async () => {
    t = await lockedAccount();
    const before = await closeAndCopy(t);
    t = t.reopen();
    await t.ok('gate.submitPassword', { password: STRONG_PASSWORD });
    // Meanwhile the password changes: the older copy still has the old one.
    const change = { currentPassword: STRONG_PASSWORD, newPassword: OTHER_STRONG_PASSWORD };
    await t.ok('account.changePassword', change, await t.passwordProof('account.changePassword', change));
    await t.ok('gate.lock', {});
    await closeAndCopy(t);
    putBack(t, before);
    t = t.reopen();

    const refused = await t.call('gate.submitPassword', { password: STRONG_PASSWORD });
    expect(refused).toEqual({ ok: false, error: { code: 'DATA_ROLLED_BACK', message: ROLLED_BACK_MESSAGE } });
    expect(await t.ok('app.status', {})).toMatchObject({ level: 'locked', throttle: { failures: 0 } });
    expect(await integrityRows(t)).toEqual([['failure', ROLLED_BACK_MESSAGE]]);
    // Also after another restart, with either password.
    t = t.reopen();
    for (const password of [STRONG_PASSWORD, OTHER_STRONG_PASSWORD]) {
      expect(await t.call('gate.submitPassword', { password })).toMatchObject({ ok: false, error: { code: 'DATA_ROLLED_BACK' } });
    }
  });

  it('refuses an older copy that holds a lower throttle count', async () => {
    t = await lockedAccount();
    for (let i = 0; i < 3; i++) await t.call('gate.submitPassword', { password: `wrong password number ${i}` });
    const fewer = await closeAndCopy(t);
    t = t.reopen();
    await t.call('gate.submitPassword', { password: 'and another wrong one 4' });
    await t.call('gate.submitPassword', { password: 'and another wrong one 5' });
    expect((await t.ok('app.status', {})).throttle?.failures).toBe(5);
    await closeAndCopy(t);
    putBack(t, fewer);
    t = t.reopen();
    expect(await t.call('gate.submitPassword', { password: STRONG_PASSWORD })).toMatchObject({ ok: false, error: { code: 'DATA_ROLLED_BACK' } });
  });

  it('refuses a database whose newest audit log entries were cut off', async () => {
    t = await lockedAccount();
    await t.call('gate.submitPassword', { password: 'a wrong password to hide' });
    await closeAndCopy(t);
    edit(t, 'DROP TRIGGER audit_log_no_delete', 'DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)');
    t = t.reopen();
    expect(await t.call('gate.submitPassword', { password: STRONG_PASSWORD })).toEqual({
      ok: false,
      error: { code: 'DATA_ROLLED_BACK', message: ROLLED_BACK_MESSAGE },
    });
  });

  it('refuses a throttle reset by editing the file', async () => {
    t = await lockedAccount();
    for (let i = 0; i < 5; i++) await t.call('gate.submitPassword', { password: `wrong password number ${i}` });
    await closeAndCopy(t);
    edit(t, 'DELETE FROM throttle');
    t = t.reopen();
    expect(await t.call('gate.submitPassword', { password: STRONG_PASSWORD })).toEqual({
      ok: false,
      error: { code: 'VAULT_CORRUPT', message: TAMPERED_MESSAGE },
    });
  });

  it('catches an edit made while the app runs, at the next unlock', async () => {
    t = await lockedAccount();
    edit(t, "INSERT INTO settings (key, value) VALUES ('autoLockMinutes', '1440') ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    // The next change the app makes sees that the state moved under it, and does not seal the edit.
    await t.call('gate.submitPassword', { password: 'wrong password here 1' });
    t = t.reopen();
    expect(await t.call('gate.submitPassword', { password: STRONG_PASSWORD })).toMatchObject({ ok: false, error: { code: 'VAULT_CORRUPT' } });
  });

  it('refuses a database whose seal was deleted while the keychain keeps a record of it', async () => {
    t = await lockedAccount();
    await closeAndCopy(t);
    edit(t, "DELETE FROM meta WHERE key = 'seal.state'");
    t = t.reopen();
    expect(await t.call('gate.submitPassword', { password: STRONG_PASSWORD })).toMatchObject({ ok: false, error: { code: 'DATA_ROLLED_BACK' } });
  });

  it('seals a database from before seals existed at its first start, and guards it from then on', async () => {
    t = await lockedAccount();
    await closeAndCopy(t);
    edit(t, "DELETE FROM meta WHERE key = 'seal.state'");
    await createOsKeychain().delete(t.app.core.seal.anchorAccount);
    t = t.reopen();
    expect(await t.ok('gate.submitPassword', { password: STRONG_PASSWORD })).toEqual({ level: 'unlocked' });
    await t.app.core.seal.settled();
    expect(await t.app.core.seal.readAnchor()).toMatchObject({ v: 1, counter: expect.any(Number) });
    await t.ok('gate.lock', {});
    await closeAndCopy(t);
    edit(t, 'DELETE FROM throttle', "UPDATE accounts SET name = 'Eve'");
    t = t.reopen();
    expect(await t.call('gate.submitPassword', { password: STRONG_PASSWORD })).toMatchObject({ ok: false, error: { code: 'VAULT_CORRUPT' } });
  });

  it('accepts a database one step ahead of the keychain (a crash before the keychain write), and catches the keychain up', async () => {
    t = await lockedAccount();
    await t.app.core.seal.settled();
    const anchor = (await t.app.core.seal.readAnchor())!;
    await t.call('gate.submitPassword', { password: 'one wrong password' });
    await t.app.core.seal.settled();
    const ahead = (await t.app.core.seal.readAnchor())!;
    expect(ahead.counter).toBeGreaterThan(anchor.counter);
    // As if the process died after the commit, before the keychain heard of it.
    await createOsKeychain().set(t.app.core.seal.anchorAccount, Buffer.from(JSON.stringify(anchor)));
    t.close();
    t = t.reopen();
    expect(await t.ok('gate.submitPassword', { password: STRONG_PASSWORD })).toEqual({ level: 'unlocked' });
    await t.app.core.seal.settled();
    expect((await t.app.core.seal.readAnchor())!.counter).toBeGreaterThan(ahead.counter);
  });

  it('keeps the counter and the audit head in the keychain beside the vault key', async () => {
    t = await lockedAccount();
    await t.app.core.seal.settled();
    const raw = await createOsKeychain().get(t.app.core.seal.anchorAccount);
    const anchor = JSON.parse(raw!.toString('utf8')) as { v: number; counter: number; auditId: number; auditMac: string };
    const head = t.app.core.store.db.prepare('SELECT id, mac FROM audit_log ORDER BY id DESC LIMIT 1').get() as { id: number; mac: Buffer };
    expect(anchor).toEqual({ v: 1, counter: expect.any(Number), auditId: head.id, auditMac: head.mac.toString('hex') });
    expect(t.app.core.seal.anchorAccount).toBe(t.app.core.vault.keychainAccount.replace('vault-key/', 'state-anchor/'));
  });
});
