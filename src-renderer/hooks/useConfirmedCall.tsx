/**
 * Calls a method that some inputs make sensitive (settings, a set with retention, a restore that
 * overwrites): when the router answers STEP_UP_REQUIRED, it shows the confirmation for exactly
 * that call and sends it again with the proof. The router decides; this only follows its answer.
 */
import { useCallback, useState, type ReactNode } from 'react';
import type { InputOf, MethodName, OutputOf } from '../../src-shared/contract.js';
import type { ApiResult } from '../../src-shared/errors.js';
import { call } from '../api.js';
import { StepUpDialog } from '../components/StepUpDialog.js';

interface Pending {
  method: MethodName;
  input: unknown;
  resolve: (result: ApiResult<unknown>) => void;
}

export const NOT_CONFIRMED = 'Not confirmed: nothing was changed.';

/** True when the person closed the confirmation: for a caller that says nothing then, or goes back. */
export function notConfirmed(result: ApiResult<unknown>): boolean {
  return !result.ok && result.error.code === 'CANCELLED' && result.error.message === NOT_CONFIRMED;
}

export function useConfirmedCall(): {
  run: <M extends MethodName>(method: M, input: InputOf<M>) => Promise<ApiResult<OutputOf<M>>>;
  dialog: ReactNode;
} {
  const [pending, setPending] = useState<Pending | null>(null);
  const run = useCallback(async <M extends MethodName>(method: M, input: InputOf<M>): Promise<ApiResult<OutputOf<M>>> => {
    const first = await call(method, input);
    if (first.ok || first.error.code !== 'STEP_UP_REQUIRED') return first;
    return new Promise((resolve) => setPending({ method, input, resolve: resolve as (r: ApiResult<unknown>) => void }));
  }, []);
  const dialog = pending && (
    <StepUpDialog
      method={pending.method}
      input={pending.input as InputOf<MethodName>}
      onProof={(proof) => {
        setPending(null);
        void call(pending.method, pending.input as InputOf<MethodName>, proof).then(pending.resolve);
      }}
      onCancel={() => {
        setPending(null);
        pending.resolve({ ok: false, error: { code: 'CANCELLED', message: NOT_CONFIRMED } });
      }}
    />
  );
  return { run, dialog };
}
