/**
 * The store: one SQLite file in the user data folder, WAL mode, migrations applied at open.
 * Every multi-step change goes through `tx`, so a crash leaves either all of it or none.
 * The folder is 0700 and the files 0600: SQLite gives its -wal and -shm files the database
 * file's mode, so the database is created 0600 before SQLite opens it.
 */
import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

/**
 * Runs around every outermost transaction of `tx` (the state seal, state-seal.ts): `before`
 * and `after` inside it, `committed` once it has committed.
 */
export interface WriteGuard {
  before(): void;
  after(): void;
  committed(): void;
}

export interface Store {
  readonly db: Db;
  readonly path: string;
  /** Run `fn` in one IMMEDIATE transaction (takes the write lock first, so checks and writes agree). */
  tx<T>(fn: () => T): T;
  /** Install the guard that every outermost transaction runs (one at most). */
  guard(guard: WriteGuard): void;
  close(): void;
}

export const DATABASE_FILE = 'twofold.db';

export function openStore(dataDir: string): Store {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  const path = join(dataDir, DATABASE_FILE);
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(file)) chmodSync(file, 0o600);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // FULL: a committed change survives power loss, which the throttle and password change rely on.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  let writeGuard: WriteGuard | null = null;
  return {
    db,
    path,
    tx<T>(fn: () => T): T {
      const guard = writeGuard;
      // Nested calls run as savepoints inside the outer transaction, which the guard covers.
      if (!guard || db.inTransaction) return db.transaction(fn).immediate();
      const result = db
        .transaction(() => {
          guard.before();
          const value = fn();
          guard.after();
          return value;
        })
        .immediate();
      guard.committed();
      return result;
    },
    guard(guard) {
      if (writeGuard) throw new Error('The store already has a write guard.');
      writeGuard = guard;
    },
    close: () => db.close(),
  };
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db): void {
  const current = schemaVersion(db);
  if (current > MIGRATIONS.length) {
    throw new Error(`This data folder was written by a newer version of Twofold Backup (schema ${current}); update the app to open it.`);
  }
  for (let version = current + 1; version <= MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version - 1]!);
      db.pragma(`user_version = ${version}`);
    }).immediate();
  }
}

/** A value from the `meta` table, created once with `init` when missing. */
export function metaValue(store: Store, key: string, init: () => string): string {
  return store.tx(() => {
    const row = store.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    if (row) return row.value;
    const value = init();
    store.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(key, value);
    return value;
  });
}
