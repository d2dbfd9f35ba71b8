/**
 * Stable error codes shared by every face of the app. A code never changes meaning once
 * released; UIs switch on the code and show `message` (always safe to display: no secret,
 * code or password is ever put into one).
 */
export const ERROR_CODES = [
  'BAD_INPUT',
  'UNKNOWN_METHOD',
  'NOT_ALLOWED',
  'STEP_UP_REQUIRED',
  'AUTH_FAILED',
  'THROTTLED',
  'HARD_STOP',
  'NOT_FOUND',
  'NAME_TAKEN',
  'CONFIRM_REQUIRED',
  'TWO_FACTOR_OFF',
  'SETUP_DONE',
  'NO_ACCOUNT',
  'WEAK_PASSWORD',
  'KEYCHAIN_UNAVAILABLE',
  'KEYCHAIN_ITEM_MISSING',
  'KEYCHAIN_ITEM_MISMATCH',
  'DATA_ROLLED_BACK',
  'RESTORE_REFUSED',
  'VAULT_CORRUPT',
  'PUSH_MUTED',
  'RELAY_UNAVAILABLE',
  'EXPIRED',
  // Another Twofold Backup process uses this data folder (one process per data folder).
  'ALREADY_RUNNING',
  // The backup engine (src-main/core/backup).
  'REPO_EXISTS',
  'REPO_PASSWORD_WRONG',
  'REPO_LOCKED',
  'REPO_DAMAGED',
  'RESTORE_CONFLICT',
  'CANCELLED',
  'JOB_RUNNING',
  // The disk holding the repository (or a restore's target) is full.
  'DISK_FULL',
  // The repository's storage failed: read-only, gone, not answering, refusing access.
  'STORAGE_UNAVAILABLE',
  // The repository's storage (SFTP, S3) refused the credentials.
  'STORAGE_AUTH_FAILED',
  // An SFTP server's key is unknown (to be confirmed) or not the one confirmed before.
  'STORAGE_HOST_KEY',
  // An append-only repository deletes only with maintenance credentials given for that call.
  'MAINTENANCE_REQUIRED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The wire shape of an error, as every face receives it. */
export interface ApiError {
  code: ErrorCode;
  message: string;
  /** For THROTTLED: how long until the next attempt is accepted. */
  retryAfterMs?: number;
}

export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiError };
