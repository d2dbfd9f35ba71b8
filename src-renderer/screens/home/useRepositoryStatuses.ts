/**
 * Whether each repository answers now (backup.repositories.status opens it with its key), asked
 * once each time the overview is shown or the list of repositories changes: not on every poll
 * while a backup runs, since each answer is a connection to the storage.
 */
import { useEffect, useState } from 'react';
import { call } from '../../api.js';
import type { RepositoryStatuses } from './health.js';

export function useRepositoryStatuses(repositoryIds: readonly string[] | null): RepositoryStatuses | null {
  const key = repositoryIds ? repositoryIds.join(',') : null;
  const [statuses, setStatuses] = useState<RepositoryStatuses | null>(null);
  useEffect(() => {
    if (key === null) return;
    let current = true;
    const ids = key === '' ? [] : key.split(',');
    void Promise.all(ids.map(async (id) => [id, await call('backup.repositories.status', { repositoryId: id })] as const)).then((answers) => {
      if (!current) return;
      setStatuses(new Map(answers.map(([id, r]) => [id, r.ok ? r.value : { reachable: false, message: r.error.message, freeBytes: null }])));
    });
    return () => {
      current = false;
    };
  }, [key]);
  return statuses;
}
