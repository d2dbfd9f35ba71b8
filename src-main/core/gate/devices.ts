/**
 * Second-factor devices of the unlocked account: list, enrol an authenticator app (active only
 * after its first correct code), rename, remove, recovery codes, and turning 2FA off. Every
 * change is one read-modify-write of the sealed factor list inside a transaction, and is
 * recorded in the audit log. Which of these need a step-up is the contract's business.
 */
import { randomUUID } from 'node:crypto';
import { APP_NAME } from '../../../src-shared/product.js';
import type { Account } from './accounts.js';
import type { AuditRecorder } from './audit-recorder.js';
import type { Clock } from '../platform/clock.js';
import type { RequestContext } from '../platform/context.js';
import { CoreError } from '../platform/errors.js';
import { recoveryCodesLeft, twoFactorEnabled, type Device, type FactorList, type FactorListStore, type TotpDevice } from './factor-list.js';
import { qrPng, qrSvg } from './qr.js';
import { hashRecoveryCode, newRecoveryCodes, normalizeRecoveryCode, RECOVERY_CODES_LOW } from './recovery-codes.js';
import { recoveryKey } from './second-factor.js';
import type { Store } from '../platform/store.js';
import { base32Decode, base32Encode, groupForTyping, matchTotp, newTotpSecret, nextDrift, otpauthUri } from '../../../src-shared/totp.js';
import { GATE_MESSAGES } from './messages.js';
import type { DeviceOverview, DeviceView } from '../../../src-shared/contract.js';

/** A pending enrolment is dropped after this long, or after this many wrong codes. */
export const ENROLMENT_TTL_MS = 15 * 60_000;
export const ENROLMENT_MAX_WRONG_CODES = 5;

export interface Session {
  account: Account;
  recordKey: Buffer;
}

/** The wire shapes, declared once in the contract (src-shared): the core returns exactly these. */
export type { DeviceOverview, DeviceView } from '../../../src-shared/contract.js';

export interface TotpEnrolment {
  deviceId: string;
  name: string;
  uri: string;
  secretGrouped: string;
  qrSvg: string;
  qrPngDataUrl: string;
}

export function viewOf(device: Device): DeviceView {
  return {
    id: device.id,
    kind: device.kind,
    name: device.name,
    addedAt: device.addedAt,
    lastUsedAt: device.lastUsedAt,
    active: device.active,
  };
}

export class DeviceService {
  constructor(private readonly deps: { store: Store; factors: FactorListStore; clock: Clock; audit: AuditRecorder }) {}

  overview(session: Session): DeviceOverview {
    return overviewOf(this.read(session));
  }

  async beginTotp(session: Session, name: string): Promise<TotpEnrolment> {
    const secret = newTotpSecret();
    const device: TotpDevice = {
      id: randomUUID(),
      kind: 'totp',
      name,
      addedAt: this.deps.clock.now(),
      lastUsedAt: null,
      active: false,
      secret: base32Encode(secret),
      drift: 0,
      lastStep: null,
      failedConfirmations: 0,
    };
    this.change(session, (list) => {
      // Starting again under the same name replaces an unfinished enrolment.
      list.devices = list.devices.filter((d) => d.active || d.name.toLowerCase() !== name.toLowerCase());
      assertNameFree(list, name);
      list.devices.push(device);
    });
    const uri = otpauthUri({ issuer: APP_NAME, account: session.account.name, secret });
    return {
      deviceId: device.id,
      name,
      uri,
      secretGrouped: groupForTyping(device.secret),
      qrSvg: await qrSvg(uri),
      qrPngDataUrl: `data:image/png;base64,${(await qrPng(uri)).toString('base64')}`,
    };
  }

  /** The first correct code activates the device; the first active device also brings recovery codes. */
  async confirmTotp(session: Session, deviceId: string, code: string, ctx: RequestContext): Promise<{ device: DeviceView; recoveryCodes: string[] | null }> {
    const now = this.deps.clock.now();
    // Assigned inside the transaction below; typed wide so the checks after it are not narrowed away.
    let outcome = 'wrong' as 'ok' | 'wrong' | 'ended';
    let codes = null as string[] | null;
    let activated = null as Device | null;
    this.change(session, (list) => {
      const device = list.devices.find((d): d is TotpDevice => d.kind === 'totp' && d.id === deviceId && !d.active);
      if (!device) throw new CoreError('NOT_FOUND', 'There is no device waiting for its first code. Start adding it again.');
      const match = matchTotp(base32Decode(device.secret), code, now, 0);
      if (!match) {
        device.failedConfirmations += 1;
        if (device.failedConfirmations >= ENROLMENT_MAX_WRONG_CODES) {
          list.devices = list.devices.filter((d) => d !== device);
          outcome = 'ended';
        }
        return;
      }
      const firstDevice = !twoFactorEnabled(list);
      Object.assign(device, { active: true, lastStep: match.step, drift: nextDrift(0, match.offset), lastUsedAt: now });
      if (firstDevice && recoveryCodesLeft(list) === 0) codes = this.newCodes(list, session.recordKey);
      activated = device;
      outcome = 'ok';
    });
    if (outcome === 'ended') {
      throw new CoreError('AUTH_FAILED', 'Too many wrong codes for this device. Start adding it again.');
    }
    if (outcome === 'wrong' || !activated) {
      throw new CoreError('AUTH_FAILED', 'That code is not right. Check that the device shows the time correctly, then enter the code it shows now.');
    }
    const device = activated;
    await this.deps.audit.record(ctx, { action: 'device.added', outcome: 'success', account: session.account.name, device: device.name });
    if (codes) await this.deps.audit.record(ctx, { action: 'recovery.regenerated', outcome: 'success', account: session.account.name, detail: 'first device' });
    return { device: viewOf(device), recoveryCodes: codes };
  }

  async rename(session: Session, deviceId: string, name: string, ctx: RequestContext): Promise<DeviceView> {
    let renamed: Device | null = null;
    let oldName = '';
    this.change(session, (list) => {
      const device = findDevice(list, deviceId);
      if (device.name.toLowerCase() !== name.toLowerCase()) assertNameFree(list, name);
      oldName = device.name;
      device.name = name;
      renamed = device;
    });
    await this.deps.audit.record(ctx, { action: 'device.renamed', outcome: 'success', account: session.account.name, device: name, detail: `was ${oldName}` });
    return viewOf(renamed!);
  }

  /** Remove a device. Removing the last active one turns 2FA off, so it needs `confirmDisable`. */
  async remove(session: Session, deviceId: string, confirmDisable: boolean, ctx: RequestContext): Promise<DeviceOverview> {
    let removed: Device | null = null;
    let turnedOff = false;
    const list = this.change(session, (l) => {
      const device = findDevice(l, deviceId);
      const lastActive = device.active && l.devices.filter((d) => d.active).length === 1;
      if (lastActive && !confirmDisable) {
        throw new CoreError('CONFIRM_REQUIRED', `"${device.name}" is your last device: removing it turns two-factor authentication off. Confirm to continue.`);
      }
      l.devices = l.devices.filter((d) => d !== device);
      if (lastActive) {
        l.devices = [];
        l.recovery = null;
        turnedOff = true;
      }
      removed = device;
    });
    const account = session.account.name;
    await this.deps.audit.record(ctx, { action: 'device.removed', outcome: 'success', account, device: (removed as Device | null)?.name ?? null });
    if (turnedOff) await this.deps.audit.record(ctx, { action: 'twofa.disabled', outcome: 'success', account, detail: 'last device removed' });
    return overviewOf(list);
  }

  async regenerateRecoveryCodes(session: Session, ctx: RequestContext): Promise<string[]> {
    let codes: string[] = [];
    this.change(session, (list) => {
      if (!twoFactorEnabled(list)) throw new CoreError('TWO_FACTOR_OFF', 'Add a device first: recovery codes stand in for lost devices.');
      codes = this.newCodes(list, session.recordKey);
    });
    await this.deps.audit.record(ctx, { action: 'recovery.regenerated', outcome: 'success', account: session.account.name });
    return codes;
  }

  async disableTwoFactor(session: Session, ctx: RequestContext): Promise<void> {
    this.change(session, (list) => {
      if (!twoFactorEnabled(list)) throw new CoreError('TWO_FACTOR_OFF', 'Two-factor authentication is already off.');
      list.devices = [];
      list.recovery = null;
    });
    await this.deps.audit.record(ctx, { action: 'twofa.disabled', outcome: 'success', account: session.account.name });
  }

  private newCodes(list: FactorList, recordKey: Buffer): string[] {
    const codes = newRecoveryCodes();
    const key = recoveryKey(recordKey);
    list.recovery = {
      hashes: codes.map((c) => hashRecoveryCode(key, normalizeRecoveryCode(c)!)),
      generatedAt: this.deps.clock.now(),
    };
    return codes;
  }

  private read(session: Session): FactorList {
    return this.deps.factors.read(session.account.id, session.recordKey);
  }

  /** Read, change and write the sealed list in one transaction; stale enrolments are dropped. */
  private change(session: Session, edit: (list: FactorList) => void): FactorList {
    const { store, factors, clock } = this.deps;
    return store.tx(() => {
      const list = factors.read(session.account.id, session.recordKey);
      const now = clock.now();
      list.devices = list.devices.filter((d) => d.active || now - d.addedAt < ENROLMENT_TTL_MS);
      edit(list);
      factors.write(session.account.id, session.recordKey, list, now);
      return list;
    });
  }
}

export function overviewOf(list: FactorList): DeviceOverview {
  const left = recoveryCodesLeft(list);
  const enabled = twoFactorEnabled(list);
  return {
    devices: list.devices.filter((d) => d.active).map(viewOf),
    twoFactorEnabled: enabled,
    recoveryCodesLeft: left,
    recoveryCodesLow: enabled && left <= RECOVERY_CODES_LOW,
  };
}

function findDevice(list: FactorList, deviceId: string): Device {
  const device = list.devices.find((d) => d.id === deviceId);
  if (!device) throw new CoreError('NOT_FOUND', GATE_MESSAGES.noSuchDevice);
  return device;
}

/**
 * Refuses a name an active device already has, before anything is asked or spent: the router
 * checks it ahead of a step-up, so a code is not used up on a call that would be refused.
 */
export function assertNewDeviceNameFree(list: FactorList, name: string): void {
  assertNameFree({ ...list, devices: list.devices.filter((d) => d.active) }, name);
}

function assertNameFree(list: FactorList, name: string): void {
  if (list.devices.some((d) => d.name.toLowerCase() === name.toLowerCase())) {
    throw new CoreError('NAME_TAKEN', `A device named "${name}" already exists. Choose another name.`);
  }
}
