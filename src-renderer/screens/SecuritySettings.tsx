/** Security settings: auto-lock time and password change (a step-up action). */
import { useEffect, useState, type FormEvent } from 'react';
import type { InputOf } from '../../src-shared/contract.js';
import { call } from '../api.js';
import { ErrorText, Field } from '../components/Field.js';
import { StepUpDialog } from '../components/StepUpDialog.js';
import { StrengthMeter, useStrength } from '../components/StrengthMeter.js';

export function SecuritySettings() {
  return (
    <div className="stack">
      <h1>Security</h1>
      <AutoLock />
      <ChangePassword />
    </div>
  );
}

function AutoLock() {
  const [minutes, setMinutes] = useState<number | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void call('settings.get', {}).then((r) => r.ok && setMinutes(r.value.autoLockMinutes));
  }, []);
  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (minutes === null) return;
    const result = await call('settings.update', { autoLockMinutes: minutes });
    setError(result.ok ? null : result.error.message);
    setMessage(result.ok ? `Saved: locks after ${result.value.autoLockMinutes} idle minutes.` : null);
  };
  return (
    <form className="card" onSubmit={save} aria-labelledby="autolock-title">
      <h2 id="autolock-title">Auto-lock</h2>
      <Field
        label="Lock after this many idle minutes"
        type="number"
        min={1}
        max={1440}
        step={1}
        value={minutes ?? ''}
        onChange={(e) => setMinutes(Number(e.target.value))}
        hint="Between 1 and 1440 minutes. The app also locks when the computer locks or sleeps."
      />
      <ErrorText message={error} />
      {message && <p role="status">{message}</p>}
      <div className="actions">
        <button type="submit" className="primary">
          Save
        </button>
      </div>
    </form>
  );
}

function ChangePassword() {
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const [confirm, setConfirm] = useState('');
  const [pending, setPending] = useState<InputOf<'account.changePassword'> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const strength = useStrength(newPassword);

  const start = (e: FormEvent) => {
    e.preventDefault();
    if (newPassword !== confirm) return setError('The two new passwords are not the same.');
    setError(null);
    setPending({ currentPassword, newPassword });
  };
  const finish = async (proof: string) => {
    if (!pending) return;
    const result = await call('account.changePassword', pending, proof);
    setPending(null);
    setError(result.ok ? null : result.error.message);
    setDone(result.ok);
    if (result.ok) {
      setCurrent('');
      setNew('');
      setConfirm('');
    }
  };

  return (
    <>
    <form className="card" onSubmit={start} aria-labelledby="password-title">
      <h2 id="password-title">Change password</h2>
      <Field label="Current password" type="password" autoComplete="current-password" value={currentPassword} onChange={(e) => setCurrent(e.target.value)} required />
      <Field label="New password" type="password" autoComplete="new-password" value={newPassword} onChange={(e) => setNew(e.target.value)} required />
      <StrengthMeter strength={strength} />
      <Field label="Repeat the new password" type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} required />
      <ErrorText message={error} />
      {done && <p role="status">Password changed.</p>}
      <div className="actions">
        <button type="submit" className="primary" disabled={!strength?.acceptable || newPassword !== confirm || !currentPassword}>
          Change password
        </button>
      </div>
    </form>
    {pending && (
      <StepUpDialog
        method="account.changePassword"
        input={pending}
        actionLabel="Change the password"
        onProof={(proof) => void finish(proof)}
        onCancel={() => setPending(null)}
      />
    )}
    </>
  );
}
