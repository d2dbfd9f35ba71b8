/**
 * The temporary names a restore writes under (restore-file.ts) and the removal of those a
 * stopped restore left behind. A name says which host, process and run made it:
 * `.twofold-restore-<host>-<pid>-<run>-<n>.part` (host: 8 hex digits of the SHA-256 of the host
 * name; run: 8 random hex digits). One is left over when its process is gone (same host, no such
 * pid, or this process but not one of its running restores), or, from another host, when it has
 * not changed for a day (a share two machines restore into).
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fsPath, readNames } from './fs-names.js';
import { pidAlive } from './lock.js';

const HOST = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
const PATTERN = /^\.twofold-restore-([0-9a-f]{8})-(\d+)-([0-9a-f]{8})-\d+\.part$/;
const FOREIGN_MAX_AGE_MS = 24 * 3600_000;
/** Runs of this process still going: their temporary files are not leftovers. */
const running = new Set<string>();

export class RestoreTemps {
  private readonly run = randomBytes(4).toString('hex');
  private counter = 0;
  private readonly cleaned = new Set<string>();

  constructor() {
    running.add(this.run);
  }

  /** An unused temporary name in `dir`. */
  next(dir: string): string {
    return join(dir, `.twofold-restore-${HOST}-${process.pid}-${this.run}-${this.counter++}.part`);
  }

  /** Remove what stopped restores left in `dir` (once per folder and run); returns how many. */
  clean(dir: string): number {
    if (this.cleaned.has(dir)) return 0;
    this.cleaned.add(dir);
    let names: string[];
    try {
      names = readNames(dir);
    } catch {
      return 0; // a folder that cannot be listed cannot be restored into either: that is reported there
    }
    let removed = 0;
    for (const name of names) {
      const m = PATTERN.exec(name);
      if (!m || !leftOver(m[1]!, Number(m[2]), m[3]!, join(dir, name))) continue;
      try {
        unlinkSync(fsPath(join(dir, name)));
        removed++;
      } catch {
        // gone already, or not a file: nothing of ours to remove
      }
    }
    return removed;
  }

  /** The run is over: its names are leftovers from now on (there should be none). */
  close(): void {
    running.delete(this.run);
  }
}

function leftOver(host: string, pid: number, run: string, path: string): boolean {
  if (host === HOST) return pid === process.pid ? !running.has(run) : !pidAlive(pid);
  try {
    return Date.now() - lstatSync(fsPath(path)).ctimeMs > FOREIGN_MAX_AGE_MS;
  } catch {
    return false;
  }
}
