/**
 * Security settings → Web companion: where a phone gets the web companion's code when it scans a
 * pairing QR. Whoever serves that page holds the pairing's secrets and every request it shows,
 * so the choice is the user's, is a step-up, and says plainly what is trusted: this app (the
 * default), a web server the user names, or the relay (only if it is trusted like this computer).
 */
import { useEffect, useId, useState, type FormEvent } from 'react';
import type { InputOf, OutputOf } from '../../src-shared/contract.js';
import { call } from '../api.js';
import { ErrorText, Field } from './Field.js';
import { notConfirmed, useConfirmedCall } from '../hooks/useConfirmedCall.js';

type View = OutputOf<'push.webCompanion'>;
type Source = View['choice']['source'];

const OPTIONS: [Source, string, string][] = [
  ['app', 'This app', 'The app serves the companion itself. Nothing else is trusted with your pairings.'],
  ['url', 'A web server you trust', 'An https:// address where you put the built companion (npm run build:companion makes it).'],
  [
    'relay',
    'The relay (trusted)',
    'Only if the relay is run by someone you trust as much as this computer, with --serve-companion: whoever serves the page can read pairings and approve requests.',
  ],
];

export function WebCompanionSettings() {
  const ids = useId();
  const [view, setView] = useState<View | null>(null);
  const [source, setSource] = useState<Source>('app');
  const [url, setUrl] = useState('');
  // Where phones get the companion is a step-up: the router asks, the dialog names the choice.
  const { run: confirmed, dialog } = useConfirmedCall();
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const show = (v: View) => {
    setView(v);
    setSource(v.choice.source);
    setUrl(v.choice.source === 'url' ? v.choice.url : '');
  };
  useEffect(() => {
    void call('push.webCompanion', {}).then((r) => (r.ok ? show(r.value) : setError(r.error.message)));
  }, []);

  const save = async (input: InputOf<'push.setWebCompanion'>) => {
    const r = await confirmed('push.setWebCompanion', input);
    if (notConfirmed(r)) return;
    setError(r.ok ? null : r.error.message);
    if (!r.ok) return;
    show(r.value);
    setMessage(
      r.value.url
        ? `Saved: phones will load the companion from ${new URL(r.value.url).origin}.`
        : 'Saved. No web companion is served here yet: pairing links work with the command-line companion only.',
    );
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setMessage(null);
    const choice = source === 'url' ? { source, url: url.trim() } : { source };
    void save({ choice });
  };

  return (
    <form className="card" onSubmit={submit} aria-labelledby={`${ids}-title`}>
      <h2 id={`${ids}-title`}>Web companion</h2>
      <p className="small muted">
        A phone runs whatever code the page it opens serves, and trusts it with the pairing. The relay only passes encrypted messages and is chosen separately,
        under Push relay.
      </p>
      <fieldset>
        <legend>Phones get the companion from</legend>
        {OPTIONS.map(([value, label, hint]) => (
          <div className="radio" key={value}>
            <input
              id={`${ids}-${value}`}
              type="radio"
              name={`${ids}-source`}
              checked={source === value}
              aria-describedby={`${ids}-${value}-hint`}
              onChange={() => setSource(value)}
            />
            <label htmlFor={`${ids}-${value}`}>{label}</label>
            <p id={`${ids}-${value}-hint`} className="small muted radio-hint">
              {hint}
              {value === 'app' &&
                view &&
                (view.appUrl ? ` Served at ${view.appUrl}.` : ' This app serves none right now (build it with npm run build:companion and restart).')}
            </p>
          </div>
        ))}
        {source === 'url' && (
          <Field label="Companion address" placeholder="https://office.example/companion/" value={url} onChange={(e) => setUrl(e.target.value)} required />
        )}
      </fieldset>
      {view && (
        <p className="small" data-testid="web-companion-now">
          {view.url ? `Pairing links open ${view.url}.` : 'Pairing links work with the command-line companion only.'}
        </p>
      )}
      <ErrorText message={error} />
      {message && <p role="status">{message}</p>}
      <div className="actions">
        <button type="submit" className="primary">
          Save web companion
        </button>
      </div>
      {dialog}
    </form>
  );
}
