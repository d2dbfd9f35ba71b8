/**
 * The keychain port: the only place that talks to the OS keychain (macOS Keychain, Windows
 * Credential Manager, Linux Secret Service) through @napi-rs/keyring. Secrets are stored as
 * base64 text, as keytar did, so they show up sanely in the OS keychain viewers.
 * There is deliberately no plaintext fallback: without a keychain, the app stops and says why.
 */
import { AsyncEntry } from '@napi-rs/keyring';
import { randomBytes } from 'node:crypto';
import { APP_NAME } from '../../../src-shared/product.js';
import { CoreError } from './errors.js';

export const KEYCHAIN_SERVICE = APP_NAME;

export interface Keychain {
  get(account: string): Promise<Buffer | null>;
  set(account: string, secret: Buffer): Promise<void>;
  delete(account: string): Promise<boolean>;
}

export const NO_KEYCHAIN_MESSAGE =
  'No OS keychain is available, so Twofold Backup cannot keep its keys safe and will not start. ' +
  'On Linux, install and unlock a Secret Service provider (for example gnome-keyring or KeePassXC with ' +
  'Secret Service enabled) inside a D-Bus session; on macOS and Windows the system keychain is used.';

function unavailable(cause: unknown): CoreError {
  return new CoreError('KEYCHAIN_UNAVAILABLE', NO_KEYCHAIN_MESSAGE, { cause });
}

/**
 * Check that the keychain really stores secrets: write a random probe item, read it back, and
 * delete it. A read alone is not enough: a keychain can answer reads and still not keep what is
 * written (a locked or read-only collection), and an unpinned binding answered a read with "no
 * such item" when there was no Secret Service at all.
 */
export async function assertKeychainWorks(keychain: Keychain): Promise<void> {
  const probe = randomBytes(16);
  try {
    await keychain.set(PROBE_ACCOUNT, probe);
    const back = await keychain.get(PROBE_ACCOUNT);
    if (!back || !back.equals(probe)) throw new Error('the keychain did not keep what was written');
  } catch (cause) {
    throw cause instanceof CoreError ? cause : unavailable(cause);
  } finally {
    await keychain.delete(PROBE_ACCOUNT).catch(() => false);
  }
}

const PROBE_ACCOUNT = 'availability-check';

/**
 * On Linux the binding would otherwise fall back, silently, to the kernel's keyutils store when no
 * Secret Service answers: keys there live in kernel memory and are gone at the next reboot, which
 * would lock the account out for good. Pinned, the entry throws instead, and the app stops.
 */
const ENTRY_OPTIONS = { linux: { store: 'secret-service' } } as const;

/**
 * One entry per account, kept: each entry holds its own D-Bus connection to the Secret Service
 * until it is garbage-collected, so an entry made per call left hundreds of connections open on
 * the user's session bus (600 reads, 376 connections). A call that fails on a kept entry (the
 * Secret Service or the bus restarted under it) is tried once more on a new one.
 */
export function createOsKeychain(service: string = KEYCHAIN_SERVICE): Keychain {
  const entries = new Map<string, AsyncEntry>();
  async function withEntry<T>(account: string, op: (entry: AsyncEntry) => Promise<T>): Promise<T> {
    const kept = entries.get(account);
    if (kept) {
      try {
        return await op(kept);
      } catch {
        entries.delete(account);
      }
    }
    try {
      // Made inside the try: a pinned entry throws from its constructor when the store is unavailable.
      const entry = new AsyncEntry(service, account, ENTRY_OPTIONS);
      const result = await op(entry);
      entries.set(account, entry);
      return result;
    } catch (cause) {
      throw unavailable(cause);
    }
  }
  return {
    async get(account) {
      const value = await withEntry(account, (e) => e.getPassword());
      return value === null || value === undefined ? null : Buffer.from(value, 'base64');
    },
    async set(account, secret) {
      await withEntry(account, (e) => e.setPassword(secret.toString('base64')));
    },
    async delete(account) {
      return withEntry(account, (e) => e.deletePassword());
    },
  };
}
