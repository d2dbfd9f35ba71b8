/** The desktop side of the push tests: a real app whose clock starts at real time, talking to a real relay. */
import { expect } from 'vitest';
import { FakeClock, makeTestApp, STRONG_PASSWORD, type TestApp } from './app.js';
import type { CliCompanion } from './relay.js';

/**
 * The app's clock is a FakeClock set to the real time: companions read the real clock, so
 * expiry times must agree; tests move the app's clock forward to expire things.
 */
export async function appWithRelay(relayUrl: string): Promise<TestApp> {
  const app = makeTestApp({ clock: new FakeClock(Date.now()) });
  await app.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
  await app.ok('settings.update', { relayUrl }, await app.passwordProof('settings.update', { relayUrl }));
  return app;
}

/** Pair a CLI companion the way a person does: scan, compare the codes, name the device. */
export async function pairCli(app: TestApp, cli: CliCompanion, name = 'Phone', proof?: string): Promise<{ recoveryCodes: string[] | null }> {
  const begin = await app.ok('push.beginPairing', {}, proof);
  const { proc, code } = await cli.pair(begin.link);
  const status = await app.ok('push.pairingStatus', { pairingId: begin.pairingId, waitMs: 20_000 });
  expect(status).toMatchObject({ state: 'confirm', comparisonCode: code });
  const finished = await app.ok('push.finishPairing', { pairingId: begin.pairingId, name });
  await proc.waitFor(/^Paired as "/);
  expect(await proc.exited).toBe(0);
  return { recoveryCodes: finished.recoveryCodes };
}

/** Lock, then give the password: the app waits at the second-factor step. */
export async function toSecondFactor(app: TestApp): Promise<void> {
  await app.ok('gate.lock', {});
  expect(await app.ok('gate.submitPassword', { password: STRONG_PASSWORD })).toEqual({ level: 'second-factor' });
}
