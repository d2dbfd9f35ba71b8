/**
 * Adds an authenticator app: name it, scan the QR code (or type the secret), then prove it
 * works with its first code. Once 2FA is on, starting is a step-up action. The first device
 * brings the account's recovery codes, which are handed to `onRecoveryCodes` to show once.
 */
import { useState, type FormEvent } from 'react';
import type { OutputOf } from '../../src-shared/contract.js';
import { call } from '../api.js';
import { notConfirmed, useConfirmedCall } from '../hooks/useConfirmedCall.js';
import { useLoad } from '../hooks/useMethod.js';
import { CopyButton } from './CopyButton.js';
import { ErrorText, Field } from './Field.js';

type Enrolment = OutputOf<'devices.beginTotp'>;

export function AddAuthenticator(props: { onAdded: (recoveryCodes: string[] | null) => void; onCancel?: () => void }) {
  const [name, setName] = useState('');
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Once 2FA is on, starting is a step-up: the router asks, the dialog confirms, the call is sent again.
  const { run: confirmed, dialog } = useConfirmedCall();
  // A name already in use is refused here, before a confirmation is asked for (the core refuses it too).
  const { data: devices } = useLoad('devices.list', {});
  const taken = devices?.devices.find((d) => d.name.trim().toLowerCase() === name.trim().toLowerCase());
  const nameError = taken ? `You already have a device named “${taken.name}”. Choose another name.` : null;

  const begin = async () => {
    if (nameError) return;
    setBusy(true);
    const result = await confirmed('devices.beginTotp', { name });
    setBusy(false);
    if (result.ok) {
      setError(null);
      return setEnrolment(result.value);
    }
    if (!notConfirmed(result)) setError(result.error.message);
  };

  const confirm = async (e: FormEvent) => {
    e.preventDefault();
    if (!enrolment) return;
    setBusy(true);
    const result = await call('devices.confirmTotp', { deviceId: enrolment.deviceId, code });
    setBusy(false);
    setCode('');
    if (!result.ok) {
      setError(result.error.message);
      if (result.error.message.includes('Start adding it again')) setEnrolment(null);
      return;
    }
    setError(null);
    props.onAdded(result.value.recoveryCodes);
  };

  if (!enrolment) {
    return (
      <>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void begin();
          }}
          aria-label="Name the authenticator app"
        >
          <Field
            label="Device name"
            value={name}
            maxLength={40}
            onChange={(e) => (setName(e.target.value), setError(null))}
            hint="So you can tell your devices apart, for example “Pixel 8” or “Work iPhone”."
            aria-invalid={nameError !== null}
            required
          />
          {nameError && (
            <p className="small field-error" role="alert" data-testid="device-name-error">
              {nameError}
            </p>
          )}
          <ErrorText message={error} />
          <div className="actions">
            {props.onCancel && (
              <button type="button" onClick={props.onCancel}>
                Cancel
              </button>
            )}
            <button type="submit" className="primary" disabled={busy || name.trim() === '' || nameError !== null}>
              Continue
            </button>
          </div>
        </form>
        {dialog}
      </>
    );
  }

  return (
    <ConfirmAuthenticator
      enrolment={enrolment}
      code={code}
      onCode={setCode}
      error={error}
      busy={busy}
      onSubmit={confirm}
      onCancel={() => (setEnrolment(null), props.onCancel?.())}
    />
  );
}

/** The second step: scan or type the key, then enter the app's first code. */
function ConfirmAuthenticator(props: {
  enrolment: Enrolment;
  code: string;
  onCode: (code: string) => void;
  error: string | null;
  busy: boolean;
  onSubmit: (e: FormEvent) => void;
  onCancel: () => void;
}) {
  const { enrolment, code, error, busy } = props;
  return (
    <form onSubmit={props.onSubmit} aria-label="Confirm the authenticator app">
      <ol className="steps">
        <li>Open your authenticator app (Google Authenticator, Microsoft Authenticator, Authy, 2FAS, Aegis, …) and add an account.</li>
        <li>
          Scan this QR code:
          <div className="qr">
            <img src={enrolment.qrPngDataUrl} alt={`QR code for adding “${enrolment.name}”`} data-testid="totp-qr" width={232} height={232} />
          </div>
          Or type this key (time-based, 6 digits, 30 seconds):
          <div className="secret-row">
            <code className="secret" data-testid="totp-secret">
              {enrolment.secretGrouped}
            </code>
            <CopyButton text={enrolment.secretGrouped.replace(/\s/g, '')} label="Copy key" testId="copy-totp-key" />
          </div>
        </li>
        <li>Enter the code the app now shows.</li>
      </ol>
      <Field
        label="Code from the new app"
        inputMode="numeric"
        autoComplete="one-time-code"
        maxLength={8}
        value={code}
        onChange={(e) => props.onCode(e.target.value.replace(/\s/g, ''))}
        required
      />
      <ErrorText message={error} />
      <div className="actions">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={busy || code === ''}>
          Confirm device
        </button>
      </div>
    </form>
  );
}
