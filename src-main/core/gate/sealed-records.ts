/** Records sealed under the account's record key, one blob per (account, kind). */
import type { Store } from '../platform/store.js';
import type { Vault } from './vault.js';

export class SealedRecords {
  constructor(
    private readonly store: Store,
    private readonly vault: Vault,
  ) {}

  read(accountId: number, recordKey: Buffer, kind: string): Buffer | null {
    const row = this.store.db.prepare('SELECT blob FROM sealed_records WHERE account_id = ? AND kind = ?').get(accountId, kind) as { blob: Buffer } | undefined;
    return row ? this.vault.openRecord(recordKey, accountId, kind, row.blob) : null;
  }

  /** Write within the caller's transaction when there is one (better-sqlite3 nests as savepoints). */
  write(accountId: number, recordKey: Buffer, kind: string, plaintext: Buffer, now: number): void {
    const blob = this.vault.sealRecord(recordKey, accountId, kind, plaintext);
    this.store.db
      .prepare(
        `INSERT INTO sealed_records (account_id, kind, blob, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (account_id, kind) DO UPDATE SET blob = excluded.blob, updated_at = excluded.updated_at`,
      )
      .run(accountId, kind, blob, now);
  }
}
