/**
 * What an SFTP server (or the SSH connection, or the network on the way) said, as a
 * StorageErrorCode. Two kinds of failure: the connection's (refused, reset, timed out, host key,
 * authentication), and an SFTP request's status (no such file, permission denied, failure).
 * Transient ones (a connection lost or refused, a timeout) are retried by the pool; what reaches
 * the caller is final. A detail names the operation, the object and the code; it never holds a
 * password, passphrase or key (ssh2's texts do not, and the key text never reaches one).
 */
import { NETWORK_ERRNOS, StorageError, type StorageErrorCode } from './storage.js';

/** SFTP status codes (draft-ietf-secsh-filexfer-02, and the later drafts' no-space ones). */
export const SFTP_STATUS = {
  EOF: 1,
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  FAILURE: 4,
  BAD_MESSAGE: 5,
  NO_CONNECTION: 6,
  CONNECTION_LOST: 7,
  OP_UNSUPPORTED: 8,
  NO_SPACE_ON_FILESYSTEM: 14,
  QUOTA_EXCEEDED: 15,
} as const;

interface Ssh2ErrorShape {
  message?: unknown;
  code?: unknown;
  level?: unknown;
}

/** The numeric SFTP status of a request's failure, when it is one. */
export function sftpStatus(e: unknown): number | undefined {
  const code = (e as Ssh2ErrorShape | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function nodeCode(e: unknown): string | undefined {
  const code = (e as Ssh2ErrorShape | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(e: unknown): string {
  const m = (e as Ssh2ErrorShape | null)?.message;
  return typeof m === 'string' ? m : String(e);
}

/** The connection went away under a request, or could not be made for now: worth another attempt. */
export function isTransient(e: unknown): boolean {
  // Ours are final: a refused host key, a classified answer.
  if (e instanceof StorageError) return false;
  const status = sftpStatus(e);
  if (status === SFTP_STATUS.NO_CONNECTION || status === SFTP_STATUS.CONNECTION_LOST) return true;
  if (status !== undefined) return false;
  const code = nodeCode(e);
  if (code === 'ENOTFOUND') return false; // no such host: a typo, not a passing failure
  if (code && NETWORK_ERRNOS.has(code)) return true;
  const level = (e as Ssh2ErrorShape | null)?.level;
  if (level === 'client-timeout' || level === 'client-socket') return true;
  return /No response from server|Not connected|Channel (?:not open|closed)|Keepalive timeout|Timed out/i.test(messageOf(e));
}

/** A failure to connect (or a connection lost) as a StorageError. */
export function classifiedConnect(e: unknown, what: string): StorageError {
  if (e instanceof StorageError) return e;
  const message = messageOf(e);
  const level = (e as Ssh2ErrorShape | null)?.level;
  if (/^Cannot parse privateKey/.test(message) || /private key/i.test(message)) {
    const why = /passphrase/i.test(message)
      ? 'the passphrase of the private key is wrong (or missing)'
      : 'the private key cannot be read (not an OpenSSH or PEM private key)';
    return new StorageError('AUTH_FAILED', `${what}: ${why}`);
  }
  if (level === 'client-authentication' || /authentication methods failed/i.test(message)) {
    return new StorageError('AUTH_FAILED', `${what}: the server refused the user name and credentials`);
  }
  if (level === 'agent' || /agent/i.test(message)) return new StorageError('AUTH_FAILED', `${what}: the SSH agent failed (${message})`);
  const code = nodeCode(e);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new StorageError('UNREACHABLE', `${what}: no such host (${code})`);
  if (code === 'ECONNREFUSED') return new StorageError('UNREACHABLE', `${what}: connection refused (is the SSH server running on that port?)`);
  if (code && NETWORK_ERRNOS.has(code)) return new StorageError('UNREACHABLE', `${what}: ${code}`);
  if (level === 'client-timeout' || /Timed out/i.test(message)) {
    return new StorageError('UNREACHABLE', `${what}: timed out waiting for the SSH server`);
  }
  if (isTransient(e)) return new StorageError('UNREACHABLE', `${what}: the connection was lost`);
  return new StorageError('FAILED', `${what}: ${message.slice(0, 200)}`);
}

const BY_STATUS: Partial<Record<number, StorageErrorCode>> = {
  [SFTP_STATUS.NO_SUCH_FILE]: 'NOT_FOUND',
  [SFTP_STATUS.PERMISSION_DENIED]: 'PERMISSION_DENIED',
  [SFTP_STATUS.NO_SPACE_ON_FILESYSTEM]: 'NO_SPACE',
  [SFTP_STATUS.QUOTA_EXCEEDED]: 'NO_SPACE',
};

/** A request's failure (or the connection's, under it) as a StorageError. */
export function classifiedSftp(e: unknown, what: string): StorageError {
  if (e instanceof StorageError) return e;
  const status = sftpStatus(e);
  if (status === undefined) return classifiedConnect(e, what);
  const message = messageOf(e);
  if (status === SFTP_STATUS.NO_CONNECTION || status === SFTP_STATUS.CONNECTION_LOST) {
    return new StorageError('UNREACHABLE', `${what}: the connection was lost`);
  }
  // OpenSSH answers a full disk with a plain FAILURE; other servers word it.
  const code = BY_STATUS[status] ?? (/no space|quota|disk full/i.test(message) ? 'NO_SPACE' : 'FAILED');
  return new StorageError(code, `${what}: ${message.slice(0, 120)} (SFTP status ${status})`);
}
