/** The password lock, with the throttle's wait shown as a live countdown. */
import { useState, type FormEvent } from 'react';
import type { Status } from '../../src-shared/contract.js';
import { call } from '../api.js';
import { formatWait, useCountdown } from '../components/Countdown.js';
import { ErrorText } from '../components/Field.js';
import { refusalText } from '../lib/messages.js';
import { PasswordField } from '../components/PasswordField.js';

export function LockScreen({ status, onChange }: { status: Status; onChange: () => void }) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [waitMs, setWaitMs] = useState(status.throttle?.retryAfterMs ?? 0);
  const [busy, setBusy] = useState(false);
  const left = useCountdown(waitMs, () => setWaitMs(0));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const result = await call('gate.submitPassword', { password });
    setBusy(false);
    setPassword('');
    if (result.ok) {
      setError(null);
      return onChange();
    }
    const wait = result.error.retryAfterMs ?? 0;
    // While the countdown runs it says what happened; a stale error beside it would only confuse.
    setError(wait > 0 ? null : refusalText(result.error, 'password'));
    setWaitMs(wait);
  };

  return (
    <form className="card narrow" onSubmit={submit} aria-labelledby="lock-title">
      <h1 id="lock-title">Locked</h1>
      <p>
        Unlock <strong>{status.accountName}</strong> to work with your backups. Scheduled backups keep running while locked.
      </p>
      <PasswordField
        label="Password"
        autoComplete="current-password"
        autoFocus
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        disabled={left > 0}
        required
      />
      <ErrorText message={error} />
      {left > 0 && (
        <p className="notice" role="status" data-testid="throttle-wait">
          That did not work, and there were too many failed attempts: you can try again in <strong>{formatWait(left)}</strong>.
        </p>
      )}
      {status.throttle?.hardStop && <p className="notice">After this many failures only a recovery code can finish an unlock.</p>}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy || left > 0 || !password}>
          Unlock
        </button>
      </div>
    </form>
  );
}
