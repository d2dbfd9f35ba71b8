import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src-main/core/platform/migrations.js';
import { DATABASE_FILE, openStore, schemaVersion } from '../../src-main/core/platform/store.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the store', () => {
  it('creates one SQLite file in WAL mode with every migration applied', () => {
    dir = mkdtempSync(join(tmpdir(), 'twofold-store-'));
    const store = openStore(dir);
    expect(store.path).toBe(join(dir, DATABASE_FILE));
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(schemaVersion(store.db)).toBe(MIGRATIONS.length);
    store.close();
  });

  it('opens an existing file again without re-running migrations', () => {
    dir = mkdtempSync(join(tmpdir(), 'twofold-store-'));
    openStore(dir).close();
    const store = openStore(dir);
    expect(schemaVersion(store.db)).toBe(MIGRATIONS.length);
    store.close();
  });

  it('refuses a database from a newer version, with a clear error, and leaves it untouched', () => {
    dir = mkdtempSync(join(tmpdir(), 'twofold-store-'));
    openStore(dir).close();
    const raw = new Database(join(dir, DATABASE_FILE));
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    raw.close();
    expect(() => openStore(dir)).toThrow(/written by a newer version of Twofold Backup/);
    const check = new Database(join(dir, DATABASE_FILE));
    expect(check.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length + 1);
    check.close();
  });

  it('rolls a failed transaction back whole', () => {
    dir = mkdtempSync(join(tmpdir(), 'twofold-store-'));
    const store = openStore(dir);
    expect(() =>
      store.tx(() => {
        store.db.prepare("INSERT INTO settings (key, value) VALUES ('a', '1')").run();
        throw new Error('crash halfway');
      }),
    ).toThrow('crash halfway');
    expect(store.db.prepare('SELECT count(*) FROM settings').pluck().get()).toBe(0);
    store.close();
  });
});
