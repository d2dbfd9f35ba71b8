/**
 * A repository password, shown once: the core stores it nowhere, and it is what opens the
 * repository on another machine. Download or copy it, then confirm it is saved.
 */
import { ShownOnce } from '../ShownOnce.js';
import { CopyButton } from '../CopyButton.js';

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
  const fileName = `twofold-repository-${name.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 40) || 'password'}.txt`;
  return (
    <ShownOnce
      title={title}
      file={{ name: fileName, text: () => repositoryPasswordText(name, path, password, new Date()) }}
      confirmLabel="I have saved this password somewhere safe"
      onSaved={onSaved}
    >
      <p className="notice">
        <strong>Save this password now.</strong> It is shown only this once and Twofold Backup keeps no copy of it. Without it, the repository cannot be opened
        on another computer or after a reinstall.
      </p>
      <p>
        Repository “{name}” at <code>{path}</code>
      </p>
      <div className="secret-row">
        <p className="secret repo-password" data-testid="repo-password">
          <code>{password}</code>
        </p>
        <span className="no-print">
          <CopyButton text={password} label="Copy password" testId="copy-repo-password" />
        </span>
      </div>
    </ShownOnce>
  );
}
