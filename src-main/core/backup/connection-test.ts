/**
 * Test connection: reach a remote location with the credentials given, and say exactly what
 * is wrong (a StorageErrorCode and its words, CONNECTION_TEST_MESSAGES). Nothing is stored:
 * the test writes one small object of its own and deletes it again; a delete the server refuses
 * means these credentials are append-only (the object then stays, named as a test).
 * An SFTP server's key is read first: unknown, it is returned to be confirmed; not the one
 * confirmed, the test stops there and sends no credential to that server.
 */
import { randomBytes } from 'node:crypto';
import type { TestConnectionOutcome } from '../../../src-shared/contract-repositories.js';
import { splitLocation, type RemoteLocationInput } from '../../../src-shared/repository-location.js';
import { CONNECTION_TEST_MESSAGES } from './messages.js';
import { storageFor } from './repository-access.js';
import { isStorageError, PROBE_PREFIX, StorageError, type Storage } from './engine/storage/storage.js';

/** A test answers within seconds: one attempt more, and short timeouts. */
const TEST_LIMITS = { connectTimeoutMs: 8_000, maxAttempts: 2 };
const PROBE = Buffer.from('Twofold Backup connection test: safe to delete.\n');

/** The key an SFTP server presents, `SHA256:…` (engine/storage/sftp.ts). */
export type HostKeyReader = (o: { host: string; port: number; connectTimeoutMs: number }) => Promise<{ fingerprint: string; algorithm: string }>;

type Found = Pick<TestConnectionOutcome, 'fingerprint' | 'algorithm' | 'repositoryFound' | 'appendOnly'>;

function outcome(code: TestConnectionOutcome['code'], found: Partial<Found> = {}): TestConnectionOutcome {
  return {
    code,
    message: CONNECTION_TEST_MESSAGES[code],
    fingerprint: found.fingerprint ?? null,
    algorithm: found.algorithm ?? null,
    repositoryFound: found.repositoryFound ?? null,
    appendOnly: found.appendOnly ?? null,
  };
}

/** A failure as the test's answer; anything that is not a StorageError is FAILED (its text may not be safe to show). */
function failed(e: unknown, found: Partial<Found>): TestConnectionOutcome {
  if (!(e instanceof StorageError)) return outcome('FAILED', found);
  return outcome(e.code, { ...found, fingerprint: e.fingerprint ?? found.fingerprint ?? null });
}

export async function testConnection(input: RemoteLocationInput, hostKeyOf: HostKeyReader): Promise<TestConnectionOutcome> {
  const { location, credentials } = splitLocation(input);
  const found: Partial<Found> = {};
  if (location.kind === 'sftp') {
    try {
      const key = await hostKeyOf({ host: location.host, port: location.port, connectTimeoutMs: TEST_LIMITS.connectTimeoutMs });
      found.fingerprint = key.fingerprint;
      found.algorithm = key.algorithm;
    } catch (e) {
      return failed(e, found);
    }
    if (location.hostKey === null) return outcome('HOST_KEY_UNKNOWN', found);
    if (location.hostKey !== found.fingerprint) return outcome('HOST_KEY_CHANGED', found);
  }
  const storage = storageFor(location, credentials, { appendOnly: false, connections: 1, ...TEST_LIMITS });
  try {
    await storage.prepare();
    found.repositoryFound = (await storage.stat('config')) !== null;
    const probe = `${PROBE_PREFIX}${randomBytes(8).toString('hex')}`;
    const writer = await writeProbe(storage, probe, () => storageFor(location, credentials, { appendOnly: true, connections: 1, ...TEST_LIMITS }));
    try {
      found.appendOnly = await appendOnlyAfter(writer, probe);
    } finally {
      if (writer !== storage) await writer.close();
    }
    return { ...outcome('OK', found), message: found.appendOnly ? CONNECTION_TEST_MESSAGES.OK_APPEND_ONLY : CONNECTION_TEST_MESSAGES.OK };
  } catch (e) {
    return failed(e, found);
  } finally {
    await storage.close().catch(() => undefined);
  }
}

/**
 * Write the probe. An SFTP account that may not rename (append-only: `internal-sftp -P rename`)
 * refuses the usual temp-then-rename write; the append-only storage writes without renaming,
 * so the probe is tried with it before the answer is "no write permission".
 */
async function writeProbe(storage: Storage, probe: string, appendOnlyStorage: () => Storage): Promise<Storage> {
  try {
    await storage.write(probe, PROBE);
    return storage;
  } catch (e) {
    if (storage.kind !== 'sftp' || !isStorageError(e, 'PERMISSION_DENIED')) throw e;
  }
  const other = appendOnlyStorage();
  try {
    await other.write(probe, PROBE);
    return other;
  } catch (e) {
    await other.close().catch(() => undefined);
    throw e;
  }
}

/** Delete the probe: refused, or still there afterwards, means the credentials cannot delete. */
async function appendOnlyAfter(storage: Storage, probe: string): Promise<boolean> {
  try {
    await storage.delete(probe);
  } catch (e) {
    if (isStorageError(e, 'PERMISSION_DENIED')) return true;
    throw e;
  }
  return (await storage.stat(probe)) !== null;
}
