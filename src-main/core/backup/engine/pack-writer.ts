/**
 * A data pack written by the worker thread that sealed its blobs (worker.ts): each blob is
 * encrypted straight into one reused gather buffer, which goes to the pack's temp file when it
 * is full. No blob is ever copied to another thread or given a buffer of its own, so a backup's
 * memory does not grow with the blobs in flight (docs/benchmarks.md).
 *
 * `finish` writes the header and trailer (pack.ts), closes the file and hands over its name:
 * the pack installer hands it to the repository's Storage and only then indexes it
 * (pack-installer.ts), as for every pack. A file descriptor never crosses threads: Node closes a worker's descriptors when the
 * worker exits, which would close whatever reused the number by then.
 */
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { createCipheriv, createHash, randomBytes, type Hash } from 'node:crypto';
import { NONCE_BYTES, TAG_BYTES, type BlobType } from './format.js';
import { packFooter, type PackEntry } from './pack.js';

/** Sealed bytes gathered before one write. */
const GATHER_BYTES = 1024 * 1024;
/** Bytes encrypted per cipher call: its output is a fresh buffer, kept small enough to recycle. */
const CIPHER_SLICE = 64 * 1024;
/**
 * Nonces drawn from the CSPRNG at once: one call per blob cost ~8 µs, ~0.4 s of a first backup
 * of 50,000 small files. Each nonce is still random and used once.
 */
const NONCES_PER_DRAW = 256;

/** A pack whose bytes are all written, footer included, but not yet fsynced or renamed. */
export interface FinishedPack {
  /** Its temp file (closed). */
  tmp: string;
  /** SHA-256 of the whole file: the pack's id. */
  id: string;
  entries: PackEntry[];
}

interface OpenPack {
  tmp: string;
  fd: number;
  entries: PackEntry[];
  size: number;
  hash: Hash;
}

export class PackWriter {
  private file: OpenPack | null = null;
  private readonly gather = Buffer.allocUnsafe(GATHER_BYTES);
  private gathered = 0;
  private nonces = Buffer.alloc(0);
  private nonceAt = 0;

  constructor(
    private readonly dataKey: Buffer,
    /** A fresh temp path in the repository's tmp/ (atomic.ts `tempName`). */
    private readonly tempPath: () => string,
  ) {}

  /** Bytes in the open pack so far (0 when none is open). */
  get size(): number {
    return this.file?.size ?? 0;
  }

  /** Temp file of the open pack, if any (for whoever must remove it should this thread die). */
  get openTemp(): string | null {
    return this.file?.tmp ?? null;
  }

  /** Seal `plain` (already compressed or not) as blob `id`: nonce | AES-256-GCM ciphertext | tag. */
  add(id: Buffer, type: BlobType, plain: Uint8Array, rawLength: number, compressed: boolean, aad: Buffer): void {
    const f = (this.file ??= this.open());
    if (this.nonceAt === this.nonces.length) {
      this.nonces = randomBytes(NONCE_BYTES * NONCES_PER_DRAW);
      this.nonceAt = 0;
    }
    const nonce = this.nonces.subarray(this.nonceAt, (this.nonceAt += NONCE_BYTES));
    const cipher = createCipheriv('aes-256-gcm', this.dataKey, nonce);
    cipher.setAAD(aad);
    this.put(nonce);
    for (let at = 0; at < plain.length; at += CIPHER_SLICE) this.put(cipher.update(plain.subarray(at, at + CIPHER_SLICE)));
    this.put(cipher.final());
    this.put(cipher.getAuthTag());
    const length = NONCE_BYTES + plain.length + TAG_BYTES;
    f.entries.push({ id: id.toString('hex'), type, compressed, length, rawLength, offset: f.size });
    f.size += length;
  }

  /** Write header and trailer, close the file and hand it over; null when no pack is open. */
  finish(): FinishedPack | null {
    const f = this.file;
    if (!f) return null;
    try {
      this.put(packFooter(this.dataKey, f.entries));
      this.flush();
    } catch (e) {
      this.abandon();
      throw e;
    }
    this.file = null;
    closeSync(f.fd);
    return { tmp: f.tmp, id: f.hash.digest('hex'), entries: f.entries };
  }

  /** Drop the open pack: close and delete its temp file. */
  abandon(): void {
    const f = this.file;
    this.file = null;
    this.gathered = 0;
    if (!f) return;
    closeSync(f.fd);
    rmSync(f.tmp, { force: true });
  }

  private open(): OpenPack {
    const tmp = this.tempPath();
    return { tmp, fd: openSync(tmp, 'wx', 0o600), entries: [], size: 0, hash: createHash('sha256') };
  }

  private put(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      const n = Math.min(bytes.length - at, GATHER_BYTES - this.gathered);
      this.gather.set(bytes.subarray(at, at + n), this.gathered);
      this.gathered += n;
      at += n;
      if (this.gathered === GATHER_BYTES) this.flush();
    }
  }

  private flush(): void {
    const f = this.file!;
    const out = this.gather.subarray(0, this.gathered);
    f.hash.update(out);
    let done = 0;
    while (done < out.length) done += writeSync(f.fd, out, done, out.length - done);
    this.gathered = 0;
  }
}
