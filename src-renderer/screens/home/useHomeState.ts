/**
 * Loads what the home screen shows, all at once, from the existing methods: devices, repositories,
 * sets, this session's jobs, and whether a restore ever finished cleanly (the audit log keeps
 * that). While a backup runs it asks again every few seconds, so the health follows the run.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { call } from '../../api.js';
import type { HomeState } from './health.js';

const POLL_MS = 3_000;

async function load(): Promise<HomeState | string> {
  const [devices, repositories, sets, jobs, restores] = await Promise.all([
    call('devices.list', {}),
    call('backup.repositories.list', {}),
    call('backup.sets.list', {}),
    call('backup.jobs.list', {}),
    call('audit.query', { filter: { action: 'restore.finished', outcome: 'success' }, limit: 1 }),
  ]);
  for (const r of [devices, repositories, sets, jobs, restores]) if (!r.ok) return r.error.message;
  if (!devices.ok || !repositories.ok || !sets.ok || !jobs.ok || !restores.ok) return 'Could not read the state of your backups.';
  return {
    devices: devices.value,
    repositories: repositories.value.repositories,
    sets: sets.value.sets,
    jobs: jobs.value.jobs,
    restoreTested: restores.value.total > 0,
  };
}

export function useHomeState(): { state: HomeState | null; error: string | null; reload: () => Promise<void> } {
  const [state, setState] = useState<HomeState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const ticket = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++ticket.current;
    const result = await load();
    if (mine !== ticket.current) return;
    if (typeof result === 'string') return setError(result);
    setState(result);
    setError(null);
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);
  const busy = state?.sets.some((s) => s.running) || state?.jobs.some((j) => j.state === 'running');
  useEffect(() => {
    if (!busy) return;
    const timer = setInterval(() => void reload(), POLL_MS);
    return () => clearInterval(timer);
  }, [busy, reload]);
  return { state, error, reload };
}
