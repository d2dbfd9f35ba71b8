import { afterEach, describe, expect, it } from 'vitest';
import { makeTestApp, OTHER_STRONG_PASSWORD, STRONG_PASSWORD, type TestApp } from '../helpers/app.js';
import { collect, spawnChild } from '../helpers/child.js';

let t: TestApp;
afterEach(() => t?.remove());

const change = { currentPassword: STRONG_PASSWORD, newPassword: OTHER_STRONG_PASSWORD };

async function changePassword(app: TestApp, input = change) {
  const { proof } = await app.ok('gate.stepUp', { method: 'account.changePassword', input, password: input.currentPassword });
  return app.call('account.changePassword', input, proof);
}

async function opens(app: TestApp, password: string): Promise<boolean> {
  const result = await app.call('gate.submitPassword', { password });
  if (result.ok) await app.ok('gate.lock', {});
  return result.ok;
}

describe('changing the password', () => {
  it('makes the new password open the vault and the old one not', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    expect(await changePassword(t)).toEqual({ ok: true, value: { changed: true } });
    await t.ok('gate.lock', {});
    expect(await opens(t, STRONG_PASSWORD)).toBe(false);
    expect(await opens(t, OTHER_STRONG_PASSWORD)).toBe(true);
  });

  it('refuses a weak new password with the reason and keeps the old one', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    const weak = { currentPassword: STRONG_PASSWORD, newPassword: 'password' };
    const result = await changePassword(t, weak);
    expect(result).toEqual({ ok: false, error: { code: 'WEAK_PASSWORD', message: 'Use at least 10 characters.' } });
    await t.ok('gate.lock', {});
    expect(await opens(t, STRONG_PASSWORD)).toBe(true);
  });

  it('refuses a wrong current password, counts it, and keeps the old one', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    const wrong = { currentPassword: 'not my password at all 99', newPassword: OTHER_STRONG_PASSWORD };
    const { proof } = await t.ok('gate.stepUp', { method: 'account.changePassword', input: wrong, password: STRONG_PASSWORD });
    const result = await t.call('account.changePassword', wrong, proof);
    expect(result.ok ? 'ok' : result.error.code).toBe('AUTH_FAILED');
    await t.ok('gate.lock', {});
    expect(await opens(t, STRONG_PASSWORD)).toBe(true);
  });

  it('is atomic: a process killed at any moment of a change leaves exactly one password working', async () => {
    const outcomes = { old: 0, new: 0 };
    // From the instant the change starts to well after it must have finished (two Argon2 runs).
    // The last run is killed only once the change has answered: on a loaded machine a fixed
    // delay may still fall inside it, and the test must see the far side of the window too.
    const killAfterMs: (number | 'after')[] = [0, 20, 40, 70, 100, 140, 200, 300, 450, 'after'];
    for (const [run, delay] of killAfterMs.entries()) {
      t = makeTestApp();
      await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
      t.close();
      const child = spawnChild({
        dataDir: t.dataDir,
        calls: [
          { method: 'gate.submitPassword', input: { password: STRONG_PASSWORD } },
          { method: 'gate.stepUp', input: { method: 'account.changePassword', input: change, password: STRONG_PASSWORD } },
          { method: 'account.changePassword', input: change, useLastProof: true },
        ],
      });
      const done = collect(child);
      // Kill somewhere inside the change: after it starts, spread over the two Argon2 runs and the write.
      child.stdout!.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        if (delay === 'after') {
          if (text.includes('"method":"account.changePassword"')) child.kill('SIGKILL');
        } else if (text.includes('"calling":"account.changePassword"')) {
          setTimeout(() => child.kill('SIGKILL'), delay);
        }
      });
      await done;
      t = t.reopen();
      const oldWorks = await opens(t, STRONG_PASSWORD);
      const newWorks = await opens(t, OTHER_STRONG_PASSWORD);
      expect(oldWorks !== newWorks, `run ${run} (${delay}): old ${oldWorks}, new ${newWorks}`).toBe(true);
      outcomes[oldWorks ? 'old' : 'new']++;
      t.remove();
    }
    // The kill times span the change, so both outcomes are seen: the test exercised the window.
    expect(outcomes.old).toBeGreaterThan(0);
    expect(outcomes.new).toBeGreaterThan(0);
  });
});
