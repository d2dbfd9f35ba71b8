/**
 * Shows the core's verdict on a password as the user types (scored by zxcvbn-ts in the core):
 * a coloured bar (red, amber, green) and its label in words, updated on each keystroke after a
 * short pause; the last verdict stays visible while the next one is on its way.
 */
import { useEffect, useState } from 'react';
import type { PasswordStrength } from '../../src-shared/contract.js';
import { call } from '../api.js';

const LABELS = ['Very weak', 'Weak', 'Fair', 'Strong', 'Very strong'];
const TONE = ['weak', 'weak', 'fair', 'strong', 'strong'];
const PAUSE_MS = 60;

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
    }, PAUSE_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [password, accountName]);
  return password ? strength : null;
}

export function StrengthMeter({ strength }: { strength: PasswordStrength | null }) {
  const score = strength?.score ?? 0;
  return (
    <div className="strength">
      <meter
        className={`strength-bar score-${score}`}
        min={0}
        max={4}
        low={2}
        high={3}
        optimum={4}
        value={strength ? Math.max(0.4, score) : 0}
        aria-label="Password strength"
        aria-valuetext={strength ? LABELS[score] : 'Not rated yet'}
      />
      <p className="small" data-testid="strength-label" aria-live="polite">
        {strength ? (
          <>
            <span className={`strength-label ${TONE[score]}`}>{LABELS[score]}</span>
            {strength.acceptable ? ' — good to use.' : ' — not accepted yet.'} {strength.warning && <span>{strength.warning} </span>}
            {strength.suggestions[0] && <span className="muted">{strength.suggestions[0]}</span>}
          </>
        ) : (
          <span className="muted">Strength: type a password to see it rated.</span>
        )}
      </p>
    </div>
  );
}
