/**
 * What the backup engine says to a person, chosen here and nowhere else: damage in a
 * repository (naming the pack, index file, snapshot or tree), a file that cannot be read or
 * written, and storage that fails (a full disk, a drive that went away). Each thrown error
 * carries a stable code (src-shared/errors.ts); the engine calls these builders and never
 * words a message itself. Ids appear as their first 12 hex digits, never contents or keys.
 *
 * Imported by the worker threads too, so it depends on nothing but CoreError and StorageError.
 */
import { CoreError } from '../../platform/errors.js';
import { ERROR_CODES, type ErrorCode } from '../../../../src-shared/errors.js';
import { StorageError, type RetryCause, type StorageErrorCode } from './storage/storage.js';

export const shortId = (id: string): string => id.slice(0, 12);

/** The errno code of a file-system error, also when a folder storage wrapped it (its cause). */
const errno = (e: unknown): string | undefined => {
  const inner = e instanceof StorageError ? (e.cause ?? e) : e;
  const code = (inner as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

// ---- damage in a repository ----

export const damage = {
  packMissing: (pack: string) => new CoreError('REPO_DAMAGED', `Pack ${shortId(pack)} is missing from the repository.`),
  packTruncated: (pack: string) => new CoreError('REPO_DAMAGED', `Pack ${shortId(pack)} is truncated: it ends before the data the index lists.`),
  packWrongSize: (pack: string, size: number, expected: number) =>
    new CoreError(
      'REPO_DAMAGED',
      `Pack ${shortId(pack)} has the wrong size (${size} bytes where its index says ${expected}): it was cut short or written over.`,
    ),
  /** Not damage for certain: the storage failed to read it (an I/O error may pass). */
  packUnreadable: (pack: string, e: unknown) => new CoreError('STORAGE_UNAVAILABLE', `Pack ${shortId(pack)} cannot be read (${errno(e) ?? 'error'}).`),
  packKnownDamaged: (pack: string) => new CoreError('REPO_DAMAGED', `Pack ${shortId(pack)} was found damaged by an earlier check.`),
  /** `why` completes "its header …". */
  packHeader: (pack: string, why: string) => new CoreError('REPO_DAMAGED', `Pack ${shortId(pack)}: its header ${why}.`),
  /** `why` completes "a blob in pack … ". */
  blob: (pack: string, why: 'integrity' | 'decompress' | 'id' | 'outside') =>
    new CoreError('REPO_DAMAGED', `A blob in pack ${shortId(pack)} ${BLOB_WHY[why]}.`),
  treeNotIndexed: (tree: string) => new CoreError('REPO_DAMAGED', `Tree ${shortId(tree)} is missing from the index.`),
  treeShape: () => new CoreError('REPO_DAMAGED', 'A folder listing (tree) has an unknown shape.'),
  dataNotIndexed: () => new CoreError('REPO_DAMAGED', 'Its data is missing from the repository (no index lists it).'),
  indexFile: (id: string, why: 'hash' | 'integrity' | 'shape') => new CoreError('REPO_DAMAGED', `Index file ${shortId(id)} ${SEALED_WHY[why]}.`),
  snapshotFile: (id: string, why: 'hash' | 'integrity' | 'shape') => new CoreError('REPO_DAMAGED', `Snapshot ${shortId(id)} ${SEALED_WHY[why]}.`),
  config: () => new CoreError('REPO_DAMAGED', 'The repository config is damaged or of an unknown version.'),
  /** A repository file that could not be read at all (not damage for certain: the read may work later). */
  unreadable: (kind: 'index' | 'snapshot' | 'pack', id: string, e: unknown) =>
    `${kind === 'index' ? 'Index file' : kind === 'snapshot' ? 'Snapshot' : 'Pack'} ${shortId(id)} cannot be read (${errno(e) ?? 'error'}).`,
  snapshotOrigin: () => new CoreError('REPO_DAMAGED', 'The snapshot does not say where one of its entries came from.'),
};

const BLOB_WHY = {
  integrity: 'failed its integrity check',
  decompress: 'does not decompress',
  id: 'does not match its id',
  outside: 'lies outside the pack (the pack is truncated)',
} as const;

const SEALED_WHY = {
  hash: 'is damaged (its bytes do not match its name)',
  integrity: 'failed its integrity check',
  shape: 'has an unknown shape',
} as const;

/** Pack header problems as the pack reader finds them, before it knows the pack's id. */
export const HEADER_WHY = {
  trailer: 'has no valid trailer',
  tooLong: 'is longer than its pack',
  integrity: 'failed its integrity check',
  length: 'has a damaged length',
  entry: 'has an unknown entry',
  size: 'does not match the pack size',
  index: 'does not match the index',
} as const;

/** A pack header that fails, thrown where the pack's id is not known; the reader names the pack (damage.packHeader). */
export class PackHeaderError extends CoreError {
  constructor(readonly why: keyof typeof HEADER_WHY) {
    super('REPO_DAMAGED', `A pack header ${HEADER_WHY[why]}.`);
  }
}

// ---- a job that stops ----

export const stopped = {
  /** A restore to the original places of a snapshot made on the other path family. */
  otherPathFamily: (made: 'posix' | 'win32') =>
    new CoreError(
      'BAD_INPUT',
      `This snapshot was made on ${made === 'win32' ? 'Windows' : 'Linux or macOS'}, so its original places do not exist on this computer. Restore it into a folder instead.`,
    ),
  cancelled: (what: 'backup' | 'restore' | 'repair') => new CoreError('CANCELLED', `The ${what} was cancelled.`),
  /** A pool task that never ran: the pool was closed first (the job ends with its own reason). */
  poolClosed: () => new CoreError('CANCELLED', 'The worker pool was closed.'),
  threadLost: () => new CoreError('INTERNAL', 'A worker thread stopped before its pack was written; run the backup again.'),
  /** Prune met a failure that may pass: it removes nothing. */
  prune: (e: unknown) =>
    new CoreError(
      'STORAGE_UNAVAILABLE',
      `Prune stopped before removing anything: ${e instanceof CoreError ? e.message : (storageError(e)?.message ?? 'the repository could not be read.')} Try again once the repository reads normally.`,
      { cause: e },
    ),
  /** Forget or prune (or repair) with credentials that may add but not delete: refused before anything is touched. */
  appendOnly: (what: 'forget' | 'prune' | 'repair') =>
    new CoreError(
      'STORAGE_UNAVAILABLE',
      `This repository is reached with append-only credentials, which cannot delete, so the ${what} was not started and nothing was removed. Run it with the maintenance credentials.`,
    ),
  repositoryUnreadable: () => new CoreError('NOT_FOUND', 'The repository folder cannot be read. Is the drive connected?'),
  notAPack: () => new CoreError('BAD_INPUT', 'That is not a pack id (64 hex digits).'),
};

// ---- files a backup reads, files a restore writes ----

/** Why a source file or folder could not be read: a short reason for the summary, never content. */
export function readProblem(e: unknown): string {
  if (e instanceof CoreError) return e.message;
  const code = errno(e);
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'was deleted or moved before it could be read';
  if (code === 'ELOOP') return 'became a symlink while being read';
  if (code === 'ENOTFILE') return 'is no longer a regular file';
  if (code === 'EILSEQ') return 'its name is not valid UTF-8, which backups cannot store yet';
  if (code === 'EIO') return 'cannot be read: the disk reports an input/output error';
  if (code) return `cannot be read (${code})`;
  return e instanceof Error && e.message ? e.message : 'cannot be read';
}

/** Why a restored file, folder or link could not be written. */
export function writeProblem(e: unknown): string {
  if (e instanceof CoreError) return e.message;
  const code = errno(e);
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'the disk is full';
  if (code === 'EROFS') return 'the disk is read-only';
  if (code === 'EEXIST') return 'a file appeared at the target while restoring';
  if (code) return `cannot be written (${code})`;
  return 'cannot be written';
}

/** A file a restore was to create that someone else created meanwhile: left as it is. */
export const APPEARED_DURING_RESTORE = 'a file appeared there during the restore and was left as it was';

/** Why each file of a restore task that failed as a whole (its thread stopped, the pool closed) was not restored. */
export function taskProblem(e: unknown): string {
  if (e instanceof CoreError || errno(e)) return writeProblem(e);
  return 'the part of the restore that held it stopped before it was written; restore it again';
}

/** A file stored although it changed while it was read (docs/repository-format.md §9). */
export const changedWhileRead = {
  stored: (reads: number) =>
    `changed while it was being read (${reads} times in a row); the stored copy may not match any one moment of it. The next backup reads it again.`,
  deleted: 'changed while it was being read and was then deleted; the stored copy may not match any one moment of it.',
};

// ---- a backup run's result line (history) ----

/** The history's line for a backup run whose snapshot was written (undefined: nothing to add). */
export function runNote(summary: { errors: unknown[]; warnings: unknown[] }, damage: number, retention: string | null): string | undefined {
  const notes: string[] = [];
  const errors = summary.errors.length;
  const warnings = summary.warnings.length;
  if (errors === 1) notes.push('1 item could not be kept in full; the summary names it.');
  if (errors > 1) notes.push(`${errors} items could not be kept in full; the summary names them.`);
  if (warnings === 1) notes.push('1 file kept changing while it was read and was stored with a warning.');
  if (warnings > 1) notes.push(`${warnings} files kept changing while they were read and were stored with a warning.`);
  if (damage > 0) notes.push('The repository has damage this backup worked around: run Check & repair.');
  if (retention) notes.push(retention);
  return notes.length > 0 ? notes.join(' ') : undefined;
}

/** Why a set's retention did not run after its backup. */
export function retentionNote(e: CoreError): string {
  if (e.code === 'REPO_LOCKED') return 'Older snapshots were not removed this time: another job was using the repository. The next run removes them.';
  return `Older snapshots were not removed: ${e.message}`;
}

// ---- storage that fails ----

export type StorageSide = 'repository' | 'target';

const FULL: Record<StorageSide, string> = {
  repository: 'The disk that holds the repository is full. Free some space there (deleting old snapshots and then freeing space helps), then run it again.',
  target: 'The disk you are restoring to is full. Free some space there or restore into another folder.',
};
const SIDE: Record<StorageSide, string> = { repository: "The repository's disk", target: 'The disk you are restoring to' };

/**
 * A storage failure (an errno code) as a typed error a person can act on; null when `e` is
 * not one. A disk that is full says so, whatever the call that hit it.
 */
export function storageError(e: unknown, side: StorageSide = 'repository'): CoreError | null {
  const code = errno(e);
  if (code === 'ENOSPC' || code === 'EDQUOT') return new CoreError('DISK_FULL', FULL[side], { cause: e });
  if (code === 'EROFS') return new CoreError('STORAGE_UNAVAILABLE', `${SIDE[side]} is read-only.`, { cause: e });
  if (code === 'EIO')
    return new CoreError('STORAGE_UNAVAILABLE', `${SIDE[side]} reports input/output errors. Check the drive and its connection.`, { cause: e });
  if (code === 'ENOTCONN' || code === 'ESTALE' || code === 'ETIMEDOUT' || code === 'EHOSTDOWN') {
    return new CoreError('STORAGE_UNAVAILABLE', `${SIDE[side]} stopped answering (${code}). Is the network share still connected?`, { cause: e });
  }
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new CoreError(
      'STORAGE_UNAVAILABLE',
      `Part of ${side === 'repository' ? 'the repository' : 'the target folder'} cannot be found (${code}). Is the drive connected?`,
      { cause: e },
    );
  }
  if (code === 'EACCES' || code === 'EPERM') return new CoreError('STORAGE_UNAVAILABLE', `${SIDE[side]} refuses access (permission denied).`, { cause: e });
  return null;
}

/** What a remote storage's failure means for a person, by its code (a folder's are worded by errno above). */
const REMOTE: Record<StorageErrorCode, [ErrorCode, string]> = {
  NOT_FOUND: ['NOT_FOUND', 'There is no Twofold repository there (or part of it is missing).'],
  UNREACHABLE: ['STORAGE_UNAVAILABLE', 'The storage that holds the repository cannot be reached. Check the network and the server, then try again.'],
  AUTH_FAILED: ['STORAGE_AUTH_FAILED', 'The storage refused the credentials: check the user name, key, password or access key.'],
  HOST_KEY_UNKNOWN: ['STORAGE_HOST_KEY', "The server's key is not known yet: confirm its fingerprint before connecting."],
  HOST_KEY_CHANGED: [
    'STORAGE_HOST_KEY',
    "The server's key is not the one confirmed before. Twofold refuses to connect: ask whoever runs the server why it changed.",
  ],
  BUCKET_MISSING: ['NOT_FOUND', 'There is no such bucket on that storage.'],
  PERMISSION_DENIED: ['STORAGE_UNAVAILABLE', 'The storage refuses access (permission denied).'],
  NO_SPACE: ['DISK_FULL', 'The storage that holds the repository is full (or over its quota). Free some space there, then run it again.'],
  FAILED: ['STORAGE_UNAVAILABLE', 'The storage that holds the repository failed.'],
};

/** A StorageError as the typed error a person sees: a folder's by its errno, as ever; a remote's by its code. */
export function storageFailure(e: StorageError, side: StorageSide = 'repository'): CoreError {
  const local = e.cause !== undefined ? storageError(e.cause, side) : null;
  if (local) return local;
  const [code, message] = REMOTE[e.code];
  return new CoreError(code, e.fingerprint ? `${message} (${e.fingerprint})` : message, { cause: e });
}

/** Opening a repository whose config is not there (or cannot be read). */
export function noRepository(e: unknown): CoreError {
  if (e instanceof StorageError && e.code !== 'NOT_FOUND' && e.code !== 'FAILED') return storageFailure(e);
  return new CoreError('NOT_FOUND', 'There is no Twofold repository there (or it cannot be read).', { cause: e });
}

export const INTERNAL_MESSAGE = 'Something went wrong inside Twofold Backup.';

/** Any error as the typed one a person sees: CoreErrors as they are, storage failures worded, the rest internal. */
export function toUserError(e: unknown, side: StorageSide = 'repository'): CoreError {
  if (e instanceof CoreError) return e;
  if (e instanceof StorageError) return storageFailure(e, side);
  const code = errno(e);
  // An engine error that crossed from a worker thread keeps its code (pool.ts).
  if (code && (ERROR_CODES as readonly string[]).includes(code)) return new CoreError(code as ErrorCode, (e as Error).message, { cause: e });
  return storageError(e, side) ?? new CoreError('INTERNAL', INTERNAL_MESSAGE, { cause: e });
}

// ---- what a job waits on ----

/** A rate as the job card shows rates (binary units): "512 KiB/s", "1.5 MiB/s". */
function rate(bytesPerSecond: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = bytesPerSecond;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 || v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}/s`;
}

const RETRY_AFTER: Record<Exclude<RetryCause, 'throttled'>, string> = {
  network: 'a network error',
  timeout: 'it stopped answering',
  server: 'a server error',
};

/** The line a job card shows under the progress bar while something holds the job up. */
export const waiting = {
  storageRetry: (cause: RetryCause): string =>
    cause === 'throttled' ? 'Waiting for the storage (it asked to slow down: retrying)' : `Waiting for the storage (retrying after ${RETRY_AFTER[cause]})`,
  uploadLimit: (bytesPerSecond: number): string => `Uploading at your upload limit (${rate(bytesPerSecond)})`,
  downloadLimit: (bytesPerSecond: number): string => `Downloading at your download limit (${rate(bytesPerSecond)})`,
};
