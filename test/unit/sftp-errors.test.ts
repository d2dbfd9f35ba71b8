/**
 * What an SFTP server or the SSH connection says, as the StorageErrorCode a person is shown
 * (src-main/core/backup/engine/storage/sftp-errors.ts), and host key fingerprints
 * (sftp-host-key.ts). The integration test meets the common answers from a real sshd; these are
 * the ones OpenSSH does not give (the later drafts' no-space codes, other servers' wording) and
 * what decides whether an attempt is run again.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { classifiedConnect, classifiedSftp, isTransient, SFTP_STATUS } from '../../src-main/core/backup/engine/storage/sftp-errors.js';
import { algorithmOf, fingerprintOf, hostKeyCheck, sameFingerprint } from '../../src-main/core/backup/engine/storage/sftp-host-key.js';
import { StorageError } from '../../src-main/core/backup/engine/storage/storage.js';

const status = (code: number, message = '') => Object.assign(new Error(message), { code });
const network = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:22`), { code, level: 'client-socket' });

describe('an SFTP request that fails is classified by its status', () => {
  it.each([
    [SFTP_STATUS.NO_SUCH_FILE, 'No such file', 'NOT_FOUND'],
    [SFTP_STATUS.PERMISSION_DENIED, 'Permission denied', 'PERMISSION_DENIED'],
    [SFTP_STATUS.NO_SPACE_ON_FILESYSTEM, 'No space on filesystem', 'NO_SPACE'],
    [SFTP_STATUS.QUOTA_EXCEEDED, 'Quota exceeded', 'NO_SPACE'],
    [SFTP_STATUS.FAILURE, 'Disk full', 'NO_SPACE'],
    [SFTP_STATUS.FAILURE, 'Failure', 'FAILED'],
    [SFTP_STATUS.OP_UNSUPPORTED, 'Operation unsupported', 'FAILED'],
    [SFTP_STATUS.CONNECTION_LOST, 'Connection lost', 'UNREACHABLE'],
  ])('status %i (%s) is %s', (code, message, expected) => {
    const e = classifiedSftp(status(code, message), 'write data/ab/ab12');
    expect(e.code).toBe(expected);
    expect(e.detail.startsWith('write data/ab/ab12: ')).toBe(true);
  });

  it('keeps a StorageError as it is', () => {
    const mine = new StorageError('HOST_KEY_CHANGED', 'x', { fingerprint: 'SHA256:abc' });
    expect(classifiedSftp(mine, 'read')).toBe(mine);
  });
});

describe('a connection that fails is classified', () => {
  it.each([
    [network('ECONNREFUSED'), 'UNREACHABLE', 'connection refused (is the SSH server running on that port?)'],
    [network('ECONNRESET'), 'UNREACHABLE', 'ECONNRESET'],
    [Object.assign(new Error('getaddrinfo ENOTFOUND nas'), { code: 'ENOTFOUND' }), 'UNREACHABLE', 'no such host (ENOTFOUND)'],
    [Object.assign(new Error('Timed out while waiting for handshake'), { level: 'client-timeout' }), 'UNREACHABLE', 'timed out waiting for the SSH server'],
    [
      Object.assign(new Error('All configured authentication methods failed'), { level: 'client-authentication' }),
      'AUTH_FAILED',
      'the server refused the user name and credentials',
    ],
    [
      new Error('Cannot parse privateKey: OpenSSH key integrity check failed -- bad passphrase?'),
      'AUTH_FAILED',
      'the passphrase of the private key is wrong (or missing)',
    ],
    [new Error('Cannot parse privateKey: Unsupported key format'), 'AUTH_FAILED', 'the private key cannot be read (not an OpenSSH or PEM private key)'],
  ])('%s', (e, code, detail) => {
    expect(classifiedConnect(e, 'connect backup@nas:22')).toMatchObject({ code, detail: `connect backup@nas:22: ${detail}` });
  });
});

describe('what is tried again', () => {
  it('a connection refused, reset or timed out, a lost connection, a request the connection took with it', () => {
    for (const e of [
      network('ECONNREFUSED'),
      network('ECONNRESET'),
      network('ETIMEDOUT'),
      status(SFTP_STATUS.CONNECTION_LOST),
      status(SFTP_STATUS.NO_CONNECTION),
      new Error('No response from server'),
      Object.assign(new Error('Keepalive timeout'), { level: 'client-timeout' }),
    ]) {
      expect(isTransient(e), String(e)).toBe(true);
    }
  });

  it('never credentials, a host key, a missing file, a refusal, or a host that does not exist', () => {
    for (const e of [
      Object.assign(new Error('All configured authentication methods failed'), { level: 'client-authentication' }),
      new StorageError('HOST_KEY_UNKNOWN', 'x'),
      status(SFTP_STATUS.NO_SUCH_FILE),
      status(SFTP_STATUS.PERMISSION_DENIED),
      status(SFTP_STATUS.FAILURE),
      Object.assign(new Error('getaddrinfo ENOTFOUND nas'), { code: 'ENOTFOUND' }),
    ]) {
      expect(isTransient(e), String(e)).toBe(false);
    }
  });
});

describe('host key fingerprints', () => {
  // The wire form of an ed25519 public key: string "ssh-ed25519", string <32 bytes>.
  const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 7)]);
  const expected = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;

  it('are SHA256 of the key blob in unpadded base64, with the algorithm from the blob', () => {
    expect(fingerprintOf(blob)).toBe(expected);
    expect(algorithmOf(blob)).toBe('ssh-ed25519');
    expect(algorithmOf(Buffer.from([0, 0, 9, 0]))).toBe('unknown');
  });

  it('compare equal with or without the prefix and padding, and differ by one character', () => {
    expect(sameFingerprint(expected, `${expected.slice('SHA256:'.length)}=`)).toBe(true);
    expect(sameFingerprint(expected, `${expected.slice(0, -1)}${expected.endsWith('A') ? 'B' : 'A'}`)).toBe(false);
    expect(sameFingerprint(expected, '')).toBe(false);
  });

  it('refuse a key with nothing pinned (UNKNOWN) or another pinned (CHANGED), each carrying the key seen', () => {
    const unknown = hostKeyCheck(undefined, 'nas:22');
    expect(unknown.verify(blob)).toBe(false);
    expect(unknown.refusal()).toMatchObject({ code: 'HOST_KEY_UNKNOWN', fingerprint: expected });
    const changed = hostKeyCheck('SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'nas:22');
    expect(changed.verify(blob)).toBe(false);
    expect(changed.refusal()).toMatchObject({ code: 'HOST_KEY_CHANGED', fingerprint: expected });
    const pinned = hostKeyCheck(expected, 'nas:22');
    expect(pinned.verify(blob)).toBe(true);
    expect(pinned.refusal()).toBeNull();
  });
});
