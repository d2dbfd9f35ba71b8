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
];
