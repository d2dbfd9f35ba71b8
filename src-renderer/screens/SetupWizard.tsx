/**
 * First run, in three steps: name the account and choose a password the core accepts; add the
 * first authenticator app; save the recovery codes it brings. The second factor can be added
 * later, but the wizard says plainly what that leaves open.
 */
import { useState, type FormEvent } from 'react';
import { call } from '../api.js';
import { AddAuthenticator } from '../components/AddAuthenticator.js';
import { RecoveryCodes } from '../components/RecoveryCodes.js';
import { ErrorText, Field } from '../components/Field.js';
import { PasswordField } from '../components/PasswordField.js';
import { StrengthMeter, useStrength } from '../components/StrengthMeter.js';

export function SetupWizard({ onAccountCreated, onFinished }: { onAccountCreated: () => void; onFinished: () => void }) {
  const [step, setStep] = useState<'account' | 'device' | 'codes'>('account');
  const [accountName, setAccountName] = useState('');
  const [codes, setCodes] = useState<string[] | null>(null);

  if (step === 'account') {
    return (
      <CreateAccount
        onCreated={(name) => {
          setAccountName(name);
          setStep('device');
          onAccountCreated();
        }}
      />
    );
  }
  if (step === 'device') {
    return (
      <div className="card narrow" role="region" aria-labelledby="device-title">
        <p className="small muted">Step 2 of 3</p>
        <h1 id="device-title">Add your first device</h1>
        <p>
          A second factor keeps your backups closed to anyone who learns the password. Add an authenticator app now; you can pair a companion for push approval
          later in Security.
        </p>
        <AddAuthenticator
          onAdded={(recoveryCodes) => {
            setCodes(recoveryCodes);
            if (recoveryCodes) setStep('codes');
            else onFinished();
          }}
        />
        <p className="small muted">
          Not now?{' '}
          <button type="button" className="link" onClick={onFinished}>
            Skip: protect with the password only
          </button>{' '}
          (you can add a device any time in Security).
        </p>
      </div>
    );
  }
  return (
    <div className="narrow">
      <p className="small muted">Step 3 of 3</p>
      <RecoveryCodes accountName={accountName} codes={codes ?? []} onSaved={onFinished} />
    </div>
  );
}

function CreateAccount({ onCreated }: { onCreated: (accountName: string) => void }) {
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
    onCreated(accountName.trim());
  };

  return (
    <form className="card narrow" onSubmit={submit} aria-labelledby="setup-title">
      <p className="small muted">Step 1 of 3</p>
      <h1 id="setup-title">Set up Twofold Backup</h1>
      <p>
        Everything you do with your backups will sit behind this password, and then a second factor you add next. The password is never stored; if you forget
        it, nobody can recover it.
      </p>
      <Field label="Account name" autoComplete="username" value={accountName} onChange={(e) => setAccountName(e.target.value)} required />
      <PasswordField
        label="Password"
        autoComplete="new-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        required
        hint="At least 10 characters. Several unrelated words make a strong, memorable password."
      />
      <StrengthMeter strength={strength} />
      <PasswordField
        label="Repeat the password"
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
