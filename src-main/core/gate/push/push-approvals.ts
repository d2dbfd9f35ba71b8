/**
 * Push approval, desktop side (docs/protocol.md §5): send a request to every paired companion,
 * and finish an unlock or a step-up when one of them approves it. One request pending per
 * account; expiry 60 s; growing delays between pushes (reset by any completed unlock); "this
 * wasn't me" mutes push for 20 minutes. Each answer must open under a device's keys and pass
 * `judgeAnswer`; every outcome, every refused answer and every relay refusal goes to the audit
 * log, and a request the relay took for no companion ends at once as `unavailable`.
 */
import { randomUUID } from 'node:crypto';
import { APP_NAME } from '../../../../src-shared/product.js';
import { newChoices, newNonce, PUSH_TTL_MS, sealClosed, sealRequest } from '../../../../src-shared/push/approval.js';
import { fromB64u } from '../../../../src-shared/push/encoding.js';
import {
  APPROVAL_VERSION,
  parseBody,
  type ApprovalRequest,
  type ClosedInner,
  type MsgFrame,
  type RelayErrorCode,
} from '../../../../src-shared/push/messages.js';
import { importAesKey } from '../../../../src-shared/push/suite.js';
import type { Account } from '../accounts.js';
import type { AuditRecorder } from '../audit-recorder.js';
import type { Clock } from '../../platform/clock.js';
import type { RequestContext } from '../../platform/context.js';
import { CoreError } from '../../platform/errors.js';
import { recoveryCodesLeft, type FactorList, type FactorListStore, type PushDevice } from '../factor-list.js';
import type { Gate } from '../gate.js';
import type { Logger } from '../../platform/logger.js';
import type { Verified } from '../second-factor.js';
import type { Store } from '../../platform/store.js';
import { throttleStepDetail, type Throttle } from '../throttle.js';
import { judgeIncoming, type Candidate } from './push-answers.js';
import { PushAudit } from './push-audit.js';
import {
  pushDevices,
  samePurpose,
  started,
  type AccountPushState,
  type PushPoll,
  type PushPurpose,
  type PushRequest,
  type PushStarted,
  type PushState,
  type PushStatus,
} from './push-request.js';

export type { PushPoll, PushPurpose, PushStarted, PushState, PushStatus } from './push-request.js';
import type { DesktopRelay } from './relay-client.js';
import { GATE_MESSAGES } from '../messages.js';

export const PUSH_MUTE_MS = 20 * 60_000;
/** Wait before the n-th push (0-based) since the last completed unlock. */
export const PUSH_DELAYS_MS = [0, 0, 5_000, 15_000, 30_000, 60_000, 120_000, 300_000];
export const PUSH_MAX_WAIT_MS = 25_000;

export interface PushDeps {
  store: Store;
  factors: FactorListStore;
  gate: Gate;
  throttle: Throttle;
  relay: DesktopRelay;
  audit: AuditRecorder;
  clock: Clock;
  logger: Logger;
  appVersion: string;
}

export class PushApprovals {
  private readonly accounts = new Map<number, AccountPushState>();
  private readonly requests = new Map<string, PushRequest>();
  private unsubscribe: (() => void) | null = null;
  private readonly log: PushAudit;

  constructor(private readonly deps: PushDeps) {
    this.log = new PushAudit(deps.audit);
  }

  /** Any completed unlock (push, code, recovery code, or the password alone) restarts the growing delay. */
  unlocked(accountId: number): void {
    const state = this.accounts.get(accountId);
    if (state) state.sent = 0;
  }

  status(): PushStatus {
    const list = this.deps.gate.factorList();
    const devices = list ? pushDevices(list) : [];
    const now = this.deps.clock.now();
    const muted = list?.pushMutedUntil && list.pushMutedUntil > now ? list.pushMutedUntil : null;
    const account = this.currentAccountState();
    const pending = account?.pending && this.settle(account.pending) === 'pending' ? account.pending : null;
    return {
      available: devices.length > 0 && muted === null && this.deps.relay.url() !== null,
      relayConfigured: this.deps.relay.url() !== null,
      devices: devices.length,
      mutedUntil: muted,
      retryAfterMs: account ? this.delayLeft(account, now) : 0,
      pending: pending ? { requestId: pending.id, number: pending.number, expiresAt: pending.expiresAt } : null,
    };
  }

  /** Send a request to every companion of the open session's account. */
  async start(purpose: PushPurpose, ctx: RequestContext): Promise<PushStarted> {
    const { gate, clock, throttle, relay } = this.deps;
    const handle = gate.sessionHandle();
    const list = gate.factorList();
    if (!handle || !list) throw new CoreError('NOT_ALLOWED', GATE_MESSAGES.enterPasswordFirst);
    const account = gate.sessionAccount();
    if (!account) throw new CoreError('NOT_ALLOWED', GATE_MESSAGES.enterPasswordFirst);
    const devices = pushDevices(list);
    if (devices.length === 0) throw new CoreError('NOT_FOUND', 'No companion is paired. Use a code from a device instead.');
    const now = clock.now();
    if (list.pushMutedUntil && list.pushMutedUntil > now) {
      throw new CoreError('PUSH_MUTED', 'Push is paused after "this wasn\'t me". Use a code from a device or a recovery code.', {
        retryAfterMs: list.pushMutedUntil - now,
      });
    }
    const view = throttle.view(account.id, now);
    if (view.retryAfterMs > 0) throw new CoreError('THROTTLED', GATE_MESSAGES.throttled, { retryAfterMs: view.retryAfterMs });
    if (view.hardStop) throw new CoreError('HARD_STOP', GATE_MESSAGES.hardStop);

    const state = this.stateFor(account.id);
    const existing = state.pending;
    if (existing && this.settle(existing) === 'pending' && existing.handle === handle && samePurpose(existing.purpose, purpose)) {
      return started(existing);
    }
    if (existing && existing.state === 'pending') await this.finish(existing, 'cancelled');
    const wait = this.delayLeft(state, now);
    if (wait > 0) throw new CoreError('THROTTLED', 'Wait a moment before sending another push.', { retryAfterMs: wait });

    // Finished requests are kept a while for late polls, then forgotten.
    for (const [id, r] of this.requests) if (r.state !== 'pending' && r.expiresAt < now - PUSH_TTL_MS) this.requests.delete(id);
    let reply;
    try {
      reply = await relay.reply();
      if (!reply.route) throw new CoreError('RELAY_UNAVAILABLE', 'Push is unavailable: the relay cannot be reached. Use a code from a device instead.');
    } catch (error) {
      await this.log.unavailable(ctx, account.name, null, 'unreachable');
      throw error;
    }
    this.listen();
    const { choices, number } = newChoices();
    const action = purpose.kind === 'unlock' ? 'Unlock' : purpose.action;
    const request: PushRequest = {
      id: randomUUID(),
      accountId: account.id,
      accountName: account.name,
      handle,
      purpose,
      number,
      time: now,
      expiresAt: now + PUSH_TTL_MS,
      undelivered: new Set(),
      refusals: 0,
      sentTo: new Map(),
      state: 'pending',
      answered: false,
      ctx,
      proof: null,
      waiters: new Set(),
      expiryTimer: null,
    };
    const nonce = newNonce();
    const outgoing: { device: PushDevice; body: string; hash: string }[] = [];
    for (const device of devices) {
      const message: ApprovalRequest = {
        type: 'approval',
        v: APPROVAL_VERSION,
        txId: request.id,
        nonce,
        deviceId: device.id,
        action: action.slice(0, 200),
        account: account.name,
        workstation: ctx.workstation.slice(0, 100) || 'unknown',
        app: APP_NAME,
        appVersion: this.deps.appVersion.slice(0, 50),
        ip: ctx.ip.slice(0, 64),
        time: now,
        expiresAt: request.expiresAt,
        choices,
        replyTo: reply.route,
        confirm:
          purpose.kind === 'step-up' ? { title: purpose.confirmation.title, consequence: purpose.confirmation.consequence, digest: purpose.inputDigest } : null,
      };
      outgoing.push({ device, ...(await sealRequest(await importAesKey(fromB64u(device.reqKey)), message)) });
    }
    // Registered before anything is sent, so even an instant answer finds its request.
    this.requests.set(request.id, request);
    for (const { device, body, hash } of outgoing) {
      const sent = reply.send(device.route, body, PUSH_TTL_MS);
      request.sentTo.set(device.id, { device, hash, messageId: sent.id });
      void sent.acked.then((refusal) => refusal && this.undelivered(request, device, refusal)).catch(() => undefined);
    }
    state.pending = request;
    state.sent += 1;
    state.lastSentAt = now;
    // A backstop so an unanswered request is logged as expired even if nobody polls.
    request.expiryTimer = setTimeout(() => this.settle(request), PUSH_TTL_MS + 50);
    request.expiryTimer.unref();
    await this.log.outcome(
      request,
      'push.sent',
      'info',
      devices
        .map((d) => d.name)
        .join(', ')
        .slice(0, 200),
      purpose.kind === 'step-up' ? `${action}: ${purpose.confirmation.title}`.slice(0, 500) : action,
    );
    return started(request);
  }

  /** The state of a request; with `waitMs`, wait (bounded) until it is no longer pending. */
  async poll(requestId: string, waitMs: number): Promise<PushPoll> {
    const request = this.find(requestId);
    if (this.settle(request) === 'pending' && waitMs > 0) {
      await new Promise<void>((resolve) => {
        const left = Math.max(0, request.expiresAt - this.deps.clock.now());
        const timer = setTimeout(done, Math.min(waitMs, PUSH_MAX_WAIT_MS, left + 50));
        function done() {
          clearTimeout(timer);
          request.waiters.delete(done);
          resolve();
        }
        request.waiters.add(done);
      });
    }
    // A waiter woken by an answer is behind the gate's completion: read the state after it.
    await this.deps.gate.withSession(request.handle, async () => undefined).catch(() => undefined);
    const state = this.settle(request);
    return { state, expiresAt: request.expiresAt, proof: state === 'approved' ? request.proof : null };
  }

  async cancel(requestId: string): Promise<PushPoll> {
    const request = this.find(requestId);
    if (this.settle(request) === 'pending') await this.finish(request, 'cancelled');
    return { state: request.state, expiresAt: request.expiresAt, proof: null };
  }

  /** Forget everything (the core closes). */
  close(): void {
    this.unsubscribe?.();
    for (const r of this.requests.values()) if (r.expiryTimer) clearTimeout(r.expiryTimer);
    this.requests.clear();
  }

  // ------------------------------------------------------------------ answers

  private listen(): void {
    if (!this.unsubscribe) this.unsubscribe = this.deps.relay.onReply((msg) => void this.onReply(msg).catch(() => undefined));
  }

  private async onReply(msg: MsgFrame): Promise<void> {
    const body = parseBody(msg.body);
    if (body?.k !== 'ans') return;
    // Every request sent lately, open or finished: a finished one's answer again is a replay.
    const candidates: (Candidate & { request: PushRequest })[] = [];
    for (const request of this.requests.values()) {
      const open = this.settle(request) === 'pending' && !request.answered;
      for (const sent of request.sentTo.values()) {
        candidates.push({
          request,
          requestId: request.id,
          device: sent.device,
          hash: sent.hash,
          number: request.number,
          time: request.time,
          expiresAt: request.expiresAt,
          open,
        });
      }
    }
    const waiting = candidates.filter((c) => c.open);
    if (waiting.length === 0) {
      // Late, re-sent or replayed while nothing waits: it can change nothing.
      this.deps.logger.warn('push answer refused', { reason: 'no pending request' });
      return;
    }
    const verdict = await judgeIncoming(body, msg.from, candidates, this.deps.clock.now());
    if (verdict.kind === 'refused') {
      this.deps.logger.warn('push answer refused', { reason: verdict.reason });
      // What the relay or a peer can send at will: recorded against each waiting request, and
      // counted like a push towards the growing delay.
      for (const request of new Set(waiting.map((c) => c.request))) {
        this.stateFor(request.accountId).sent += 1;
        await this.log.refused(request, verdict.reason, verdict.device?.name ?? null);
      }
      return;
    }
    const request = (verdict.candidate as Candidate & { request: PushRequest }).request;
    const device = verdict.candidate.device;
    if (this.settle(request) !== 'pending' || request.answered) return;
    request.answered = true;
    const now = this.deps.clock.now();
    switch (verdict.judgement) {
      case 'approve':
        return this.approve(request, device);
      case 'deny':
        await this.log.outcome(request, 'push.denied', 'failure', device.name, 'denied on the companion');
        return this.finish(request, 'denied');
      case 'number-mismatch': {
        // A guess at the number counts like a wrong code, under the same throttle.
        const before = this.deps.throttle.view(request.accountId, now);
        const after = this.deps.throttle.recordFailure(request.accountId, now);
        await this.log.outcome(request, 'push.denied', 'failure', device.name, 'the number picked did not match');
        const step = throttleStepDetail(before, after);
        if (step) await this.deps.audit.record(request.ctx, { action: 'lockout', outcome: 'failure', account: request.accountName, detail: step });
        return this.finish(request, 'refused');
      }
      case 'not-me': {
        await this.deps.gate
          .withSession(request.handle, async (account, recordKey) => this.mute(account, recordKey, now + PUSH_MUTE_MS))
          .catch(() => undefined);
        await this.log.outcome(request, 'push.reported', 'failure', device.name, 'reported as not me; push paused for 20 minutes');
        return this.finish(request, 'reported');
      }
    }
  }

  /** The relay refused the request for one device; once it took it for none, the request ends. */
  private async undelivered(request: PushRequest, device: PushDevice, code: RelayErrorCode): Promise<void> {
    if (request.state !== 'pending') return;
    request.undelivered.add(device.id);
    await this.log.unavailable(request.ctx, request.accountName, device.name, code);
    if (request.undelivered.size === request.sentTo.size && request.state === 'pending' && !request.answered) {
      await this.finish(request, 'unavailable');
    }
  }

  private async approve(request: PushRequest, device: PushDevice): Promise<void> {
    const { gate, clock } = this.deps;
    const verify = async (account: Account, recordKey: Buffer): Promise<Verified> => {
      if (request.state !== 'pending' || clock.now() >= request.expiresAt) throw new CoreError('EXPIRED', 'The push expired.');
      const list = this.touchDevice(account, recordKey, device.id);
      return { via: 'push', deviceName: device.name, recoveryCodesLeft: recoveryCodesLeft(list) };
    };
    try {
      if (request.purpose.kind === 'unlock') {
        await gate.completeSecondFactor(request.handle, verify);
        this.deps.throttle.reset(request.accountId);
      } else {
        const purpose = request.purpose;
        const handle = request.handle;
        request.proof = await gate.issueStepUp(
          purpose.method,
          purpose.inputDigest,
          {
            verified: async (account, recordKey) => {
              if (gate.sessionHandle() !== handle) throw new CoreError('NOT_ALLOWED', 'The app was locked meanwhile.');
              await verify(account, recordKey);
            },
          },
          request.ctx,
          purpose.confirmation.title,
        );
      }
    } catch (error) {
      this.deps.logger.warn('push approval could not be applied', { code: error instanceof CoreError ? error.code : 'unknown' });
      if (request.state === 'pending') await this.finish(request, 'cancelled');
      return;
    }
    await this.log.outcome(
      request,
      'push.approved',
      'success',
      device.name,
      request.purpose.kind === 'unlock' ? 'unlock' : `step-up ${request.purpose.method}`,
    );
    await this.finish(request, 'approved');
  }

  private touchDevice(account: Account, recordKey: Buffer, deviceId: string): FactorList {
    const { store, factors, clock } = this.deps;
    return store.tx(() => {
      const list = factors.read(account.id, recordKey);
      const device = list.devices.find((d) => d.id === deviceId && d.active);
      if (!device) throw new CoreError('NOT_FOUND', 'That companion was removed.');
      device.lastUsedAt = clock.now();
      factors.write(account.id, recordKey, list, clock.now());
      return list;
    });
  }

  private mute(account: Account, recordKey: Buffer, until: number): void {
    const { store, factors, clock } = this.deps;
    store.tx(() => {
      const list = factors.read(account.id, recordKey);
      list.pushMutedUntil = until;
      factors.write(account.id, recordKey, list, clock.now());
    });
  }

  // ------------------------------------------------------------------ bookkeeping

  /** Bring a request's state up to date with the clock; an expiry is logged once. */
  private settle(request: PushRequest): PushState {
    if (request.state === 'pending' && this.deps.clock.now() >= request.expiresAt) {
      void this.log.outcome(request, 'push.expired', 'failure', null, 'no answer within 60 seconds').catch(() => undefined);
      void this.finish(request, 'expired');
    }
    return request.state;
  }

  private async finish(request: PushRequest, state: PushState): Promise<void> {
    if (request.state !== 'pending') return;
    request.state = state;
    if (request.expiryTimer) clearTimeout(request.expiryTimer);
    for (const w of [...request.waiters]) w();
    const account = this.accounts.get(request.accountId);
    if (account?.pending === request) account.pending = null;
    await this.log.refusalsSummary(request).catch(() => undefined);
    // Tell every companion the request is over, so their screens clear; best effort.
    try {
      const reply = await this.deps.relay.reply();
      const outcome: ClosedInner['outcome'] = state === 'pending' || state === 'unavailable' ? 'cancelled' : state;
      for (const sent of request.sentTo.values()) {
        reply.forget(sent.messageId);
        const body = await sealClosed(await importAesKey(fromB64u(sent.device.reqKey)), sent.device.id, { txId: request.id, outcome });
        reply.send(sent.device.route, body, PUSH_TTL_MS);
      }
    } catch {
      // The relay is gone; companions see the request expire on their own.
    }
  }

  private find(requestId: string): PushRequest {
    const request = this.requests.get(requestId);
    if (!request || request.handle !== this.deps.gate.sessionHandle()) throw new CoreError('NOT_FOUND', 'There is no such push request.');
    return request;
  }

  private stateFor(accountId: number): AccountPushState {
    let state = this.accounts.get(accountId);
    if (!state) this.accounts.set(accountId, (state = { pending: null, sent: 0, lastSentAt: 0 }));
    return state;
  }

  private currentAccountState(): AccountPushState | null {
    const account = this.deps.gate.sessionAccount();
    return account ? (this.accounts.get(account.id) ?? null) : null;
  }

  private delayLeft(state: AccountPushState, now: number): number {
    const delay = PUSH_DELAYS_MS[Math.min(state.sent, PUSH_DELAYS_MS.length - 1)]!;
    return Math.max(0, state.lastSentAt + delay - now);
  }
}
