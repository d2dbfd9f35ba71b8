/**
 * Edit a repository: its name; for a remote one also its connections, whether it is
 * append-only, new credentials, a new address (the server or bucket moved: the whole location
 * is sent, with its credentials) and (after Test connection shows a changed or new server key)
 * the key to trust from now on. The core checks new credentials and a new key against the repository
 * before it stores them; a remote repository's edit is a step-up.
 */
import { useId, useState, type FormEvent } from 'react';
import type { InputOf } from '../../../src-shared/contract.js';
import type { TestConnectionOutcome } from '../../../src-shared/contract-repositories.js';
import type { RepositoryView } from '../../hooks/useRepositories.js';
import { call } from '../../api.js';
import { Dialog } from '../Dialog.js';
import { ErrorText, Field } from '../Field.js';
import { StepUpDialog } from '../StepUpDialog.js';
import { EMPTY_DRAFT, LocationFields, locationInput, type LocationDraft } from './LocationFields.js';
import { TrustServerDialog } from './TrustServerDialog.js';
import { TestOutcome } from './TestOutcome.js';
import { RemoteOptions } from './RemoteOptions.js';
import { REPOSITORY_WORDS as W } from '../../lib/repository-words.js';

type EditInput = InputOf<'backup.repositories.edit'>;

/** The stored location as a draft whose credentials are still to be typed. */
function draftOf(repo: RepositoryView): LocationDraft {
  const d = repo.details;
  if (d.kind === 'sftp')
    return { ...EMPTY_DRAFT, kind: 'sftp', host: d.host, port: String(d.port), username: d.username, path: d.path, authKind: d.auth, hostKey: d.hostKey };
  if (d.kind === 's3')
    return { ...EMPTY_DRAFT, kind: 's3', endpoint: d.endpoint ?? '', region: d.region, bucket: d.bucket, prefix: d.prefix, forcePathStyle: d.forcePathStyle };
  return { ...EMPTY_DRAFT, kind: 'folder', path: d.path };
}

/** Whether the draft names another server, folder, endpoint, bucket or prefix than the repository's. */
function placeChanged(repo: RepositoryView, d: LocationDraft): boolean {
  const now = repo.details;
  if (now.kind === 'sftp') return d.host.trim() !== now.host || Number(d.port) !== now.port || d.username.trim() !== now.username || d.path.trim() !== now.path;
  if (now.kind === 's3')
    return (
      d.endpoint.trim() !== (now.endpoint ?? '') ||
      d.region.trim() !== now.region ||
      d.bucket.trim() !== now.bucket ||
      d.prefix.trim() !== now.prefix ||
      d.forcePathStyle !== now.forcePathStyle
    );
  return false;
}

/** The edit the dialog's fields ask for: only what changed; a new address as a whole location, credentials included. */
function editInput(
  repo: RepositoryView,
  f: { name: string; connections: string; appendOnly: boolean; newCredentials: boolean; draft: LocationDraft; hostKey: string | null },
): EditInput {
  const remote = repo.kind !== 'folder';
  const connections = f.connections ? Number(f.connections) : null;
  const common: EditInput = {
    repositoryId: repo.id,
    ...(f.name.trim() !== repo.name ? { name: f.name.trim() } : {}),
    ...(remote && connections !== repo.connections ? { connections } : {}),
    ...(remote && f.appendOnly !== repo.appendOnly ? { appendOnly: f.appendOnly } : {}),
  };
  const d = repo.details;
  // Another server keeps none of the old one's key: only the one trusted after Test connection.
  const sameServer = d.kind !== 'sftp' || (f.draft.host.trim() === d.host && Number(f.draft.port) === d.port);
  const location = locationInput({ ...f.draft, hostKey: f.hostKey ?? (sameServer ? f.draft.hostKey : null) });
  if (f.newCredentials && placeChanged(repo, f.draft) && location.kind !== 'folder') return { ...common, location };
  const credentials =
    f.newCredentials && location.kind === 'sftp'
      ? { kind: 'sftp' as const, auth: location.auth }
      : f.newCredentials && location.kind === 's3'
        ? { kind: 's3' as const, accessKeyId: location.accessKeyId, secretAccessKey: location.secretAccessKey }
        : undefined;
  return { ...common, ...(credentials ? { credentials } : {}), ...(f.hostKey ? { hostKey: f.hostKey } : {}) };
}

export function EditRepositoryDialog({ repo, onDone, onCancel }: { repo: RepositoryView; onDone: (message: string) => void; onCancel: () => void }) {
  const [name, setName] = useState(repo.name);
  const [connections, setConnections] = useState(repo.connections === null ? '' : String(repo.connections));
  const [appendOnly, setAppendOnly] = useState(repo.appendOnly);
  const [newCredentials, setNewCredentials] = useState(false);
  const [draft, setDraft] = useState<LocationDraft>(() => draftOf(repo));
  const [outcome, setOutcome] = useState<TestConnectionOutcome | null>(null);
  const [trusting, setTrusting] = useState<{ fingerprint: string; algorithm: string | null; changed: boolean } | null>(null);
  const [hostKey, setHostKey] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<EditInput | null>(null);
  const [error, setError] = useState<string | null>(null);
  const titleId = useId();
  const credId = useId();
  const remote = repo.kind !== 'folder';

  const input = (): EditInput => editInput(repo, { name, connections, appendOnly, newCredentials, draft, hostKey });

  const test = async () => {
    const location = locationInput(draft);
    if (location.kind === 'folder') return;
    const r = await call('backup.repositories.testConnection', { location });
    if (!r.ok) return setError(r.error.message);
    setError(null);
    setOutcome(r.value);
    // A changed key, or the key of another server the repository moved to: shown to compare before it is trusted.
    if ((r.value.code === 'HOST_KEY_CHANGED' || r.value.code === 'HOST_KEY_UNKNOWN') && r.value.fingerprint)
      setTrusting({ fingerprint: r.value.fingerprint, algorithm: r.value.algorithm, changed: r.value.code === 'HOST_KEY_CHANGED' });
  };

  const save = async (proof?: string) => {
    const edit = confirming ?? input();
    setConfirming(null);
    const r = await call('backup.repositories.edit', edit, proof);
    if (!r.ok) return setError(r.error.message);
    onDone(`Saved the changes to “${r.value.repository.name}”.`);
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (remote) setConfirming(input());
    else void save();
  };

  return (
    <>
      {!trusting && !confirming && (
        <Dialog labelledBy={titleId} onCancel={onCancel}>
          <form onSubmit={submit}>
            <h2 id={titleId}>Edit “{repo.name}”</h2>
            <p className="small muted">
              <span className="badge neutral">{W.kind[repo.kind]}</span> <code>{repo.location}</code>
            </p>
            <Field label="Repository name" value={name} maxLength={60} required onChange={(e) => setName(e.target.value)} />
            {remote && (
              <>
                <RemoteOptions appendOnly={appendOnly} onAppendOnly={setAppendOnly} connections={connections} onConnections={setConnections} />
                <div className="check">
                  <input id={credId} type="checkbox" checked={newCredentials} onChange={(e) => setNewCredentials(e.target.checked)} />
                  <label htmlFor={credId}>Enter new credentials or a new address</label>
                </div>
                {newCredentials && (
                  <>
                    <LocationFields draft={draft} onChange={(d) => (setDraft(d), setOutcome(null))} />
                    <div className="actions">
                      <button type="button" onClick={() => void test()}>
                        {W.test}
                      </button>
                    </div>
                  </>
                )}
                {hostKey && (
                  <p className="small">
                    {W.trustedKey} <code>{hostKey}</code>
                  </p>
                )}
                {outcome && <TestOutcome outcome={outcome} />}
              </>
            )}
            <ErrorText message={error} />
            <div className="actions">
              <button type="button" onClick={onCancel}>
                Cancel
              </button>
              <button type="submit" className="primary" disabled={!name.trim()}>
                Save changes
              </button>
            </div>
          </form>
        </Dialog>
      )}
      {trusting && (
        <TrustServerDialog
          host={`${draft.host}:${draft.port}`}
          fingerprint={trusting.fingerprint}
          algorithm={trusting.algorithm}
          changed={trusting.changed}
          onCancel={() => setTrusting(null)}
          onTrust={() => (setHostKey(trusting.fingerprint), setTrusting(null))}
        />
      )}
      {confirming && (
        <StepUpDialog method="backup.repositories.edit" input={confirming} onProof={(proof) => void save(proof)} onCancel={() => setConfirming(null)} />
      )}
    </>
  );
}
