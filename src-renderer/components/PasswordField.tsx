/**
 * A password input with a Show/Hide toggle, so a long password can be checked before it is
 * submitted. The toggle is a pressed/unpressed button after the input; showing never leaves the
 * field (the value is the same either way) and the field hides again when it is submitted.
 */
import { useId, useState, type InputHTMLAttributes } from 'react';

export function PasswordField({ label, hint, ...input }: { label: string; hint?: string } & Omit<InputHTMLAttributes<HTMLInputElement>, 'type'>) {
  const id = useId();
  const [shown, setShown] = useState(false);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="password-row">
        <input
          id={id}
          type={shown ? 'text' : 'password'}
          spellCheck={false}
          autoCapitalize="off"
          aria-describedby={hint ? `${id}-hint` : undefined}
          {...input}
        />
        <button type="button" className="reveal" aria-pressed={shown} aria-controls={id} onClick={() => setShown(!shown)}>
          {shown ? 'Hide' : 'Show'}
          <span className="visually-hidden"> {label.toLowerCase()}</span>
        </button>
      </div>
      {hint && (
        <p id={`${id}-hint`} className="small muted">
          {hint}
        </p>
      )}
    </div>
  );
}
