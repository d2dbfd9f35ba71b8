/**
 * Verifies a second factor (a code from an authenticator app, or a recovery code) for an
 * unlock or a step-up. Under the account's throttle; the sealed list is read, matched and
 * written back in one transaction, so a code is accepted once even under concurrent calls.
 */
import type { Account } from './accounts.js';
import type { AuditRecorder } from './audit-recorder.js';
import type { Clock } from '../platform/clock.js';
import type { RequestContext } from '../platform/context.js';
import { constantTimeEqual, deriveKey } from '../platform/crypto.js';
import { AUTH_FAILED_MESSAGE, CoreError } from '../platform/errors.js';
import { recoveryCodesLeft, type FactorList, type FactorListStore } from './factor-list.js';
import { hashRecoveryCode, normalizeRecoveryCode } from './recovery-codes.js';
import type { Store } from '../platform/store.js';
import { throttleStepDetail, type Throttle } from './throttle.js';
import { base32Decode, matchTotp, nextDrift } from '../../../src-shared/totp.js';
import { GATE_MESSAGES } from './messages.js';

export type FactorAttempt = { code: string } | { recoveryCode: string };

export interface Verified {
  via: 'totp' | 'recovery' | 'push';
  deviceName: string | null;
  recoveryCodesLeft: number;
}

/** A code accepted a moment ago, sent again (a double submit, a second tab): not a guess, so not a failure. */
export const REPLAY_MESSAGE = GATE_MESSAGES.replay;

export const HARD_STOP_MESSAGE = GATE_MESSAGES.hardStop;

/** The key recovery codes are hashed under: derived from the record key, so only an open vault can check them. */
export function recoveryKey(recordKey: Buffer): Buffer {
  return deriveKey(recordKey, Buffer.from('recovery-codes'), 'twofold/v1/recovery-code-hmac');
}

export interface SecondFactorDeps {
  store: Store;
  factors: FactorListStore;
  throttle: Throttle;
  clock: Clock;
  audit: AuditRecorder;
}

export class SecondFactor {
  constructor(private readonly deps: SecondFactorDeps) {}

  async verify(account: Account, recordKey: Buffer, attempt: FactorAttempt, ctx: RequestContext, purpose: 'unlock' | 'step-up'): Promise<Verified> {
    const { store, factors, throttle, clock, audit } = this.deps;
    const now = clock.now();
    const view = throttle.view(account.id, now);
    if (view.retryAfterMs > 0) {
      throw new CoreError('THROTTLED', GATE_MESSAGES.throttled, { retryAfterMs: view.retryAfterMs });
    }
    if (view.hardStop && 'code' in attempt) throw new CoreError('HARD_STOP', HARD_STOP_MESSAGE);

    const verified = store.tx(() => {
      const list = factors.read(account.id, recordKey);
      const result = 'code' in attempt ? matchDeviceCode(list, attempt.code, now) : matchRecoveryCode(list, attempt.recoveryCode, recordKey);
      if (result && result !== 'replay') factors.write(account.id, recordKey, list, now);
      return result;
    });

    if (verified === 'replay') {
      await audit.record(ctx, { action: 'factor.replayed', outcome: 'info', account: account.name, detail: `${purpose}, a code already accepted` });
      throw new CoreError('AUTH_FAILED', REPLAY_MESSAGE);
    }
    if (!verified) {
      const after = throttle.recordFailure(account.id, now);
      const kind = 'code' in attempt ? 'device code' : 'recovery code';
      await audit.record(ctx, { action: 'factor.failed', outcome: 'failure', account: account.name, detail: `${purpose}, ${kind}` });
      const step = throttleStepDetail(view, after);
      if (step) await audit.record(ctx, { action: 'lockout', outcome: 'failure', account: account.name, detail: step });
      throw new CoreError('AUTH_FAILED', AUTH_FAILED_MESSAGE, { retryAfterMs: after.retryAfterMs });
    }
    throttle.reset(account.id);
    await audit.record(ctx, {
      action: verified.via === 'totp' ? 'factor.ok' : 'recovery.used',
      outcome: 'success',
      account: account.name,
      device: verified.deviceName,
      detail: purpose,
    });
    return verified;
  }
}

/**
 * Try every active device (a companion's one-time passwords too); on a match, record the step
 * and the learned drift in `list`. The code of a device's last accepted step is a replay: it is
 * refused, but it is not a guess (whoever sends it has already seen it accepted).
 */
function matchDeviceCode(list: FactorList, code: string, now: number): Verified | 'replay' | null {
  let replay = false;
  for (const device of list.devices) {
    if (!device.active) continue;
    const seed = device.kind === 'totp' ? device.secret : device.otpSeed;
    const match = matchTotp(base32Decode(seed), code, now, device.drift);
    if (!match) continue;
    // Only a later step than the last accepted one: each (device, step) passes once.
    if (device.lastStep !== null && match.step <= device.lastStep) {
      replay ||= match.step === device.lastStep;
      continue;
    }
    device.lastStep = match.step;
    device.drift = nextDrift(device.drift, match.offset);
    device.lastUsedAt = now;
    return { via: 'totp', deviceName: device.name, recoveryCodesLeft: recoveryCodesLeft(list) };
  }
  return replay ? 'replay' : null;
}

function matchRecoveryCode(list: FactorList, typed: string, recordKey: Buffer): Verified | null {
  const normalized = normalizeRecoveryCode(typed);
  if (!normalized || !list.recovery) return null;
  const hash = Buffer.from(hashRecoveryCode(recoveryKey(recordKey), normalized), 'hex');
  // Look at every slot, in constant time each, so the time taken says nothing about which matched.
  let index = -1;
  list.recovery.hashes.forEach((stored, i) => {
    if (stored !== null && constantTimeEqual(Buffer.from(stored, 'hex'), hash)) index = i;
  });
  if (index < 0) return null;
  list.recovery.hashes[index] = null;
  return { via: 'recovery', deviceName: null, recoveryCodesLeft: recoveryCodesLeft(list) };
}
