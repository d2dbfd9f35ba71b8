/**
 * The account and its password lock: first-run setup, password checks under the throttle, and
 * password change. A correct password yields the record key; the gate decides what it unlocks.
 */
import type { Clock } from '../platform/clock.js';
import { constantTimeEqual, wipe } from '../platform/crypto.js';
import { AUTH_FAILED_MESSAGE, CoreError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import { calibrateKdf, type KdfCost } from '../platform/password-kdf.js';
import type { PasswordPolicy } from './password-policy.js';
import type { Store } from '../platform/store.js';
import type { Throttle } from './throttle.js';
import type { StoredLock, Vault } from './vault.js';
import { randomKey } from '../platform/crypto.js';
import { EMPTY_FACTOR_LIST, type FactorListStore } from './factor-list.js';
import { GATE_MESSAGES } from './messages.js';

export interface Account {
  id: number;
  name: string;
  createdAt: number;
}

export interface AccountDeps {
  store: Store;
  vault: Vault;
  throttle: Throttle;
  policy: PasswordPolicy;
  factors: FactorListStore;
  clock: Clock;
  logger: Logger;
  /** Argon2id calibration target; the cost is measured once per process. */
  kdfTargetMs: number;
  /** Told the vault key at set-up, before the account is written (the state seal keys itself from it). */
  onVaultKey?: (vaultKey: Buffer) => void;
}

/** The meta row that records which vault key the database was set up with (Vault.keyCheck). */
export const VAULT_KEY_CHECK = 'vault_key_check';

const KEYCHAIN_MISMATCH_MESSAGE = (item: string) =>
  `The vault key "${item}" in the OS keychain is not the one this data folder was set up with, so nothing can be opened. ` +
  'Restore the keychain item from a backup of the keychain, or reset the app data to start again.';

export class AccountService {
  private cost: Promise<KdfCost> | null = null;
  private setups: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: AccountDeps) {}

  current(): Account | null {
    const row = this.deps.store.db.prepare('SELECT id, name, created_at AS createdAt FROM accounts ORDER BY id LIMIT 1').get() as Account | undefined;
    return row ?? null;
  }

  require(): Account {
    const account = this.current();
    if (!account) throw new CoreError('NO_ACCOUNT', GATE_MESSAGES.noAccount);
    return account;
  }

  /**
   * First run: create the account and return its record key (the caller holds it while
   * unlocked). Set-ups run one at a time, so parallel calls make one account and one vault key:
   * the keychain item is created first (and never replaced), then the account row and the
   * key's check value are written in one transaction; every later call gets SETUP_DONE.
   */
  setup(name: string, password: string, opened?: (account: Account, recordKey: Buffer) => Promise<void>): Promise<{ account: Account; recordKey: Buffer }> {
    const run = this.setups.then(() => this.setupNow(name, password, opened));
    this.setups = run.catch(() => undefined);
    return run;
  }

  private async setupNow(
    name: string,
    password: string,
    opened?: (account: Account, recordKey: Buffer) => Promise<void>,
  ): Promise<{ account: Account; recordKey: Buffer }> {
    const { store, vault, policy, factors, clock, logger } = this.deps;
    if (this.current()) throw new CoreError('SETUP_DONE', GATE_MESSAGES.setupDone);
    const refusal = policy.rejection(await policy.check(password, [name]), password);
    if (refusal) throw new CoreError('WEAK_PASSWORD', refusal);

    const vaultKey = await vault.vaultKey(true);
    const lock = await vault.newPasswordLock(password, await this.kdfCost(), vaultKey);
    const recordKey = randomKey();
    try {
      this.deps.onVaultKey?.(vaultKey);
      const account = store.tx(() => {
        if (this.current()) throw new CoreError('SETUP_DONE', GATE_MESSAGES.setupDone);
        const createdAt = clock.now();
        store.db
          .prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
          .run(VAULT_KEY_CHECK, vault.keyCheck(vaultKey));
        const id = Number(
          store.db
            .prepare('INSERT INTO accounts (name, created_at, kdf, verifier, wrapped_dek) VALUES (?, ?, ?, ?, ?)')
            .run(name, createdAt, JSON.stringify(lock.kdf), lock.verifier, Buffer.alloc(0)).lastInsertRowid,
        );
        const wrapped = vault.wrapRecordKey(lock.wrapKey, recordKey, id);
        store.db.prepare('UPDATE accounts SET wrapped_dek = ? WHERE id = ?').run(wrapped, id);
        factors.write(id, recordKey, EMPTY_FACTOR_LIST, createdAt);
        return { id, name, createdAt };
      });
      logger.info('account created', { accountId: account.id, kdfMemoryKiB: lock.kdf.memoryKiB, kdfIterations: lock.kdf.iterations });
      // Still inside the queue: a parallel set-up sees SETUP_DONE only once this session is open.
      await opened?.(account, recordKey);
      return { account, recordKey };
    } catch (error) {
      wipe(recordKey);
      throw error;
    } finally {
      wipe(lock.wrapKey, vaultKey);
    }
  }

  /**
   * Check a password under the throttle. Refused while a wait is running (without spending an
   * Argon2 run); a wrong password counts a failure. Success does not reset the throttle: only a
   * full unlock does (see throttle-policy.ts).
   */
  async checkPassword(accountId: number, password: string): Promise<Buffer> {
    const { throttle, clock, vault, logger } = this.deps;
    this.assertNotThrottled(accountId);
    const stored = this.storedLock(accountId);
    const vaultKey = await vault.vaultKey(false);
    try {
      this.assertVaultKeyMatches(vaultKey);
      const wrapKey = await vault.checkPassword(password, stored, vaultKey);
      if (!wrapKey) {
        const view = throttle.recordFailure(accountId, clock.now());
        logger.warn('password refused', { accountId, failures: view.failures });
        throw new CoreError('AUTH_FAILED', AUTH_FAILED_MESSAGE, { retryAfterMs: view.retryAfterMs });
      }
      try {
        return vault.unwrapRecordKey(wrapKey, stored.wrappedDek, accountId);
      } finally {
        wipe(wrapKey);
      }
    } finally {
      wipe(vaultKey);
    }
  }

  /** Re-wrap the record key under a new password, in one transaction: a crash keeps the old one. */
  async changePassword(accountId: number, currentPassword: string, newPassword: string): Promise<void> {
    const { store, vault, policy, logger } = this.deps;
    const account = this.require();
    const refusal = policy.rejection(await policy.check(newPassword, [account.name]), newPassword);
    if (refusal) throw new CoreError('WEAK_PASSWORD', refusal);
    const recordKey = await this.checkPassword(accountId, currentPassword);
    const vaultKey = await vault.vaultKey(false);
    const lock = await vault.newPasswordLock(newPassword, await this.kdfCost(), vaultKey);
    try {
      const wrapped = vault.wrapRecordKey(lock.wrapKey, recordKey, accountId);
      store.tx(() => {
        store.db
          .prepare('UPDATE accounts SET kdf = ?, verifier = ?, wrapped_dek = ? WHERE id = ?')
          .run(JSON.stringify(lock.kdf), lock.verifier, wrapped, accountId);
      });
      logger.info('password changed', { accountId });
    } finally {
      wipe(recordKey, vaultKey, lock.wrapKey);
    }
  }

  /** Read the vault key from the keychain and check it is this database's (KEYCHAIN_ITEM_MISSING / _MISMATCH otherwise). */
  async assertVaultKey(): Promise<void> {
    const vaultKey = await this.deps.vault.vaultKey(false);
    try {
      this.assertVaultKeyMatches(vaultKey);
    } finally {
      wipe(vaultKey);
    }
  }

  /** The keychain's vault key is the one this database was set up with (a mismatch is not a wrong password). */
  assertVaultKeyMatches(vaultKey: Buffer): void {
    const { store, vault } = this.deps;
    const recorded = store.db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(VAULT_KEY_CHECK) as string | undefined;
    const actual = vault.keyCheck(vaultKey);
    if (recorded === undefined) {
      // Set up by a version that did not record it: the first unlock records it.
      store.tx(() => store.db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run(VAULT_KEY_CHECK, actual));
      return;
    }
    if (!constantTimeEqual(Buffer.from(recorded, 'utf8'), Buffer.from(actual, 'utf8'))) {
      throw new CoreError('KEYCHAIN_ITEM_MISMATCH', KEYCHAIN_MISMATCH_MESSAGE(vault.keychainAccount));
    }
  }

  assertNotThrottled(accountId: number): void {
    const wait = this.deps.throttle.view(accountId, this.deps.clock.now()).retryAfterMs;
    if (wait > 0) {
      throw new CoreError('THROTTLED', GATE_MESSAGES.throttled, { retryAfterMs: wait });
    }
  }

  private storedLock(accountId: number): StoredLock {
    const row = this.deps.store.db.prepare('SELECT kdf, verifier, wrapped_dek AS wrappedDek FROM accounts WHERE id = ?').get(accountId) as
      StoredLock | undefined;
    if (!row) throw new CoreError('NO_ACCOUNT', GATE_MESSAGES.noAccount);
    return row;
  }

  private kdfCost(): Promise<KdfCost> {
    return (this.cost ??= calibrateKdf(this.deps.kdfTargetMs));
  }
}
