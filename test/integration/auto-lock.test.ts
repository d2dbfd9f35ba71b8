import { afterEach, describe, expect, it } from 'vitest';
import { makeTestApp, STRONG_PASSWORD, type TestApp } from '../helpers/app.js';

let t: TestApp;
afterEach(() => t?.remove());

/** Auto-lock is a step-up setting: confirmed with the password while 2FA is off. */
async function setAutoLock(app: TestApp, minutes: number) {
  return app.ok('settings.update', { autoLockMinutes: minutes }, await app.passwordProof('settings.update', { autoLockMinutes: minutes }));
}

describe('auto-lock', () => {
  it('defaults to ten minutes and accepts a time the user sets', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    expect(await t.ok('settings.get', {})).toEqual({ autoLockMinutes: 10 });
    expect(await setAutoLock(t, 3)).toEqual({ autoLockMinutes: 3 });
    t = t.reopen();
    await t.ok('gate.submitPassword', { password: STRONG_PASSWORD });
    expect(await t.ok('settings.get', {})).toEqual({ autoLockMinutes: 3 });
  });

  it.each([0, 1441, 2.5])('refuses an auto-lock time of %s minutes and keeps the old one', async (minutes) => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    const result = await t.call('settings.update', { autoLockMinutes: minutes });
    expect(result.ok ? 'ok' : result.error.code).toBe('BAD_INPUT');
    expect(await t.ok('settings.get', {})).toEqual({ autoLockMinutes: 10 });
  });

  it('is changed only with a step-up that names the new time, and the change is audited', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    expect(await t.call('settings.update', { autoLockMinutes: 1440 })).toEqual({
      ok: false,
      error: { code: 'STEP_UP_REQUIRED', message: 'Confirm this action first: Change settings.' },
    });
    const { confirmation } = await t.ok('gate.describeStepUp', { method: 'settings.update', input: { autoLockMinutes: 1440 } });
    expect(confirmation).toMatchObject({
      title: 'Change auto-lock from 10 to 1440 minutes',
      consequence: 'The app locks itself after 1440 idle minutes.',
    });
    await setAutoLock(t, 1440);
    const { rows } = await t.ok('audit.query', { filter: { action: 'settings.changed' } });
    expect(rows.map((r) => [r.outcome, r.detail])).toEqual([['success', 'auto-lock 10 → 1440 min']]);
  });

  it('locks after the idle time and forgets the session', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    await setAutoLock(t, 1);
    t.clock.advance(59_999);
    expect((await t.ok('app.status', {})).level).toBe('unlocked');
    t.clock.advance(1);
    expect((await t.ok('app.status', {})).level).toBe('locked');
    expect(() => t.app.core.gate.unlocked()).toThrow(expect.objectContaining({ code: 'NOT_ALLOWED' }));
    const log = await t.app.core.audit.open();
    expect(log.query({ action: 'locked' }).rows.map((r) => r.detail)).toEqual(['locked after the idle time']);
    const result = await t.call('settings.get', {});
    expect(result.ok ? 'ok' : result.error.code).toBe('NOT_ALLOWED');
  });

  it('counts activity, but not status polling, as use', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    await setAutoLock(t, 1);
    t.clock.advance(50_000);
    await t.ok('settings.get', {});
    t.clock.advance(50_000);
    await t.ok('app.status', {});
    expect((await t.ok('app.status', {})).level).toBe('unlocked');
    t.clock.advance(10_000);
    expect((await t.ok('app.status', {})).level).toBe('locked');
  });

  it('locks from the background timer without any call', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    await setAutoLock(t, 1);
    t.clock.advance(60_000);
    t.app.core.gate.checkIdle();
    expect(() => t.app.core.gate.unlocked()).toThrow(expect.objectContaining({ code: 'NOT_ALLOWED' }));
  });
});
