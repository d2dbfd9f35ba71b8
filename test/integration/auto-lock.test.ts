import { afterEach, describe, expect, it } from 'vitest';
import { makeTestApp, STRONG_PASSWORD, type TestApp } from '../helpers/app.js';

let t: TestApp;
afterEach(() => t?.remove());

describe('auto-lock', () => {
  it('defaults to ten minutes and accepts a time the user sets', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    expect(await t.ok('settings.get', {})).toEqual({ autoLockMinutes: 10 });
    expect(await t.ok('settings.update', { autoLockMinutes: 3 })).toEqual({ autoLockMinutes: 3 });
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

  it('locks after the idle time and forgets the session', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    await t.ok('settings.update', { autoLockMinutes: 1 });
    t.clock.advance(59_999);
    expect((await t.ok('app.status', {})).level).toBe('unlocked');
    t.clock.advance(1);
    expect((await t.ok('app.status', {})).level).toBe('locked');
    expect(() => t.app.core.gate.unlocked()).toThrow(expect.objectContaining({ code: 'NOT_ALLOWED' }));
    const result = await t.call('settings.get', {});
    expect(result.ok ? 'ok' : result.error.code).toBe('NOT_ALLOWED');
  });

  it('counts activity, but not status polling, as use', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    await t.ok('settings.update', { autoLockMinutes: 1 });
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
    await t.ok('settings.update', { autoLockMinutes: 1 });
    t.clock.advance(60_000);
    t.app.core.gate.checkIdle();
    expect(() => t.app.core.gate.unlocked()).toThrow(expect.objectContaining({ code: 'NOT_ALLOWED' }));
  });
});
