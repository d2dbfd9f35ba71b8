/** Follows one backup job: polls `backup.jobs.get` about every 500 ms until it ends. */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { JobViewDto } from '../../src-shared/contract-backup.js';
import { call } from '../api.js';

export const POLL_MS = 500;

export function useJob(jobId: string | null, onEnd?: (job: JobViewDto) => void) {
  const [job, setJob] = useState<JobViewDto | null>(null);
  const [error, setError] = useState<string | null>(null);
  const onEndRef = useRef(onEnd);
  onEndRef.current = onEnd;

  useEffect(() => {
    setJob(null);
    setError(null);
    if (!jobId) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      const r = await call('backup.jobs.get', { jobId });
      if (stopped) return;
      if (!r.ok) {
        setError(r.error.message);
        return;
      }
      setJob(r.value);
      if (r.value.state === 'running') timer = setTimeout(() => void poll(), POLL_MS);
      else onEndRef.current?.(r.value);
    };
    void poll();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [jobId]);

  const cancel = useCallback(async () => {
    if (!jobId) return;
    const r = await call('backup.jobs.cancel', { jobId });
    if (!r.ok) setError(r.error.message);
  }, [jobId]);

  return { job, error, cancel };
}
