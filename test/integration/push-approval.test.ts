/**
 * Unlock and step-up by push approval (docs/protocol.md §5), end to end: the desktop app, a
 * real relay process and the CLI companion. Approvals unlock; denials, wrong numbers and
 * expiry do not, and are logged; "this wasn't me" mutes push for 20 minutes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { shortDigest } from '../../src-shared/digest.js';
import { PUSH_MUTE_MS } from '../../src-main/core/gate/push/push-approvals.js';
import type { TestApp } from '../helpers/app.js';
import { appWithRelay, pairCli, toSecondFactor } from '../helpers/push.js';
import { CliCompanion, freePort, startRelayProcess, type Proc, type RelayProcess } from '../helpers/relay.js';

let relay: RelayProcess;
let t: TestApp | undefined;
let cli: CliCompanion | undefined;

beforeAll(async () => {
  relay = await startRelayProcess();
});
afterAll(() => relay.stop());
afterEach(async () => {
  t?.remove();
  t = undefined;
  await cli?.close();
  cli = undefined;
});

/** An app with one paired CLI companion, waiting at the second-factor step. */
async function pairedAtSecondFactor(relayUrl = relay.url): Promise<{ app: TestApp; companion: CliCompanion }> {
  const app = await appWithRelay(relayUrl);
  const companion = new CliCompanion();
  await pairCli(app, companion, 'Phone');
  await toSecondFactor(app);
  t = app;
  cli = companion;
  return { app, companion };
}

/** Start an interactive `listen` and wait until it is connected. */
async function listening(companion: CliCompanion): Promise<Proc> {
  const proc = companion.run(['listen']);
  await proc.waitFor(/^Listening for Ada on test-workstation\.$/);
  return proc;
}

async function choicesShown(proc: Proc, nth = 1): Promise<number[]> {
  await proc.waitForNth(/^ {2}Choices: /, nth);
  const line = proc.lines.filter((l) => l.startsWith('  Choices: '))[nth - 1]!;
  return line.replace('  Choices: ', '').split(' ').map(Number);
}

async function auditActions(app: TestApp): Promise<{ action: string; outcome: string; detail: string | null; device: string | null }[]> {
  // Read the log directly: the app is still at the second-factor step in most of these tests.
  return (await app.app.core.audit.open()).query({ limit: 1000, offset: 0 }).rows.filter((r) => r.action.startsWith('push.'));
}

describe('unlocking by push', () => {
  it('unlocks when the user picks the number shown on the desktop; the companion shows the full context', async () => {
    const { app, companion } = await pairedAtSecondFactor();
    expect((await app.ok('app.status', {})).secondFactors).toEqual(['totp', 'push', 'recovery']);
    const proc = await listening(companion);
    const push = await app.ok('push.start', {});
    expect(push).toMatchObject({ devices: 1, action: 'Unlock' });
    expect(push.expiresAt - app.clock.now()).toBe(60_000);
    const choices = await choicesShown(proc);
    expect(choices).toContain(push.number);
    expect(proc.lines.join('\n')).toMatch(/from Twofold Backup 0\.0\.0-test on test-workstation \(IP 127\.0\.0\.1\)/);
    expect(proc.lines.join('\n')).toMatch(/Unlock, account Ada, at .*, \d+ s left/);
    proc.write(String(push.number));
    expect(await app.ok('push.poll', { requestId: push.requestId, waitMs: 20_000 })).toMatchObject({ state: 'approved' });
    expect((await app.ok('app.status', {})).level).toBe('unlocked');
    expect(await auditActions(app)).toEqual([
      expect.objectContaining({ action: 'push.approved', outcome: 'success', device: 'Phone' }),
      expect.objectContaining({ action: 'push.sent', outcome: 'info', device: 'Phone', detail: 'Unlock' }),
    ]);
  });

  it('refuses on deny, and logs it', async () => {
    const { app, companion } = await pairedAtSecondFactor();
    const proc = await listening(companion);
    const push = await app.ok('push.start', {});
    await choicesShown(proc);
    proc.write('d');
    expect(await app.ok('push.poll', { requestId: push.requestId, waitMs: 20_000 })).toMatchObject({ state: 'denied' });
    expect((await app.ok('app.status', {})).level).toBe('second-factor');
    expect((await auditActions(app))[0]).toMatchObject({ action: 'push.denied', outcome: 'failure' });
  });

  it('refuses an approval with the wrong number, counts it as a failed attempt, and logs it', async () => {
    const { app, companion } = await pairedAtSecondFactor();
    const proc = await listening(companion);
    const push = await app.ok('push.start', {});
    const wrong = (await choicesShown(proc)).find((n) => n !== push.number)!;
    proc.write(String(wrong));
    expect(await app.ok('push.poll', { requestId: push.requestId, waitMs: 20_000 })).toMatchObject({ state: 'refused' });
    expect((await app.ok('app.status', {})).level).toBe('second-factor');
    expect((await app.ok('app.status', {})).throttle?.failures).toBe(1);
    expect((await auditActions(app))[0]).toMatchObject({ action: 'push.denied', detail: 'the number picked did not match' });
  });

  it('expires after 60 seconds without an answer, and logs the expiry', async () => {
    const { app } = await pairedAtSecondFactor();
    const push = await app.ok('push.start', {});
    expect((await app.ok('push.poll', { requestId: push.requestId })).state).toBe('pending');
    app.clock.advance(60_000);
    expect((await app.ok('push.poll', { requestId: push.requestId })).state).toBe('expired');
    expect((await app.ok('app.status', {})).level).toBe('second-factor');
    expect((await auditActions(app))[0]).toMatchObject({ action: 'push.expired', outcome: 'failure' });
  });

  it('mutes push for 20 minutes after "this wasn\'t me"; a one-time password still unlocks', async () => {
    const { app, companion } = await pairedAtSecondFactor();
    const proc = await listening(companion);
    const push = await app.ok('push.start', {});
    await choicesShown(proc);
    proc.write('n');
    expect(await app.ok('push.poll', { requestId: push.requestId, waitMs: 20_000 })).toMatchObject({ state: 'reported' });
    const status = await app.ok('push.status', {});
    expect(status).toMatchObject({ available: false, mutedUntil: app.clock.now() + PUSH_MUTE_MS });
    const again = await app.call('push.start', {});
    expect(again.ok ? 'ok' : again.error.code).toBe('PUSH_MUTED');
    expect(again.ok ? 0 : again.error.retryAfterMs).toBe(PUSH_MUTE_MS);
    expect((await auditActions(app))[0]).toMatchObject({ action: 'push.reported', outcome: 'failure', device: 'Phone' });

    // The mute is sealed with the factor list: locking and unlocking again does not lift it.
    await toSecondFactor(app);
    expect((await app.call('push.start', {})).ok).toBe(false);
    expect(await app.ok('gate.submitCode', { code: await companion.otp() })).toMatchObject({ level: 'unlocked' });
    app.clock.advance(PUSH_MUTE_MS);
    await toSecondFactor(app);
    expect((await app.ok('push.status', {})).mutedUntil).toBeNull();
  });

  it('keeps one pending request per account, and grows the delay between pushes', async () => {
    const { app } = await pairedAtSecondFactor();
    const first = await app.ok('push.start', {});
    expect((await app.ok('push.start', {})).requestId).toBe(first.requestId);
    expect((await app.ok('push.status', {})).pending).toMatchObject({ requestId: first.requestId, number: first.number });
    await app.ok('push.cancel', { requestId: first.requestId });
    const second = await app.ok('push.start', {});
    expect(second.requestId).not.toBe(first.requestId);
    await app.ok('push.cancel', { requestId: second.requestId });
    const third = await app.call('push.start', {});
    expect(third).toMatchObject({ ok: false, error: { code: 'THROTTLED', retryAfterMs: 5_000 } });
    app.clock.advance(5_000);
    expect((await app.call('push.start', {})).ok).toBe(true);
  });

  it('starts the growing delay over after any completed unlock, a one-time password too', async () => {
    const { app, companion } = await pairedAtSecondFactor();
    for (let i = 0; i < 2; i++) await app.ok('push.cancel', { requestId: (await app.ok('push.start', {})).requestId });
    expect(await app.call('push.start', {})).toMatchObject({ ok: false, error: { code: 'THROTTLED', retryAfterMs: 5_000 } });
    expect(await app.ok('gate.submitCode', { code: await companion.otp() })).toMatchObject({ level: 'unlocked' });
    await toSecondFactor(app);
    expect((await app.ok('push.status', {})).retryAfterMs).toBe(0);
    expect((await app.call('push.start', {})).ok).toBe(true);
  });
});

describe('several companions', () => {
  it('sends to every paired companion; the first answer decides and the others are told it is closed', async () => {
    const { app, companion } = await pairedAtSecondFactor();
    await app.ok('gate.submitCode', { code: await companion.otp() });
    const second = new CliCompanion();
    try {
      // Pairing another companion needs a step-up: the first companion confirms it by push.
      const confirm = await app.ok('push.startStepUp', { method: 'push.beginPairing', input: {} });
      await companion.run(['listen', '--decision', 'approve', '--number', String(confirm.number), '--once']).exited;
      const { proof } = await app.ok('push.pollStepUp', { requestId: confirm.requestId, waitMs: 20_000 });
      await pairCli(app, second, 'Tablet', proof!);
      await toSecondFactor(app);
      const [a, b] = [await listening(companion), await listening(second)];
      const push = await app.ok('push.start', {});
      expect(push.devices).toBe(2);
      await Promise.all([choicesShown(a), choicesShown(b)]);
      b.write('d');
      expect(await app.ok('push.poll', { requestId: push.requestId, waitMs: 20_000 })).toMatchObject({ state: 'denied' });
      await a.waitFor(/^Request [0-9a-f]{8} closed on the computer: denied\.$/);
      // The other companion stops asking: what is typed now answers nothing.
      a.write(String(push.number));
      app.clock.advance(5_000); // the growing delay before the next push
      const next = await app.ok('push.start', {});
      await choicesShown(a, 2);
      expect(a.lines.some((l) => /^Approved|^Could not answer/.test(l))).toBe(false);
      await app.ok('push.cancel', { requestId: next.requestId });
      expect((await app.ok('app.status', {})).level).toBe('second-factor');
      expect((await auditActions(app)).filter((r) => r.action === 'push.denied')).toEqual([expect.objectContaining({ device: 'Tablet' })]);
    } finally {
      await second.close();
    }
  });
});

describe('delivery when things go wrong', () => {
  it('reaches a companion that was offline when the push was sent and connects before expiry', async () => {
    const { app, companion } = await pairedAtSecondFactor();
    const push = await app.ok('push.start', {});
    const late = companion.run(['listen', '--decision', 'approve', '--number', String(push.number), '--once']);
    await late.waitFor(/^Approved \(\d+\)\.$/);
    expect(await app.ok('push.poll', { requestId: push.requestId, waitMs: 20_000 })).toMatchObject({ state: 'approved' });
    expect((await app.ok('app.status', {})).level).toBe('unlocked');
  });

  it('ends in reconnection and a clean approval when the relay restarts in the middle of a request', async () => {
    const port = await freePort();
    let own = await startRelayProcess({ port });
    try {
      const { app, companion } = await pairedAtSecondFactor(own.url);
      const push = await app.ok('push.start', {});
      await own.stop(); // the queued request dies with the relay
      own = await startRelayProcess({ port });
      // The desktop reconnects and sends its request again; the companion connects and answers it.
      const proc = companion.run(['listen', '--decision', 'approve', '--number', String(push.number), '--once']);
      await proc.waitFor(/^Approved \(\d+\)\.$/, 30_000);
      expect(await app.ok('push.poll', { requestId: push.requestId, waitMs: 20_000 })).toMatchObject({ state: 'approved' });
    } finally {
      await own.stop();
    }
  });

  it('ends in a clean expiry, never a hang, when the relay is gone for good', async () => {
    const own = await startRelayProcess();
    const { app } = await pairedAtSecondFactor(own.url);
    const push = await app.ok('push.start', {});
    await own.stop();
    app.clock.advance(60_000);
    expect(await app.ok('push.poll', { requestId: push.requestId, waitMs: 20_000 })).toMatchObject({ state: 'expired' });
    const next = await app.call('push.start', {});
    expect(next.ok ? 'ok' : next.error.code).toBe('RELAY_UNAVAILABLE');
    expect((await app.ok('push.status', {})).pending).toBeNull();
  });
});

describe('step-up by push', () => {
  it('grants a proof for exactly the method and input the companion approved', async () => {
    const { app, companion } = await pairedAtSecondFactor();
    expect(await app.ok('gate.submitCode', { code: await companion.otp() })).toMatchObject({ level: 'unlocked' });
    const device = (await app.ok('devices.list', {})).devices[0]!;
    const input = { deviceId: device.id, confirmDisableTwoFactor: true };
    const proc = await listening(companion);
    const push = await app.ok('push.startStepUp', { method: 'devices.remove', input });
    expect(push.action).toBe('Remove a device');
    const { confirmation } = await app.ok('gate.describeStepUp', { method: 'devices.remove', input });
    await choicesShown(proc);
    // The companion shows the concrete target and consequence, and the same check code as the computer's dialog.
    const shown = proc.lines.join('\n');
    expect(shown).toContain('  Remove a device, account Ada');
    expect(shown).toContain('  Confirms: Remove the device “Phone”');
    expect(shown).toContain(
      '  Then: It is your last device (companion): two-factor authentication turns off and your 10 recovery codes are deleted; the password alone unlocks.',
    );
    expect(shown).toContain(`  Check code: ${shortDigest(confirmation.digest)} (the computer's dialog shows the same)`);
    proc.write(String(push.number));
    const result = await app.ok('push.pollStepUp', { requestId: push.requestId, waitMs: 20_000 });
    expect(result).toMatchObject({ state: 'approved', proof: expect.any(String) });
    expect(await app.ok('devices.remove', input, result.proof!)).toMatchObject({ devices: [], twoFactorEnabled: false });
    const replayed = await app.call('devices.remove', input, result.proof!);
    expect(replayed.ok ? 'ok' : replayed.error.code).toBe('STEP_UP_REQUIRED');
  });

  it('refuses to push for methods that need no confirmation', async () => {
    const { app, companion } = await pairedAtSecondFactor();
    await app.ok('gate.submitCode', { code: await companion.otp() });
    const result = await app.call('push.startStepUp', { method: 'devices.list', input: {} });
    expect(result).toEqual({ ok: false, error: { code: 'BAD_INPUT', message: 'That action does not need a confirmation.' } });
  });
});
