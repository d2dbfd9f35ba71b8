/**
 * Confirms one sensitive action. What it says comes from the core (`gate.describeStepUp`): the
 * concrete target and consequence made from the exact input the proof will be bound to, and the
 * start of that binding's digest, which a companion asked by push shows too. While 2FA is off
 * the password confirms (adding the first device outside set-up too); once it is on, only a
 * fresh code from a device, a recovery code or a push does.
 */
import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import type { Confirmation, InputOf, MethodName } from '../../src-shared/contract.js';
import { shortDigest } from '../../src-shared/digest.js';
import { call } from '../api.js';
import { CodeForm, type FactorInput } from './CodeForm.js';
import { Dialog } from './Dialog.js';
import { ErrorText } from './Field.js';
import { PasswordField } from './PasswordField.js';
import { PushApproval } from './PushApproval.js';
import { refusalText } from '../lib/messages.js';
import { useLoad } from '../hooks/useMethod.js';

const FIRST_DEVICE: readonly string[] = ['devices.beginTotp', 'push.beginPairing'];
/** What cannot be undone: the dialog and its confirming button are red for these. */
const DESTRUCTIVE: ReadonlySet<MethodName> = new Set<MethodName>([
  'devices.remove',
  'twofa.disable',
  'recovery.regenerate',
  'backup.repositories.remove',
  'backup.sets.delete',
  'backup.snapshots.forget',
  'backup.restore.start',
  'backup.repair.start',
]);

export function StepUpDialog<M extends MethodName>(props: { method: M; input: InputOf<M>; onProof: (proof: string) => void; onCancel: () => void }) {
  const devices = useLoad('devices.list', {});
  // Unknown until the list answers; a list that cannot be read counts as 2FA off (the core decides anyway).
  const twoFactor = devices.loading ? null : (devices.data?.twoFactorEnabled ?? false);
  const hasPush = devices.data?.devices.some((d) => d.kind === 'push') ?? false;
  const [confirmation, setConfirmation] = useState<Confirmation | null>(null);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const { method, onProof } = props;
  // Callers pass the input inline: what it says, not which object, decides when to ask again.
  const inputKey = JSON.stringify(props.input);
  const input = useMemo(() => JSON.parse(inputKey) as InputOf<M>, [inputKey]);

  useEffect(() => {
    void call('gate.describeStepUp', { method, input }).then((r) => {
      if (r.ok) setConfirmation(r.value.confirmation);
      else setError(r.error.message);
    });
  }, [method, input]);
  const startPush = useCallback(() => call('push.startStepUp', { method, input }), [method, input]);
  const pollPush = useCallback((requestId: string, waitMs: number) => call('push.pollStepUp', { requestId, waitMs }), []);
  const pushApproved = useCallback((answer: { proof: string | null }) => answer.proof && onProof(answer.proof), [onProof]);

  const request = async (factor: { password: string } | FactorInput): Promise<string | null> => {
    const result = await call('gate.stepUp', { method, input, ...factor });
    if (result.ok) {
      onProof(result.value.proof);
      return null;
    }
    return refusalText(result.error, 'password' in factor ? 'password' : 'code' in factor ? 'code' : 'recovery');
  };

  const submitPassword = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const message = await request({ password });
    setBusy(false);
    setPassword('');
    setError(message);
  };

  const ready = twoFactor !== null && confirmation !== null;
  const destructive = DESTRUCTIVE.has(method);
  return (
    <Dialog labelledBy="stepup-title" onCancel={props.onCancel} className={destructive ? 'destructive' : undefined}>
      <h2 id="stepup-title">{confirmation ? `Confirm: ${confirmation.title}` : 'Confirm a sensitive action'}</h2>
      {confirmation && (
        <div className="confirmation" data-testid="stepup-target">
          {confirmation.consequence && <p className={destructive ? 'consequence danger-text' : 'consequence'}>{confirmation.consequence}</p>}
          <p className="small muted">
            Check code{' '}
            <strong className="code" data-testid="stepup-digest">
              {shortDigest(confirmation.digest)}
            </strong>
            {hasPush ? ': a companion asked by push shows the same.' : '.'} The confirmation is good for exactly this, once, for two minutes.
          </p>
        </div>
      )}
      {!ready && !error && <p className="muted">Loading…</p>}
      {!ready && error && (
        <>
          <ErrorText message={error} />
          <div className="actions">
            <button type="button" onClick={props.onCancel}>
              Close
            </button>
          </div>
        </>
      )}
      {ready && twoFactor && (
        <>
          <p>Confirm it with a fresh code from one of your devices, a recovery code{hasPush ? ', or by push' : ''}.</p>
          {hasPush && <PushApproval start={startPush} poll={pollPush} onApproved={pushApproved} autoStart={false} startLabel="Confirm by push" />}
          <CodeForm submitLabel="Confirm" danger={destructive} onSubmit={request} onCancel={props.onCancel} autoFocus />
        </>
      )}
      {ready && !twoFactor && (
        <form onSubmit={submitPassword}>
          <p>
            {FIRST_DEVICE.includes(method)
              ? 'Two-factor authentication is off, and adding a first device turns it on: enter your password to show it is you.'
              : 'Enter your password to show it is you.'}
          </p>
          <PasswordField label="Password" autoComplete="current-password" autoFocus value={password} onChange={(e) => setPassword(e.target.value)} />
          <ErrorText message={error} />
          <div className="actions">
            <button type="button" onClick={props.onCancel}>
              Cancel
            </button>
            <button type="submit" className={destructive ? 'danger solid' : 'primary'} disabled={busy || !password}>
              Confirm
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
