import { afterEach, describe, expect, it } from 'vitest';
import { makeTestApp, STRONG_PASSWORD, type TestApp } from '../helpers/app.js';
import { results, runChild } from '../helpers/child.js';
import { HARD_STOP_DELAY_MS, HARD_STOP_FAILURES, MAX_DELAY_MS } from '../../src-main/core/gate/throttle-policy.js';

let t: TestApp;
afterEach(() => t?.remove());

const WRONG = 'not the password at all 123';
const GENERIC = 'That did not work. Check what you entered and try again.';

async function setupLocked(): Promise<TestApp> {
  const app = makeTestApp();
  await app.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
  await app.ok('gate.lock', {});
  return app;
}

describe('the password throttle', () => {
  it('allows four free failures, then waits 1 s, and says so with a generic message', async () => {
    t = await setupLocked();
    for (let i = 1; i <= 4; i++) {
      expect(await t.call('gate.submitPassword', { password: WRONG })).toEqual({
        ok: false,
        error: { code: 'AUTH_FAILED', message: GENERIC, retryAfterMs: 0 },
      });
    }
    expect(await t.call('gate.submitPassword', { password: WRONG })).toEqual({
      ok: false,
      error: { code: 'AUTH_FAILED', message: GENERIC, retryAfterMs: 1000 },
    });
    expect((await t.ok('app.status', {})).throttle).toEqual({ failures: 5, retryAfterMs: 1000, hardStop: false });
  });

  it('refuses even the right password while the wait runs, then accepts it and resets', async () => {
    t = await setupLocked();
    for (let i = 0; i < 5; i++) await t.call('gate.submitPassword', { password: WRONG });
    t.clock.advance(400);
    expect(await t.call('gate.submitPassword', { password: STRONG_PASSWORD })).toEqual({
      ok: false,
      error: { code: 'THROTTLED', message: 'Too many failed attempts. Wait before trying again.', retryAfterMs: 600 },
    });
    t.clock.advance(600);
    expect(await t.ok('gate.submitPassword', { password: STRONG_PASSWORD })).toEqual({ level: 'unlocked' });
    expect((await t.ok('app.status', {})).throttle).toEqual({ failures: 0, retryAfterMs: 0, hardStop: false });
  });

  it('doubles the wait with each failure up to 15 minutes, then hard-stops at 20 failures with an hour between tries', async () => {
    t = await setupLocked();
    const waits: number[] = [];
    for (let i = 1; i <= HARD_STOP_FAILURES; i++) {
      const r = await t.call('gate.submitPassword', { password: WRONG });
      if (r.ok) throw new Error('a wrong password was accepted');
      waits.push(r.error.retryAfterMs ?? -1);
      t.clock.advance(r.error.retryAfterMs ?? 0);
    }
    expect(waits).toEqual([
      0,
      0,
      0,
      0,
      1000,
      2000,
      4000,
      8000,
      16000,
      32000,
      64000,
      128000,
      256000,
      512000,
      MAX_DELAY_MS,
      MAX_DELAY_MS,
      MAX_DELAY_MS,
      MAX_DELAY_MS,
      MAX_DELAY_MS,
      HARD_STOP_DELAY_MS,
    ]);
    t.clock.advance(-HARD_STOP_DELAY_MS);
    expect((await t.ok('app.status', {})).throttle).toEqual({
      failures: HARD_STOP_FAILURES,
      retryAfterMs: HARD_STOP_DELAY_MS,
      hardStop: true,
    });
  });

  it('still holds after the app is restarted in a new process', async () => {
    t = await setupLocked();
    for (let i = 0; i < 6; i++) {
      await t.call('gate.submitPassword', { password: WRONG });
      t.clock.advance(1000);
    }
    // Six failures: the sixth set a 2 s wait, 1 s of which has passed.
    t.close();
    const output = await runChild({
      dataDir: t.dataDir,
      now: t.clock.now(),
      calls: [
        { method: 'app.status', input: {} },
        { method: 'gate.submitPassword', input: { password: STRONG_PASSWORD } },
      ],
    });
    expect(output.code, output.stderr).toBe(0);
    const [status, unlock] = results(output) as [{ value: { throttle: unknown } }, unknown];
    expect(status.value.throttle).toEqual({ failures: 6, retryAfterMs: 1000, hardStop: false });
    expect(unlock).toEqual({
      ok: false,
      error: { code: 'THROTTLED', message: 'Too many failed attempts. Wait before trying again.', retryAfterMs: 1000 },
    });
  });

  it('serialises parallel guesses, so they cannot all slip past the check before the count', async () => {
    t = await setupLocked();
    const guesses = await Promise.all(Array.from({ length: 8 }, () => t.call('gate.submitPassword', { password: WRONG })));
    const codes = guesses.map((g) => (g.ok ? 'ok' : g.error.code));
    expect(codes.filter((c) => c === 'AUTH_FAILED')).toHaveLength(5);
    expect(codes.filter((c) => c === 'THROTTLED')).toHaveLength(3);
  });
});
