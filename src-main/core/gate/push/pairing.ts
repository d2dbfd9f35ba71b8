/**
 * Pairing a companion (docs/protocol.md §4), desktop side. A pairing lives in memory only: a
 * one-time QR code and link valid for at most 120 s and for one scan; the comparison code shown
 * once a companion proved it scanned the QR; the device added to the sealed factor list only
 * after the user confirmed the code, named the device, and the companion acknowledged with its
 * device key; then the companion is told the result (pair-result), so it never keeps a pairing
 * the desktop does not have. A pairing belongs to the session that began it. Every way a
 * pairing fails is an audit row with its reason.
 */
import { randomUUID } from 'node:crypto';
import { APP_NAME } from '../../../../src-shared/product.js';
import type { WebCompanionChoice } from '../../../../src-shared/contract-push.js';
import { CLI_ONLY_LINK_BASE, type WebCompanionSource } from '../../../../src-shared/push/companion-origin.js';
import { b64u } from '../../../../src-shared/push/encoding.js';
import { parseBody, type MsgFrame, type RelayErrorCode } from '../../../../src-shared/push/messages.js';
import {
  acceptPairHello,
  formatComparisonCode,
  helloHasValidMac,
  pairDoneBody,
  pairingLink,
  pairRefusedBody,
  pairResultBody,
  PAIRING_MAX_TTL_MS,
  startPairing,
  transcriptHash,
  verifyPairAck,
  type AcceptedHello,
  type DesktopPairing,
} from '../../../../src-shared/push/pairing.js';
import type { RelayConnection } from '../../../../src-shared/push/relay-connection.js';
import { base32Encode, newTotpSecret } from '../../../../src-shared/totp.js';
import type { Account } from '../accounts.js';
import type { AuditRecorder } from '../audit-recorder.js';
import type { Clock } from '../../platform/clock.js';
import type { RequestContext } from '../../platform/context.js';
import { CoreError } from '../../platform/errors.js';
import { recoveryCodesLeft, twoFactorEnabled, type FactorListStore, type PushDevice } from '../factor-list.js';
import { viewOf, type DeviceView } from '../devices.js';
import type { Logger } from '../../platform/logger.js';
import { qrPng, qrSvg } from '../qr.js';
import { hashRecoveryCode, newRecoveryCodes, normalizeRecoveryCode } from '../recovery-codes.js';
import { recoveryKey } from '../second-factor.js';
import type { Store } from '../../platform/store.js';
import type { DesktopRelay } from './relay-client.js';
import { GATE_MESSAGES } from '../messages.js';

/** After the scan, how long the user has to compare codes and name the device. */
export const PAIRING_CONFIRM_MS = 5 * 60_000;
/** How long the desktop waits for the companion's acknowledgement after sending it its keys. */
export const PAIRING_ACK_TIMEOUT_MS = 30_000;
/** Longest long-poll of a pairing's status. */
export const PAIRING_MAX_WAIT_MS = 25_000;
/** How long the relay keeps pair-done, pair-refused and pair-result. */
export const PAIRING_MESSAGE_TTL_MS = 60_000;
/** Refused hellos a pairing records in the audit log (anyone who knows the mailbox can send them). */
const REFUSED_HELLOS_LOGGED = 5;

export type PairingState = 'waiting' | 'confirm' | 'finishing' | 'paired' | 'expired' | 'cancelled' | 'failed';

export interface Session {
  account: Account;
  recordKey: Buffer;
}

interface Pairing {
  id: string;
  handle: object;
  accountId: number;
  accountName: string;
  ctx: RequestContext;
  refusedHellos: number;
  /** The device id handed out in pair-done, and whether it was added: what a repeated ack is told. */
  result: { deviceId: string; outcome: 'added' | 'failed' } | null;
  desktop: DesktopPairing;
  mailbox: RelayConnection | null;
  state: PairingState;
  accepted: AcceptedHello | null;
  confirmBy: number;
  ackWaiter: ((failure: string | null) => void) | null;
  waiters: Set<() => void>;
  closeTimer: ReturnType<typeof setTimeout> | null;
}

export interface PairingStart {
  pairingId: string;
  link: string;
  webCompanion: { source: WebCompanionSource; url: string } | null;
  relayUrl: string;
  qrSvg: string;
  qrPngDataUrl: string;
  expiresAt: number;
}

export interface WebCompanionView {
  choice: WebCompanionChoice;
  url: string | null;
  appUrl: string | null;
  relayUrl: string | null;
}

export interface PairingStatus {
  state: PairingState;
  comparisonCode: string | null;
  expiresAt: number;
}

export interface PairingDeps {
  store: Store;
  factors: FactorListStore;
  relay: DesktopRelay;
  audit: AuditRecorder;
  clock: Clock;
  logger: Logger;
  sessionHandle: () => object | null;
  appVersion: string;
}

export class PairingService {
  private readonly pairings = new Map<string, Pairing>();

  constructor(private readonly deps: PairingDeps) {}

  async begin(session: Session, ctx: RequestContext): Promise<PairingStart> {
    const { clock, relay, factors } = this.deps;
    const handle = this.requireHandle();
    // One pairing at a time: a new QR code ends the earlier ones.
    for (const p of this.pairings.values()) this.end(p, 'cancelled');
    const relayUrl = relay.requireUrl();
    const choice: WebCompanionChoice = factors.read(session.account.id, session.recordKey).webCompanion ?? { source: 'app' };
    const webUrl = relay.webCompanionUrl(choice);
    const desktop = await startPairing({
      relayUrl,
      account: session.account.name,
      workstation: ctx.workstation || 'unknown',
      now: clock.now(),
      ttlMs: PAIRING_MAX_TTL_MS,
    });
    const pairing: Pairing = {
      id: randomUUID(),
      handle,
      accountId: session.account.id,
      accountName: session.account.name,
      ctx,
      refusedHellos: 0,
      result: null,
      desktop,
      mailbox: null,
      state: 'waiting',
      accepted: null,
      confirmBy: 0,
      ackWaiter: null,
      waiters: new Set(),
      closeTimer: null,
    };
    this.pairings.set(pairing.id, pairing);
    try {
      pairing.mailbox = await relay.mailbox(desktop.mailboxToken, (msg) => void this.onMailbox(pairing, msg));
    } catch (error) {
      this.pairings.delete(pairing.id);
      await this.failed(pairing, 'the relay cannot be reached');
      throw error;
    }
    // The mailbox stays open a little past the QR's life, to refuse late scans politely.
    this.scheduleClose(pairing, desktop.payload.exp - clock.now() + PAIRING_CONFIRM_MS);
    // The link names the page (trusted with the secret in its fragment) and, inside, the relay.
    const link = pairingLink(webUrl ?? CLI_ONLY_LINK_BASE, desktop.payload);
    return {
      pairingId: pairing.id,
      link,
      webCompanion: webUrl ? { source: choice.source, url: webUrl } : null,
      relayUrl,
      qrSvg: await qrSvg(link),
      qrPngDataUrl: `data:image/png;base64,${(await qrPng(link)).toString('base64')}`,
      expiresAt: desktop.payload.exp,
    };
  }

  async status(pairingId: string, waitMs: number): Promise<PairingStatus> {
    const pairing = this.find(pairingId);
    const before = this.stateOf(pairing);
    if (waitMs > 0 && (before === 'waiting' || before === 'finishing')) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(waitMs, PAIRING_MAX_WAIT_MS));
        function done() {
          clearTimeout(timer);
          pairing.waiters.delete(done);
          resolve();
        }
        pairing.waiters.add(done);
      });
    }
    const state = this.stateOf(pairing);
    return {
      state,
      comparisonCode: state === 'confirm' && pairing.accepted ? formatComparisonCode(pairing.accepted.keys.code) : null,
      expiresAt: pairing.desktop.payload.exp,
    };
  }

  /** The user saw the same code on both screens and named the device: hand it its keys, wait for its word. */
  async finish(session: Session, pairingId: string, name: string, ctx: RequestContext): Promise<{ device: DeviceView; recoveryCodes: string[] | null }> {
    const pairing = this.find(pairingId);
    if (this.stateOf(pairing) !== 'confirm' || !pairing.accepted || !pairing.mailbox) {
      throw new CoreError('NOT_FOUND', 'This pairing is not waiting for confirmation. Start pairing again.');
    }
    const accepted = pairing.accepted;
    const { factors, store, clock, audit } = this.deps;
    assertNameFree(factors.read(session.account.id, session.recordKey).devices, name);

    const otpSeed = base32Encode(newTotpSecret());
    const device: PushDevice = {
      id: randomUUID(),
      kind: 'push',
      name,
      addedAt: clock.now(),
      lastUsedAt: null,
      active: true,
      publicKey: accepted.deviceKey,
      route: accepted.deviceRoute,
      reqKey: b64u(accepted.keys.reqKey),
      ansKey: b64u(accepted.keys.ansKey),
      otpSeed,
      drift: 0,
      lastStep: null,
    };
    pairing.state = 'finishing';
    this.wake(pairing);
    // Resolves with null on a valid ack, or with why the pairing cannot finish.
    const acked = new Promise<string | null>((resolve) => {
      const timer = setTimeout(() => resolve('no acknowledgement from the companion in time'), PAIRING_ACK_TIMEOUT_MS);
      pairing.ackWaiter = (failure) => {
        clearTimeout(timer);
        pairing.ackWaiter = null;
        resolve(failure);
      };
    });
    const body = await pairDoneBody(accepted.keys, {
      deviceId: device.id,
      name,
      otpSeed,
      account: session.account.name,
      workstation: pairing.desktop.payload.workstation,
      app: APP_NAME,
      appVersion: this.deps.appVersion.slice(0, 50),
    });
    pairing.result = { deviceId: device.id, outcome: 'failed' }; // until the device is in the list
    const sent = pairing.mailbox.send(accepted.deviceRoute, body, PAIRING_ACK_TIMEOUT_MS);
    void sent.acked.then((refusal: RelayErrorCode | null) => {
      if (refusal) pairing.ackWaiter?.(`the relay did not take the companion's keys (${refusal})`);
    });
    const failure = await acked;
    if (failure) {
      await this.fail(pairing, 'failed', failure);
      throw new CoreError('RELAY_UNAVAILABLE', 'The companion did not confirm in time. Start pairing again.');
    }
    if (this.deps.sessionHandle() !== pairing.handle) {
      await this.fail(pairing, 'cancelled', 'the app was locked before the companion confirmed');
      throw new CoreError('NOT_ALLOWED', GATE_MESSAGES.lockedMeanwhile);
    }

    let codes: string[] | null = null;
    try {
      store.tx(() => {
        const list = factors.read(session.account.id, session.recordKey);
        assertNameFree(list.devices, name);
        const first = !twoFactorEnabled(list);
        list.devices.push(device);
        if (first && recoveryCodesLeft(list) === 0) {
          const fresh = newRecoveryCodes();
          const key = recoveryKey(session.recordKey);
          list.recovery = { hashes: fresh.map((c) => hashRecoveryCode(key, normalizeRecoveryCode(c)!)), generatedAt: clock.now() };
          codes = fresh;
        }
        factors.write(session.account.id, session.recordKey, list, clock.now());
      });
    } catch (error) {
      await this.fail(pairing, 'failed', 'the device could not be added to the list');
      throw error;
    }
    accepted.keys.reqKey.fill(0);
    accepted.keys.ansKey.fill(0);
    pairing.result = { deviceId: device.id, outcome: 'added' };
    await this.sendResult(pairing);
    this.end(pairing, 'paired');
    await audit.record(ctx, { action: 'device.added', outcome: 'success', account: session.account.name, device: name, detail: 'companion' });
    if (codes) await audit.record(ctx, { action: 'recovery.regenerated', outcome: 'success', account: session.account.name, detail: 'first device' });
    return { device: viewOf(device), recoveryCodes: codes };
  }

  async cancel(pairingId: string): Promise<PairingStatus> {
    const pairing = this.find(pairingId);
    if (pairing.state === 'confirm' && pairing.accepted && pairing.mailbox) {
      const body = await pairRefusedBody(pairing.desktop.secret, pairing.accepted.keys.th, 'cancelled');
      const sent = pairing.mailbox.send(pairing.accepted.deviceRoute, body, PAIRING_MESSAGE_TTL_MS);
      await Promise.race([sent.acked, new Promise((r) => setTimeout(r, 2_000))]);
      // Codes that differ mean someone else scanned the QR (or a relay swapped keys).
      await this.failed(pairing, 'cancelled on the computer after the comparison code was shown');
    }
    if (!['paired', 'failed'].includes(pairing.state)) this.end(pairing, 'cancelled');
    return this.status(pairingId, 0);
  }

  /** Where pairing links send a phone, and what that resolves to now. */
  webCompanion(session: Session): WebCompanionView {
    const choice = this.deps.factors.read(session.account.id, session.recordKey).webCompanion ?? { source: 'app' };
    const { relay } = this.deps;
    return { choice, url: relay.webCompanionUrl(choice), appUrl: relay.appCompanionUrl(), relayUrl: relay.url() };
  }

  /** Change it (a step-up: whoever serves the page is trusted with every later pairing). */
  async setWebCompanion(session: Session, choice: WebCompanionChoice, ctx: RequestContext): Promise<WebCompanionView> {
    const { store, factors, clock, audit } = this.deps;
    store.tx(() => {
      const list = factors.read(session.account.id, session.recordKey);
      list.webCompanion = choice;
      factors.write(session.account.id, session.recordKey, list, clock.now());
    });
    const view = this.webCompanion(session);
    const where = choice.source === 'app' ? 'this app' : choice.source === 'relay' ? 'the relay (trusted)' : (view.url ?? '');
    await audit.record(ctx, {
      action: 'push.web-companion-changed',
      outcome: 'success',
      account: session.account.name,
      detail: `web companion from ${where}`.slice(0, 200),
    });
    return view;
  }

  /** Forget every pairing (the app locked or closes). */
  close(): void {
    for (const p of this.pairings.values()) this.end(p, 'cancelled');
    this.pairings.clear();
  }

  private async onMailbox(pairing: Pairing, msg: MsgFrame): Promise<void> {
    const body = parseBody(msg.body);
    if (!body) return;
    pairing.mailbox?.done(msg.id, msg.from);
    if (body.k === 'pair-ack') return this.onAck(pairing, body);
    if (body.k !== 'pair-hello') return;
    // The same hello may arrive twice (re-sends after a reconnect): accept it as the one it is.
    if (pairing.accepted && body.route === pairing.accepted.deviceRoute) return;
    const state = this.stateOf(pairing);
    if (state !== 'waiting') {
      // Only someone holding the QR secret hears why; the relay learns nothing it could use.
      if (await helloHasValidMac(pairing.desktop, body)) {
        const th = await transcriptHash(pairing.desktop.payload, body.ek, body.route);
        const reason = state === 'expired' ? 'expired' : 'used';
        pairing.mailbox?.send(body.route, await pairRefusedBody(pairing.desktop.secret, th, reason), PAIRING_MESSAGE_TTL_MS);
        this.deps.logger.warn('pairing code refused', { reason });
        await this.refusedHello(pairing, reason === 'expired' ? 'a scan after the code expired' : 'a second scan of a code already used');
      } else {
        await this.refusedHello(pairing, "a pairing request without the code's secret (bad MAC)");
      }
      return;
    }
    if (!(await helloHasValidMac(pairing.desktop, body))) return this.refusedHello(pairing, "a pairing request without the code's secret (bad MAC)");
    const accepted = await acceptPairHello(pairing.desktop, body);
    if (!accepted) return this.refusedHello(pairing, 'a pairing request with a bad device signature');
    if (this.stateOf(pairing) !== 'waiting') return;
    pairing.accepted = accepted;
    pairing.state = 'confirm';
    pairing.confirmBy = this.deps.clock.now() + PAIRING_CONFIRM_MS;
    this.wake(pairing);
  }

  private async onAck(pairing: Pairing, body: NonNullable<ReturnType<typeof parseBody>>): Promise<void> {
    const accepted = pairing.accepted;
    if (!accepted || !pairing.result) return;
    if (!(await verifyPairAck(accepted.deviceKey, accepted.keys.th, body))) {
      return this.refusedHello(pairing, 'an acknowledgement with a bad device signature');
    }
    if (pairing.state === 'finishing') pairing.ackWaiter?.(null);
    // A repeated ack (the companion reconnected) after the outcome is known: tell it again.
    else await this.sendResult(pairing);
  }

  /** Tell the companion whether its device was added; only it can read this (sealed under kD2C). */
  private async sendResult(pairing: Pairing): Promise<void> {
    if (!pairing.accepted || !pairing.result || !pairing.mailbox) return;
    const body = await pairResultBody(pairing.accepted.keys.d2c, pairing.result);
    pairing.mailbox.send(pairing.accepted.deviceRoute, body, PAIRING_MESSAGE_TTL_MS);
  }

  /** End a pairing that got as far as pair-done without a device: the companion is told, the log says why. */
  private async fail(pairing: Pairing, state: PairingState, reason: string): Promise<void> {
    if (!['waiting', 'confirm', 'finishing'].includes(pairing.state)) return;
    if (pairing.result) {
      pairing.result.outcome = 'failed';
      await this.sendResult(pairing).catch(() => undefined);
    }
    this.end(pairing, state);
    await this.failed(pairing, reason);
  }

  private async refusedHello(pairing: Pairing, reason: string): Promise<void> {
    this.deps.logger.warn('pairing message refused', { reason });
    if (++pairing.refusedHellos > REFUSED_HELLOS_LOGGED) return;
    await this.failed(pairing, `refused ${reason}`);
  }

  private failed(pairing: Pairing, reason: string): Promise<void> {
    return this.deps.audit.record(pairing.ctx, { action: 'pairing.failed', outcome: 'failure', account: pairing.accountName, detail: reason });
  }

  private stateOf(pairing: Pairing): PairingState {
    const now = this.deps.clock.now();
    if (pairing.state === 'waiting' && now >= pairing.desktop.payload.exp) pairing.state = 'expired';
    if (pairing.state === 'confirm' && now >= pairing.confirmBy) pairing.state = 'expired';
    return pairing.state;
  }

  private find(pairingId: string): Pairing {
    const pairing = this.pairings.get(pairingId);
    if (!pairing || pairing.handle !== this.deps.sessionHandle()) throw new CoreError('NOT_FOUND', 'There is no such pairing. Start pairing again.');
    return pairing;
  }

  private requireHandle(): object {
    const handle = this.deps.sessionHandle();
    if (!handle) throw new CoreError('NOT_ALLOWED', GATE_MESSAGES.unlockFirst);
    return handle;
  }

  private end(pairing: Pairing, state: PairingState): void {
    if (['waiting', 'confirm', 'finishing'].includes(pairing.state)) pairing.state = state;
    pairing.ackWaiter = null;
    this.wake(pairing);
    // Keep the record a while so the UI can read the outcome; the mailbox stays to refuse re-scans.
    this.scheduleClose(pairing, Math.max(0, pairing.desktop.payload.exp - this.deps.clock.now()) + 60_000);
  }

  private scheduleClose(pairing: Pairing, afterMs: number): void {
    if (pairing.closeTimer) clearTimeout(pairing.closeTimer);
    pairing.closeTimer = setTimeout(
      () => {
        pairing.mailbox?.close();
        this.pairings.delete(pairing.id);
      },
      Math.max(0, afterMs),
    );
    pairing.closeTimer.unref();
  }

  private wake(pairing: Pairing): void {
    for (const w of [...pairing.waiters]) w();
  }
}

function assertNameFree(devices: { name: string; active: boolean }[], name: string): void {
  if (devices.some((d) => d.active && d.name.toLowerCase() === name.toLowerCase())) {
    throw new CoreError('NAME_TAKEN', `A device named "${name}" already exists. Choose another name.`);
  }
}
