/**
 * Repositories: where backups are stored, in a folder, on an SFTP server or in an S3 bucket.
 * Create one (its password is shown once), connect an existing one with its password, edit it,
 * change its password (step-up, shown once), or remove it (step-up), optionally deleting its
 * files (an append-only one then needs maintenance credentials). The list says where each lives.
 */
import { useId, useState } from 'react';
import type { MaintenanceCredentials } from '../../../src-shared/repository-location.js';
import { call } from '../../api.js';
import { Dialog } from '../../components/Dialog.js';
import { ErrorText } from '../../components/Field.js';
import { StepUpDialog } from '../../components/StepUpDialog.js';
import { EditRepositoryDialog } from '../../components/backup/EditRepositoryDialog.js';
import { MaintenanceFields, useMaintenance } from '../../components/backup/MaintenanceFields.js';
import { REPOSITORY_WORDS as W } from '../../lib/repository-words.js';
import { RepositoryForm } from './RepositoryForm.js';
import { Table, type Column } from '../../components/Table.js';
import { dateTime } from '../../lib/format.js';
import { OneTimePassword } from '../../components/backup/OneTimePassword.js';
import { useRepositories, type RepositoryView } from '../../hooks/useRepositories.js';

type Shown = { title: string; name: string; path: string; password: string };

export function RepositoriesScreen() {
  const { repositories, error: loadError, reload } = useRepositories();
  const [shown, setShown] = useState<Shown | null>(null);
  const [changing, setChanging] = useState<RepositoryView | null>(null);
  const [removing, setRemoving] = useState<{ repo: RepositoryView; deleteFiles: boolean; maintenance?: MaintenanceCredentials; confirmed: boolean } | null>(
    null,
  );
  const [editing, setEditing] = useState<RepositoryView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);

  const changePassword = async (repo: RepositoryView, proof: string) => {
    setChanging(null);
    const r = await call('backup.repositories.changePassword', { repositoryId: repo.id }, proof);
    if (r.ok) setShown({ title: 'The new repository password', name: repo.name, path: repo.path, password: r.value.password });
    setError(r.ok ? null : r.error.message);
  };

  const remove = async (repo: RepositoryView, deleteFiles: boolean, maintenance: MaintenanceCredentials | undefined, proof: string) => {
    setRemoving(null);
    const r = await call('backup.repositories.remove', { repositoryId: repo.id, deleteFiles, ...(maintenance ? { maintenance } : {}) }, proof);
    setError(r.ok ? null : r.error.message);
    const kept = repo.kind === 'folder' ? ' (its files are still in the folder)' : ' (its files are still on the server)';
    setMessage(r.ok ? `Removed “${repo.name}”${deleteFiles ? ' and deleted its files' : kept}.` : null);
    void reload();
  };

  return (
    <div className="stack wide">
      <h1>Repositories</h1>
      <p className="muted">
        A repository holds encrypted, deduplicated snapshots: in a folder (a local disk, an external drive or a mounted network share), on an SFTP server or in
        an S3 bucket off this machine. Backup sets store their snapshots in one.
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
      {repositories && repositories.length === 0 && !shown && <p className="notice">No repositories yet. Create one below to start backing up.</p>}
      {repositories && repositories.length > 0 && (
        <div className="card">
          <h2>Connected repositories</h2>
          <Table
            rows={repositories}
            columns={repositoryColumns({
              onEdit: setEditing,
              onChangePassword: setChanging,
              onRemove: (r) => setRemoving({ repo: r, deleteFiles: false, confirmed: false }),
            })}
            rowKey={(r) => r.id}
            testId="repositories-table"
          />
        </div>
      )}
      {!shown && (
        <div className="two-col">
          <RepositoryForm
            mode="create"
            onDone={(d) => {
              setShown({ title: 'Your repository password', name: d.name, path: d.location, password: d.password ?? '' });
              setMessage(null);
              void reload();
            }}
          />
          <RepositoryForm
            mode="connect"
            onDone={(d) => {
              setMessage(`Connected “${d.name}”.`);
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
          onContinue={(deleteFiles, maintenance) => setRemoving({ ...removing, deleteFiles, maintenance, confirmed: true })}
        />
      )}
      {removing && removing.confirmed && (
        <StepUpDialog
          method="backup.repositories.remove"
          input={{ repositoryId: removing.repo.id, deleteFiles: removing.deleteFiles, ...(removing.maintenance ? { maintenance: removing.maintenance } : {}) }}
          onProof={(proof) => void remove(removing.repo, removing.deleteFiles, removing.maintenance, proof)}
          onCancel={() => setRemoving(null)}
        />
      )}
      {editing && (
        <EditRepositoryDialog
          repo={editing}
          onCancel={() => setEditing(null)}
          onDone={(text) => {
            setEditing(null);
            setMessage(text);
            void reload();
          }}
        />
      )}
    </div>
  );
}

function RemoveRepositoryDialog({
  repo,
  onCancel,
  onContinue,
}: {
  repo: RepositoryView;
  onCancel: () => void;
  onContinue: (deleteFiles: boolean, maintenance?: MaintenanceCredentials) => void;
}) {
  const [deleteFiles, setDeleteFiles] = useState(false);
  const maintenance = useMaintenance(repo);
  const where = repo.kind === 'folder' ? 'Its folder' : 'Its files at';
  const checkId = useId();
  const titleId = useId();
  return (
    <Dialog role="alertdialog" labelledBy={titleId} onCancel={onCancel}>
      <h2 id={titleId}>Remove “{repo.name}”?</h2>
      <p>
        Twofold Backup forgets this repository{repo.kind === 'folder' ? '' : ' and its credentials'} (delete the backup sets that use it first). {where}{' '}
        <code>{repo.location}</code> stay as they are unless you choose to delete them; with its password it can be connected again later.
      </p>
      <div className="check">
        <input id={checkId} type="checkbox" checked={deleteFiles} onChange={(e) => setDeleteFiles(e.target.checked)} />
        <label htmlFor={checkId}>Also delete the files: every snapshot in it is lost</label>
      </div>
      {deleteFiles && maintenance.needed && <MaintenanceFields repo={repo} draft={maintenance.draft} onChange={maintenance.setDraft} />}
      <div className="actions">
        <button type="button" onClick={onCancel} autoFocus>
          Keep it
        </button>
        <button
          type="button"
          className="danger solid"
          disabled={deleteFiles && maintenance.needed && maintenance.input === null}
          onClick={() => onContinue(deleteFiles, deleteFiles && maintenance.input ? maintenance.input : undefined)}
        >
          {deleteFiles ? 'Remove and delete files' : 'Remove'}
        </button>
      </div>
    </Dialog>
  );
}

function repositoryColumns(on: {
  onEdit: (r: RepositoryView) => void;
  onChangePassword: (r: RepositoryView) => void;
  onRemove: (r: RepositoryView) => void;
}): Column<RepositoryView>[] {
  return [
    { header: 'Name', cell: (r) => r.name },
    {
      header: 'Where',
      cell: (r) => (
        <span className="where">
          <span className="badge neutral">{W.kind[r.kind]}</span> <code>{r.location}</code>
          {r.appendOnly && (
            <>
              {' '}
              <span className="badge warn">{W.badgeAppendOnly}</span>
            </>
          )}
        </span>
      ),
    },
    { header: 'Connected', cell: (r) => dateTime(r.createdAt) },
    {
      header: 'Actions',
      hideHeader: true,
      cell: (r) => (
        <div className="row-actions nowrap">
          <button type="button" aria-label={`Edit ${r.name}`} onClick={() => on.onEdit(r)}>
            Edit
          </button>
          <button type="button" aria-label={`Change the password of ${r.name}`} onClick={() => on.onChangePassword(r)}>
            Change password
          </button>
          <button type="button" className="danger" aria-label={`Remove ${r.name}`} onClick={() => on.onRemove(r)}>
            Remove
          </button>
        </div>
      ),
    },
  ];
}
