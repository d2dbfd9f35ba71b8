/** Shows the core's verdict on a password as the user types (scored by zxcvbn-ts in the core). */
import { useEffect, useState } from 'react';
import type { PasswordStrength } from '../../src-shared/contract.js';
import { call } from '../api.js';

const LABELS = ['Very weak', 'Weak', 'Fair', 'Strong', 'Very strong'];

export function useStrength(password: string, accountName?: string): PasswordStrength | null {
  const [strength, setStrength] = useState<PasswordStrength | null>(null);
  useEffect(() => {
    if (!password) {
      setStrength(null);
      return;
    }
    let live = true;
    const timer = setTimeout(async () => {
      const result = await call('account.checkPasswordStrength', accountName ? { password, accountName } : { password });
      if (live && result.ok) setStrength(result.value);
    }, 150);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [password, accountName]);
  return strength;
}

export function StrengthMeter({ strength }: { strength: PasswordStrength | null }) {
  const score = strength?.score ?? 0;
  return (
    <div className="strength" aria-live="polite">
      <meter
        className={`strength-bar score-${score}`}
        min={0}
        max={4}
        value={strength ? score : 0}
        aria-label="Password strength"
      />
      {strength && (
        <p className="small" data-testid="strength-label">
          <strong>{LABELS[score]}</strong>
          {strength.acceptable ? ' — good to use.' : ' — not accepted yet.'}{' '}
          {strength.warning && <span>{strength.warning} </span>}
          {strength.suggestions[0] && <span className="muted">{strength.suggestions[0]}</span>}
        </p>
      )}
    </div>
  );
}
