/**
 * Entering a second factor: a 6-digit code from a device, or a recovery code. Shared by the
 * unlock screen and the step-up dialog; the core checks the code, this only collects it.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { ErrorText, Field } from './Field.js';

export type FactorInput = { code: string } | { recoveryCode: string };

export function CodeForm(props: {
  submitLabel: string;
  /** Resolves to an error message to show, or null when the code was accepted. */
  onSubmit: (factor: FactorInput) => Promise<string | null>;
  disabled?: boolean;
  /** Only recovery codes are accepted (after the hard stop). */
  recoveryOnly?: boolean;
  onCancel?: () => void;
  autoFocus?: boolean;
  /** The action cannot be undone: the submit button is red. */
  danger?: boolean;
}) {
  const [mode, setMode] = useState<'code' | 'recovery'>(props.recoveryOnly ? 'recovery' : 'code');
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const effective = props.recoveryOnly ? 'recovery' : mode;
  // A throttle countdown (disabled) replaces the last error: it says what happened and when to retry.
  useEffect(() => {
    if (props.disabled) setError(null);
  }, [props.disabled]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const message = await props.onSubmit(effective === 'code' ? { code: value } : { recoveryCode: value });
    setBusy(false);
    setValue('');
    setError(message);
  };

  return (
    <form onSubmit={submit}>
      {effective === 'code' ? (
        <Field
          key="code"
          label="Code from your authenticator app"
          inputMode="numeric"
          autoComplete="one-time-code"
          pattern="[0-9 ]*"
          maxLength={8}
          autoFocus={props.autoFocus}
          disabled={props.disabled}
          value={value}
          onChange={(e) => setValue(e.target.value.replace(/\s/g, ''))}
          hint="The 6-digit code your authenticator app or companion shows now."
        />
      ) : (
        <Field
          key="recovery"
          label="Recovery code"
          autoComplete="off"
          spellCheck={false}
          autoFocus={props.autoFocus}
          disabled={props.disabled}
          value={value}
          onChange={(e) => setValue(e.target.value)}
          hint="One of the codes you saved when you turned two-factor authentication on, such as 7K3QX-M9D4H-2PZ8R-T6WNB. Each works once."
        />
      )}
      <ErrorText message={props.disabled ? null : error} />
      <div className="actions">
        {!props.recoveryOnly && (
          <button type="button" className="link" onClick={() => (setMode(effective === 'code' ? 'recovery' : 'code'), setError(null), setValue(''))}>
            {effective === 'code' ? 'Use a recovery code instead' : 'Use a code from a device instead'}
          </button>
        )}
        {props.onCancel && (
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
        )}
        <button type="submit" className={props.danger ? 'danger solid' : 'primary'} disabled={busy || props.disabled || value.trim() === ''}>
          {props.submitLabel}
        </button>
      </div>
    </form>
  );
}
