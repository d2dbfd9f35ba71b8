/**
 * Crash-safe file writes: write to tmp/, fsync, rename into place, fsync the folder. A reader
 * sees either no file or the whole file; a kill leaves at most a stray temp file in tmp/. Used
 * by the folder storage (storage/folder.ts) and for the local staging files of packs.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open, rename, mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, dirname } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Temp names carry host and pid, so a later run can tell whose leftovers they are. */
export function tempName(tmpDir: string): string {
  return join(tmpDir, `${hostname().replace(/[^A-Za-z0-9.-]/g, '_')}-${process.pid}-${randomBytes(8).toString('hex')}.tmp`);
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export async function writeFileAtomic(tmpDir: string, dest: string, parts: readonly Uint8Array[]): Promise<void> {
  const tmp = tempName(tmpDir);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    for (const p of parts) {
      let done = 0;
      while (done < p.length) done += (await fh.write(p, done, p.length - done)).bytesWritten;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  await mkdir(dirname(dest), { recursive: true, mode: 0o700 });
  await rename(tmp, dest);
  fsyncDir(dirname(dest));
}
