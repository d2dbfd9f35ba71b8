/**
 * The state seal: tamper and rollback detection for the database (docs/security.md, "Rollback
 * and truncation"). The gate's state in the database (the account and its lock, the sealed
 * factor list, the throttle, the settings, the repositories and backup sets, and the head of the
 * audit chain) is hashed after every transaction that changes it; the hash, a counter that only
 * grows, and the audit head are kept in the database under an HMAC keyed from the vault key (so
 * editing the file cannot forge them), and the counter and audit head are copied into the OS
 * keychain beside the vault key after each commit. At unlock:
 *  - the seal's MAC must check, and the state must hash to what it says (an edited row fails);
 *  - its counter must be at least the keychain's, and the audit row the keychain names must
 *    still be there with the same MAC (an older copy of the file, or a cut-off log, fails).
 * A crash between a commit and the keychain write leaves the database one step ahead, which is
 * accepted and brings the keychain up. The checks need no password.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { constantTimeEqual, deriveKey, sha256, wipe } from '../platform/crypto.js';
import { CoreError } from '../platform/errors.js';
import type { Keychain } from '../platform/keychain.js';
import type { Logger } from '../platform/logger.js';
import type { Store, WriteGuard } from '../platform/store.js';
import type { Vault } from './vault.js';

const SEAL_ROW = 'seal.state';
const SEAL_LABEL = 'twofold/v1/state-seal';

/** What the seal covers, column by column (new columns of other features are left out, so adding one never breaks a seal). */
const PROTECTED: readonly string[] = [
  "SELECT key, value FROM meta WHERE key NOT LIKE 'seal.%' ORDER BY key",
  'SELECT id, name, created_at, kdf, verifier, wrapped_dek FROM accounts ORDER BY id',
  'SELECT account_id, kind, blob FROM sealed_records ORDER BY account_id, kind',
  'SELECT account_id, failures, last_failure_at FROM throttle ORDER BY account_id',
  'SELECT key, value FROM settings ORDER BY key',
  'SELECT id, name, path, repo_id, wrapped_key FROM backup_repositories ORDER BY id',
  'SELECT id, name, repository_id, sources, excludes, schedule, retention FROM backup_sets ORDER BY id',
  'SELECT id, mac FROM audit_log ORDER BY id DESC LIMIT 1',
];

const SealSchema = z.object({
  counter: z.number().int().positive(),
  digest: z.string().regex(/^[0-9a-f]{64}$/),
  auditId: z.number().int().nonnegative(),
  auditMac: z.string().regex(/^([0-9a-f]{64})?$/),
  mac: z.string().regex(/^[0-9a-f]{64}$/),
});
type Seal = z.infer<typeof SealSchema>;

/** What the keychain keeps beside the vault key. */
const AnchorSchema = z.object({
  v: z.literal(1),
  counter: z.number().int().positive(),
  auditId: z.number().int().nonnegative(),
  auditMac: z.string().regex(/^([0-9a-f]{64})?$/),
});
type Anchor = z.infer<typeof AnchorSchema>;

export const TAMPERED_MESSAGE =
  "Twofold Backup's database was changed outside the app (its contents no longer match their seal), so it is not opened. " +
  'Put back the data folder from before the change, or reset the app data to start again.';
export const ROLLED_BACK_MESSAGE =
  "Twofold Backup's database is older than the state this computer's keychain recorded (an earlier copy was put back, " +
  'or its newest audit log entries were removed), so it is not opened. Put back the newest copy of the data folder, or reset the app data to start again.';

function hex(value: unknown): unknown {
  return Buffer.isBuffer(value) ? value.toString('hex') : value;
}

export interface StateSealDeps {
  store: Store;
  vault: Vault;
  keychain: Keychain;
  installId: string;
  logger: Logger;
}

export class StateSeal implements WriteGuard {
  private key: Buffer | null = null;
  private failure: CoreError | null = null;
  /** The state moved under a transaction of ours: nothing is sealed any more; the unlock says why. */
  private stopped = false;
  private start: string | null = null;
  private pending: Anchor | null = null;
  private writing: Promise<void> = Promise.resolve();
  private readonly statements;

  constructor(private readonly deps: StateSealDeps) {
    this.statements = PROTECTED.map((sql) => deps.store.db.prepare(sql).raw());
    deps.store.guard(this);
  }

  get anchorAccount(): string {
    return `state-anchor/${this.deps.installId}`;
  }

  /** Key the seal from the vault key: at set-up (before the account is written), or by `load`. */
  useVaultKey(vaultKey: Buffer): void {
    this.key ??= deriveKey(vaultKey, Buffer.from(this.deps.installId, 'utf8'), SEAL_LABEL);
  }

  /** At start: key the seal from the keychain; a database from before seals gets its first one now. */
  async load(): Promise<void> {
    const sealed = this.readSeal();
    if (!sealed && !this.hasAccount()) return; // before set-up: nothing to protect yet
    let vaultKey: Buffer;
    try {
      vaultKey = await this.deps.vault.vaultKey(false);
    } catch {
      return; // the unlock says why (no keychain, or no vault key in it)
    }
    this.useVaultKey(vaultKey);
    wipe(vaultKey);
    if (sealed) return;
    if (await this.readAnchor()) {
      this.poison(new CoreError('DATA_ROLLED_BACK', ROLLED_BACK_MESSAGE), 'seal missing while the keychain has one');
      return;
    }
    this.deps.store.tx(() => this.writeSeal(this.readSeal()));
  }

  /** At unlock, before the password is looked at: refuse a database that was edited, rolled back or cut short. */
  async verify(): Promise<void> {
    await this.writing;
    if (this.failure) throw this.failure;
    if (!this.key) await this.load();
    if (this.failure) throw this.failure;
    if (!this.key) return; // no vault key: the password check stops with KEYCHAIN_ITEM_MISSING
    const sealed = this.readSeal();
    const anchor = await this.readAnchor();
    const rolledBack = (reason: string) => this.poison(new CoreError('DATA_ROLLED_BACK', ROLLED_BACK_MESSAGE), reason);
    const tampered = (reason: string) => this.poison(new CoreError('VAULT_CORRUPT', TAMPERED_MESSAGE), reason);
    if (!sealed) {
      if (anchor || this.hasAccount()) throw rolledBack('seal missing');
      return;
    }
    if (!constantTimeEqual(Buffer.from(sealed.mac, 'hex'), this.mac(sealed))) throw tampered('seal MAC');
    if (anchor && sealed.counter < anchor.counter) throw rolledBack(`counter ${sealed.counter} below the keychain's ${anchor.counter}`);
    if (anchor && anchor.auditId > 0 && !this.auditRowIs(anchor.auditId, anchor.auditMac)) {
      throw rolledBack(`audit entry ${anchor.auditId} missing or changed`);
    }
    if (this.digest() !== sealed.digest) throw tampered('state does not match its seal');
    if (!anchor || sealed.counter > anchor.counter) {
      this.pending = { v: 1, counter: sealed.counter, auditId: sealed.auditId, auditMac: sealed.auditMac };
      this.committed();
      await this.writing;
    }
  }

  /** The keychain's record, for tests and for `verify`. */
  async readAnchor(): Promise<Anchor | null> {
    const raw = await this.deps.keychain.get(this.anchorAccount);
    if (!raw) return null;
    try {
      return AnchorSchema.parse(JSON.parse(raw.toString('utf8')));
    } catch {
      return null;
    }
  }

  // ---- the write guard (store.ts): every outermost transaction ----

  before(): void {
    this.start = this.digest();
    const sealed = this.readSeal();
    // A change no transaction of ours made (someone else writes this file, or it was replaced
    // while the app was stopped): stop sealing, so the edit is never blessed; `verify` names it.
    if (sealed && !this.stopped && sealed.digest !== this.start) {
      this.stopped = true;
      this.deps.logger.warn('database state changed outside the app; sealing stopped');
    }
  }

  after(): void {
    if (this.failure || this.stopped || this.digest() === this.start) return;
    const sealed = this.readSeal();
    if (!this.key) {
      if (!sealed) return; // before set-up
      throw new CoreError('INTERNAL', 'Twofold Backup is still starting. Try again in a moment.');
    }
    this.writeSeal(sealed);
  }

  /**
   * After a commit that resealed: raise the keychain's record to it. The keychain's record is
   * never lowered; finding it ahead of the database means this database is an older copy,
   * which poisons the seal at once (the unlock then refuses it).
   */
  committed(): void {
    const anchor = this.pending;
    if (!anchor) return;
    this.pending = null;
    this.writing = this.writing.then(async () => {
      try {
        const current = await this.readAnchor();
        if (current && (current.counter > anchor.counter || (current.counter === anchor.counter && current.auditMac !== anchor.auditMac))) {
          this.poison(new CoreError('DATA_ROLLED_BACK', ROLLED_BACK_MESSAGE), `keychain counter ${current.counter} ahead of ${anchor.counter}`);
          return;
        }
        if (current?.counter === anchor.counter || this.failure) return;
        await this.deps.keychain.set(this.anchorAccount, Buffer.from(JSON.stringify(anchor), 'utf8'));
      } catch (error) {
        // The next commit or unlock writes it again; meanwhile the database is ahead, which is allowed.
        this.deps.logger.warn('state anchor not written', { code: error instanceof CoreError ? error.code : 'unknown' });
      }
    });
  }

  /** Wait for the keychain writes of commits so far (tests, and the unlock). */
  settled(): Promise<void> {
    return this.writing;
  }

  // ---- internals ----

  /** From now on nothing is resealed, and every unlock is refused with this error. */
  private poison(error: CoreError, reason: string): CoreError {
    if (!this.failure) {
      this.failure = error;
      this.deps.logger.error('database integrity check failed', { code: error.code, reason });
    }
    return this.failure;
  }

  private writeSeal(previous: Seal | null): void {
    const head = this.statements[this.statements.length - 1]!.get() as [number, Buffer] | undefined;
    const unsigned = {
      counter: (previous?.counter ?? 0) + 1,
      digest: this.digest(),
      auditId: head?.[0] ?? 0,
      auditMac: head ? head[1].toString('hex') : '',
    };
    const seal: Seal = { ...unsigned, mac: this.mac(unsigned).toString('hex') };
    this.deps.store.db
      .prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
      .run(SEAL_ROW, JSON.stringify(seal));
    this.pending = { v: 1, counter: seal.counter, auditId: seal.auditId, auditMac: seal.auditMac };
  }

  private readSeal(): Seal | null {
    const raw = this.deps.store.db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(SEAL_ROW) as string | undefined;
    if (raw === undefined) return null;
    try {
      return SealSchema.parse(JSON.parse(raw));
    } catch {
      return { counter: 1, digest: '0'.repeat(64), auditId: 0, auditMac: '', mac: '0'.repeat(64) }; // unreadable: fails its MAC
    }
  }

  private mac(seal: Omit<Seal, 'mac'>): Buffer {
    if (!this.key) throw new CoreError('INTERNAL', 'The state seal has no key yet.');
    const text = JSON.stringify([SEAL_LABEL, seal.counter, seal.digest, seal.auditId, seal.auditMac]);
    return createHmac('sha256', this.key).update(text, 'utf8').digest();
  }

  /** SHA-256 over every protected row, table by table, in a fixed order. */
  private digest(): string {
    const tables = this.statements.map((statement) => (statement.all() as unknown[][]).map((row) => row.map(hex)));
    return sha256(JSON.stringify(tables)).toString('hex');
  }

  private hasAccount(): boolean {
    return this.deps.store.db.prepare('SELECT count(*) FROM accounts').pluck().get() !== 0;
  }

  private auditRowIs(id: number, macHex: string): boolean {
    const mac = this.deps.store.db.prepare('SELECT mac FROM audit_log WHERE id = ?').pluck().get(id) as Buffer | undefined;
    return mac !== undefined && constantTimeEqual(mac, Buffer.from(macHex, 'hex'));
  }
}
