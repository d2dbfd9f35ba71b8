import Database from 'better-sqlite3';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTestApp, OTHER_STRONG_PASSWORD, STRONG_PASSWORD, type TestApp } from '../helpers/app.js';
import { DATABASE_FILE } from '../../src-main/core/platform/store.js';
import { LOG_FILE } from '../../src-main/core/platform/logger.js';
import { FACTOR_LIST_KIND } from '../../src-main/core/gate/factor-list.js';
import { randomKey } from '../../src-main/core/platform/crypto.js';
import { createOsKeychain } from '../../src-main/core/platform/keychain.js';
import { TAMPERED_MESSAGE } from '../../src-main/core/gate/state-seal.js';

let t: TestApp;
afterEach(() => t?.remove());

async function setupLocked(): Promise<TestApp> {
  const app = makeTestApp();
  await app.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
  await app.ok('gate.lock', {});
  return app;
}

/** Edit the database file behind the app's back, as an attacker with file access would. */
function tamper(app: TestApp, sql: string, ...params: unknown[]): void {
  const db = new Database(join(app.dataDir, DATABASE_FILE));
  db.prepare(sql).run(...params);
  db.close();
}

function flipByte(blob: Buffer, index: number): Buffer {
  const copy = Buffer.from(blob);
  copy[index] = copy[index]! ^ 0x01;
  return copy;
}

function column(app: TestApp, sql: string): Buffer {
  const db = new Database(join(app.dataDir, DATABASE_FILE), { readonly: true });
  const value = db.prepare(sql).pluck().get() as Buffer;
  db.close();
  return value;
}

describe('the vault', () => {
  it('keeps the vault key in the OS keychain under the service "Twofold Backup"', async () => {
    t = await setupLocked();
    const key = await createOsKeychain().get(t.app.core.vault.keychainAccount);
    expect(key).toBeInstanceOf(Buffer);
    expect(key).toHaveLength(32);
  });

  it('cannot open the records without the keychain item, and says how to recover', async () => {
    t = await setupLocked();
    await createOsKeychain().delete(t.app.core.vault.keychainAccount);
    const result = await t.call('gate.submitPassword', { password: STRONG_PASSWORD });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('KEYCHAIN_ITEM_MISSING');
    expect(result.error.message).toContain('missing from the OS keychain');
    expect((await t.ok('app.status', {})).level).toBe('locked');
  });

  it('cannot open the records with a different vault key, says so, and counts no failed attempt', async () => {
    t = await setupLocked();
    await createOsKeychain().set(t.app.core.vault.keychainAccount, randomKey());
    const result = await t.call('gate.submitPassword', { password: STRONG_PASSWORD });
    expect(result).toEqual({
      ok: false,
      error: {
        code: 'KEYCHAIN_ITEM_MISMATCH',
        message:
          `The vault key "${t.app.core.vault.keychainAccount}" in the OS keychain is not the one this data folder was set up with, so nothing can be opened. ` +
          'Restore the keychain item from a backup of the keychain, or reset the app data to start again.',
      },
    });
    expect((await t.ok('app.status', {})).throttle?.failures).toBe(0);
  });

  it('cannot open the records without the password: a wrong password unwraps nothing', async () => {
    t = await setupLocked();
    const { core } = t.app;
    const account = core.accounts.require();
    const stored = { kdf: '', verifier: Buffer.alloc(0), wrappedDek: Buffer.alloc(0) };
    Object.assign(stored, core.store.db.prepare('SELECT kdf, verifier, wrapped_dek AS wrappedDek FROM accounts').get());
    const vaultKey = await core.vault.vaultKey(false);
    expect(await core.vault.checkPassword(OTHER_STRONG_PASSWORD, stored, vaultKey)).toBeNull();
    // Even skipping the verifier, a key derived from the wrong password fails the wrap's integrity check.
    const kdf = JSON.parse(stored.kdf);
    const wrongLock = await core.vault.passwordLock(OTHER_STRONG_PASSWORD, kdf, vaultKey);
    expect(() => core.vault.unwrapRecordKey(wrongLock.wrapKey, stored.wrappedDek, account.id)).toThrow(expect.objectContaining({ code: 'VAULT_CORRUPT' }));
  });

  it.each([0, 1, 13, -1])('fails closed when byte %i of the sealed factor list is flipped', async (index) => {
    t = await setupLocked();
    const blob = column(t, `SELECT blob FROM sealed_records WHERE kind = '${FACTOR_LIST_KIND}'`);
    tamper(t, 'UPDATE sealed_records SET blob = ? WHERE kind = ?', flipByte(blob, index < 0 ? blob.length + index : index), FACTOR_LIST_KIND);
    // The database's seal sees the edit before the password is looked at.
    const result = await t.call('gate.submitPassword', { password: STRONG_PASSWORD });
    expect(result).toEqual({ ok: false, error: { code: 'VAULT_CORRUPT', message: TAMPERED_MESSAGE } });
    expect((await t.ok('app.status', {})).level).toBe('locked');
  });

  it.each([0, 13, -1])('cannot open a sealed factor list with byte %i flipped, even past the seal', async (index) => {
    t = await setupLocked();
    await t.ok('gate.submitPassword', { password: STRONG_PASSWORD });
    const { account, recordKey } = t.app.core.gate.unlocked();
    const blob = column(t, `SELECT blob FROM sealed_records WHERE kind = '${FACTOR_LIST_KIND}'`);
    tamper(t, 'UPDATE sealed_records SET blob = ? WHERE kind = ?', flipByte(blob, index < 0 ? blob.length + index : index), FACTOR_LIST_KIND);
    expect(() => t.app.core.factors.read(account.id, recordKey)).toThrow(
      expect.objectContaining({ code: 'VAULT_CORRUPT', message: expect.stringMatching(/^A sealed record (is damaged|failed its integrity check)/) }),
    );
  });

  it('fails closed when the sealed factor list is deleted (2FA cannot be switched off by editing the file)', async () => {
    t = await setupLocked();
    tamper(t, 'DELETE FROM sealed_records');
    const result = await t.call('gate.submitPassword', { password: STRONG_PASSWORD });
    expect(result).toEqual({ ok: false, error: { code: 'VAULT_CORRUPT', message: TAMPERED_MESSAGE } });
  });

  it('cannot read a deleted factor list, even past the seal', async () => {
    t = await setupLocked();
    await t.ok('gate.submitPassword', { password: STRONG_PASSWORD });
    const { account, recordKey } = t.app.core.gate.unlocked();
    tamper(t, 'DELETE FROM sealed_records');
    expect(() => t.app.core.factors.read(account.id, recordKey)).toThrow(
      expect.objectContaining({ code: 'VAULT_CORRUPT', message: 'The sealed list of second-factor devices is missing.' }),
    );
  });

  it('fails closed when the wrapped record key is flipped', async () => {
    t = await setupLocked();
    const wrapped = column(t, 'SELECT wrapped_dek FROM accounts');
    tamper(t, 'UPDATE accounts SET wrapped_dek = ?', flipByte(wrapped, 20));
    const result = await t.call('gate.submitPassword', { password: STRONG_PASSWORD });
    expect(result.ok ? 'unlocked' : result.error.code).toBe('VAULT_CORRUPT');
  });

  it('refuses a sealed record moved to another place (it is bound to its account and kind)', async () => {
    t = await setupLocked();
    const blob = column(t, `SELECT blob FROM sealed_records WHERE kind = '${FACTOR_LIST_KIND}'`);
    const { core } = t.app;
    await t.ok('gate.submitPassword', { password: STRONG_PASSWORD });
    const { account, recordKey } = core.gate.unlocked();
    const accountId = account.id;
    expect(core.vault.openRecord(recordKey, accountId, FACTOR_LIST_KIND, blob).toString()).toBe('{"version":1,"devices":[],"recovery":null}');
    expect(() => core.vault.openRecord(recordKey, accountId, 'something-else', blob)).toThrow(expect.objectContaining({ code: 'VAULT_CORRUPT' }));
  });

  it('leaves no password, vault key, record key or sealed plaintext in the database file, its WAL or the log', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    await t.ok('gate.lock', {});
    await t.call('gate.submitPassword', { password: OTHER_STRONG_PASSWORD });
    await t.ok('gate.submitPassword', { password: STRONG_PASSWORD });
    const { core } = t.app;
    const { recordKey } = core.gate.unlocked();
    const secrets: [string, Buffer][] = [
      ['password', Buffer.from(STRONG_PASSWORD, 'utf8')],
      ['wrong password', Buffer.from(OTHER_STRONG_PASSWORD, 'utf8')],
      ['password (utf-16)', Buffer.from(STRONG_PASSWORD, 'utf16le')],
      ['vault key', await core.vault.vaultKey(false)],
      ['vault key (base64)', Buffer.from((await core.vault.vaultKey(false)).toString('base64'))],
      ['record key', Buffer.from(recordKey)],
      ['record key (hex)', Buffer.from(recordKey.toString('hex'))],
      ['sealed plaintext', Buffer.from('"devices"')],
    ];
    const files = [DATABASE_FILE, `${DATABASE_FILE}-wal`, LOG_FILE].map((f) => join(t.dataDir, f)).filter((f) => existsSync(f));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const [name, secret] of secrets) expect(bytes.includes(secret), `${name} found in ${file}`).toBe(false);
    }
    expect(readFileSync(join(t.dataDir, LOG_FILE), 'utf8')).toContain('password refused');
  });
});
