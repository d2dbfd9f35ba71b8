/**
 * Opening a sealed blob: decrypt, decompress, verify against its id. Kept apart from
 * repository.ts so the worker threads load only this (no schema library in every thread).
 */
import { decompress } from 'zstd-napi';
import type { DCtx } from 'zstd-napi/binding.js';
import { blobAad, blobId, decrypt, decryptInPlace, type BlobType, type RepoKeys } from './format.js';
import { damage } from './messages.js';

/** Decrypt, decompress and verify one sealed blob. Pure but for the keys. */
export function openBlob(
  keys: RepoKeys,
  id: string,
  type: BlobType,
  compressed: boolean,
  rawLength: number,
  sealed: Uint8Array,
  packId: string,
  /**
   * Where to decompress (reused by the caller between blobs), when it is large enough. With
   * `inPlace`, `sealed` is decrypted over itself (format.ts: decryptInPlace), and an
   * uncompressed blob's plaintext is returned in it: for callers that read each blob into a
   * buffer of their own and are done with it before the next.
   */
  scratch?: { buffer: Buffer; dctx: DCtx; inPlace?: boolean },
): Buffer {
  const idBuf = Buffer.from(id, 'hex');
  const aad = blobAad(type, idBuf);
  const stored = scratch?.inPlace ? decryptInPlace(keys.data, sealed, aad) : decrypt(keys.data, sealed, aad);
  if (!stored) throw damage.blob(packId, 'integrity');
  let plain: Buffer;
  if (!compressed) plain = stored;
  else if (scratch && rawLength <= scratch.buffer.length) {
    let n: number;
    try {
      n = scratch.dctx.decompress(scratch.buffer, stored);
    } catch {
      throw damage.blob(packId, 'decompress');
    }
    plain = scratch.buffer.subarray(0, n);
  } else {
    try {
      plain = decompress(stored);
    } catch {
      throw damage.blob(packId, 'decompress');
    }
  }
  if (plain.length !== rawLength || !blobId(keys.id, plain).equals(idBuf)) {
    throw damage.blob(packId, 'id');
  }
  return plain;
}
