/**
 * A repository password, shown once: the core stores it nowhere, and it is what opens the
 * repository on another machine. Download or copy it, then confirm it is saved.
 */
import { useId, useState } from 'react';
import { downloadText } from './format.js';

export function repositoryPasswordText(name: string, path: string, password: string, madeAt: Date): string {
  return [
    `Twofold Backup repository password for “${name}”`,
    `Repository folder: ${path}`,
    `Made ${madeAt.toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
    'You need it to open this repository on another computer or after a reinstall.',
    'Keep it somewhere safe and apart from this computer.',
    '',
    password,
    '',
  ].join('\n');
}

export function OneTimePassword({
  title,
  name,
  path,
  password,
  onSaved,
}: {
  title: string;
  name: string;
  path: string;
  password: string;
  onSaved: () => void;
}) {
  const [saved, setSaved] = useState(false);
  const checkId = useId();
  const titleId = useId();
  const fileName = `twofold-repository-${name.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 40) || 'password'}.txt`;
  return (
    <section className="card printable" aria-labelledby={titleId}>
      <h2 id={titleId}>{title}</h2>
      <p className="notice">
        <strong>Save this password now.</strong> It is shown only this once and Twofold Backup keeps no copy of it. Without it, the
        repository cannot be opened on another computer or after a reinstall.
      </p>
      <p>
        Repository “{name}” at <code>{path}</code>
      </p>
      <p className="secret repo-password" data-testid="repo-password">
        <code>{password}</code>
      </p>
      <div className="actions no-print">
        <button type="button" onClick={() => downloadText(fileName, repositoryPasswordText(name, path, password, new Date()))}>
          Download as .txt
        </button>
        <button type="button" onClick={() => window.print()}>
          Print
        </button>
      </div>
      <div className="check no-print">
        <input id={checkId} type="checkbox" checked={saved} onChange={(e) => setSaved(e.target.checked)} />
        <label htmlFor={checkId}>I have saved this password somewhere safe</label>
      </div>
      <div className="actions no-print">
        <button type="button" className="primary" disabled={!saved} onClick={onSaved}>
          Done
        </button>
      </div>
    </section>
  );
}
