/** The second half of an unlock: a code from a device or a recovery code, under the shared throttle. */
import { useState } from 'react';
import type { Status } from '../../src-shared/contract.js';
import { call } from '../api.js';
import { CodeForm, type FactorInput } from '../components/CodeForm.js';
import { formatWait, useCountdown } from '../components/Countdown.js';

export function SecondFactorScreen({ status, onUnlocked, onChange }: { status: Status; onUnlocked: (via: 'code' | 'recovery', left: number) => void; onChange: () => void }) {
  const [waitMs, setWaitMs] = useState(status.throttle?.retryAfterMs ?? 0);
  const [hardStop, setHardStop] = useState(status.throttle?.hardStop ?? false);
  const left = useCountdown(waitMs, () => setWaitMs(0));

  const submit = async (factor: FactorInput): Promise<string | null> => {
    const result =
      'code' in factor
        ? await call('gate.submitCode', { code: factor.code })
        : await call('gate.submitRecoveryCode', { code: factor.recoveryCode });
    if (result.ok) {
      onUnlocked('code' in factor ? 'code' : 'recovery', result.value.recoveryCodesLeft);
      onChange();
      return null;
    }
    setWaitMs(result.error.retryAfterMs ?? 0);
    if (result.error.code === 'HARD_STOP') setHardStop(true);
    if (result.error.code === 'NOT_ALLOWED') onChange();
    return result.error.message;
  };

  const cancel = async () => {
    await call('gate.lock', {});
    onChange();
  };

  return (
    <div className="card narrow" aria-labelledby="second-factor-title" role="region">
      <h1 id="second-factor-title">Second factor</h1>
      <p>
        Password accepted for <strong>{status.accountName}</strong>. Finish unlocking with a code from one of your devices.
      </p>
      {left > 0 && (
        <p className="notice" role="status" data-testid="throttle-wait">
          Too many failed attempts. You can try again in <strong>{formatWait(left)}</strong>.
        </p>
      )}
      {hardStop && (
        <p className="notice" role="status">
          Too many failed attempts: codes from devices are no longer accepted. Only a recovery code can finish this unlock.
        </p>
      )}
      <CodeForm submitLabel="Unlock" onSubmit={submit} disabled={left > 0} recoveryOnly={hardStop} onCancel={() => void cancel()} autoFocus />
    </div>
  );
}
