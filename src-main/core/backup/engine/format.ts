/**
 * The repository format's constants and its pure crypto (docs/repository-format.md).
 * Everything here is a function of its inputs: no files, no clocks, no randomness but nonces.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * The repository format (`config`'s version). 2 adds to trees what a file system holds beyond
 * files, folders and symlinks (docs/repository-format.md §8); everything else is as in 1, so a
 * version-1 repository is read as it is, and a backup into one first marks it version 2.
 */
export const FORMAT_VERSION = 2;
export const READABLE_FORMATS: readonly number[] = [1, 2];
/** The first byte of index and snapshot files: unchanged since version 1. */
export const SEALED_FILE_VERSION = 1;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const ID_BYTES = 32;
/** A pack is closed once its blobs reach this size. */
export const PACK_TARGET_BYTES = 16 * 1024 * 1024;
export const CHUNK_MIN = 256 * 1024;
export const CHUNK_AVG = 1024 * 1024;
export const CHUNK_MAX = 4 * 1024 * 1024;
/**
 * zstd level 2: on binaries ~1.5× the speed of level 3 (~260 vs ~170 MB/s per core here) for
 * ~5% more compressed bytes; any level reads back the same (one standard zstd frame).
 */
export const ZSTD_LEVEL = 2;

export type BlobType = 'data' | 'tree';

/** The three keys every repository operation needs, all derived from the 32-byte master key. */
export interface RepoKeys {
  /** AES-256-GCM key for blobs, pack headers, index files and snapshots. */
  data: Buffer;
  /** HMAC-SHA-256 key that turns a blob's plaintext into its id. */
  id: Buffer;
  /** Seeds the chunker's gear table, so chunk boundaries reveal nothing across repositories. */
  chunker: Buffer;
}

export function deriveRepoKeys(master: Buffer, repoId: string): RepoKeys {
  const salt = Buffer.from(repoId, 'hex');
  const k = (label: string) => Buffer.from(hkdfSync('sha256', master, salt, Buffer.from(label, 'utf8'), 32));
  return { data: k('twofold-repo/v1/data'), id: k('twofold-repo/v1/blob-id'), chunker: k('twofold-repo/v1/chunker') };
}

/** A blob's id: HMAC-SHA-256 under the repository's id key, so ids say nothing about content. */
export function blobId(idKey: Buffer, plaintext: Uint8Array): Buffer {
  return createHmac('sha256', idKey).update(plaintext).digest();
}

/** A file's name in the repository: SHA-256 of its exact bytes, so any damage shows. */
export function fileId(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** AAD of a blob: its type and id, so a blob cannot be moved under another id or type. */
export function blobAad(type: BlobType, id: Buffer): Buffer {
  return Buffer.concat([Buffer.from(type === 'data' ? 'twofold-repo/v1/data-blob:' : 'twofold-repo/v1/tree-blob:'), id]);
}

/** nonce(12) | AES-256-GCM ciphertext | tag(16). */
export function encrypt(key: Buffer, plaintext: Uint8Array, aad: Buffer | string): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(typeof aad === 'string' ? Buffer.from(aad, 'utf8') : aad);
  const head = cipher.update(plaintext);
  const tail = cipher.final();
  return Buffer.concat([nonce, head, tail, cipher.getAuthTag()], NONCE_BYTES + head.length + tail.length + TAG_BYTES);
}

/** Open what `encrypt` made; null when the key, the AAD or any byte is wrong. */
export function decrypt(key: Buffer, sealed: Uint8Array, aad: Buffer | string): Buffer | null {
  if (sealed.length < NONCE_BYTES + TAG_BYTES) return null;
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(0, NONCE_BYTES));
    decipher.setAAD(typeof aad === 'string' ? Buffer.from(aad, 'utf8') : aad);
    decipher.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
    const head = decipher.update(buf.subarray(NONCE_BYTES, buf.length - TAG_BYTES));
    const tail = decipher.final(); // empty for GCM: skip the copy a concat would make
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  } catch {
    return null;
  }
}

/**
 * Bytes decrypted per update call by decryptInPlace. Node's update returns its output in a new
 * buffer, one byte block larger than the input, then copies it into one of the exact size; over
 * glibc's mmap threshold (fixed at 128 KiB: native.ts) each of the two is mapped afresh and
 * faulted in page by page. A remote restore of 600 MiB faulted ~310,000 pages that way, most
 * of its system time (docs/benchmarks.md). Slices this size come from the heap, which reuses them.
 */
const DECRYPT_SLICE = 64 * 1024;

/**
 * As decrypt, the plaintext written over the sealed bytes themselves (each slice's output lands
 * before the next slice is read: the writes trail the reads by the nonce and more), so no buffer
 * of the blob's size is made. Returns the plaintext (the first bytes of `sealed`), or null when
 * the blob is not authentic; `sealed` is overwritten either way.
 */
export function decryptInPlace(key: Buffer, sealed: Uint8Array, aad: Buffer): Buffer | null {
  if (sealed.length < NONCE_BYTES + TAG_BYTES) return null;
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const end = buf.length - TAG_BYTES;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(0, NONCE_BYTES));
    decipher.setAAD(aad);
    decipher.setAuthTag(buf.subarray(end));
    let at = 0;
    for (let from = NONCE_BYTES; from < end; from += DECRYPT_SLICE) {
      at += decipher.update(buf.subarray(from, Math.min(end, from + DECRYPT_SLICE))).copy(buf, at);
    }
    at += decipher.final().copy(buf, at);
    return buf.subarray(0, at);
  } catch {
    return null;
  }
}

export function isHexId(s: string): boolean {
  return /^[0-9a-f]{64}$/.test(s);
}
