/**
 * The second half of an unlock: a push to a paired companion (sent at once when one can be),
 * a code from a device, or a recovery code, all under the shared throttle.
 */
import { useCallback, useState } from 'react';
import type { Status } from '../../src-shared/contract.js';
import { call } from '../api.js';
import { CodeForm, type FactorInput } from '../components/CodeForm.js';
import { formatWait, useCountdown } from '../components/Countdown.js';
import { PushApproval } from '../components/PushApproval.js';
import { refusalText } from '../lib/messages.js';
import { useLoad } from '../hooks/useMethod.js';

export type UnlockedVia = 'code' | 'recovery' | 'push';

export function SecondFactorScreen({
  status,
  onUnlocked,
  onChange,
}: {
  status: Status;
  onUnlocked: (via: UnlockedVia, left: number) => void;
  onChange: () => void;
}) {
  const push = useLoad('push.status', {}).data;
  const startPush = useCallback(() => call('push.start', {}), []);
  const pollPush = useCallback((requestId: string, waitMs: number) => call('push.poll', { requestId, waitMs }), []);
  const cancelPush = useCallback((requestId: string) => call('push.cancel', { requestId }), []);
  const approved = useCallback(() => {
    onUnlocked('push', 0);
    onChange();
  }, [onUnlocked, onChange]);

  const [waitMs, setWaitMs] = useState(status.throttle?.retryAfterMs ?? 0);
  const [hardStop, setHardStop] = useState(status.throttle?.hardStop ?? false);
  const left = useCountdown(waitMs, () => setWaitMs(0));

  const submit = async (factor: FactorInput): Promise<string | null> => {
    const result =
      'code' in factor ? await call('gate.submitCode', { code: factor.code }) : await call('gate.submitRecoveryCode', { code: factor.recoveryCode });
    if (result.ok) {
      onUnlocked('code' in factor ? 'code' : 'recovery', result.value.recoveryCodesLeft);
      onChange();
      return null;
    }
    setWaitMs(result.error.retryAfterMs ?? 0);
    if (result.error.code === 'HARD_STOP') setHardStop(true);
    if (result.error.code === 'NOT_ALLOWED') onChange();
    return refusalText(result.error, 'code' in factor ? 'code' : 'recovery');
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
          That did not work, and there were too many failed attempts: you can try again in <strong>{formatWait(left)}</strong>.
        </p>
      )}
      {push && push.devices > 0 && !hardStop && (
        <section className="subcard first" aria-labelledby="push-title">
          <h2 id="push-title">Approve on your companion</h2>
          {push.mutedUntil !== null && push.mutedUntil > Date.now() ? (
            <p className="notice" role="status">
              Push is muted until {new Date(push.mutedUntil).toLocaleTimeString()} because a request was reported as “this wasn't me”. Use a code or a recovery
              code.
            </p>
          ) : push.available ? (
            <PushApproval start={startPush} poll={pollPush} cancel={cancelPush} onApproved={approved} autoStart={left === 0} />
          ) : (
            <p className="small muted">Push is not available right now (no relay is reachable). Use a code instead.</p>
          )}
        </section>
      )}
      {push && push.devices > 0 && !hardStop && <h2 className="or">Or enter a code</h2>}
      {hardStop && (
        <p className="notice" role="status">
          Too many failed attempts: codes from devices are no longer accepted. Only a recovery code can finish this unlock.
        </p>
      )}
      <CodeForm submitLabel="Unlock" onSubmit={submit} disabled={left > 0} recoveryOnly={hardStop} onCancel={() => void cancel()} autoFocus />
    </div>
  );
}
