/**
 * What a person is told when the repository's storage fails: a folder's failures worded by their
 * errno as before (a full disk, a drive that went away), a remote storage's by the StorageError
 * code, each with a stable error code; and a place with no config is "no repository there".
 */
import { describe, expect, it } from 'vitest';
import { toUserError } from '../../src-main/core/backup/engine/messages.js';
import { Repository } from '../../src-main/core/backup/engine/repository.js';
import { StorageError } from '../../src-main/core/backup/engine/storage/storage.js';
import { ERROR_CODES } from '../../src-shared/errors.js';
import { MemoryStorage } from '../helpers/memory-storage.js';

const errno = (code: string) => Object.assign(new Error(`${code}: write`), { code });

describe('storage failures, for people', () => {
  it('words a folder failure by its errno, as the file system said it', () => {
    const full = toUserError(new StorageError('NO_SPACE', 'data/ab/…: ENOSPC', { cause: errno('ENOSPC') }));
    expect(full.code).toBe('DISK_FULL');
    expect(full.message).toMatch(/disk that holds the repository is full/);
    const gone = toUserError(new StorageError('UNREACHABLE', 'index/…: ENOTCONN', { cause: errno('ENOTCONN') }));
    expect(gone).toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect(gone.message).toMatch(/network share/);
  });

  it('words a remote failure by its code, never with the technical detail', () => {
    expect(toUserError(new StorageError('AUTH_FAILED', 'publickey refused for backup@nas'))).toMatchObject({ code: 'STORAGE_AUTH_FAILED' });
    expect(toUserError(new StorageError('UNREACHABLE', 'ECONNREFUSED 10.0.0.2:22')).message).not.toMatch(/10\.0\.0\.2/);
    expect(toUserError(new StorageError('NO_SPACE', 'quota exceeded'))).toMatchObject({ code: 'DISK_FULL' });
    expect(toUserError(new StorageError('BUCKET_MISSING', 'NoSuchBucket'))).toMatchObject({ code: 'NOT_FOUND' });
    const changed = toUserError(new StorageError('HOST_KEY_CHANGED', 'mismatch', { fingerprint: 'SHA256:abc' }));
    expect(changed).toMatchObject({ code: 'STORAGE_HOST_KEY' });
    expect(changed.message).toContain('SHA256:abc');
    for (const code of ['STORAGE_AUTH_FAILED', 'STORAGE_HOST_KEY']) expect(ERROR_CODES).toContain(code);
  });

  it('says there is no repository where there is no config', async () => {
    await expect(Repository.readConfig(new MemoryStorage())).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'There is no Twofold repository there (or it cannot be read).',
    });
  });
});
