/**
 * The store: one SQLite file in the user data folder, WAL mode, migrations applied at open.
 * Every multi-step change goes through `tx`, so a crash leaves either all of it or none.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

export interface Store {
  readonly db: Db;
  readonly path: string;
  /** Run `fn` in one IMMEDIATE transaction (takes the write lock first, so checks and writes agree). */
  tx<T>(fn: () => T): T;
  close(): void;
}

export const DATABASE_FILE = 'twofold.db';

export function openStore(dataDir: string): Store {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, DATABASE_FILE);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // FULL: a committed change survives power loss, which the throttle and password change rely on.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return {
    db,
    path,
    tx: <T>(fn: () => T): T => db.transaction(fn).immediate(),
    close: () => db.close(),
  };
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db): void {
  const current = schemaVersion(db);
  if (current > MIGRATIONS.length) {
    throw new Error(
      `This data folder was written by a newer version of Twofold Backup (schema ${current}); update the app to open it.`,
    );
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
