/**
 * Edit a repository: its name; for a remote one also its connections, whether it is
 * append-only, new credentials and (after Test connection shows a changed server key) the key
 * to trust from now on. The core checks new credentials and a new key against the repository
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

export function EditRepositoryDialog({ repo, onDone, onCancel }: { repo: RepositoryView; onDone: (message: string) => void; onCancel: () => void }) {
  const [name, setName] = useState(repo.name);
  const [connections, setConnections] = useState(repo.connections === null ? '' : String(repo.connections));
  const [appendOnly, setAppendOnly] = useState(repo.appendOnly);
  const [newCredentials, setNewCredentials] = useState(false);
  const [draft, setDraft] = useState<LocationDraft>(() => draftOf(repo));
  const [outcome, setOutcome] = useState<TestConnectionOutcome | null>(null);
  const [trusting, setTrusting] = useState<{ fingerprint: string; algorithm: string | null } | null>(null);
  const [hostKey, setHostKey] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<EditInput | null>(null);
  const [error, setError] = useState<string | null>(null);
  const titleId = useId();
  const credId = useId();
  const remote = repo.kind !== 'folder';

  const input = (): EditInput => {
    const location = locationInput({ ...draft, hostKey: hostKey ?? draft.hostKey });
    const credentials =
      newCredentials && location.kind === 'sftp'
        ? { kind: 'sftp' as const, auth: location.auth }
        : newCredentials && location.kind === 's3'
          ? { kind: 's3' as const, accessKeyId: location.accessKeyId, secretAccessKey: location.secretAccessKey }
          : undefined;
    return {
      repositoryId: repo.id,
      ...(name.trim() !== repo.name ? { name: name.trim() } : {}),
      ...(remote && (connections ? Number(connections) : null) !== repo.connections ? { connections: connections ? Number(connections) : null } : {}),
      ...(remote && appendOnly !== repo.appendOnly ? { appendOnly } : {}),
      ...(credentials ? { credentials } : {}),
      ...(hostKey ? { hostKey } : {}),
    };
  };

  const test = async () => {
    const location = locationInput(draft);
    if (location.kind === 'folder') return;
    const r = await call('backup.repositories.testConnection', { location });
    if (!r.ok) return setError(r.error.message);
    setError(null);
    setOutcome(r.value);
    if (r.value.code === 'HOST_KEY_CHANGED' && r.value.fingerprint) setTrusting({ fingerprint: r.value.fingerprint, algorithm: r.value.algorithm });
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
                  <label htmlFor={credId}>Enter new credentials</label>
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
          changed
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
