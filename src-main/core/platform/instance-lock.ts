/**
 * One process per data folder. Two apps on one data folder (the console beside the desktop app,
 * or two consoles) would each run the scheduler: every scheduled backup and every retention run
 * twice. The first to start holds `instance.lock` in the data folder (its pid and, where the OS
 * tells it, the process's start time); a later one is refused with ALREADY_RUNNING before it opens
 * the database. A lock left by a process that died (SIGKILL, a power cut) is taken over: its pid is
 * gone, or now belongs to a process started at another time (a pid reused after a reboot).
 *
 * The file appears with its content in one step (written under a temporary name, then hard-linked
 * to `instance.lock`, which fails when the name exists), so a reader never sees it half-written.
 * Cores of one process (tests open several) share the lock.
 */
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreError } from './errors.js';

export const INSTANCE_LOCK_FILE = 'instance.lock';

const ALREADY_RUNNING = (pid: number) =>
  `Twofold Backup is already running with this data folder (process ${pid}). Use that window or console, or quit it first.`;

export interface InstanceLock {
  /** Give the folder up (the last core of this process to close does). Idempotent. */
  release(): void;
}

interface Holder {
  pid: number;
  /** Clock ticks after boot at which the process started (Linux), or null where unknown. */
  started: number | null;
}

const shared = new Map<string, number>();

/** A process's start time from /proc/<pid>/stat (field 22, counted after the command's closing parenthesis). */
function startTimeOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const started = Number(fields[19]);
    return Number.isFinite(started) ? started : null;
  } catch {
    return null;
  }
}

function alive(holder: Holder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false; // ESRCH: no such process
  }
  return holder.started === null || startTimeOf(holder.pid) === holder.started;
}

function readHolder(path: string): Holder | null {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Holder>;
    if (typeof parsed.pid !== 'number' || !Number.isInteger(parsed.pid) || parsed.pid <= 0) return null;
    return { pid: parsed.pid, started: typeof parsed.started === 'number' ? parsed.started : null };
  } catch {
    return null;
  }
}

/** Create `path` holding `me`, atomically; false when it exists already. */
function create(path: string, me: Holder): boolean {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(me), { mode: 0o600 });
  try {
    linkSync(temp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    unlinkSync(temp);
  }
}

function removeIfThere(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // another starter removed it first
  }
}

/** Hold the data folder for this process, or refuse (ALREADY_RUNNING) while another live process does. */
export function holdDataFolder(dataDir: string): InstanceLock {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, INSTANCE_LOCK_FILE);
  const me: Holder = { pid: process.pid, started: startTimeOf(process.pid) };
  const count = shared.get(path) ?? 0;
  if (count === 0) {
    if (!create(path, me)) {
      const holder = readHolder(path);
      // Unreadable content cannot come from a live holder (the file appears whole), so it is stale too.
      if (holder && alive(holder)) throw new CoreError('ALREADY_RUNNING', ALREADY_RUNNING(holder.pid));
      removeIfThere(path);
      if (!create(path, me)) throw new CoreError('ALREADY_RUNNING', ALREADY_RUNNING(readHolder(path)?.pid ?? 0));
    }
  }
  shared.set(path, count + 1);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      const left = (shared.get(path) ?? 1) - 1;
      if (left > 0) return void shared.set(path, left);
      shared.delete(path);
      if (readHolder(path)?.pid === process.pid) removeIfThere(path);
    },
  };
}
