import { afterEach, describe, expect, it } from 'vitest';
import { makeTestApp, OTHER_STRONG_PASSWORD, STRONG_PASSWORD, type TestApp } from '../helpers/app.js';

let t: TestApp;
afterEach(() => t?.remove());

describe('first-run setup and the password lock', () => {
  it('starts with setup needed and the gate locked', async () => {
    t = makeTestApp();
    const status = await t.ok('app.status', {});
    expect(status).toMatchObject({ appName: 'Twofold Backup', setupNeeded: true, level: 'locked', accountName: null, throttle: null });
  });

  it('creates the account, leaves the creator unlocked, and unlocks again with the right password after a lock', async () => {
    t = makeTestApp();
    expect(await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD })).toEqual({ level: 'unlocked' });
    expect(await t.ok('gate.lock', {})).toEqual({ level: 'locked' });
    expect((await t.ok('app.status', {})).level).toBe('locked');
    expect(await t.ok('gate.submitPassword', { password: STRONG_PASSWORD })).toEqual({ level: 'unlocked' });
    expect(await t.ok('app.status', {})).toMatchObject({ setupNeeded: false, level: 'unlocked', accountName: 'Ada' });
  });

  it('unlocks after a restart: the account, the keychain item and the password are all that is needed', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    t = t.reopen();
    expect((await t.ok('app.status', {})).level).toBe('locked');
    expect(await t.ok('gate.submitPassword', { password: STRONG_PASSWORD })).toEqual({ level: 'unlocked' });
  });

  it('refuses a second setup once an account exists', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    await t.ok('gate.lock', {});
    const again = await t.call('account.setup', { accountName: 'Mallory', password: OTHER_STRONG_PASSWORD });
    expect(again).toEqual({ ok: false, error: { code: 'SETUP_DONE', message: 'An account already exists; unlock it instead.' } });
    expect((await t.ok('app.status', {})).accountName).toBe('Ada');
  });

  it.each([
    ['too short', 'Xq7!pz', 'Use at least 10 characters.'],
    ['a common password', 'password1234', ''],
    ['a keyboard walk', 'qwertyuiop123', ''],
    ['the account name', 'ada-lovelace-ada', ''],
  ])('rejects a weak password (%s) with a reason and creates nothing', async (_name, password, reason) => {
    t = makeTestApp();
    const result = await t.call('account.setup', { accountName: 'ada-lovelace', password });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('WEAK_PASSWORD');
    expect(result.error.message.length).toBeGreaterThan(10);
    if (reason) expect(result.error.message).toBe(reason);
    expect((await t.ok('app.status', {})).setupNeeded).toBe(true);
  });

  it('rates passwords for the strength meter without storing anything', async () => {
    t = makeTestApp();
    const weak = await t.ok('account.checkPasswordStrength', { password: 'letmein' });
    const strong = await t.ok('account.checkPasswordStrength', { password: STRONG_PASSWORD });
    expect(weak).toMatchObject({ acceptable: false });
    expect(weak.score).toBeLessThan(3);
    expect(strong).toMatchObject({ acceptable: true });
    expect(strong.score).toBeGreaterThanOrEqual(3);
    expect((await t.ok('app.status', {})).setupNeeded).toBe(true);
  });

  it('rejects malformed input with a clear error that never echoes the value', async () => {
    t = makeTestApp();
    const result = await t.app.router.call(
      { method: 'account.setup', input: { accountName: 'Ada', password: 'x'.repeat(2000) } },
      { face: 'test', ip: '127.0.0.1', workstation: 'w' },
    );
    expect(result).toEqual({
      ok: false,
      error: { code: 'BAD_INPUT', message: 'Passwords are limited to 1024 characters.' },
    });
    expect(JSON.stringify(result)).not.toContain('xxxxxxxx');
  });

  it("words a form's mistake as the contract does, without the field's internal name; a caller that skipped the forms gets the field's path", async () => {
    t = makeTestApp();
    const call = (input: unknown) => t!.app.router.call({ method: 'account.setup', input }, { face: 'test', ip: '127.0.0.1', workstation: 'w' });
    expect(await call({ accountName: 'Ada', password: '' })).toEqual({ ok: false, error: { code: 'BAD_INPUT', message: 'Enter a password.' } });
    const wrongType = await call({ accountName: 'Ada', password: 42 });
    expect(wrongType).toEqual({ ok: false, error: { code: 'BAD_INPUT', message: expect.stringMatching(/^password: Invalid input/) } });
  });
});
