/**
 * Repositories: the folders backups are stored in. Create one (its password is shown once),
 * connect an existing one with its password, change its password (step-up, shown once), or
 * remove it (step-up), optionally deleting its files.
 */
import { useId, useState, type FormEvent } from 'react';
import { call } from '../../api.js';
import { Dialog } from '../../components/Dialog.js';
import { ErrorText, Field } from '../../components/Field.js';
import { PasswordField } from '../../components/PasswordField.js';
import { StepUpDialog } from '../../components/StepUpDialog.js';
import { Table, type Column } from '../../components/Table.js';
import { dateTime } from '../../lib/format.js';
import { OneTimePassword } from '../../components/backup/OneTimePassword.js';
import { useRepositories, type RepositoryView } from '../../hooks/useRepositories.js';

type Shown = { title: string; name: string; path: string; password: string };

export function RepositoriesScreen() {
  const { repositories, error: loadError, reload } = useRepositories();
  const [shown, setShown] = useState<Shown | null>(null);
  const [changing, setChanging] = useState<RepositoryView | null>(null);
  const [removing, setRemoving] = useState<{ repo: RepositoryView; deleteFiles: boolean; confirmed: boolean } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const changePassword = async (repo: RepositoryView, proof: string) => {
    setChanging(null);
    const r = await call('backup.repositories.changePassword', { repositoryId: repo.id }, proof);
    if (r.ok) setShown({ title: 'The new repository password', name: repo.name, path: repo.path, password: r.value.password });
    setError(r.ok ? null : r.error.message);
  };

  const remove = async (repo: RepositoryView, deleteFiles: boolean, proof: string) => {
    setRemoving(null);
    const r = await call('backup.repositories.remove', { repositoryId: repo.id, deleteFiles }, proof);
    setError(r.ok ? null : r.error.message);
    setMessage(r.ok ? `Removed “${repo.name}”${deleteFiles ? ' and deleted its files' : ' (its files are still in the folder)'}.` : null);
    void reload();
  };

  return (
    <div className="stack wide">
      <h1>Repositories</h1>
      <p className="muted">
        A repository is a folder (a local disk, an external drive or a mounted network share) that holds encrypted, deduplicated
        snapshots. Backup sets store their snapshots in one.
      </p>
      <ErrorText message={loadError ?? error} />
      {message && <p role="status">{message}</p>}
      {shown && (
        <OneTimePassword
          title={shown.title}
          name={shown.name}
          path={shown.path}
          password={shown.password}
          onSaved={() => (setShown(null), setMessage('Password saved. Keep it safe.'))}
        />
      )}
      {repositories && repositories.length === 0 && !shown && (
        <p className="notice">No repositories yet. Create one below to start backing up.</p>
      )}
      {repositories && repositories.length > 0 && (
        <div className="card">
          <h2>Connected repositories</h2>
          <Table
            rows={repositories}
            columns={repositoryColumns(setChanging, (r) => setRemoving({ repo: r, deleteFiles: false, confirmed: false }))}
            rowKey={(r) => r.id}
            testId="repositories-table"
          />
        </div>
      )}
      {!shown && (
        <div className="two-col">
          <CreateRepository
            onCreated={(s) => {
              setShown(s);
              setMessage(null);
              void reload();
            }}
          />
          <ConnectRepository
            onConnected={(name) => {
              setMessage(`Connected “${name}”.`);
              void reload();
            }}
          />
        </div>
      )}
      {changing && (
        <StepUpDialog
          method="backup.repositories.changePassword"
          input={{ repositoryId: changing.id }}
          onProof={(proof) => void changePassword(changing, proof)}
          onCancel={() => setChanging(null)}
        />
      )}
      {removing && !removing.confirmed && (
        <RemoveRepositoryDialog
          repo={removing.repo}
          onCancel={() => setRemoving(null)}
          onContinue={(deleteFiles) => setRemoving({ ...removing, deleteFiles, confirmed: true })}
        />
      )}
      {removing && removing.confirmed && (
        <StepUpDialog
          method="backup.repositories.remove"
          input={{ repositoryId: removing.repo.id, deleteFiles: removing.deleteFiles }}
          onProof={(proof) => void remove(removing.repo, removing.deleteFiles, proof)}
          onCancel={() => setRemoving(null)}
        />
      )}
    </div>
  );
}

function CreateRepository({ onCreated }: { onCreated: (shown: Shown) => void }) {
  const [name, setName] = useState('');
  const [path, setPath] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const titleId = useId();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const r = await call('backup.repositories.init', { name: name.trim(), path: path.trim() });
    setBusy(false);
    if (!r.ok) return setError(r.error.message);
    setError(null);
    setName('');
    setPath('');
    onCreated({ title: 'Your repository password', name: r.value.repository.name, path: r.value.repository.path, password: r.value.password });
  };
  return (
    <form className="card" aria-labelledby={titleId} onSubmit={submit}>
      <h2 id={titleId}>Create a repository</h2>
      <Field label="Repository name" value={name} maxLength={60} required onChange={(e) => setName(e.target.value)} />
      <Field
        label="Folder"
        hint="A full path starting with /. The folder must be empty or not exist yet."
        value={path}
        required
        spellCheck={false}
        placeholder="/media/backup/twofold"
        onChange={(e) => setPath(e.target.value)}
      />
      <ErrorText message={error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={busy || !name.trim() || !path.trim()}>
          {busy ? 'Creating…' : 'Create repository'}
        </button>
      </div>
    </form>
  );
}

function ConnectRepository({ onConnected }: { onConnected: (name: string) => void }) {
  const [name, setName] = useState('');
  const [path, setPath] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const titleId = useId();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const r = await call('backup.repositories.connect', { name: name.trim(), path: path.trim(), password: password.trim() });
    setBusy(false);
    setPassword('');
    if (!r.ok) return setError(r.error.message);
    setError(null);
    setName('');
    setPath('');
    onConnected(r.value.repository.name);
  };
  return (
    <form className="card" aria-labelledby={titleId} onSubmit={submit}>
      <h2 id={titleId}>Connect an existing repository</h2>
      <Field label="Name on this computer" value={name} maxLength={60} required onChange={(e) => setName(e.target.value)} />
      <Field label="Repository folder" hint="A full path starting with /." value={path} required spellCheck={false} onChange={(e) => setPath(e.target.value)} />
      <PasswordField
        label="Repository password"
        autoComplete="off"
        value={password}
        required
        onChange={(e) => setPassword(e.target.value)}
      />
      <ErrorText message={error} />
      <div className="actions">
        <button type="submit" className="primary" disabled={busy || !name.trim() || !path.trim() || !password}>
          {busy ? 'Connecting…' : 'Connect repository'}
        </button>
      </div>
    </form>
  );
}

function RemoveRepositoryDialog({
  repo,
  onCancel,
  onContinue,
}: {
  repo: RepositoryView;
  onCancel: () => void;
  onContinue: (deleteFiles: boolean) => void;
}) {
  const [deleteFiles, setDeleteFiles] = useState(false);
  const checkId = useId();
  const titleId = useId();
  return (
    <Dialog role="alertdialog" labelledBy={titleId} onCancel={onCancel}>
        <h2 id={titleId}>Remove “{repo.name}”?</h2>
        <p>
          Twofold Backup forgets this repository (delete the backup sets that use it first). Its folder <code>{repo.path}</code>{' '}
          stays as it is unless you choose to delete it; with its password it can be connected again later.
        </p>
        <div className="check">
          <input id={checkId} type="checkbox" checked={deleteFiles} onChange={(e) => setDeleteFiles(e.target.checked)} />
          <label htmlFor={checkId}>Also delete the files: every snapshot in it is lost</label>
        </div>
        <div className="actions">
          <button type="button" onClick={onCancel} autoFocus>
            Keep it
          </button>
          <button type="button" className="danger solid" onClick={() => onContinue(deleteFiles)}>
            {deleteFiles ? 'Remove and delete files' : 'Remove'}
          </button>
        </div>
    </Dialog>
  );
}

function repositoryColumns(onChangePassword: (r: RepositoryView) => void, onRemove: (r: RepositoryView) => void): Column<RepositoryView>[] {
  return [
    { header: 'Name', cell: (r) => r.name },
    { header: 'Folder', cell: (r) => <code>{r.path}</code> },
    { header: 'Connected', cell: (r) => dateTime(r.createdAt) },
    {
      header: 'Actions',
      hideHeader: true,
      cell: (r) => (
        <div className="row-actions nowrap">
          <button type="button" aria-label={`Change the password of ${r.name}`} onClick={() => onChangePassword(r)}>
            Change password
          </button>
          <button type="button" className="danger" aria-label={`Remove ${r.name}`} onClick={() => onRemove(r)}>
            Remove
          </button>
        </div>
      ),
    },
  ];
}
