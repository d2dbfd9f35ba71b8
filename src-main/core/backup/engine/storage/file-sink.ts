/**
 * A download's bytes into a new local file (mode 0600), gathered into writes of 1 MiB: a
 * response arrives in pieces of 16-64 KiB, and a write stream's write per piece (tens of
 * thousands per restore) cost the main thread more than the bytes did (docs/benchmarks.md).
 */
import { open } from 'node:fs/promises';

const GATHER_BYTES = 1024 * 1024;

export async function streamToFile(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, file: string): Promise<void> {
  const fh = await open(file, 'wx', 0o600);
  try {
    const gather = Buffer.allocUnsafeSlow(GATHER_BYTES);
    let filled = 0;
    let position = 0;
    const flush = async () => {
      let done = 0;
      while (done < filled) done += (await fh.write(gather, done, filled - done, position + done)).bytesWritten;
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
  } finally {
    await fh.close();
  }
}
