/**
 * Small, pure crypto helpers over node:crypto. AES-256-GCM for sealing, HKDF-SHA-256 for key
 * separation, and a constant-time compare. Every sealed blob carries a version byte so the
 * format can change without guessing.
 */
import { createCipheriv, createDecipheriv, hash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { CoreError } from './errors.js';

export const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const SEAL_VERSION = 1;

export function randomKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** HKDF-SHA-256 with a label that names the purpose, so one secret never serves two uses. */
export function deriveKey(ikm: Buffer, salt: Buffer, label: string | Buffer, length = KEY_BYTES): Buffer {
  const info = typeof label === 'string' ? Buffer.from(label, 'utf8') : label;
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, length));
}

export function sha256(data: Buffer | string): Buffer {
  return hash('sha256', data, 'buffer');
}

/** Constant-time equality; different lengths compare unequal without an early exit on content. */
export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) {
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}

/**
 * Seal `plaintext` under `key`: version(1) | nonce(12) | ciphertext | tag(16).
 * `aad` binds the blob to its place (record kind, account), so blobs cannot be swapped.
 */
export function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([SEAL_VERSION]), nonce, body, cipher.getAuthTag()]);
}

/** Open a sealed blob; any tampering, wrong key or wrong place fails closed with VAULT_CORRUPT. */
export function open(key: Buffer, blob: Buffer, aad: string): Buffer {
  if (blob.length < 1 + NONCE_BYTES + TAG_BYTES || blob[0] !== SEAL_VERSION) {
    throw new CoreError('VAULT_CORRUPT', 'A sealed record is damaged or in an unknown format.');
  }
  const nonce = blob.subarray(1, 1 + NONCE_BYTES);
  const tag = blob.subarray(blob.length - TAG_BYTES);
  const body = blob.subarray(1 + NONCE_BYTES, blob.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch (cause) {
    throw new CoreError('VAULT_CORRUPT', 'A sealed record failed its integrity check; it was not opened.', { cause });
  }
}

/** Overwrite key material we no longer need, so it does not linger in the heap. */
export function wipe(...buffers: (Buffer | null | undefined)[]): void {
  for (const b of buffers) b?.fill(0);
}
