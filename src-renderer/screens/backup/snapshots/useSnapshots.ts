/**
 * A repository's snapshots, newest first, and the snapshot files that cannot be opened; loaded
 * anew when the repository changes. The last list stays shown when a refresh fails.
 */
import { useCallback, useEffect, useState } from 'react';
import type { OutputOf } from '../../../../src-shared/contract.js';
import { call } from '../../../api.js';
import { newestFirst, type Snapshot } from './types.js';

export type DamagedSnapshot = OutputOf<'backup.snapshots.list'>['damaged'][number];

export function useSnapshots(repositoryId: string) {
  const [snapshots, setSnapshots] = useState<Snapshot[] | null>(null);
  const [damaged, setDamaged] = useState<DamagedSnapshot[]>([]);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    if (!repositoryId) return;
    const r = await call('backup.snapshots.list', { repositoryId });
    if (r.ok) {
      setSnapshots([...r.value.snapshots].sort(newestFirst));
      setDamaged(r.value.damaged);
    }
    setError(r.ok ? null : r.error.message);
  }, [repositoryId]);
  useEffect(() => {
    setSnapshots(null);
    void load();
  }, [load]);
  return { snapshots, damaged, error, setError, load };
}
