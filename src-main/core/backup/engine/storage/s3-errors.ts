/**
 * What an S3 server (or the network on the way to it) said, as a StorageErrorCode. The SDK has
 * retried transient failures with backoff before an error gets here, so what is transient here
 * (refused, timed out, 5xx, throttled) is final: UNREACHABLE. The detail names the operation, the
 * object and the S3 error code and HTTP status; never a message body, a header or a credential.
 */
import { NETWORK_ERRNOS, StorageError, type RetryCause, type StorageErrorCode } from './storage.js';

const BY_S3_CODE: Record<string, StorageErrorCode> = {
  NoSuchBucket: 'BUCKET_MISSING',
  InvalidAccessKeyId: 'AUTH_FAILED',
  SignatureDoesNotMatch: 'AUTH_FAILED',
  InvalidToken: 'AUTH_FAILED',
  ExpiredToken: 'AUTH_FAILED',
  TokenRefreshRequired: 'AUTH_FAILED',
  InvalidClientTokenId: 'AUTH_FAILED',
  AuthorizationHeaderMalformed: 'AUTH_FAILED',
  AccessDenied: 'PERMISSION_DENIED',
  AllAccessDisabled: 'PERMISSION_DENIED',
  AccountProblem: 'PERMISSION_DENIED',
  NoSuchKey: 'NOT_FOUND',
  NotFound: 'NOT_FOUND',
  QuotaExceeded: 'NO_SPACE',
  XMinioStorageFull: 'NO_SPACE',
  SlowDown: 'UNREACHABLE',
  Throttling: 'UNREACHABLE',
  ThrottlingException: 'UNREACHABLE',
  RequestTimeout: 'UNREACHABLE',
  RequestTimeTooSkewed: 'FAILED',
  ServiceUnavailable: 'UNREACHABLE',
  InternalError: 'UNREACHABLE',
  TimeoutError: 'UNREACHABLE',
};

/** The network errnos every storage knows, and undici's socket failure (the SDK's HTTP client). */
const NETWORK_CODES: ReadonlySet<string> = new Set([...NETWORK_ERRNOS, 'UND_ERR_SOCKET']);

interface SdkErrorShape {
  name?: unknown;
  Code?: unknown;
  code?: unknown;
  errno?: unknown;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number };
}

/** The HTTP status of an SDK error, when the server answered at all. */
export function httpStatus(e: unknown): number | undefined {
  const err = (e ?? {}) as SdkErrorShape;
  return err.$metadata?.httpStatusCode ?? err.$response?.statusCode;
}

/** The S3 error code (`NoSuchKey`) of an SDK error, or the Node code (`ECONNREFUSED`) of a network one. */
export function s3Code(e: unknown): string {
  const err = (e ?? {}) as SdkErrorShape;
  if (typeof err.Code === 'string') return err.Code;
  const nodeCode = networkCode(e);
  if (nodeCode) return nodeCode;
  return typeof err.name === 'string' ? err.name : 'Error';
}

function networkCode(e: unknown, depth = 0): string | undefined {
  const err = (e ?? {}) as SdkErrorShape;
  if (typeof err.code === 'string' && NETWORK_CODES.has(err.code)) return err.code;
  if (err.errno !== undefined && typeof err.code === 'string') return err.code;
  // AggregateError (happy eyeballs: every address refused) and wrapped causes.
  const nested = (e as { errors?: unknown[] } | null)?.errors;
  if (Array.isArray(nested) && nested.length > 0 && depth < 3) return networkCode(nested[0], depth + 1);
  return err.cause !== undefined && depth < 3 ? networkCode(err.cause, depth + 1) : undefined;
}

/** The StorageErrorCode of what the SDK threw. */
export function s3ErrorCode(e: unknown): StorageErrorCode {
  const code = s3Code(e);
  const mapped = BY_S3_CODE[code];
  if (mapped) return mapped;
  if (NETWORK_CODES.has(code)) return 'UNREACHABLE';
  const status = httpStatus(e);
  if (status === 404) return 'NOT_FOUND';
  if (status === 403) return 'PERMISSION_DENIED';
  if (status === 401) return 'AUTH_FAILED';
  if (status === 429 || (status !== undefined && status >= 500)) return 'UNREACHABLE';
  return 'FAILED';
}

/**
 * An SDK error as a StorageError. The SDK error is not kept as the cause: it carries the raw
 * response, which a log of the error would print; the detail says all a person needs.
 */
export function classifiedS3(e: unknown, what: string): StorageError {
  if (e instanceof StorageError) return e;
  const status = httpStatus(e);
  const detail = `${what}: ${s3Code(e)}${status === undefined ? '' : ` (HTTP ${status})`}`;
  return new StorageError(s3ErrorCode(e), detail);
}

/** Why the SDK tries a request again, as a job's progress words it; null for a failure it does not retry. */
export function retryCause(e: unknown): RetryCause | null {
  const code = s3Code(e);
  const status = httpStatus(e);
  if (status === 429 || code === 'SlowDown' || code.startsWith('Throttling')) return 'throttled';
  if (code === 'TimeoutError' || code === 'RequestTimeout' || code === 'ETIMEDOUT') return 'timeout';
  if (status !== undefined && status >= 500) return 'server';
  return s3ErrorCode(e) === 'UNREACHABLE' ? 'network' : null;
}
