/**
 * Pairs a companion (the web companion on a phone, or the CLI): a one-time QR code and link,
 * valid once and for at most two minutes; then both screens show a short comparison code, and
 * the person names the device once the codes match. Once 2FA is on, starting is a step-up. It
 * says what the person is trusting: the page the QR opens holds the pairing's secrets; the relay
 * only carries ciphertext.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { OutputOf } from '../../src-shared/contract.js';
import { call } from '../api.js';
import { CopyButton } from './CopyButton.js';
import { formatWait, useCountdown } from './Countdown.js';
import { ErrorText, Field } from './Field.js';
import { notConfirmed, useConfirmedCall } from '../hooks/useConfirmedCall.js';

type Offer = OutputOf<'push.beginPairing'>;
type PairingState = OutputOf<'push.pairingStatus'>['state'];

const SOURCE_LABEL: Record<NonNullable<Offer['webCompanion']>['source'], string> = {
  app: 'this app',
  url: 'the web server you chose in Security settings',
  relay: 'the relay, which you marked as trusted in Security settings',
};

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** What the phone trusts with this pairing, in words: the page's origin, and the relay apart from it. */
function TrustNote({ offer }: { offer: Offer }) {
  if (!offer.webCompanion) {
    return (
      <p className="small" data-testid="pairing-trust">
        No web companion is served here, so the QR code is for the command-line companion only. Choose where phones get it under Web companion in Security
        settings.
      </p>
    );
  }
  return (
    <p className="small" data-testid="pairing-trust">
      Your phone opens the companion from <strong>{new URL(offer.webCompanion.url).origin}</strong> ({SOURCE_LABEL[offer.webCompanion.source]}) and trusts that
      page with this pairing. Messages travel through the relay at <strong>{hostOf(offer.relayUrl)}</strong>, which sees only encrypted data.
    </p>
  );
}

const ENDED: Partial<Record<PairingState, string>> = {
  expired: 'The pairing link expired before a companion used it. Start again.',
  cancelled: 'The pairing was cancelled.',
  failed: 'The pairing failed: the companion did not confirm it (or the relay did not pass its keys on). Start again.',
};

export function PairCompanion({ onPaired, onCancel }: { onPaired: (recoveryCodes: string[] | null, name: string) => void; onCancel: () => void }) {
  const [offer, setOffer] = useState<Offer | null>(null);
  const [state, setState] = useState<PairingState | null>(null);
  const [comparison, setComparison] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  // Once 2FA is on, pairing is a step-up: the router asks, the dialog confirms, the call is sent again.
  const { run: confirmed, dialog } = useConfirmedCall();
  const current = useRef<string | null>(null);
  const left = useCountdown(offer && state === 'waiting' ? Math.max(0, offer.expiresAt - Date.now()) : 0);

  const begin = async () => {
    setError(null);
    const r = await confirmed('push.beginPairing', {});
    if (!r.ok) {
      if (notConfirmed(r)) return onCancel();
      return setError(r.error.message);
    }
    current.current = r.value.pairingId;
    setOffer(r.value);
    setState('waiting');
    setComparison(null);
    void watch(r.value.pairingId);
  };

  const watch = async (pairingId: string) => {
    for (;;) {
      const r = await call('push.pairingStatus', { pairingId, waitMs: 20_000 });
      if (current.current !== pairingId) return;
      if (!r.ok) return setError(r.error.message);
      setState(r.value.state);
      if (r.value.comparisonCode) setComparison(r.value.comparisonCode);
      if (r.value.state !== 'waiting' && r.value.state !== 'finishing') return;
    }
  };

  // Start once, when the panel opens.
  const started = useRef(false);
  useEffect(() => {
    if (!started.current) {
      started.current = true;
      void begin();
    }
  });
  useEffect(
    () => () => {
      current.current = null;
    },
    [],
  );

  const cancel = async () => {
    const id = current.current;
    current.current = null;
    if (id) await call('push.cancelPairing', { pairingId: id });
    onCancel();
  };

  const finish = async (e: FormEvent) => {
    e.preventDefault();
    if (!offer) return;
    const r = await call('push.finishPairing', { pairingId: offer.pairingId, name });
    if (!r.ok) return setError(r.error.message);
    current.current = null;
    onPaired(r.value.recoveryCodes, r.value.device.name);
  };

  return (
    <div>
      {offer && state === 'waiting' && <PairingOffer offer={offer} left={left} />}
      {state === 'confirm' && comparison && (
        <form onSubmit={finish} aria-label="Compare and name the companion">
          <p>Check that your companion shows this same code:</p>
          <p className="push-number" data-testid="pairing-comparison">
            {comparison}
          </p>
          <Field
            label="Name this companion"
            value={name}
            maxLength={40}
            autoFocus
            onChange={(e) => setName(e.target.value)}
            hint="For example “Ada's phone”."
            required
          />
          <div className="actions">
            <button type="button" onClick={() => void cancel()}>
              The codes differ: cancel
            </button>
            <button type="submit" className="primary" disabled={name.trim() === ''}>
              The codes match: add companion
            </button>
          </div>
        </form>
      )}
      {state && ENDED[state] && (
        <p className="notice" role="status">
          {ENDED[state]}
        </p>
      )}
      <ErrorText message={error} />
      {state !== 'confirm' && (
        <div className="actions">
          <button type="button" onClick={() => void cancel()}>
            Cancel
          </button>
          {state && ENDED[state] && (
            <button type="button" className="primary" onClick={() => void begin()}>
              Start again
            </button>
          )}
        </div>
      )}
      {dialog}
    </div>
  );
}

/** The offer while it waits: how to scan or paste it, what the phone trusts, and how long it is valid. */
function PairingOffer({ offer, left }: { offer: Offer; left: number }) {
  return (
    <ol className="steps">
      <li>
        {offer.webCompanion ? 'On your phone, scan this code with the camera; it opens the web companion. Or run ' : 'Run '}
        <code>npm run companion -- pair &lt;link&gt;</code> with the link below.
        <TrustNote offer={offer} />
        <div className="qr">
          <img src={offer.qrPngDataUrl} alt="QR code for pairing a companion" data-testid="pairing-qr" width={232} height={232} />
        </div>
        <label className="small" htmlFor="pairing-link">
          Pairing link (works once)
        </label>
        <div className="secret-row">
          <input id="pairing-link" className="link-field" readOnly value={offer.link} onFocus={(e) => e.target.select()} data-testid="pairing-link" />
          <CopyButton text={offer.link} label="Copy link" testId="copy-pairing-link" />
        </div>
      </li>
      <li>
        Valid for <span data-testid="pairing-countdown">{formatWait(left)}</span> more.
      </li>
    </ol>
  );
}
