import { afterEach, describe, expect, it } from 'vitest';
import { STEP_UP_TTL_MS } from '../../src-main/core/gate/gate.js';
import { makeTestApp, OTHER_STRONG_PASSWORD, STRONG_PASSWORD, type TestApp } from '../helpers/app.js';

let t: TestApp;
afterEach(() => t?.remove());

const change = { currentPassword: STRONG_PASSWORD, newPassword: OTHER_STRONG_PASSWORD };

async function unlocked(): Promise<TestApp> {
  const app = makeTestApp();
  await app.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
  return app;
}

async function proofFor(app: TestApp, input: typeof change): Promise<string> {
  const grant = await app.ok('gate.stepUp', { method: 'account.changePassword', input, password: STRONG_PASSWORD });
  expect(grant.action).toBe('Change the password');
  return grant.proof;
}

describe('step-up proofs', () => {
  it('authorise exactly one call of the method and input they were granted for', async () => {
    t = await unlocked();
    const proof = await proofFor(t, change);
    expect(await t.ok('account.changePassword', change, proof)).toEqual({ changed: true });
  });

  it('are refused the second time', async () => {
    t = await unlocked();
    const proof = await proofFor(t, change);
    await t.ok('account.changePassword', change, proof);
    const back = { currentPassword: OTHER_STRONG_PASSWORD, newPassword: STRONG_PASSWORD };
    const again = await t.call('account.changePassword', back, proof);
    expect(again.ok ? 'ok' : again.error.code).toBe('STEP_UP_REQUIRED');
  });

  it('are refused for a different input than the one confirmed', async () => {
    t = await unlocked();
    const proof = await proofFor(t, change);
    const other = { currentPassword: STRONG_PASSWORD, newPassword: 'a different strong passphrase 5521' };
    const result = await t.call('account.changePassword', other, proof);
    expect(result.ok ? 'ok' : result.error.code).toBe('STEP_UP_REQUIRED');
  });

  it('expire after two minutes', async () => {
    t = await unlocked();
    const proof = await proofFor(t, change);
    t.clock.advance(STEP_UP_TTL_MS);
    const result = await t.call('account.changePassword', change, proof);
    expect(result.ok ? 'ok' : result.error.code).toBe('STEP_UP_REQUIRED');
  });

  it('are forgotten when the app locks', async () => {
    t = await unlocked();
    const proof = await proofFor(t, change);
    await t.ok('gate.lock', {});
    await t.ok('gate.submitPassword', { password: STRONG_PASSWORD });
    const result = await t.call('account.changePassword', change, proof);
    expect(result.ok ? 'ok' : result.error.code).toBe('STEP_UP_REQUIRED');
  });

  it('are not granted for a wrong password, which counts towards the throttle', async () => {
    t = await unlocked();
    const result = await t.call('gate.stepUp', { method: 'account.changePassword', input: change, password: 'nope nope nope 42' });
    expect(result.ok ? 'ok' : result.error.code).toBe('AUTH_FAILED');
    expect((await t.ok('app.status', {})).throttle?.failures).toBe(1);
  });

  it('are not granted for methods that need none, or for input the method would refuse', async () => {
    t = await unlocked();
    const notStepUp = await t.call('gate.stepUp', { method: 'devices.list', input: {}, password: STRONG_PASSWORD });
    expect(notStepUp).toEqual({ ok: false, error: { code: 'BAD_INPUT', message: 'That action does not need a confirmation.' } });
    const badInput = await t.call('gate.stepUp', { method: 'account.changePassword', input: { x: 1 }, password: STRONG_PASSWORD });
    expect(badInput).toEqual({ ok: false, error: { code: 'BAD_INPUT', message: 'The action to confirm has invalid input.' } });
  });
});
