/**
 * Moving an object's bytes over one SFTP session: requests of CHUNK bytes, up to IN_FLIGHT of
 * them outstanding (as OpenSSH's own client pipelines), so a transfer is not one round trip per
 * chunk. An upload of a local file reads it chunk by chunk as the requests go (never the whole
 * pack in memory); a read of a byte range asks for that range only. With a bandwidth limit's
 * Pacer (bandwidth.ts), each request waits for its bytes before it is sent, and each answer is
 * counted as it comes: the limit holds on the wire.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { Channel } from './sftp-pool.js';
import { writeAllAt } from './file-sink.js';
import { StorageError, type Pacer, type StagedFile } from './storage.js';

/** Bytes per SFTP read or write request (within OpenSSH's 255 KiB limit). */
export const CHUNK = 128 * 1024;
const IN_FLIGHT = 16;

export type UploadSource = Buffer | StagedFile;

/** `count` jobs, at most `lanes` at once; the first failure stops the rest from starting. */
async function inLanes(count: number, lanes: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < count) {
      const i = next++;
      try {
        await job(i);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(lanes, count) }, lane));
  const failure = settled.find((s) => s.status === 'rejected');
  if (failure) throw failure.reason;
}

async function readLocal(fh: FileHandle, file: string, offset: number, length: number): Promise<Buffer> {
  const out = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(out, done, length - done, offset + done);
    if (bytesRead === 0) throw new StorageError('FAILED', `${file} is shorter than its stated size`);
    done += bytesRead;
  }
  return out;
}

/** The bytes of `source` into the open remote `handle`, from offset 0. */
export async function sendAll(ch: Channel, handle: Buffer, source: UploadSource, size: number, pacer: Pacer | null = null): Promise<void> {
  const fh = Buffer.isBuffer(source) ? null : await open(source.file, 'r');
  try {
    if (fh && !Buffer.isBuffer(source)) {
      const st = await fh.stat();
      if (st.size !== size) throw new StorageError('FAILED', `the staged file has ${st.size} bytes, not ${size}`);
    }
    await inLanes(Math.ceil(size / CHUNK), IN_FLIGHT, async (i) => {
      const offset = i * CHUNK;
      const length = Math.min(CHUNK, size - offset);
      const bytes = Buffer.isBuffer(source) ? source.subarray(offset, offset + length) : await readLocal(fh!, source.file, offset, length);
      await pacer?.up?.(length);
      await ch.write(handle, bytes, 0, length, offset);
    });
  } finally {
    await fh?.close();
  }
}

/** Up to `length` bytes at `position` into `buf` at `off`, asking again after a short answer; fewer only at the end. */
async function readAt(ch: Channel, handle: Buffer, buf: Buffer, off: number, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const n = await ch.read(handle, buf, off + done, length - done, position + done);
    if (n <= 0) break;
    done += n;
  }
  return done;
}

/**
 * `length` bytes from `offset` of the open remote `handle`; fewer when the object ends first
 * (the bytes up to its end, for the engine to find short).
 */
export async function receiveRange(ch: Channel, handle: Buffer, offset: number, length: number, pacer: Pacer | null = null): Promise<Buffer> {
  if (length <= 0) return Buffer.alloc(0);
  const out = Buffer.allocUnsafe(length);
  const chunks = Math.ceil(length / CHUNK);
  const got = new Array<number>(chunks).fill(0);
  await inLanes(chunks, IN_FLIGHT, async (i) => {
    const start = i * CHUNK;
    const want = Math.min(CHUNK, length - start);
    got[i] = await readAt(ch, handle, out, start, want, offset + start);
    await pacer?.down?.(got[i]!);
  });
  // The object's end is where the first chunk came back short.
  let total = 0;
  for (let i = 0; i < chunks; i++) {
    total += got[i]!;
    if (got[i]! < Math.min(CHUNK, length - i * CHUNK)) break;
  }
  return total === length ? out : out.subarray(0, total);
}

/** The most of a whole-object read asked for at once (packs are about 16 MiB: PACK_TARGET_BYTES). */
export const WINDOW = 64 * 1024 * 1024;

/**
 * All the bytes of the open remote `handle`, whose first CHUNK were read already (`head`). The
 * size comes from the server's fstat, and the server is not trusted: the rest is read in windows
 * of at most WINDOW bytes until one comes back short, so memory follows the bytes that actually
 * arrive, never the size a server claims (1 TiB would otherwise be one allocation).
 */
export async function receiveRest(ch: Channel, handle: Buffer, head: Buffer, size: number, pacer: Pacer | null = null): Promise<Buffer> {
  if (head.length < CHUNK || size <= CHUNK) return head;
  const parts = [head];
  let offset = head.length;
  while (offset < size) {
    const want = Math.min(WINDOW, size - offset);
    const part = await receiveRange(ch, handle, offset, want, pacer);
    parts.push(part);
    offset += part.length;
    if (part.length < want) break;
  }
  return parts.length === 1 ? head : Buffer.concat(parts, offset);
}

/**
 * All the bytes of the open remote `handle` into the local file `fh`, each request's answer
 * written at its offset as it comes: IN_FLIGHT requests of CHUNK bytes, each lane reusing one
 * buffer, so nothing the object's size is held (a restore stages its packs this way). The
 * object ends where an answer first comes back short, whatever size the server claimed.
 */
export async function receiveToFile(ch: Channel, handle: Buffer, fh: FileHandle, pacer: Pacer | null = null): Promise<number> {
  let next = 0;
  let end = Number.POSITIVE_INFINITY;
  let failed = false;
  const lane = async () => {
    const buf = Buffer.allocUnsafe(CHUNK);
    try {
      while (!failed && next * CHUNK < end) {
        const offset = next++ * CHUNK;
        const n = await readAt(ch, handle, buf, 0, CHUNK, offset);
        await pacer?.down?.(n);
        if (n < CHUNK) end = Math.min(end, offset + n);
        if (n > 0) await writeAllAt(fh, buf, n, offset);
      }
    } catch (e) {
      // The first failure stops the other lanes: none writes once the caller closes the file.
      failed = true;
      throw e;
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: IN_FLIGHT }, lane));
  const failure = settled.find((r) => r.status === 'rejected');
  if (failure) throw failure.reason;
  return end;
}
