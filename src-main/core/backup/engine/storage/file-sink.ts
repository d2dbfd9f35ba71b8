/**
 * A download's bytes into a new local file (mode 0600), gathered into writes of 1 MiB: a
 * response arrives in pieces of 16-64 KiB, and a write stream's write per piece (tens of
 * thousands per restore) cost the main thread more than the bytes did (docs/benchmarks.md).
 *
 * A response stream (a Readable) is taken by its 'data' events into two buffers in turn: one
 * fills while the other is written, and the stream is paused only when both are full. Read
 * through its async iterator instead, each piece cost a few promises and result objects, a
 * third of what the main thread allocated in a remote restore, and under V8's memory-saving
 * mode (gc.ts) that garbage, promoted while the writes ran, set off a full collection every
 * 50 ms.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';

const GATHER_BYTES = 1024 * 1024;

export async function streamToFile(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, file: string): Promise<void> {
  const fh = await open(file, 'wx', 0o600);
  try {
    if (body instanceof Readable) await fromReadable(body, fh);
    else await fromIterable(body, fh);
  } finally {
    await fh.close();
  }
}

/** `length` bytes of `buffer` into `fh` at `position`, asking again after a short write. */
export async function writeAllAt(fh: FileHandle, buffer: Buffer, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) done += (await fh.write(buffer, done, length - done, position + done)).bytesWritten;
}

async function fromIterable(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, fh: FileHandle): Promise<void> {
  const gather = Buffer.allocUnsafeSlow(GATHER_BYTES);
  let filled = 0;
  let position = 0;
  const flush = async () => {
    await writeAllAt(fh, gather, filled, position);
    position += filled;
    filled = 0;
  };
  for await (const chunk of body) {
    for (let at = 0; at < chunk.length;) {
      const n = Math.min(chunk.length - at, GATHER_BYTES - filled);
      gather.set(chunk.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled === GATHER_BYTES) await flush();
    }
  }
  await flush();
}

function fromReadable(body: Readable, fh: FileHandle): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const buffers = [Buffer.allocUnsafeSlow(GATHER_BYTES), Buffer.allocUnsafeSlow(GATHER_BYTES)];
    let current = 0;
    let filled = 0;
    let position = 0;
    /** The write of the other buffer, while it runs. */
    let writing: Promise<void> | null = null;
    /** What arrived while both buffers were full (the stream is paused meanwhile). */
    let waiting: Uint8Array | null = null;
    let ended = false;
    let failed = false;

    const fail = (e: unknown) => {
      if (failed) return;
      failed = true;
      body.destroy();
      // Settle after the write that runs, so the file is not closed under it.
      void (writing ?? Promise.resolve()).catch(() => undefined).then(() => reject(e));
    };
    /** Hand the full (or last) buffer to a write, and take the other one. */
    const handOff = () => {
      const buffer = buffers[current]!;
      const length = filled;
      const at = position;
      position += length;
      filled = 0;
      current ^= 1;
      writing = writeAllAt(fh, buffer, length, at).then(
        () => {
          writing = null;
          if (failed) return;
          if (waiting) {
            const rest = waiting;
            waiting = null;
            take(rest);
            if (!waiting) body.resume();
          }
          if (ended && !waiting && !writing) finish();
        },
        (e: unknown) => {
          writing = null;
          fail(e);
        },
      );
    };
    /** Copy a piece into the current buffer; with both full, keep the rest and pause the stream. */
    const take = (chunk: Uint8Array) => {
      for (let at = 0; at < chunk.length;) {
        if (filled === GATHER_BYTES) {
          if (writing) {
            waiting = chunk.subarray(at);
            body.pause();
            return;
          }
          handOff();
        }
        const n = Math.min(chunk.length - at, GATHER_BYTES - filled);
        buffers[current]!.set(chunk.subarray(at, at + n), filled);
        filled += n;
        at += n;
      }
    };
    const finish = () => {
      if (filled > 0) {
        handOff();
        return; // the hand-off's write finishes
      }
      resolve();
    };

    body.on('data', (chunk: Uint8Array) => {
      if (!failed) take(chunk);
    });
    body.once('end', () => {
      ended = true;
      if (!waiting && !writing) finish();
    });
    body.once('error', fail);
  });
}
