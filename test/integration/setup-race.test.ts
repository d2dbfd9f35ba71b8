/**
 * First-run set-up under parallel calls (a double click, two tabs), against the real keychain
 * and a real SQLite file: always exactly one account and one vault key, and the account still
 * opens after it locks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createOsKeychain } from '../../src-main/core/platform/keychain.js';
import { makeTestApp, STRONG_PASSWORD, type TestApp } from '../helpers/app.js';

let t: TestApp | undefined;
afterEach(() => {
  t?.remove();
  t = undefined;
});

const RACES = 20;
const PARALLEL = 6;

describe('first-run set-up', () => {
  it(`makes one working account whatever arrives in parallel (${RACES} races of ${PARALLEL} calls)`, async () => {
    for (let race = 0; race < RACES; race++) {
      t = makeTestApp();
      const app = t;
      // Different passwords, so a mix-up of keys or rows would show as the wrong one opening.
      const passwords = Array.from({ length: PARALLEL }, (_, i) => `${STRONG_PASSWORD} ${i}`);
      const results = await Promise.all(passwords.map((password) => app.call('account.setup', { accountName: 'Ada', password })));

      const winners = results.flatMap((r, i) => (r.ok ? [i] : []));
      expect(winners, `race ${race}`).toHaveLength(1);
      for (const [i, r] of results.entries()) {
        if (!r.ok) expect(r.error, `race ${race}, call ${i}`).toEqual({ code: 'SETUP_DONE', message: 'An account already exists; unlock it instead.' });
      }
      expect(app.app.core.store.db.prepare('SELECT count(*) FROM accounts').pluck().get()).toBe(1);
      const vaultKey = await createOsKeychain().get(app.app.core.vault.keychainAccount);
      expect(vaultKey).toHaveLength(32);

      // The session set-up opened is the winner's, and after a lock only the winner's password opens.
      expect((await app.ok('app.status', {})).level).toBe('unlocked');
      await app.ok('gate.lock', {});
      const winner = passwords[winners[0]!]!;
      const loser = passwords[(winners[0]! + 1) % PARALLEL]!;
      expect(await app.call('gate.submitPassword', { password: loser })).toMatchObject({ ok: false, error: { code: 'AUTH_FAILED' } });
      expect(await app.ok('gate.submitPassword', { password: winner })).toEqual({ level: 'unlocked' });
      // And the keychain still holds the key the account was made with, after a restart too.
      expect(await createOsKeychain().get(app.app.core.vault.keychainAccount)).toEqual(vaultKey);
      t = app.reopen();
      expect(await t.ok('gate.submitPassword', { password: winner })).toEqual({ level: 'unlocked' });
      t.remove();
      t = undefined;
    }
  }, 300_000);

  it('leaves everything as it was when set-up is called again', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    const key = await createOsKeychain().get(t.app.core.vault.keychainAccount);
    const again = await t.call('account.setup', { accountName: 'Eve', password: `${STRONG_PASSWORD} again` });
    expect(again).toEqual({ ok: false, error: { code: 'SETUP_DONE', message: 'An account already exists; unlock it instead.' } });
    expect(await createOsKeychain().get(t.app.core.vault.keychainAccount)).toEqual(key);
    expect((await t.ok('app.status', {})).accountName).toBe('Ada');
    const { rows } = await t.ok('audit.query', { filter: { action: 'setup' } });
    expect(rows).toHaveLength(1);
  });
});
