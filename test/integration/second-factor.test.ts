import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HARD_STOP_FAILURES } from '../../src-main/core/gate/throttle-policy.js';
import { LOG_FILE } from '../../src-main/core/platform/logger.js';
import { DATABASE_FILE } from '../../src-main/core/platform/store.js';
import { makeTestApp, STRONG_PASSWORD, type TestApp } from '../helpers/app.js';
import { oathtoolCode } from '../helpers/oathtool.js';

const STEP = 30_000;
let t: TestApp;
afterEach(() => t?.remove());

interface Enrolled {
  deviceId: string;
  secret: string;
  recoveryCodes: string[] | null;
}

/** Add an authenticator app the way a person does: read the secret, type the code the app shows. */
async function enrol(app: TestApp, name: string, proof?: string): Promise<Enrolled> {
  const started = await app.ok('devices.beginTotp', { name }, proof);
  const secret = started.secretGrouped.replace(/ /g, '');
  const confirmed = await app.ok('devices.confirmTotp', { deviceId: started.deviceId, code: oathtoolCode(secret, app.clock.now()) });
  return { deviceId: started.deviceId, secret, recoveryCodes: confirmed.recoveryCodes };
}

async function withTotp(): Promise<{ app: TestApp; device: Enrolled }> {
  const app = makeTestApp();
  await app.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
  const device = await enrol(app, 'Pixel 8');
  await app.ok('gate.lock', {});
  return { app, device };
}

async function toSecondFactor(app: TestApp): Promise<void> {
  expect(await app.ok('gate.submitPassword', { password: STRONG_PASSWORD })).toEqual({ level: 'second-factor' });
}

/** Step past the window of the codes used so far, so a fresh code is from a later step. */
function nextStep(app: TestApp): void {
  app.clock.advance(STEP * 3);
}

/** An account with an authenticator app, unlocked with a fresh code from it; `t` is the app. */
async function unlockedWithTotp(): Promise<Enrolled> {
  const { app, device } = await withTotp();
  t = app;
  nextStep(t);
  await toSecondFactor(t);
  await t.ok('gate.submitCode', { code: oathtoolCode(device.secret, t.clock.now()) });
  return device;
}

describe('enrolling an authenticator app', () => {
  it('gives an otpauth URI with the issuer prefix and parameter, a QR code that reads back to it, and the secret grouped for typing', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    const started = await t.ok('devices.beginTotp', { name: 'Pixel 8' });
    const secret = started.secretGrouped.replace(/ /g, '');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/); // 20 bytes
    expect(started.secretGrouped).toMatch(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
    expect(started.uri).toBe(`otpauth://totp/Twofold%20Backup:Ada?secret=${secret}&issuer=Twofold%20Backup&algorithm=SHA1&digits=6&period=30`);
    const png = join(t.dataDir, 'qr.png');
    writeFileSync(png, Buffer.from(started.qrPngDataUrl.replace(/^data:image\/png;base64,/, ''), 'base64'));
    expect(execFileSync('zbarimg', ['--raw', '-q', png], { encoding: 'utf8' }).trim()).toBe(started.uri);
    expect(started.qrSvg).toContain('<svg');
  });

  it('keeps the device inactive until its first correct code, then turns 2FA on with ten recovery codes', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    const started = await t.ok('devices.beginTotp', { name: 'Pixel 8' });
    expect(await t.ok('devices.list', {})).toEqual({ devices: [], twoFactorEnabled: false, recoveryCodesLeft: 0, recoveryCodesLow: false });
    const wrong = await t.call('devices.confirmTotp', { deviceId: started.deviceId, code: '000000' });
    expect(wrong.ok ? 'ok' : wrong.error.code).toBe('AUTH_FAILED');
    const secret = started.secretGrouped.replace(/ /g, '');
    const confirmed = await t.ok('devices.confirmTotp', { deviceId: started.deviceId, code: oathtoolCode(secret, t.clock.now()) });
    expect(confirmed.device).toMatchObject({ name: 'Pixel 8', kind: 'totp', active: true });
    expect(confirmed.recoveryCodes).toHaveLength(10);
    const overview = await t.ok('devices.list', {});
    expect(overview).toMatchObject({ twoFactorEnabled: true, recoveryCodesLeft: 10, recoveryCodesLow: false });
    expect(overview.devices.map((d) => d.name)).toEqual(['Pixel 8']);
  });

  it('ends an enrolment after five wrong codes', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    const started = await t.ok('devices.beginTotp', { name: 'Pixel 8' });
    for (let i = 0; i < 4; i++) await t.call('devices.confirmTotp', { deviceId: started.deviceId, code: '000000' });
    const fifth = await t.call('devices.confirmTotp', { deviceId: started.deviceId, code: '000000' });
    expect(fifth).toEqual({ ok: false, error: { code: 'AUTH_FAILED', message: 'Too many wrong codes for this device. Start adding it again.' } });
    const secret = started.secretGrouped.replace(/ /g, '');
    const late = await t.call('devices.confirmTotp', { deviceId: started.deviceId, code: oathtoolCode(secret, t.clock.now()) });
    expect(late.ok ? 'ok' : late.error.code).toBe('NOT_FOUND');
  });

  it('keeps device names unique, ignoring case', async () => {
    const device = await unlockedWithTotp();
    nextStep(t);
    const input = { name: 'pixel 8' };
    // Refused already when the step-up is asked for, before the code is spent.
    const result = await t.call('gate.stepUp', { method: 'devices.beginTotp', input, code: oathtoolCode(device.secret, t.clock.now()) });
    expect(result).toEqual({ ok: false, error: { code: 'NAME_TAKEN', message: 'A device named "pixel 8" already exists. Choose another name.' } });
  });
});

describe('the first device outside the first-run wizard', () => {
  it('is added without a confirmation only in the session set-up opened', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    expect(await t.ok('gate.describeStepUp', { method: 'devices.beginTotp', input: { name: 'Pixel 8' } })).toMatchObject({ needed: false });
    await t.ok('gate.lock', {});
    expect(await t.ok('gate.submitPassword', { password: STRONG_PASSWORD })).toEqual({ level: 'unlocked' });
    // 2FA is still off, but this is not set-up: someone at an unlocked app must not turn 2FA on and lock the owner out.
    const bare = await t.call('devices.beginTotp', { name: 'Pixel 8' });
    expect(bare).toEqual({ ok: false, error: { code: 'STEP_UP_REQUIRED', message: 'Confirm this action first: Add an authenticator app.' } });
    const described = await t.ok('gate.describeStepUp', { method: 'devices.beginTotp', input: { name: 'Pixel 8' } });
    expect(described).toMatchObject({
      needed: true,
      confirmation: {
        title: 'Add the authenticator app “Pixel 8”',
        consequence: 'Two-factor authentication turns on: from then on, unlocking needs a code or a push from a device after the password.',
      },
    });
    const device = await enrol(t, 'Pixel 8', await t.passwordProof('devices.beginTotp', { name: 'Pixel 8' }));
    expect(device.recoveryCodes).toHaveLength(10);
  });

  it('needs the password once the set-up session has gone on for 15 minutes', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    for (let i = 0; i < 3; i++) {
      t.clock.advance(5 * 60_000);
      await t.ok('devices.list', {}); // in use all along, so it does not auto-lock
    }
    const bare = await t.call('devices.beginTotp', { name: 'Pixel 8' });
    expect(bare.ok ? 'ok' : bare.error.code).toBe('STEP_UP_REQUIRED');
  });

  it('ends the set-up exemption once a device is added', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    await enrol(t, 'Pixel 8');
    const second = await t.call('devices.beginTotp', { name: 'iPad' });
    expect(second.ok ? 'ok' : second.error.code).toBe('STEP_UP_REQUIRED');
  });
});

describe('unlocking with a device code', () => {
  it('accepts codes oathtool makes for the current step and one step either side, and refuses two steps away', async () => {
    const { app, device } = await withTotp();
    t = app;
    const results: Record<string, string> = {};
    // The refusals first: each accepted code teaches the device's drift, which moves the window.
    for (const offset of [-2, 2, -1, 0, 1]) {
      nextStep(t);
      await toSecondFactor(t);
      const r = await t.call('gate.submitCode', { code: oathtoolCode(device.secret, t.clock.now() + offset * STEP) });
      results[offset] = r.ok ? r.value.level : r.error.code;
      await t.ok('gate.lock', {});
    }
    expect(results).toEqual({ '-2': 'AUTH_FAILED', '-1': 'unlocked', '0': 'unlocked', '1': 'unlocked', '2': 'AUTH_FAILED' });
  });

  it('refuses a code the second time', async () => {
    const { app, device } = await withTotp();
    t = app;
    nextStep(t);
    const code = oathtoolCode(device.secret, t.clock.now());
    await toSecondFactor(t);
    expect(await t.ok('gate.submitCode', { code })).toEqual({ level: 'unlocked', recoveryCodesLeft: 10 });
    await t.ok('gate.lock', {});
    await toSecondFactor(t);
    const again = await t.call('gate.submitCode', { code });
    expect(again.ok ? 'ok' : again.error.code).toBe('AUTH_FAILED');
  });

  it('refuses a code sent again right after it was accepted without counting a failure (a double submit)', async () => {
    const device = await unlockedWithTotp();
    nextStep(t);
    const code = oathtoolCode(device.secret, t.clock.now());
    const input = { method: 'recovery.regenerate', input: {}, code };
    const [a, b] = await Promise.all([t.call('gate.stepUp', input), t.call('gate.stepUp', input)]);
    expect([a.ok, b.ok].sort()).toEqual([false, true]);
    const refused = (a.ok ? b : a) as { ok: false; error: unknown };
    expect(refused.error).toEqual({ code: 'AUTH_FAILED', message: 'That code was just used. Wait for the next code on your device.' });
    expect((await t.ok('app.status', {})).throttle?.failures).toBe(0);
    const { rows } = await t.ok('audit.query', { filter: { action: 'factor.replayed' } });
    expect(rows.map((r) => [r.outcome, r.detail])).toEqual([['info', 'step-up, a code already accepted']]);
    // A wrong code still counts.
    await t.call('gate.stepUp', { ...input, code: '000000' });
    expect((await t.ok('app.status', {})).throttle?.failures).toBe(1);
  });

  it('refuses the code of a removed device', async () => {
    t = makeTestApp();
    await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
    const first = await enrol(t, 'Pixel 8');
    nextStep(t);
    const second = await t.ok('devices.beginTotp', { name: 'iPad' }, await stepUpWithCode(t, 'devices.beginTotp', { name: 'iPad' }, first.secret));
    const secondSecret = second.secretGrouped.replace(/ /g, '');
    await t.ok('devices.confirmTotp', { deviceId: second.deviceId, code: oathtoolCode(secondSecret, t.clock.now()) });
    nextStep(t);
    const removeInput = { deviceId: first.deviceId };
    await t.ok('devices.remove', removeInput, await stepUpWithCode(t, 'devices.remove', removeInput, secondSecret));
    await t.ok('gate.lock', {});
    nextStep(t);
    await toSecondFactor(t);
    const removed = await t.call('gate.submitCode', { code: oathtoolCode(first.secret, t.clock.now()) });
    expect(removed.ok ? 'ok' : removed.error.code).toBe('AUTH_FAILED');
    expect((await t.ok('gate.submitCode', { code: oathtoolCode(secondSecret, t.clock.now()) })).level).toBe('unlocked');
  });

  it('learns the drift of a device whose clock runs behind and keeps accepting it', async () => {
    const { app, device } = await withTotp();
    t = app;
    // The phone's clock falls one step behind, then a second one.
    nextStep(t);
    await toSecondFactor(t);
    expect((await t.ok('gate.submitCode', { code: oathtoolCode(device.secret, t.clock.now() - STEP) })).level).toBe('unlocked');
    await t.ok('gate.lock', {});
    nextStep(t);
    await toSecondFactor(t);
    // Two steps behind is outside ±1 of the true time, but within ±1 of the learned drift.
    expect((await t.ok('gate.submitCode', { code: oathtoolCode(device.secret, t.clock.now() - 2 * STEP) })).level).toBe('unlocked');
  });

  it('counts malformed and wrong-length codes as failures, with the same generic message', async () => {
    const { app } = await withTotp();
    t = app;
    await toSecondFactor(t);
    for (const code of ['12345', '1234567', 'abcdef', '12 34 56']) {
      expect(await t.call('gate.submitCode', { code })).toEqual({
        ok: false,
        error: { code: 'AUTH_FAILED', message: 'That did not work. Check what you entered and try again.', retryAfterMs: 0 },
      });
    }
    expect((await t.ok('app.status', {})).throttle?.failures).toBe(4);
  });

  it('shows which second factors the account can use while at the second-factor step', async () => {
    const { app } = await withTotp();
    t = app;
    await toSecondFactor(t);
    expect((await t.ok('app.status', {})).secondFactors).toEqual(['totp', 'recovery']);
  });

  it('refuses unlocked methods at the second-factor step', async () => {
    const { app } = await withTotp();
    t = app;
    await toSecondFactor(t);
    const result = await t.call('devices.list', {});
    expect(result).toEqual({ ok: false, error: { code: 'NOT_ALLOWED', message: 'Finish unlocking first.' } });
  });
});

describe('recovery codes', () => {
  it('each open once, in any reasonable typing, and the count left goes down', async () => {
    const { app, device } = await withTotp();
    t = app;
    const [first, second] = device.recoveryCodes!;
    await toSecondFactor(t);
    expect(await t.ok('gate.submitRecoveryCode', { code: first!.toLowerCase().replace(/-/g, ' ') })).toEqual({
      level: 'unlocked',
      recoveryCodesLeft: 9,
    });
    await t.ok('gate.lock', {});
    await toSecondFactor(t);
    const reused = await t.call('gate.submitRecoveryCode', { code: first! });
    expect(reused.ok ? 'ok' : reused.error.code).toBe('AUTH_FAILED');
    expect((await t.ok('gate.submitRecoveryCode', { code: second! })).recoveryCodesLeft).toBe(8);
  });

  it('are all invalid after regeneration, and the new ones work', async () => {
    const device = await unlockedWithTotp();
    nextStep(t);
    const proof = await stepUpWithCode(t, 'recovery.regenerate', {}, device.secret);
    const { codes } = await t.ok('recovery.regenerate', {}, proof);
    expect(codes).toHaveLength(10);
    expect(codes.some((c) => device.recoveryCodes!.includes(c))).toBe(false);
    await t.ok('gate.lock', {});
    for (const old of device.recoveryCodes!.slice(0, 3)) {
      await toSecondFactor(t);
      const r = await t.call('gate.submitRecoveryCode', { code: old });
      expect(r.ok ? 'ok' : r.error.code).toBe('AUTH_FAILED');
      await t.ok('gate.lock', {});
    }
    await toSecondFactor(t);
    expect((await t.ok('gate.submitRecoveryCode', { code: codes[0]! })).level).toBe('unlocked');
  });

  it('warn when three or fewer are left', async () => {
    const { app, device } = await withTotp();
    t = app;
    for (const code of device.recoveryCodes!.slice(0, 7)) {
      await toSecondFactor(t);
      await t.ok('gate.submitRecoveryCode', { code });
      await t.ok('gate.lock', {});
    }
    await toSecondFactor(t);
    await t.ok('gate.submitRecoveryCode', { code: device.recoveryCodes![7]! });
    expect(await t.ok('devices.list', {})).toMatchObject({ recoveryCodesLeft: 2, recoveryCodesLow: true });
  });
});

describe('the shared throttle and the hard stop', () => {
  it('hold across a restart, after which only a recovery code opens', async () => {
    const { app, device } = await withTotp();
    t = app;
    await toSecondFactor(t);
    for (let i = 0; i < HARD_STOP_FAILURES; i++) {
      // The waits outgrow the auto-lock time: a person comes back to the password each time.
      if ((await t.ok('app.status', {})).level === 'locked') await toSecondFactor(t);
      const r = await t.call('gate.submitCode', { code: '000000' });
      if (r.ok || r.error.code !== 'AUTH_FAILED') throw new Error('a wrong code was not refused as a failure');
      t.clock.advance(r.error.retryAfterMs ?? 0);
    }
    t = t.reopen();
    expect((await t.ok('app.status', {})).throttle).toMatchObject({ failures: HARD_STOP_FAILURES, hardStop: true });
    t.clock.advance(60 * 60_000);
    await toSecondFactor(t);
    const good = await t.call('gate.submitCode', { code: oathtoolCode(device.secret, t.clock.now()) });
    expect(good).toEqual({
      ok: false,
      error: {
        code: 'HARD_STOP',
        message: 'Too many failed attempts. Only a recovery code can finish unlocking now; codes from devices are not accepted.',
      },
    });
    expect((await t.ok('gate.submitRecoveryCode', { code: device.recoveryCodes![0]! })).level).toBe('unlocked');
    expect((await t.ok('app.status', {})).throttle).toEqual({ failures: 0, retryAfterMs: 0, hardStop: false });
  });

  it('is shared with the password: a right password does not reset failed codes', async () => {
    const { app } = await withTotp();
    t = app;
    await toSecondFactor(t);
    for (let i = 0; i < 3; i++) await t.call('gate.submitCode', { code: '000000' });
    await t.ok('gate.lock', {});
    await toSecondFactor(t);
    expect((await t.ok('app.status', {})).throttle?.failures).toBe(3);
  });
});

describe('step-up with second factors', () => {
  it('needs a device or recovery code (not the password) once 2FA is on', async () => {
    const device = await unlockedWithTotp();
    const byPassword = await t.call('gate.stepUp', { method: 'recovery.regenerate', input: {}, password: STRONG_PASSWORD });
    expect(byPassword.ok ? 'ok' : byPassword.error.code).toBe('BAD_INPUT');
    const byRecovery = await t.ok('gate.stepUp', { method: 'recovery.regenerate', input: {}, recoveryCode: device.recoveryCodes![0]! });
    expect(byRecovery.action).toBe('Make new recovery codes');
  });

  it('makes adding a second device a step-up action', async () => {
    await unlockedWithTotp();
    const bare = await t.call('devices.beginTotp', { name: 'iPad' });
    expect(bare.ok ? 'ok' : bare.error.code).toBe('STEP_UP_REQUIRED');
  });

  it('refuses a duplicate device name before any code is asked for or spent', async () => {
    const device = await unlockedWithTotp();
    nextStep(t);
    const bare = await t.call('devices.beginTotp', { name: 'pixel 8' });
    expect(bare).toEqual({ ok: false, error: { code: 'NAME_TAKEN', message: 'A device named "pixel 8" already exists. Choose another name.' } });
    const described = await t.call('gate.describeStepUp', { method: 'devices.beginTotp', input: { name: 'Pixel 8' } });
    expect(described.ok ? 'ok' : described.error.code).toBe('NAME_TAKEN');
    const code = oathtoolCode(device.secret, t.clock.now());
    const refused = await t.call('gate.stepUp', { method: 'devices.beginTotp', input: { name: 'Pixel 8' }, code });
    expect(refused.ok ? 'ok' : refused.error.code).toBe('NAME_TAKEN');
    // The code was not spent on the refusal: it still confirms a call that can succeed.
    const grant = await t.ok('gate.stepUp', { method: 'devices.beginTotp', input: { name: 'iPad' }, code });
    expect((await t.ok('devices.beginTotp', { name: 'iPad' }, grant.proof)).name).toBe('iPad');
    expect((await t.ok('app.status', {})).throttle?.failures ?? 0).toBe(0);
  });

  it('refuses a proof for one action when used for another, and when used twice', async () => {
    const device = await unlockedWithTotp();
    nextStep(t);
    const proof = await stepUpWithCode(t, 'recovery.regenerate', {}, device.secret);
    const other = await t.call('twofa.disable', {}, proof);
    expect(other.ok ? 'ok' : other.error.code).toBe('STEP_UP_REQUIRED');
    nextStep(t);
    const proof2 = await stepUpWithCode(t, 'recovery.regenerate', {}, device.secret);
    await t.ok('recovery.regenerate', {}, proof2);
    const twice = await t.call('recovery.regenerate', {}, proof2);
    expect(twice.ok ? 'ok' : twice.error.code).toBe('STEP_UP_REQUIRED');
  });

  it('asks for explicit confirmation before removing the last device turns 2FA off', async () => {
    const device = await unlockedWithTotp();
    nextStep(t);
    const input = { deviceId: device.deviceId };
    const refused = await t.call('devices.remove', input, await stepUpWithCode(t, 'devices.remove', input, device.secret));
    expect(refused).toEqual({
      ok: false,
      error: { code: 'CONFIRM_REQUIRED', message: '"Pixel 8" is your last device: removing it turns two-factor authentication off. Confirm to continue.' },
    });
    nextStep(t);
    const confirmed = { deviceId: device.deviceId, confirmDisableTwoFactor: true };
    const off = await t.ok('devices.remove', confirmed, await stepUpWithCode(t, 'devices.remove', confirmed, device.secret));
    expect(off).toEqual({ devices: [], twoFactorEnabled: false, recoveryCodesLeft: 0, recoveryCodesLow: false });
    await t.ok('gate.lock', {});
    expect(await t.ok('gate.submitPassword', { password: STRONG_PASSWORD })).toEqual({ level: 'unlocked' });
  });
});

describe('the audit log of the gate', () => {
  it('records every gate event with account, device, workstation, IP and outcome', async () => {
    const { app, device } = await withTotp();
    t = app;
    await t.call('gate.submitPassword', { password: 'not the password 1234' });
    await toSecondFactor(t);
    await t.call('gate.submitCode', { code: '000000' });
    nextStep(t);
    await t.ok('gate.submitCode', { code: oathtoolCode(device.secret, t.clock.now()) });
    const { rows } = await t.ok('audit.query', { limit: 100 });
    const actions = rows.map((r) => `${r.action}:${r.outcome}`).reverse();
    expect(actions).toEqual([
      'setup:success',
      'device.added:success',
      'recovery.regenerated:success',
      'locked:info',
      'password.failed:failure',
      'password.ok:success',
      'factor.failed:failure',
      'factor.ok:success',
    ]);
    expect(rows[0]).toMatchObject({ account: 'Ada', device: 'Pixel 8', workstation: 'test-workstation', ip: '127.0.0.1' });
    expect(await t.ok('audit.verify', {})).toEqual({ ok: true, rows: 8, firstBrokenId: null, reason: null });
  });

  it('reports the first edited row when the database file is tampered with', async () => {
    const { app, device } = await withTotp();
    t = app;
    await t.call('gate.submitPassword', { password: 'not the password 1234' }); // row 4: password.failed
    await toSecondFactor(t); // row 5
    // Someone with the file hides the failed attempt: drops the append-only triggers and edits row 4.
    const db = new Database(join(t.dataDir, DATABASE_FILE));
    const triggers = db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'").pluck().all() as string[];
    expect(triggers.length).toBeGreaterThan(0);
    for (const name of triggers) db.exec(`DROP TRIGGER "${name}"`);
    expect(db.prepare("UPDATE audit_log SET outcome = 'success' WHERE id = 4").run().changes).toBe(1);
    db.close();
    nextStep(t);
    await t.ok('gate.submitCode', { code: oathtoolCode(device.secret, t.clock.now()) });
    const verdict = await t.ok('audit.verify', {});
    expect(verdict).toMatchObject({ ok: false, firstBrokenId: 4 });
    expect(verdict.reason).toEqual(expect.any(String));
  });

  it('never holds a code, secret or recovery code in a row, the log, or an error', async () => {
    const { app, device } = await withTotp();
    t = app;
    await toSecondFactor(t);
    const wrong = await t.call('gate.submitCode', { code: '987654' });
    await t.ok('gate.submitRecoveryCode', { code: device.recoveryCodes![0]! });
    const csv = (await t.ok('audit.exportCsv', {})).csv;
    const log = readFileSync(join(t.dataDir, LOG_FILE), 'utf8');
    const db = readFileSync(join(t.dataDir, DATABASE_FILE));
    const wal = readFileSync(join(t.dataDir, `${DATABASE_FILE}-wal`));
    const secrets = [device.secret, device.recoveryCodes![0]!, device.recoveryCodes![0]!.replace(/-/g, ''), '987654', STRONG_PASSWORD];
    for (const secret of secrets) {
      expect(csv).not.toContain(secret);
      expect(log).not.toContain(secret);
      expect(JSON.stringify(wrong)).not.toContain(secret);
      expect(db.includes(Buffer.from(secret))).toBe(false);
      expect(wal.includes(Buffer.from(secret))).toBe(false);
    }
  });
});

/** Get a step-up proof for one call, confirmed by a code from the device holding `secret`. */
async function stepUpWithCode(app: TestApp, method: string, input: unknown, secret: string): Promise<string> {
  const grant = await app.ok('gate.stepUp', { method, input, code: oathtoolCode(secret, app.clock.now()) });
  return grant.proof;
}
