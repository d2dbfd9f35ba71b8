/**
 * The vault (docs/design.md, "Keys and secrets"). Three keys:
 *  - the vault key: 256 random bits in the OS keychain, one per installation;
 *  - the password key: Argon2id(password), never stored;
 *  - the record key: 256 random bits that seal the account's records (factor secrets and the
 *    factor list), stored only wrapped under HKDF(password key ‖ vault key).
 * So the database file alone, or the keychain alone, opens nothing; and a password change
 * re-wraps the record key in one row update, atomic by the store's transaction.
 * The stored verifier is derived from both keys too, so the file alone cannot test guesses.
 */
import type { Keychain } from '../platform/keychain.js';
import { constantTimeEqual, deriveKey, open, randomKey, seal, wipe } from '../platform/crypto.js';
import { CoreError } from '../platform/errors.js';
import { derivePasswordKey, KdfParamsSchema, newKdfParams, type KdfCost, type KdfParams } from '../platform/password-kdf.js';

const VERIFIER_LABEL = 'twofold/v1/password-verifier';
const WRAP_LABEL = 'twofold/v1/record-key-wrap';

export interface PasswordLock {
  kdf: KdfParams;
  verifier: Buffer;
  /** The key that wraps (and unwraps) the record key. Wipe it after use. */
  wrapKey: Buffer;
}

export interface StoredLock {
  kdf: string;
  verifier: Buffer;
  wrappedDek: Buffer;
}

export class Vault {
  readonly keychainAccount: string;

  constructor(
    private readonly keychain: Keychain,
    private readonly installId: string,
  ) {
    this.keychainAccount = `vault-key/${installId}`;
  }

  /** The vault key; created in the keychain on first use when `create` is set. */
  async vaultKey(create: boolean): Promise<Buffer> {
    const existing = await this.keychain.get(this.keychainAccount);
    if (existing && existing.length === 32) return existing;
    if (existing || !create) {
      throw new CoreError(
        'KEYCHAIN_ITEM_MISSING',
        `The vault key "${this.keychainAccount}" is missing from the OS keychain (service "Twofold Backup"). ` +
          'Restore the keychain from a backup, or reset the app data to start again.',
      );
    }
    const key = randomKey();
    await this.keychain.set(this.keychainAccount, key);
    // What the keychain holds now is the key, whoever wrote last; the database records which (keyCheck).
    const stored = await this.keychain.get(this.keychainAccount);
    if (!stored || stored.length !== 32) throw new CoreError('KEYCHAIN_UNAVAILABLE', 'The OS keychain did not keep the vault key.');
    if (!stored.equals(key)) wipe(key);
    return stored;
  }

  /**
   * A short value derived from the vault key, recorded in the database at set-up: a keychain
   * item that is not the one the database was made with is named as such, instead of every
   * password looking wrong. It says nothing about the key (HKDF, 128 of 256 bits).
   */
  keyCheck(vaultKey: Buffer): string {
    return deriveKey(vaultKey, Buffer.from(this.installId, 'utf8'), 'twofold/v1/vault-key-check', 16).toString('hex');
  }

  /** A key for one purpose derived from the vault key alone (usable while the app is locked). */
  async derivedKey(label: string): Promise<Buffer> {
    const vaultKey = await this.vaultKey(false);
    try {
      return deriveKey(vaultKey, Buffer.from(this.installId, 'utf8'), label);
    } finally {
      wipe(vaultKey);
    }
  }

  /** Derive the verifier and the wrap key for `password` under the given (or fresh) parameters. */
  async passwordLock(password: string, kdf: KdfParams, vaultKey: Buffer): Promise<PasswordLock> {
    const passwordKey = await derivePasswordKey(password, kdf);
    const ikm = Buffer.concat([passwordKey, vaultKey]);
    const salt = Buffer.from(this.installId, 'utf8');
    try {
      return {
        kdf,
        verifier: deriveKey(ikm, salt, VERIFIER_LABEL),
        wrapKey: deriveKey(ikm, salt, WRAP_LABEL),
      };
    } finally {
      wipe(passwordKey, ikm);
    }
  }

  newPasswordLock(password: string, cost: KdfCost, vaultKey: Buffer): Promise<PasswordLock> {
    return this.passwordLock(password, newKdfParams(cost), vaultKey);
  }

  /** Check `password` against a stored lock; on success return the wrap key (caller wipes it). */
  async checkPassword(password: string, stored: StoredLock, vaultKey: Buffer): Promise<Buffer | null> {
    const kdf = KdfParamsSchema.safeParse(JSON.parse(stored.kdf));
    if (!kdf.success) throw new CoreError('VAULT_CORRUPT', 'The stored password parameters are damaged.');
    const lock = await this.passwordLock(password, kdf.data, vaultKey);
    if (constantTimeEqual(lock.verifier, stored.verifier)) return lock.wrapKey;
    wipe(lock.wrapKey);
    return null;
  }

  wrapRecordKey(wrapKey: Buffer, recordKey: Buffer, accountId: number): Buffer {
    return seal(wrapKey, recordKey, this.aad('record-key', accountId));
  }

  unwrapRecordKey(wrapKey: Buffer, wrapped: Buffer, accountId: number): Buffer {
    return open(wrapKey, wrapped, this.aad('record-key', accountId));
  }

  sealRecord(recordKey: Buffer, accountId: number, kind: string, plaintext: Buffer): Buffer {
    return seal(recordKey, plaintext, this.aad(`record:${kind}`, accountId));
  }

  openRecord(recordKey: Buffer, accountId: number, kind: string, blob: Buffer): Buffer {
    return open(recordKey, blob, this.aad(`record:${kind}`, accountId));
  }

  /** Binds a blob to this installation, account and purpose: blobs cannot be moved or swapped. */
  private aad(purpose: string, accountId: number): string {
    return `twofold/v1|${this.installId}|account:${accountId}|${purpose}`;
  }
}
