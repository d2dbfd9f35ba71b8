/**
 * Listing folders for a backup: each folder's entries (sorted, excludes applied) with what
 * lstat says of each, and symlink targets. An incremental backup reads no file, so its time
 * is these system calls plus comparing with the parent snapshot; a walker thread makes the
 * calls ahead of the backup's main thread, in the same depth-first order, so the two halves
 * run on both cores. `listFolder` is the one definition of a listing, used on either side.
 */
import { lstatSync, type BigIntStats } from 'node:fs';
import { parentPort, workerData, type Worker } from 'node:worker_threads';
import { errnoCode, errnoNumber } from './errno.js';
import { makeExcluder, type Excluder } from './excludes.js';
import { fsPath, isWellFormed, nameBytes, readLink, readNames } from './fs-names.js';
import { lstatMany, type PathArg, type XattrSlot } from './native.js';
import { endThread, startThread, THREAD_YOUNG_GENERATION_MB } from './threads.js';

/** What the backup needs to know of an entry (from lstat). */
export interface EntryStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  inode: string;
  mtimeNs: string;
  ctimeNs: string;
  /** The link count; for a non-folder with more than one, its file system (st_dev), else ''. */
  links: number;
  device: string;
  /** For a character or block device node, the device it stands for (st_rdev), else ''. */
  rdev: string;
}

/** One folder's listing; `error` (an errno code) when the folder itself cannot be read. */
export interface FolderListing {
  path: string;
  error?: string;
  names: string[];
  /** Per entry: mode, uid, gid, size, link count. */
  numbers: Float64Array;
  /** Per entry: inode, mtime and ctime in nanoseconds, device, rdev. */
  bigints: BigInt64Array;
  /** Per entry: the errno code when lstat failed (the entry is then skipped), else null. */
  errors: (string | null)[];
  /** Per entry: a symlink's target, or the errno code of a failed readlink. */
  links: ({ target: string } | { error: string } | null)[];
  /** A first backup's listing only: per entry its extended attributes, an errno, or nothing (native.ts). */
  xattrs?: XattrSlot[];
}

export const NUMBERS = 5;
export const BIGINTS = 5;
const S_IFMT = 0o170000;

export type EntryKind = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'chardev' | 'blockdev' | 'other';

/** A switch, not a lookup: it runs several times for every entry of every walk. */
export function fileKind(mode: number): EntryKind {
  switch (mode & S_IFMT) {
    case 0o100000:
      return 'file';
    case 0o040000:
      return 'dir';
    case 0o120000:
      return 'symlink';
    case 0o010000:
      return 'fifo';
    case 0o140000:
      return 'socket';
    case 0o020000:
      return 'chardev';
    case 0o060000:
      return 'blockdev';
    default:
      return 'other';
  }
}

/** Only what needs them carries a device: hard-linked non-folders (`device`), device nodes (`rdev`). */
const deviceOf = (mode: number, links: number, dev: bigint) => (links > 1 && fileKind(mode) !== 'dir' ? dev.toString() : '');
const isDevice = (mode: number) => (mode & S_IFMT) === 0o020000 || (mode & S_IFMT) === 0o060000;
const rdevOf = (mode: number, rdev: bigint) => (isDevice(mode) ? rdev.toString() : '');

export function statOf(st: BigIntStats): EntryStat {
  const mode = Number(st.mode);
  const links = Number(st.nlink);
  return {
    mode,
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: Number(st.size),
    inode: st.ino.toString(),
    mtimeNs: st.mtimeNs.toString(),
    ctimeNs: st.ctimeNs.toString(),
    links,
    device: deviceOf(mode, links, st.dev),
    rdev: rdevOf(mode, st.rdev),
  };
}

/** The stat of entry `i` of a listing. */
export function statAt(listing: FolderListing, i: number): EntryStat {
  const n = listing.numbers;
  const b = listing.bigints;
  const mode = n[i * NUMBERS]!;
  const links = n[i * NUMBERS + 4]!;
  return {
    mode,
    uid: n[i * NUMBERS + 1]!,
    gid: n[i * NUMBERS + 2]!,
    size: n[i * NUMBERS + 3]!,
    inode: b[i * BIGINTS]!.toString(),
    mtimeNs: b[i * BIGINTS + 1]!.toString(),
    ctimeNs: b[i * BIGINTS + 2]!.toString(),
    links,
    device: links > 1 ? deviceOf(mode, links, b[i * BIGINTS + 3]!) : '',
    // Read only where needed: each read of a BigInt64Array makes a BigInt.
    rdev: isDevice(mode) ? b[i * BIGINTS + 4]!.toString() : '',
  };
}

/** The kind of entry `i` of a listing, and its size: without making the whole EntryStat. */
export const kindAt = (listing: FolderListing, i: number) => fileKind(listing.numbers[i * NUMBERS]!);
export const sizeAt = (listing: FolderListing, i: number) => listing.numbers[i * NUMBERS + 3]!;

function codeOf(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? 'EIO';
}

/**
 * lstat each `${folder}/${name}` with Node's lstat, into a listing's arrays as the addon's
 * `lstatMany` fills them (native.ts): the fallback where the addon lacks it, and what the unit
 * tests compare it with.
 */
export function lstatEach(folder: string, names: readonly string[], numbers: Float64Array, bigints: BigInt64Array, errnos: Int32Array): void {
  names.forEach((name, i) => {
    let st: BigIntStats;
    try {
      st = lstatSync(fsPath(`${folder}/${name}`), { bigint: true });
    } catch (e) {
      errnos[i] = errnoNumber(codeOf(e));
      return;
    }
    errnos[i] = 0;
    numbers.set([Number(st.mode), Number(st.uid), Number(st.gid), Number(st.size), Number(st.nlink)], i * NUMBERS);
    bigints.set([st.ino, st.mtimeNs, st.ctimeNs, st.dev, st.rdev], i * BIGINTS);
  });
}

/** The addon's arguments for a listing: strings, or bytes for what is not valid UTF-8. */
function nativeArgs(folder: string, names: readonly string[]): { folder: PathArg; names: PathArg[] } {
  const rawFolder = !isWellFormed(folder);
  if (!rawFolder && names.every(isWellFormed)) return { folder, names: names as string[] };
  return { folder: rawFolder ? nameBytes(folder) : folder, names: names.map((n) => (isWellFormed(n) ? n : nameBytes(n))) };
}

/**
 * A folder's lstat calls in one call to the addon where it has it: Node's BigIntStats cost more
 * than the system calls (native/lstat-many.c). Node's lstat elsewhere.
 */
function lstatEntries(folder: string, names: readonly string[], numbers: Float64Array, bigints: BigInt64Array, errnos: Int32Array, xattrs?: XattrSlot[]): void {
  if (!lstatMany) return lstatEach(folder, names, numbers, bigints, errnos);
  const args = nativeArgs(folder, names);
  lstatMany(args.folder, args.names, numbers, bigints, errnos, xattrs);
}

/**
 * List one folder: names sorted (UTF-16 order, as trees keep them; a name that is not UTF-8 with
 * its bytes escaped, fs-names.ts), excluded ones left out. With `withXattrs` (a first backup,
 * which stores every entry anew) each entry's extended attributes are read in the same pass.
 */
export function listFolder(path: string, excluded: Excluder, withXattrs = false): FolderListing {
  let all: string[];
  try {
    all = readNames(path);
  } catch (e) {
    return { path, error: codeOf(e), names: [], numbers: new Float64Array(0), bigints: new BigInt64Array(0), errors: [], links: [] };
  }
  all.sort();
  const names = all.filter((name) => !excluded(`${path}/${name}`, name));
  const numbers = new Float64Array(names.length * NUMBERS);
  const bigints = new BigInt64Array(names.length * BIGINTS);
  const errnos = new Int32Array(names.length);
  const xattrs: XattrSlot[] | undefined = withXattrs && lstatMany ? new Array<XattrSlot>(names.length) : undefined;
  lstatEntries(path, names, numbers, bigints, errnos, xattrs);
  const errors: (string | null)[] = [];
  const links: FolderListing['links'] = [];
  names.forEach((name, i) => {
    const errno = errnos[i]!;
    if (errno !== 0) {
      errors.push(errnoCode(errno));
      links.push(null);
      return;
    }
    errors.push(null);
    if (fileKind(numbers[i * NUMBERS]!) === 'symlink') {
      try {
        links.push({ target: readLink(`${path}/${name}`) });
      } catch (e) {
        links.push({ error: codeOf(e) });
      }
    } else links.push(null);
  });
  return xattrs ? { path, names, numbers, bigints, errors, links, xattrs } : { path, names, numbers, bigints, errors, links };
}

// ---- the walker thread ----

export interface WalkRequest {
  role: 'twofold-walk';
  sources: string[];
  excludes: string[];
  /** [0]: listings the backup has taken (it adds, and notifies); [1]: 1 when the backup is done. */
  control: SharedArrayBuffer;
}

/** Listings the walker may run ahead of the backup: enough to keep both busy, little memory. */
const MAX_AHEAD = 256;
/** Listings sent per message (fewer, larger messages cost less than one per folder). */
const PER_MESSAGE = 32;

type WalkMessage = { listings: FolderListing[] } | { done: true };

function walkThread(request: WalkRequest, port: NonNullable<typeof parentPort>): void {
  const excluded = makeExcluder(request.excludes);
  const control = new Int32Array(request.control);
  let produced = 0;
  let pending: FolderListing[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const transfer = pending.flatMap((l) => [l.numbers.buffer as ArrayBuffer, l.bigints.buffer as ArrayBuffer]);
    port.postMessage({ listings: pending } satisfies WalkMessage, transfer);
    pending = [];
  };
  const stopped = () => Atomics.load(control, 1) === 1;
  const visit = (path: string): void => {
    if (stopped()) return;
    // Wait while far enough ahead; send what is gathered first, or the backup could not catch up.
    for (let taken = Atomics.load(control, 0); produced - taken >= MAX_AHEAD && !stopped(); taken = Atomics.load(control, 0)) {
      flush();
      Atomics.wait(control, 0, taken, 100);
    }
    const listing = listFolder(path, excluded);
    // Read before sending: sending moves the listing's arrays to the other thread.
    const folders = listing.names.filter((_, i) => listing.errors[i] === null && kindAt(listing, i) === 'dir');
    produced++;
    pending.push(listing);
    if (pending.length >= PER_MESSAGE) flush();
    for (const name of folders) visit(`${path}/${name}`);
  };
  for (const source of [...request.sources].sort()) {
    try {
      if (lstatSync(fsPath(source)).isDirectory()) visit(source);
    } catch {
      // the backup reports a source it cannot read
    }
  }
  flush();
  port.postMessage({ done: true } satisfies WalkMessage);
}

const request = workerData as WalkRequest | undefined;
if (parentPort && request?.role === 'twofold-walk') walkThread(request, parentPort);

// ---- the backup's side ----

/**
 * Folder listings from a walker thread, taken in the order the backup walks. A folder the
 * walker did not list where expected (the tree changed between the two looks) is listed on
 * the spot, so the backup always sees a listing as of the moment it asks.
 */
export class Walker {
  private readonly thread: Worker;
  private readonly control = new Int32Array(new SharedArrayBuffer(8));
  private readonly queue: FolderListing[] = [];
  private head = 0;
  private done = false;
  private failed = false;
  private wake: (() => void) | null = null;

  constructor(
    sources: string[],
    excludes: string[],
    private readonly excluded: Excluder,
  ) {
    const request: WalkRequest = { role: 'twofold-walk', sources, excludes, control: this.control.buffer as SharedArrayBuffer };
    this.thread = startThread('walk', { workerData: request, resourceLimits: { maxYoungGenerationSizeMb: THREAD_YOUNG_GENERATION_MB } });
    this.thread.on('message', (m: WalkMessage) => {
      if ('done' in m) this.done = true;
      else this.queue.push(...m.listings);
      this.notify();
    });
    // Without the thread the backup lists every folder itself: slower, never wrong.
    this.thread.once('error', () => {
      this.failed = true;
      this.notify();
    });
  }

  /** The listing of `path`: the walker's, when it has it, else made here. */
  async list(path: string): Promise<FolderListing> {
    for (;;) {
      while (this.head < this.queue.length) {
        const listing = this.queue[this.head]!;
        this.queue[this.head++] = undefined as unknown as FolderListing; // let it be collected
        this.take(1);
        if (listing.path === path) {
          this.compact();
          return listing;
        }
      }
      this.compact();
      if (this.done || this.failed) return listFolder(path, this.excluded);
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** The thread sees the flag before its next folder, and its work done, ends by itself. */
  async close(): Promise<void> {
    Atomics.store(this.control, 1, 1);
    Atomics.notify(this.control, 0);
    await endThread(this.thread, () => undefined);
  }

  private take(n: number): void {
    Atomics.add(this.control, 0, n);
    Atomics.notify(this.control, 0);
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}
