/**
 * Versioned schema migrations. Migration N brings the schema from version N-1 to N; the
 * applied version lives in SQLite's `user_version`. Append only: never edit a released step.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: the installation, the account and its password lock, throttle, sealed records, settings.
  `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;

  CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    -- Argon2id parameters and salt as JSON, recorded with the verifier they produced.
    kdf         TEXT NOT NULL,
    -- HKDF(argon2id(password) || vault key): tests a password only with the keychain item too.
    verifier    BLOB NOT NULL,
    -- The record key, sealed under a key derived from both the vault key and the password.
    wrapped_dek BLOB NOT NULL
  ) STRICT;

  CREATE TABLE throttle (
    account_id      INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    failures        INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE sealed_records (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    blob       BLOB NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, kind)
  ) STRICT;

  CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;
  `,
  // 2: the audit log of gate events: append-only (triggers refuse edits) and hash-chained (audit.ts).
  `
  CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    time        INTEGER NOT NULL,
    account     TEXT,
    device      TEXT,
    action      TEXT NOT NULL,
    workstation TEXT NOT NULL,
    ip          TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    -- Short free text for people; never a secret, code or password.
    detail      TEXT,
    -- HMAC-SHA-256 chain: mac = HMAC(key, prev_mac || the row), so an edit or a gap shows.
    prev_mac    BLOB NOT NULL,
    mac         BLOB NOT NULL
  ) STRICT;

  CREATE INDEX audit_log_time ON audit_log (time);
  CREATE INDEX audit_log_action ON audit_log (action);

  -- Even our own code cannot rewrite history; the chain still catches edits made without these.
  CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
  END;

  CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
  END;

  -- INSERT OR REPLACE deletes the old row without firing delete triggers; refuse a taken id.
  CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
  WHEN EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id)
  BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
  END;
  `,
  // 3: the backup engine: connected repositories (master key wrapped by the vault), backup sets, run history.
  `
  CREATE TABLE backup_repositories (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    path        TEXT NOT NULL UNIQUE,
    -- The repository's own id (its config file), checked when it is opened.
    repo_id     TEXT NOT NULL,
    -- The master key sealed (AES-256-GCM) under HKDF(vault key): opens while the app is locked.
    wrapped_key BLOB NOT NULL,
    created_at  INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE backup_sets (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    repository_id     TEXT NOT NULL REFERENCES backup_repositories(id) ON DELETE RESTRICT,
    sources           TEXT NOT NULL,
    excludes          TEXT NOT NULL,
    schedule          TEXT,
    retention         TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    -- When the scheduler last started this set: the next run is the schedule's next time after it.
    last_scheduled_at INTEGER
  ) STRICT;

  CREATE TABLE backup_runs (
    id          INTEGER PRIMARY KEY,
    set_id      TEXT NOT NULL REFERENCES backup_sets(id) ON DELETE CASCADE,
    trigger     TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    state       TEXT NOT NULL,
    snapshot_id TEXT,
    files       INTEGER,
    bytes       INTEGER,
    data_added  INTEGER,
    errors      INTEGER,
    message     TEXT
  ) STRICT;

  CREATE INDEX backup_runs_set ON backup_runs (set_id, id);
`,
  // 4: packs a check found damaged in a connected repository: backups store their data again,
  // restores read another copy first; repair removes them (and the row).
  `
  CREATE TABLE backup_damaged_packs (
    repository_id TEXT NOT NULL REFERENCES backup_repositories(id) ON DELETE CASCADE,
    pack_id       TEXT NOT NULL,
    found_at      INTEGER NOT NULL,
    PRIMARY KEY (repository_id, pack_id)
  ) STRICT;
`,
  // 5: repositories off this machine (SFTP, S3). The location is JSON without a secret (path
  // holds its text, still unique); the credentials are sealed (AES-256-GCM) under HKDF(vault
  // key), bound to the row like the master key; append_only makes forget and prune ask for
  // maintenance credentials.
  `
  ALTER TABLE backup_repositories ADD COLUMN kind TEXT NOT NULL DEFAULT 'folder';
  ALTER TABLE backup_repositories ADD COLUMN location TEXT;
  ALTER TABLE backup_repositories ADD COLUMN sealed_credentials BLOB;
  ALTER TABLE backup_repositories ADD COLUMN append_only INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE backup_repositories ADD COLUMN connections INTEGER;
`,
];
