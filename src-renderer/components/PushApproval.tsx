/**
 * A push to the paired companions, from the desktop's side: the number to pick on the
 * companion, a countdown to expiry, the answer as it arrives, and "resend". Waits by
 * long-polling the core, which answers as soon as the companion does.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ApiResult } from '../../src-shared/errors.js';
import { formatWait, useCountdown } from './Countdown.js';
import { ErrorText } from './Field.js';

type PushState = 'pending' | 'approved' | 'denied' | 'reported' | 'refused' | 'expired' | 'cancelled' | 'unavailable';
export interface PushStarted {
  requestId: string;
  number: number;
  expiresAt: number;
  devices: number;
}
export interface PushPolled {
  state: PushState;
  expiresAt: number;
}

const LONG_POLL_MS = 20_000;

const ENDED: Record<Exclude<PushState, 'pending' | 'approved'>, string> = {
  denied: 'The request was denied on your companion.',
  reported: 'You reported that this was not you. Push is muted for 20 minutes: use a code from an authenticator app or a recovery code.',
  refused: 'The answer did not match this request (wrong number or an unknown device), so it was refused.',
  expired: 'No answer arrived in time.',
  cancelled: 'The request was cancelled.',
  unavailable: 'Push is unavailable: the relay could not deliver the request. Use a code from your companion or an authenticator app.',
};

export function PushApproval<P extends PushPolled>(props: {
  start: () => Promise<ApiResult<PushStarted>>;
  poll: (requestId: string, waitMs: number) => Promise<ApiResult<P>>;
  cancel?: (requestId: string) => Promise<unknown>;
  onApproved: (answer: P) => void;
  /** Start at once (the unlock screen) or only on a click (the step-up dialog). */
  autoStart: boolean;
  startLabel?: string;
}) {
  const [push, setPush] = useState<PushStarted | null>(null);
  const [state, setState] = useState<PushState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [retryMs, setRetryMs] = useState(0);
  const [busy, setBusy] = useState(false);
  const current = useRef<string | null>(null);
  const left = useCountdown(push && state === 'pending' ? Math.max(0, push.expiresAt - Date.now()) : 0);
  const retryLeft = useCountdown(retryMs, () => setRetryMs(0));
  // The caller's functions, read when used: a parent that re-renders with new ones (the app
  // refreshes its status every few seconds) must not restart `send`'s effect, whose cleanup
  // would end the wait for the answer while the push is still out.
  const latest = useRef({ start: props.start, poll: props.poll, onApproved: props.onApproved });
  useEffect(() => {
    latest.current = { start: props.start, poll: props.poll, onApproved: props.onApproved };
  });

  const send = useCallback(async () => {
    const { start, poll } = latest.current;
    setBusy(true);
    setError(null);
    const started = await start();
    setBusy(false);
    if (!started.ok) {
      setError(started.error.message);
      setRetryMs(started.error.retryAfterMs ?? 0);
      return;
    }
    const id = started.value.requestId;
    current.current = id;
    setPush(started.value);
    setState('pending');
    for (;;) {
      const answer = await poll(id, LONG_POLL_MS);
      if (current.current !== id) return; // a newer push replaced this one, or the view closed
      if (!answer.ok) {
        setError(answer.error.message);
        setState(null);
        return;
      }
      if (answer.value.state === 'pending') continue;
      setState(answer.value.state);
      if (answer.value.state === 'approved') latest.current.onApproved(answer.value);
      return;
    }
  }, []);

  const autoStarted = useRef(false);
  useEffect(() => {
    if (props.autoStart && !autoStarted.current) {
      autoStarted.current = true;
      void send();
    }
  }, [props.autoStart, send]);
  // Only when the view closes does the wait end (an answer after that changes nothing here).
  useEffect(
    () => () => {
      current.current = null;
    },
    [],
  );

  const cancel = async () => {
    const id = current.current;
    current.current = null;
    setState('cancelled');
    if (id && props.cancel) await props.cancel(id);
  };

  return (
    <div className="push" aria-live="polite">
      {push && state === 'pending' && (
        <>
          <p>Open your companion and pick this number to approve{push.devices > 1 ? ` (sent to ${push.devices} devices)` : ''}:</p>
          <p className="push-number" data-testid="push-number" aria-label={`Number to pick: ${push.number}`}>
            {push.number}
          </p>
          <p className="small muted" data-testid="push-countdown">
            Waiting for an answer… {formatWait(left)} left.
          </p>
          {props.cancel && (
            <div className="actions">
              <button type="button" onClick={() => void cancel()}>
                Cancel push
              </button>
            </div>
          )}
        </>
      )}
      {state === 'approved' && <p role="status">Approved on your companion.</p>}
      {state && state !== 'pending' && state !== 'approved' && (
        <p className="notice" role="status" data-testid="push-ended">
          {ENDED[state]}
        </p>
      )}
      <ErrorText message={error} />
      {(state === null || (state !== 'pending' && state !== 'approved')) && (push !== null || !props.autoStart || error !== null) && (
        <div className="actions">
          <button type="button" className={push ? '' : 'primary'} disabled={busy || retryLeft > 0 || state === 'reported'} onClick={() => void send()}>
            {push ? 'Resend push' : (props.startLabel ?? 'Send a push to my companion')}
            {retryLeft > 0 ? ` (in ${formatWait(retryLeft)})` : ''}
          </button>
        </div>
      )}
    </div>
  );
}
