/** The connected repositories, loaded once per screen and reloaded on demand. */
import { useCallback, useEffect, useState } from 'react';
import type { OutputOf } from '../../src-shared/contract.js';
import { call } from '../api.js';

export type RepositoryView = OutputOf<'backup.repositories.list'>['repositories'][number];

export function useRepositories() {
  const [repositories, setRepositories] = useState<RepositoryView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(async () => {
    const r = await call('backup.repositories.list', {});
    if (r.ok) setRepositories(r.value.repositories);
    setError(r.ok ? null : r.error.message);
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { repositories, error, reload };
}
