/** First run: name the account and choose a password the core accepts. */
import { useState, type FormEvent } from 'react';
import { call } from '../api.js';
import { ErrorText, Field } from '../components/Field.js';
import { StrengthMeter, useStrength } from '../components/StrengthMeter.js';

export function SetupWizard({ onDone }: { onDone: () => void }) {
  const [accountName, setAccountName] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const strength = useStrength(password, accountName);

  const mismatch = confirm.length > 0 && confirm !== password;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (password !== confirm) return setError('The two passwords are not the same.');
    setBusy(true);
    const result = await call('account.setup', { accountName, password });
    setBusy(false);
    if (!result.ok) return setError(result.error.message);
    setPassword('');
    setConfirm('');
    onDone();
  };

  return (
    <form className="card narrow" onSubmit={submit} aria-labelledby="setup-title">
      <h1 id="setup-title">Set up Twofold Backup</h1>
      <p>
        Everything you do with your backups will sit behind this password, and then a second factor you add next. The
        password is never stored; if you forget it, nobody can recover it.
      </p>
      <Field label="Account name" autoComplete="username" value={accountName} onChange={(e) => setAccountName(e.target.value)} required />
      <Field
        label="Password"
        type="password"
        autoComplete="new-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        required
        hint="At least 10 characters. Several unrelated words make a strong, memorable password."
      />
      <StrengthMeter strength={strength} />
      <Field
        label="Repeat the password"
        type="password"
        autoComplete="new-password"
        value={confirm}
        onChange={(e) => setConfirm(e.target.value)}
        aria-invalid={mismatch}
        required
      />
      {mismatch && <p className="small error">The two passwords are not the same yet.</p>}
      <ErrorText message={error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={busy || !strength?.acceptable || password !== confirm}>
          Create account
        </button>
      </div>
    </form>
  );
}
