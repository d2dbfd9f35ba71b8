/**
 * The gate state machine (docs/design.md, "The contract and the gate levels"): locked -> second-factor -> unlocked, lock now, and
 * auto-lock after the idle time the user set. The session holds the record key while open;
 * locking wipes it. Step-up proofs are fresh verifications bound to one method and its exact
 * input, valid once and briefly: the password while 2FA is off, a second factor once it is on.
 * Attempts are serialised, so parallel guesses cannot slip between the throttle's check and
 * its count.
 */
import { randomBytes } from 'node:crypto';
import type { SessionLevel } from '../../../src-shared/contract.js';
import type { Account, AccountService } from './accounts.js';
import type { AuditRecorder } from './audit-recorder.js';
import type { Clock } from '../platform/clock.js';
import type { RequestContext } from '../platform/context.js';
import { sha256, wipe } from '../platform/crypto.js';
import { CoreError } from '../platform/errors.js';
import { recoveryCodesLeft, twoFactorEnabled, type FactorList, type FactorListStore } from './factor-list.js';
import type { Logger } from '../platform/logger.js';
import type { FactorAttempt, SecondFactor, Verified } from './second-factor.js';
import type { SettingsService } from './settings.js';
import { throttleStepDetail, type Throttle } from './throttle.js';
import { GATE_MESSAGES } from './messages.js';

export const STEP_UP_TTL_MS = 2 * 60_000;

export type LockReason = 'user' | 'idle' | 'os-lock' | 'suspend' | 'shutdown';

/** How long, after set-up, the first device may be added without confirming the password again. */
export const SETUP_GRACE_MS = 15 * 60_000;

const LOCK_DETAIL: Record<LockReason, string> = {
  user: 'locked by the user',
  idle: 'locked after the idle time',
  'os-lock': 'locked because the computer locked its screen',
  suspend: 'locked because the computer went to sleep',
  shutdown: 'locked because the app stopped',
};

/**
 * What confirms a step-up: the password while 2FA is off; a device or recovery code once it is
 * on; or a factor verified elsewhere (an approved push), whose `verified` throws to refuse.
 */
export type StepUpFactor = { password: string } | FactorAttempt | { verified: ExternalVerifier<void> };

/** Runs inside the gate's serialisation with the open session; throws to refuse. */
export type ExternalVerifier<T> = (account: Account, recordKey: Buffer) => Promise<T>;

interface OpenSession {
  level: Exclude<SessionLevel, 'locked'>;
  account: Account;
  recordKey: Buffer;
  lastActivity: number;
  /** Only the session set-up opened: until then, the first device is added as part of set-up. */
  setupGraceUntil?: number;
}

interface StepUpGrant {
  method: string;
  inputDigest: string;
  expiresAt: number;
}

export interface GateDeps {
  accounts: AccountService;
  factors: FactorListStore;
  secondFactor: SecondFactor;
  throttle: Throttle;
  settings: SettingsService;
  audit: AuditRecorder;
  clock: Clock;
  logger: Logger;
  /** Who is acting when nobody called: the idle timer, the OS, the app stopping. */
  localContext: RequestContext;
  /** The database's seal (state-seal.ts), checked at every unlock before the password. */
  integrity?: { verify(): Promise<void> };
}

export class Gate {
  private session: OpenSession | null = null;
  private readonly stepUps = new Map<string, StepUpGrant>();
  private attempts: Promise<unknown> = Promise.resolve();
  private readonly handles = new WeakMap<OpenSession, object>();
  private readonly unlockListeners = new Set<(accountId: number) => void>();

  constructor(private readonly deps: GateDeps) {}

  /** Told of every completed unlock, whatever finished it (push uses it to restart its growing delay). */
  onUnlocked(listener: (accountId: number) => void): void {
    this.unlockListeners.add(listener);
  }

  /** The session's second factor is verified (a code, a recovery code or a push): it is unlocked from now. */
  private secondFactorAccepted(s: OpenSession, verified: Verified): Verified & { level: SessionLevel } {
    s.level = 'unlocked';
    s.lastActivity = this.deps.clock.now();
    this.deps.logger.info('second factor accepted', { accountId: s.account.id, via: verified.via });
    this.unlockedNow(s.account.id);
    return { ...verified, level: s.level };
  }

  private unlockedNow(accountId: number): void {
    for (const l of this.unlockListeners) l(accountId);
  }

  /** The caller's level right now; an idle session is locked first. */
  level(): SessionLevel {
    this.checkIdle();
    return this.session?.level ?? 'locked';
  }

  checkIdle(): void {
    const s = this.session;
    if (!s) return;
    const idleMs = this.deps.settings.get().autoLockMinutes * 60_000;
    if (this.deps.clock.now() - s.lastActivity >= idleMs) this.lock('idle');
  }

  /** Record user activity (the router calls this for every unlocked method). */
  touch(): void {
    if (this.session) this.session.lastActivity = this.deps.clock.now();
  }

  /** Called right after first-run setup: the person who just chose the password is unlocked. */
  async openAfterSetup(account: Account, recordKey: Buffer, ctx: RequestContext): Promise<void> {
    const now = this.deps.clock.now();
    this.replaceSession({ level: 'unlocked', account, recordKey, lastActivity: now, setupGraceUntil: now + SETUP_GRACE_MS });
    await this.deps.audit.record(ctx, { action: 'setup', outcome: 'success', account: account.name });
  }

  /**
   * True while the session set-up opened may still add the first device without a step-up: no
   * device yet, no lock since, and not long after (docs/security.md, "the first device").
   */
  inSetupGrace(): boolean {
    const s = this.session;
    if (s?.level !== 'unlocked' || s.setupGraceUntil === undefined) return false;
    if (this.deps.clock.now() >= s.setupGraceUntil || this.twoFactorEnabled()) {
      delete s.setupGraceUntil;
      return false;
    }
    return true;
  }

  submitPassword(password: string, ctx: RequestContext): Promise<SessionLevel> {
    return this.serialise(async () => {
      const { accounts, throttle, clock, logger } = this.deps;
      const account = accounts.require();
      await this.checkIntegrity(account, ctx);
      const recordKey = await this.checkPassword(account, password, ctx, 'unlock');
      let list: FactorList;
      try {
        list = this.deps.factors.read(account.id, recordKey);
      } catch (error) {
        wipe(recordKey);
        throw error;
      }
      const level = twoFactorEnabled(list) ? 'second-factor' : 'unlocked';
      if (level === 'unlocked') throttle.reset(account.id);
      this.replaceSession({ level, account, recordKey, lastActivity: clock.now() });
      if (level === 'unlocked') this.unlockedNow(account.id);
      logger.info('password accepted', { accountId: account.id, sessionLevel: level });
      return level;
    });
  }

  /** Finish an unlock with a device code or a recovery code. */
  submitSecondFactor(attempt: FactorAttempt, ctx: RequestContext): Promise<Verified & { level: SessionLevel }> {
    return this.serialise(async () => {
      const s = this.session;
      if (s?.level !== 'second-factor') throw new CoreError('NOT_ALLOWED', GATE_MESSAGES.enterPasswordFirst);
      const verified = await this.deps.secondFactor.verify(s.account, s.recordKey, attempt, ctx, 'unlock');
      if (this.session !== s) throw new CoreError('NOT_ALLOWED', GATE_MESSAGES.lockedMeanwhile);
      return this.secondFactorAccepted(s, verified);
    });
  }

  /**
   * An opaque handle of the open session, so a push started under one session cannot finish
   * another (a new session, with a new handle, starts at every password; locking ends it).
   */
  sessionHandle(): object | null {
    const s = this.session;
    if (!s) return null;
    let handle = this.handles.get(s);
    if (!handle) this.handles.set(s, (handle = Object.freeze({})));
    return handle;
  }

  /** The account of the open session (second-factor or unlocked). */
  sessionAccount(): Account | null {
    return this.session?.account ?? null;
  }

  /** Run `fn` with session `handle` (second-factor or unlocked), serialised with every attempt. */
  withSession<T>(handle: object, fn: ExternalVerifier<T>): Promise<T> {
    return this.serialise(async () => {
      const s = this.session;
      if (!s || this.sessionHandle() !== handle) throw new CoreError('NOT_ALLOWED', GATE_MESSAGES.lockedMeanwhile);
      return fn(s.account, s.recordKey);
    });
  }

  /** Finish the unlock of session `handle` from a factor verified elsewhere (an approved push). */
  completeSecondFactor(handle: object, verify: ExternalVerifier<Verified>): Promise<Verified & { level: SessionLevel }> {
    return this.serialise(async () => {
      const s = this.session;
      if (!s || this.sessionHandle() !== handle || s.level !== 'second-factor') {
        throw new CoreError('NOT_ALLOWED', GATE_MESSAGES.lockedMeanwhile);
      }
      const verified = await verify(s.account, s.recordKey);
      if (this.session !== s) throw new CoreError('NOT_ALLOWED', GATE_MESSAGES.lockedMeanwhile);
      return this.secondFactorAccepted(s, verified);
    });
  }

  /** Lock now, and say so in the audit log (at shutdown, before the store closes). */
  lock(reason: LockReason, ctx: RequestContext = this.deps.localContext): void {
    const s = this.session;
    this.replaceSession(null);
    if (!s) return;
    this.deps.logger.info('locked', { accountId: s.account.id, reason });
    const event = { action: 'locked', outcome: 'info', account: s.account.name, detail: LOCK_DETAIL[reason] } as const;
    if (reason === 'shutdown') this.deps.audit.recordNow(ctx, event);
    else this.deps.audit.recordSoon(ctx, event);
  }

  /** The open, unlocked session; services that need the record key ask here. */
  unlocked(): { account: Account; recordKey: Buffer } {
    this.checkIdle();
    const s = this.session;
    if (s?.level !== 'unlocked') throw new CoreError('NOT_ALLOWED', GATE_MESSAGES.unlockFirst);
    return { account: s.account, recordKey: s.recordKey };
  }

  /** The sealed factor list of the open session (second-factor or unlocked). */
  factorList(): FactorList | null {
    const s = this.session;
    return s ? this.deps.factors.read(s.account.id, s.recordKey) : null;
  }

  twoFactorEnabled(): boolean {
    const list = this.factorList();
    return list !== null && twoFactorEnabled(list);
  }

  /** Verify afresh and grant one proof for `method` with exactly this input. */
  issueStepUp(
    method: string,
    inputDigest: string,
    factor: StepUpFactor,
    ctx: RequestContext,
    /** What is confirmed, in words, for the audit log (never the input itself: it may hold a password). */
    title?: string,
  ): Promise<{ proof: string; expiresAt: number }> {
    return this.serialise(async () => {
      const { account, recordKey } = this.unlocked();
      const list = this.deps.factors.read(account.id, recordKey);
      if ('verified' in factor) {
        await factor.verified(account, recordKey);
      } else if (twoFactorEnabled(list)) {
        if ('password' in factor) {
          throw new CoreError('BAD_INPUT', 'Two-factor authentication is on: confirm with a code from a device or a recovery code.');
        }
        await this.deps.secondFactor.verify(account, recordKey, factor, ctx, 'step-up');
      } else {
        if (!('password' in factor)) throw new CoreError('BAD_INPUT', 'Confirm with your password.');
        wipe(await this.checkPassword(account, factor.password, ctx, 'step-up'));
        this.deps.throttle.reset(account.id);
      }
      const proof = randomBytes(32).toString('base64url');
      const expiresAt = this.deps.clock.now() + STEP_UP_TTL_MS;
      this.stepUps.set(proofId(proof), { method, inputDigest, expiresAt });
      const detail = (title ? `${method}: ${title}` : method).slice(0, 500);
      await this.deps.audit.record(ctx, { action: 'step-up.ok', outcome: 'success', account: account.name, detail });
      return { proof, expiresAt };
    });
  }

  /** Spend a proof: true only for the method and input it was granted for, once, before expiry. */
  consumeStepUp(proof: string, method: string, inputDigest: string): boolean {
    const id = proofId(proof);
    const grant = this.stepUps.get(id);
    if (!grant) return false;
    this.stepUps.delete(id); // spent even when it does not match: a proof is never tried twice
    return grant.method === method && grant.inputDigest === inputDigest && this.deps.clock.now() < grant.expiresAt;
  }

  /** How many recovery codes the open session's account has left. */
  recoveryCodesLeft(): number {
    const list = this.factorList();
    return list ? recoveryCodesLeft(list) : 0;
  }

  /**
   * Before a password is looked at: the keychain holds the vault key this database was set up
   * with, and the database is neither edited nor an older copy (docs/security.md). Refusals are
   * audited, and count no failure.
   */
  private async checkIntegrity(account: Account, ctx: RequestContext): Promise<void> {
    await this.deps.accounts.assertVaultKey();
    try {
      await this.deps.integrity?.verify();
    } catch (error) {
      if (error instanceof CoreError) {
        await this.deps.audit
          .record(ctx, { action: 'integrity.failed', outcome: 'failure', account: account.name, detail: error.message.slice(0, 500) })
          .catch(() => undefined);
      }
      throw error;
    }
  }

  private async checkPassword(account: Account, password: string, ctx: RequestContext, purpose: string): Promise<Buffer> {
    const { accounts, audit, throttle, clock } = this.deps;
    const before = throttle.view(account.id, clock.now());
    try {
      const recordKey = await accounts.checkPassword(account.id, password);
      await audit.record(ctx, { action: 'password.ok', outcome: 'success', account: account.name, detail: purpose });
      return recordKey;
    } catch (error) {
      if (error instanceof CoreError && error.code === 'AUTH_FAILED') {
        await audit.record(ctx, { action: 'password.failed', outcome: 'failure', account: account.name, detail: purpose });
        const step = throttleStepDetail(before, throttle.view(account.id, clock.now()));
        if (step) await audit.record(ctx, { action: 'lockout', outcome: 'failure', account: account.name, detail: step });
      }
      throw error;
    }
  }

  private replaceSession(next: OpenSession | null): void {
    if (this.session) wipe(this.session.recordKey);
    this.session = next;
    this.stepUps.clear();
  }

  private serialise<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.attempts.then(fn, fn);
    this.attempts = run.catch(() => undefined);
    return run;
  }
}

/** Proofs are kept by hash, so the map never holds a usable token. */
function proofId(proof: string): string {
  return sha256(proof).toString('hex');
}
