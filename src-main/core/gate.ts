/**
 * The gate state machine (DESIGN.md §5): locked -> second-factor -> unlocked, lock now, and
 * auto-lock after the idle time the user set. The session holds the record key while open;
 * locking wipes it. Step-up proofs are fresh verifications bound to one method and its exact
 * input, valid once and briefly. Attempts are serialised, so parallel guesses cannot slip
 * between the throttle's check and its count.
 */
import { randomBytes } from 'node:crypto';
import type { SessionLevel } from '../../src-shared/contract.js';
import type { AccountService } from './accounts.js';
import type { Clock } from './clock.js';
import { sha256, wipe } from './crypto.js';
import { CoreError } from './errors.js';
import type { FactorListStore } from './factor-list.js';
import type { Logger } from './logger.js';
import type { SettingsService } from './settings.js';
import type { Throttle } from './throttle.js';

export const STEP_UP_TTL_MS = 2 * 60_000;

export type LockReason = 'user' | 'idle' | 'os-lock' | 'suspend' | 'shutdown';

interface OpenSession {
  level: Exclude<SessionLevel, 'locked'>;
  accountId: number;
  recordKey: Buffer;
  lastActivity: number;
}

interface StepUpGrant {
  method: string;
  inputDigest: string;
  expiresAt: number;
}

export interface GateDeps {
  accounts: AccountService;
  factors: FactorListStore;
  throttle: Throttle;
  settings: SettingsService;
  clock: Clock;
  logger: Logger;
}

export class Gate {
  private session: OpenSession | null = null;
  private readonly stepUps = new Map<string, StepUpGrant>();
  private attempts: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: GateDeps) {}

  /** The caller's level right now; an idle session is locked first. */
  level(): SessionLevel {
    this.checkIdle();
    return this.session?.level ?? 'locked';
  }

  checkIdle(): void {
    const s = this.session;
    if (s?.level !== 'unlocked') return;
    const idleMs = this.deps.settings.get().autoLockMinutes * 60_000;
    if (this.deps.clock.now() - s.lastActivity >= idleMs) this.lock('idle');
  }

  /** Record user activity (the router calls this for every unlocked method). */
  touch(): void {
    if (this.session) this.session.lastActivity = this.deps.clock.now();
  }

  /** Called right after first-run setup: the person who just chose the password is unlocked. */
  openAfterSetup(accountId: number, recordKey: Buffer): void {
    this.replaceSession({ level: 'unlocked', accountId, recordKey, lastActivity: this.deps.clock.now() });
  }

  submitPassword(password: string): Promise<SessionLevel> {
    return this.serialise(async () => {
      const { accounts, factors, throttle, clock, logger } = this.deps;
      const account = accounts.require();
      const recordKey = await accounts.checkPassword(account.id, password);
      let devices: number;
      try {
        devices = factors.read(account.id, recordKey).devices.length;
      } catch (error) {
        wipe(recordKey);
        throw error;
      }
      const level = devices === 0 ? 'unlocked' : 'second-factor';
      if (level === 'unlocked') throttle.reset(account.id);
      this.replaceSession({ level, accountId: account.id, recordKey, lastActivity: clock.now() });
      logger.info('password accepted', { accountId: account.id, level });
      return level;
    });
  }

  lock(reason: LockReason): void {
    if (this.session) this.deps.logger.info('locked', { accountId: this.session.accountId, reason });
    this.replaceSession(null);
  }

  /** The open, unlocked session; services that need the record key ask here. */
  unlocked(): { accountId: number; recordKey: Buffer } {
    this.checkIdle();
    const s = this.session;
    if (s?.level !== 'unlocked') throw new CoreError('NOT_ALLOWED', 'Unlock Twofold Backup first.');
    return { accountId: s.accountId, recordKey: s.recordKey };
  }

  /**
   * Verify the password afresh and grant one proof for `method` with exactly this input.
   * (With second factors registered, the factor is verified instead; see the factors module.)
   */
  issueStepUp(method: string, inputDigest: string, password: string): Promise<{ proof: string; expiresAt: number }> {
    return this.serialise(async () => {
      const { accountId } = this.unlocked();
      const recordKey = await this.deps.accounts.checkPassword(accountId, password);
      wipe(recordKey);
      this.deps.throttle.reset(accountId);
      const proof = randomBytes(32).toString('base64url');
      const expiresAt = this.deps.clock.now() + STEP_UP_TTL_MS;
      this.stepUps.set(proofId(proof), { method, inputDigest, expiresAt });
      this.deps.logger.info('step-up granted', { accountId, method });
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
