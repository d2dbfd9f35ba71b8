/**
 * Confirms one sensitive action. The core grants a proof bound to this exact method and input;
 * the dialog names the action so the user knows what they are confirming. While 2FA is off the
 * password confirms; once it is on, only a fresh code from a device or a recovery code does.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { InputOf, MethodName } from '../../src-shared/contract.js';
import { call } from '../api.js';
import { CodeForm, type FactorInput } from './CodeForm.js';
import { Dialog } from './Dialog.js';
import { ErrorText, Field } from './Field.js';
import { PushApproval } from './PushApproval.js';

export function StepUpDialog<M extends MethodName>(props: {
  method: M;
  input: InputOf<M>;
  actionLabel: string;
  onProof: (proof: string) => void;
  onCancel: () => void;
}) {
  const [twoFactor, setTwoFactor] = useState<boolean | null>(null);
  const [hasPush, setHasPush] = useState(false);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    void call('devices.list', {}).then((r) => {
      setTwoFactor(r.ok ? r.value.twoFactorEnabled : false);
      setHasPush(r.ok && r.value.devices.some((d) => d.kind === 'push'));
    });
  }, []);
  const { method, input, onProof } = props;
  const startPush = useCallback(() => call('push.startStepUp', { method, input }), [method, input]);
  const pollPush = useCallback((requestId: string, waitMs: number) => call('push.pollStepUp', { requestId, waitMs }), []);
  const pushApproved = useCallback((answer: { proof: string | null }) => answer.proof && onProof(answer.proof), [onProof]);

  const request = async (factor: { password: string } | FactorInput): Promise<string | null> => {
    const result = await call('gate.stepUp', { method: props.method, input: props.input, ...factor });
    if (result.ok) {
      props.onProof(result.value.proof);
      return null;
    }
    return result.error.message;
  };

  const submitPassword = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const message = await request({ password });
    setBusy(false);
    setPassword('');
    setError(message);
  };

  return (
    <Dialog labelledBy="stepup-title" onCancel={props.onCancel}>
        <h2 id="stepup-title">Confirm: {props.actionLabel}</h2>
        {twoFactor === null && <p className="muted">Loading…</p>}
        {twoFactor === true && (
          <>
            <p>This is a sensitive action. Confirm it with a fresh code or push; it is valid for this action only.</p>
            {hasPush && <PushApproval start={startPush} poll={pollPush} onApproved={pushApproved} autoStart={false} startLabel="Confirm by push" />}
            <CodeForm submitLabel="Confirm" onSubmit={request} onCancel={props.onCancel} autoFocus />
          </>
        )}
        {twoFactor === false && (
          <form onSubmit={submitPassword}>
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
        )}
    </Dialog>
  );
}
