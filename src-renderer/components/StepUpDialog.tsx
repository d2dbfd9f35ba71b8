/**
 * Confirms one sensitive action. The core grants a proof bound to this exact method and input;
 * the dialog names the action so the user knows what they are confirming.
 */
import { useState, type FormEvent } from 'react';
import type { InputOf, MethodName } from '../../src-shared/contract.js';
import { call } from '../api.js';
import { ErrorText, Field } from './Field.js';

export function StepUpDialog<M extends MethodName>(props: {
  method: M;
  input: InputOf<M>;
  actionLabel: string;
  onProof: (proof: string) => void;
  onCancel: () => void;
}) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const result = await call('gate.stepUp', { method: props.method, input: props.input, password });
    setBusy(false);
    setPassword('');
    if (result.ok) props.onProof(result.value.proof);
    else setError(result.error.message);
  };

  return (
    <div className="dialog-backdrop">
      <form className="dialog card" role="dialog" aria-modal="true" aria-labelledby="stepup-title" onSubmit={submit}>
        <h2 id="stepup-title">Confirm: {props.actionLabel}</h2>
        <p>This is a sensitive action. Confirm it is you.</p>
        <Field
          label="Password"
          type="password"
          autoComplete="current-password"
          autoFocus
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <ErrorText message={error} />
        <div className="actions">
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy || !password}>
            Confirm
          </button>
        </div>
      </form>
    </div>
  );
}
