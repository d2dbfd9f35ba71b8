/**
 * One method call with its state: whether it is running and the last error to show. It replaces
 * the "call, then setError(r.ok ? null : r.error.message)" pattern; the router's typed result is
 * handed back as is, so a caller still decides what success means.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { InputOf, MethodName, OutputOf } from '../../src-shared/contract.js';
import type { ApiResult } from '../../src-shared/errors.js';
import { call } from '../api.js';

export interface MethodState<M extends MethodName> {
  /** Calls the method; the error shown follows its result (null after a success). */
  run: (input: InputOf<M>, stepUpProof?: string) => Promise<ApiResult<OutputOf<M>>>;
  busy: boolean;
  error: string | null;
  setError: (message: string | null) => void;
}

export function useMethod<M extends MethodName>(method: M): MethodState<M> {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(
    async (input: InputOf<M>, stepUpProof?: string) => {
      setBusy(true);
      const result = await call(method, input, stepUpProof);
      setBusy(false);
      setError(result.ok ? null : result.error.message);
      return result;
    },
    [method],
  );
  return { run, busy, error, setError };
}

export interface LoadState<M extends MethodName> {
  /** The last answer, or null while the first call runs or after it failed. */
  data: OutputOf<M> | null;
  error: string | null;
  loading: boolean;
  reload: () => Promise<void>;
}

/**
 * Loads what a screen shows: calls the method when it mounts and whenever the input says
 * something else (compared by value, so an inline object does not reload every render).
 * `enabled: false` waits (no repository chosen yet).
 */
export function useLoad<M extends MethodName>(method: M, input: InputOf<M>, options: { enabled?: boolean } = {}): LoadState<M> {
  const enabled = options.enabled ?? true;
  const key = JSON.stringify(input);
  const [data, setData] = useState<OutputOf<M> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(enabled);
  const latest = useRef(0);
  const reload = useCallback(async () => {
    if (!enabled) return;
    const ticket = ++latest.current;
    setLoading(true);
    const result = await call(method, JSON.parse(key) as InputOf<M>);
    if (ticket !== latest.current) return; // a newer input answered, or will
    setLoading(false);
    setData(result.ok ? result.value : null);
    setError(result.ok ? null : result.error.message);
  }, [method, key, enabled]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, loading, reload };
}
