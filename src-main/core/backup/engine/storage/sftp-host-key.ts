/**
 * An SFTP server's host key, as people compare it: `SHA256:<base64 without padding>` of the key
 * blob, exactly what `ssh-keygen -l` and the OpenSSH client print. The key is pinned when the user
 * confirms it once; a connection whose key is not the pinned one is refused (HOST_KEY_CHANGED),
 * and with nothing pinned every connection is refused (HOST_KEY_UNKNOWN) with the fingerprint to
 * confirm: never trust on first use without a person saying so.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ssh2 } from './ssh2-module.js';
import { classifiedConnect } from './sftp-errors.js';
import { StorageError } from './storage.js';

/** The fingerprint of a host key blob (the SSH wire encoding of the public key). */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key's algorithm, the first string of its blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`). */
export function algorithmOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const len = keyBlob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > keyBlob.length) return 'unknown';
  return keyBlob.subarray(4, 4 + len).toString('latin1');
}

/** `SHA256:abc=` and `abc` name the same key: one spelling to compare. */
function normalFingerprint(f: string): string {
  const trimmed = f.trim();
  const body = trimmed.startsWith('SHA256:') ? trimmed.slice('SHA256:'.length) : trimmed;
  return `SHA256:${body.replace(/=+$/, '')}`;
}

/** Equal fingerprints, compared in constant time (over their hashes, so lengths do not leak either). */
export function sameFingerprint(a: string, b: string): boolean {
  const ha = createHash('sha256').update(normalFingerprint(a)).digest();
  const hb = createHash('sha256').update(normalFingerprint(b)).digest();
  return timingSafeEqual(ha, hb);
}

/**
 * What the connection's host verifier decided: null while the handshake has not shown a key,
 * the refusal when it was refused.
 */
export interface HostKeyCheck {
  verify(keyBlob: Buffer): boolean;
  refusal(): StorageError | null;
  seen(): { fingerprint: string; algorithm: string } | null;
}

export function hostKeyCheck(pinned: string | undefined, where: string): HostKeyCheck {
  let refused: StorageError | null = null;
  let seen: { fingerprint: string; algorithm: string } | null = null;
  return {
    verify(keyBlob) {
      const fingerprint = fingerprintOf(keyBlob);
      seen = { fingerprint, algorithm: algorithmOf(keyBlob) };
      if (pinned === undefined || pinned.trim() === '') {
        refused = new StorageError('HOST_KEY_UNKNOWN', `${where}: the server's host key ${fingerprint} (${seen.algorithm}) is not confirmed yet`, {
          fingerprint,
        });
        return false;
      }
      if (!sameFingerprint(pinned, fingerprint)) {
        refused = new StorageError(
          'HOST_KEY_CHANGED',
          `${where}: the server's host key is ${fingerprint} (${seen.algorithm}), not the confirmed ${normalFingerprint(pinned)}`,
          {
            fingerprint,
          },
        );
        return false;
      }
      return true;
    },
    refusal: () => refused,
    seen: () => seen,
  };
}

/**
 * Connects, reads the server's host key, disconnects without authenticating: what the user is
 * asked to confirm before a repository is added.
 */
export async function sftpHostKey(o: { host: string; port?: number; connectTimeoutMs?: number }): Promise<{ fingerprint: string; algorithm: string }> {
  const port = o.port ?? 22;
  const where = `${o.host}:${port}`;
  const check = hostKeyCheck(undefined, where);
  const client = new (await ssh2()).Client();
  try {
    return await new Promise((resolve, reject) => {
      const settle = (e?: unknown) => {
        const seen = check.seen();
        if (seen) resolve(seen);
        else reject(classifiedConnect(e ?? new Error('the server closed the connection before showing its key'), `connect ${where}`));
      };
      client.on('error', settle);
      client.on('close', () => settle());
      client.on('ready', () => settle());
      client.connect({
        host: o.host,
        port,
        username: 'twofold-host-key',
        readyTimeout: o.connectTimeoutMs ?? 15_000,
        hostVerifier: (key: Buffer) => check.verify(key) && false,
      });
    });
  } catch (e) {
    throw e instanceof StorageError ? e : classifiedConnect(e, `connect ${where}`);
  } finally {
    client.end();
  }
}
