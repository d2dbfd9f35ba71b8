/**
 * Where a repository's files live. The engine names every file by its path inside the repository,
 * with `/` separators and no leading slash (`config`, `keys/<id>`, `data/<ab>/<id>`, `index/<id>`,
 * `snapshots/<id>`, `locks/<id>`); a Storage maps those names onto a folder, an SFTP server or an
 * S3 bucket (docs/repository-format.md, "Storage"). Every storage is treated as hostile: what it
 * returns is authenticated by the engine, never trusted by the storage layer.
 *
 * The contract every implementation keeps:
 * - `write` is atomic and create-only: a reader sees no object or the whole object, never a part;
 *   an object that already exists with the same name is left alone and the write succeeds when its
 *   size matches (content-addressed names make a repeat the same bytes), so a resumed upload is
 *   harmless and an append-only account (which may not overwrite) is enough for backups.
 *   `config` is the one object rewritten in place (format upgrade): `replace` does that.
 * - `list(dir)` returns every object below `dir` (recursive), names relative to the repository root.
 * - `read` of a missing object throws StorageError('NOT_FOUND').
 * - `delete` of a missing object succeeds (a prune that was interrupted runs again).
 * - Transient failures (reset, timeout, 5xx, throttling) are retried inside the storage with
 *   backoff; what reaches the caller is final, classified by StorageErrorCode. While it retries,
 *   a storage tells whoever `watch`es it (a job's progress shows what it is waiting on).
 */

/** A local file to upload as one object: its size, and its SHA-256 when the caller knows it already (a pack's is its id). */
export interface StagedFile {
  file: string;
  size: number;
  /** Hex SHA-256 of the file's bytes: an S3 upload signs with it instead of hashing the file again. */
  sha256?: string;
}

export interface StorageObject {
  /** Path inside the repository, `/`-separated, e.g. `data/3f/3f0c…`. */
  readonly name: string;
  readonly size: number;
}

export type StorageKind = 'folder' | 'sftp' | 's3';

/** Why a request is tried again: the connection failed, it timed out, the server failed (5xx) or asked to slow down. */
export type RetryCause = 'network' | 'timeout' | 'server' | 'throttled';

/** What a storage reports while it works, for the progress of the job using it (backup-progress.ts). */
export type StorageEvent =
  /** A request failed transiently and will be tried again; `attempt` (2 or more) of at most `attempts`. */
  | { type: 'retrying'; cause: RetryCause; attempt: number; attempts: number }
  /** A request that had to be tried again is over: it went through (`ok`) or failed for good. */
  | { type: 'retried'; ok: boolean }
  /** A request waits `ms` for the bandwidth limit of its direction (bandwidth.ts). */
  | { type: 'limited'; direction: 'upload' | 'download'; ms: number; bytesPerSecond: number };

export type StorageListener = (event: StorageEvent) => void;

/**
 * A bandwidth limit's two buckets (bandwidth.ts), for a storage that paces its own transfers on
 * the wire: `up(n)` is awaited before n bytes are sent, `down(n)` after n bytes came in.
 */
export interface Pacer {
  up?(bytes: number): Promise<void>;
  down?(bytes: number): Promise<void>;
}

/** The listeners of a storage's `watch`; a listener that throws never breaks the storage. */
export class StorageListeners {
  private readonly listeners = new Set<StorageListener>();

  add(listener: StorageListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  emit(event: StorageEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // What a job shows must never fail the storage's request.
      }
    }
  }
}

export interface Storage {
  readonly kind: StorageKind;
  /** Where it is, for people: `/mnt/nas/backups`, `sftp://backup@nas:22/srv/twofold`, `s3://bucket/prefix (endpoint)`. Never a secret. */
  readonly location: string;
  /** True when these credentials can add but not delete or overwrite (append-only accounts). */
  readonly appendOnly: boolean;
  /**
   * Requests it serves at once (S3 connections, SFTP sessions): a backup keeps that many pack
   * uploads in flight. Absent: one (a folder, where storing a pack is a rename).
   */
  readonly connections?: number;
  /** Make the folders a new repository needs (folders only; object stores have none). Idempotent. */
  prepare(): Promise<void>;
  stat(name: string): Promise<StorageObject | null>;
  list(dir: string): Promise<StorageObject[]>;
  read(name: string, range?: { offset: number; length: number }): Promise<Buffer>;
  /**
   * Atomic, create-only (see above). `data` may be a local file to upload (large packs): the
   * storage may consume it (a folder storage renames it into place); the caller removes
   * whatever is left of it afterwards.
   */
  write(name: string, data: Buffer | StagedFile): Promise<void>;
  /** Atomic replace of an existing object (only `config`, on a format upgrade). */
  replace(name: string, data: Buffer): Promise<void>;
  delete(name: string): Promise<void>;
  close(): Promise<void>;
  /**
   * Bytes free where the repository lives (a folder's file system, an SFTP server's through
   * statvfs@openssh.com), or null where the storage cannot tell. Absent: never known (S3).
   */
  freeBytes?(): Promise<number | null>;
  /**
   * Where the engine stages packs before `write({ file })`: a local folder. A folder storage
   * gives its own `tmp/`, so installing a pack is a rename; a remote one leaves it out and the
   * engine uses a local temp folder (docs/repository-format.md, "Storage").
   */
  stagingDir?(): string;
  /**
   * The local file that holds an object, when there is one (a folder storage): worker threads
   * then read packs straight from it. Remote storages leave it out; the engine fetches the
   * objects it must read whole (a pack to verify, a restore's packs) through `read`.
   */
  localPath?(name: string): string;
  /**
   * Fetch a whole object into a new local file (mode 0600), streamed: what a restore or a check
   * of a remote repository does with each pack. A storage without it is read into memory and
   * written out (LocalStaging). On failure the caller removes what was written.
   */
  download?(name: string, file: string): Promise<void>;
  /**
   * Listen to what the storage is doing that a person waits on (retries, a bandwidth limit);
   * returns the function that stops listening. A storage with nothing to report (a folder) leaves it out.
   */
  watch?(listener: StorageListener): () => void;
  /**
   * From now on, send and receive object bytes through `pacer`, chunk by chunk as they go on the
   * wire (S3). A storage that leaves it out is paced per request by the bandwidth wrapper.
   */
  paceWith?(pacer: Pacer): void;
}

export type StorageErrorCode =
  | 'NOT_FOUND' // the object (or the repository) is not there
  | 'UNREACHABLE' // host down, DNS, refused, timed out after retries
  | 'AUTH_FAILED' // wrong key, password, passphrase or access key
  | 'HOST_KEY_UNKNOWN' // SFTP: first connection, the fingerprint must be confirmed by the user
  | 'HOST_KEY_CHANGED' // SFTP: the server's key is not the pinned one: refused, never accepted silently
  | 'BUCKET_MISSING' // S3: no such bucket
  | 'PERMISSION_DENIED' // authenticated, but not allowed (e.g. delete on an append-only account)
  | 'NO_SPACE' // disk full / quota
  | 'FAILED'; // anything else, with technical detail

/** Node's codes for a server that cannot be reached or a connection cut off (refused, no route, no such host, reset): UNREACHABLE to every remote storage. */
export const NETWORK_ERRNOS: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** A storage failure: `code` is stable, `detail` is short technical text (never a secret). */
export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    readonly detail: string,
    options: { cause?: unknown; fingerprint?: string } = {},
  ) {
    super(`${code}: ${detail}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StorageError';
    this.fingerprint = options.fingerprint;
  }
  /** HOST_KEY_UNKNOWN / HOST_KEY_CHANGED: the server's key, `SHA256:…` as OpenSSH prints it. */
  readonly fingerprint: string | undefined;
}

export function isStorageError(e: unknown, code?: StorageErrorCode): e is StorageError {
  return e instanceof StorageError && (code === undefined || e.code === code);
}

/** A missing object, as a Storage says it (or as the file system did before it). */
export function isNotFound(e: unknown): boolean {
  return isStorageError(e, 'NOT_FOUND') || (e as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

/** The name of a pack: under data/, in the folder of its first two hex digits. */
export function packName(packId: string): string {
  return `data/${packId.slice(0, 2)}/${packId}`;
}

/** The object a connection test writes at a repository's root (and deletes, where it may). */
export const PROBE_PREFIX = 'connection-test-';

export function isProbeName(name: string): boolean {
  return name.startsWith(PROBE_PREFIX) && !name.includes('/');
}

/** The last part of a name (`data/3f/3f0c…` -> `3f0c…`). */
export function baseName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}
