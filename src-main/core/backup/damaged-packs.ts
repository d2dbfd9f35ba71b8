/**
 * Packs a check found damaged, per connected repository (migration 4): what makes a pack
 * "known damaged" beyond what a listing shows (gone, or of the wrong size). Backups store
 * their data again, so new snapshots never depend on them; restores read another copy first;
 * repair removes them, and a later check that reads one whole and finds it sound clears it.
 */
import type { Clock } from '../platform/clock.js';
import type { Store } from '../platform/store.js';

export class DamagedPacks {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  of(repositoryId: string): Set<string> {
    const rows = this.store.db.prepare('SELECT pack_id FROM backup_damaged_packs WHERE repository_id = ?').all(repositoryId) as { pack_id: string }[];
    return new Set(rows.map((r) => r.pack_id));
  }

  mark(repositoryId: string, packIds: Iterable<string>): void {
    const insert = this.store.db.prepare('INSERT OR IGNORE INTO backup_damaged_packs (repository_id, pack_id, found_at) VALUES (?, ?, ?)');
    this.store.tx(() => {
      for (const id of packIds) insert.run(repositoryId, id, this.clock.now());
    });
  }

  clear(repositoryId: string, packIds: Iterable<string>): void {
    const remove = this.store.db.prepare('DELETE FROM backup_damaged_packs WHERE repository_id = ? AND pack_id = ?');
    this.store.tx(() => {
      for (const id of packIds) remove.run(repositoryId, id);
    });
  }
}
