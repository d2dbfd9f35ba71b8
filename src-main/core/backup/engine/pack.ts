/**
 * Pack files: encrypted blobs back to back, then an encrypted header that lists them, then a
 * fixed trailer. Layout (docs/repository-format.md §Packs):
 *
 *   blob_1 | … | blob_n | sealed header | header length (u32 LE) | "TFP1"
 *
 * Each header entry is 42 bytes: type (0 data, 1 tree) | flags (bit 0: zstd) |
 * stored length (u32 LE) | plaintext length (u32 LE) | id (32). Offsets follow from the order.
 */
import { CoreError } from '../../platform/errors.js';
import { decrypt, encrypt, ID_BYTES, type BlobType } from './format.js';
import { PackHeaderError } from './messages.js';

export const PACK_MAGIC = Buffer.from('TFP1', 'ascii');
export const TRAILER_BYTES = 8;
const ENTRY_BYTES = 42;
const HEADER_AAD = 'twofold-repo/v1/pack-header';

export interface PackEntry {
  /** The blob's id, 64 lower-case hex digits (as the index and trees hold it). */
  id: string;
  type: BlobType;
  compressed: boolean;
  /** Bytes of the sealed blob in the pack. */
  length: number;
  /** Bytes of the blob's plaintext (after decompression). */
  rawLength: number;
  /** Offset of the sealed blob from the start of the pack (derived, not stored). */
  offset: number;
}

/** Bytes after the blobs of a pack of `blobs` blobs: sealed header (nonce, entries, tag) and trailer. */
export function footerBytes(blobs: number): number {
  return 12 + blobs * ENTRY_BYTES + 16 + TRAILER_BYTES;
}

export function encodeHeader(entries: readonly PackEntry[]): Buffer {
  const out = Buffer.alloc(entries.length * ENTRY_BYTES);
  entries.forEach((e, i) => {
    const at = i * ENTRY_BYTES;
    out[at] = e.type === 'data' ? 0 : 1;
    out[at + 1] = e.compressed ? 1 : 0;
    out.writeUInt32LE(e.length, at + 2);
    out.writeUInt32LE(e.rawLength, at + 6);
    if (out.write(e.id, at + 10, ID_BYTES, 'hex') !== ID_BYTES) throw new CoreError('INTERNAL', 'A pack entry has a malformed id.');
  });
  return out;
}

export function decodeHeader(plain: Buffer): PackEntry[] {
  if (plain.length % ENTRY_BYTES !== 0) throw new PackHeaderError('length');
  const entries: PackEntry[] = [];
  let offset = 0;
  for (let at = 0; at < plain.length; at += ENTRY_BYTES) {
    const type = plain[at];
    const flags = plain[at + 1]!;
    if ((type !== 0 && type !== 1) || flags > 1) throw new PackHeaderError('entry');
    const length = plain.readUInt32LE(at + 2);
    entries.push({
      type: type === 0 ? 'data' : 'tree',
      compressed: flags === 1,
      length,
      rawLength: plain.readUInt32LE(at + 6),
      id: plain.toString('hex', at + 10, at + 10 + ID_BYTES),
      offset,
    });
    offset += length;
  }
  return entries;
}

/** The sealed header plus trailer that close a pack whose blobs are `entries`. */
export function packFooter(dataKey: Buffer, entries: readonly PackEntry[]): Buffer {
  const sealed = encrypt(dataKey, encodeHeader(entries), HEADER_AAD);
  const trailer = Buffer.alloc(TRAILER_BYTES);
  trailer.writeUInt32LE(sealed.length, 0);
  PACK_MAGIC.copy(trailer, 4);
  return Buffer.concat([sealed, trailer]);
}

/** Where the sealed header sits, from the pack's last 8 bytes and its size. */
export function headerLocation(trailer: Buffer, packSize: number): { offset: number; length: number } {
  if (trailer.length !== TRAILER_BYTES || !trailer.subarray(4).equals(PACK_MAGIC)) {
    throw new PackHeaderError('trailer');
  }
  const length = trailer.readUInt32LE(0);
  const offset = packSize - TRAILER_BYTES - length;
  if (offset < 0) throw new PackHeaderError('tooLong');
  return { offset, length };
}

/** Decrypt a sealed header and check that its blobs fill the pack exactly up to the header. */
export function openHeader(dataKey: Buffer, sealed: Buffer, headerOffset: number): PackEntry[] {
  const plain = decrypt(dataKey, sealed, HEADER_AAD);
  if (!plain) throw new PackHeaderError('integrity');
  const entries = decodeHeader(plain);
  const end = entries.reduce((sum, e) => sum + e.length, 0);
  if (end !== headerOffset) throw new PackHeaderError('size');
  return entries;
}
