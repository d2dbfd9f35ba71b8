/**
 * Create or connect a repository: where it lives (Folder / SFTP / S3), Test connection with its
 * outcome in words, the "Trust this server?" step for an SFTP server's key, and for a remote
 * repository the step-up the core asks for (its credentials decide where every backup goes).
 * Secrets leave the form with the call and are cleared from it afterwards.
 */
import { useId, useState, type FormEvent } from 'react';
import type { InputOf } from '../../../src-shared/contract.js';
import type { TestConnectionOutcome } from '../../../src-shared/contract-repositories.js';
import { call } from '../../api.js';
import { ErrorText, Field } from '../../components/Field.js';
import { PasswordField } from '../../components/PasswordField.js';
import { StepUpDialog } from '../../components/StepUpDialog.js';
import {
  draftComplete,
  EMPTY_DRAFT,
  KindChoice,
  LocationFields,
  locationInput,
  withoutSecrets,
  type LocationDraft,
} from '../../components/backup/LocationFields.js';
import { TrustServerDialog } from '../../components/backup/TrustServerDialog.js';
import { TestOutcome } from '../../components/backup/TestOutcome.js';
import { RemoteOptions } from '../../components/backup/RemoteOptions.js';
import { REPOSITORY_WORDS as W } from '../../lib/repository-words.js';

export type Mode = 'create' | 'connect';
type Done = { name: string; location: string; password: string | null };
type Input = InputOf<'backup.repositories.init'> | InputOf<'backup.repositories.connect'>;

const TEXT = {
  create: {
    title: 'Create a repository',
    name: 'Repository name',
    folder: 'Folder',
    folderHint: 'A full path starting with /. The folder must be empty or not exist yet.',
    submit: 'Create repository',
    busy: 'Creating…',
  },
  connect: {
    title: 'Connect an existing repository',
    name: 'Name on this computer',
    folder: 'Repository folder',
    folderHint: 'A full path starting with /.',
    submit: 'Connect repository',
    busy: 'Connecting…',
  },
} as const;

/** What the form sends: a folder's path, or a remote location with its options; the password when connecting. */
function formInput(mode: Mode, f: { name: string; draft: LocationDraft; appendOnly: boolean; connections: string; password: string }): Input {
  const where =
    f.draft.kind === 'folder'
      ? { path: f.draft.path.trim() }
      : { location: locationInput(f.draft), appendOnly: f.appendOnly, ...(f.connections ? { connections: Number(f.connections) } : {}) };
  return mode === 'create' ? { name: f.name.trim(), ...where } : { name: f.name.trim(), ...where, password: f.password.trim() };
}

export function RepositoryForm({ mode, onDone }: { mode: Mode; onDone: (done: Done) => void }) {
  const [name, setName] = useState('');
  const [draft, setDraft] = useState<LocationDraft>(EMPTY_DRAFT);
  const [password, setPassword] = useState('');
  const [appendOnly, setAppendOnly] = useState(false);
  const [connections, setConnections] = useState('');
  const [busy, setBusy] = useState<'test' | 'save' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<TestConnectionOutcome | null>(null);
  const [trusting, setTrusting] = useState<{ fingerprint: string; algorithm: string | null; changed: boolean } | null>(null);
  const [confirming, setConfirming] = useState<Input | null>(null);
  const titleId = useId();
  const text = TEXT[mode];
  const remote = draft.kind !== 'folder';

  const change = (d: LocationDraft) => (setDraft(d), setOutcome(null));

  /** Test connection; an unknown or changed server key opens the trust step. */
  const test = async (d: LocationDraft = draft): Promise<TestConnectionOutcome | null> => {
    const location = locationInput(d);
    if (location.kind === 'folder') return null;
    setBusy('test');
    const r = await call('backup.repositories.testConnection', { location });
    setBusy(null);
    if (!r.ok) {
      setError(r.error.message);
      return null;
    }
    setError(null);
    setOutcome(r.value);
    if ((r.value.code === 'HOST_KEY_UNKNOWN' || r.value.code === 'HOST_KEY_CHANGED') && r.value.fingerprint) {
      setTrusting({ fingerprint: r.value.fingerprint, algorithm: r.value.algorithm, changed: r.value.code === 'HOST_KEY_CHANGED' });
    }
    if (r.value.code === 'OK' && r.value.appendOnly) setAppendOnly(true);
    return r.value;
  };

  const input = (): Input => formInput(mode, { name, draft, appendOnly, connections, password });

  /** Save exactly what was confirmed: the proof is bound to this very input. */
  const save = async (what: Input, proof?: string) => {
    setConfirming(null);
    setBusy('save');
    const r =
      mode === 'create'
        ? await call('backup.repositories.init', what, proof).then((x) =>
            x.ok ? { ok: true as const, name: x.value.repository.name, location: x.value.repository.location, password: x.value.password } : x,
          )
        : await call('backup.repositories.connect', what as InputOf<'backup.repositories.connect'>, proof).then((x) =>
            x.ok ? { ok: true as const, name: x.value.repository.name, location: x.value.repository.location, password: null } : x,
          );
    setBusy(null);
    if (!r.ok) return setError(r.error.message);
    setError(null);
    setName('');
    setPassword('');
    setDraft(withoutSecrets({ ...EMPTY_DRAFT, kind: draft.kind }));
    setOutcome(null);
    setAppendOnly(false);
    onDone({ name: r.name, location: r.location, password: r.password });
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!remote) return save(input());
    // An SFTP server is trusted before anything is saved: its key first.
    if (draft.kind === 'sftp' && !draft.hostKey) return void (await test());
    setConfirming(input());
  };

  const ready = name.trim() !== '' && draftComplete(draft) && (mode === 'create' || password !== '');
  return (
    <>
      <form className="card" aria-labelledby={titleId} onSubmit={submit}>
        <h2 id={titleId}>{text.title}</h2>
        <Field label={text.name} value={name} maxLength={60} required onChange={(e) => setName(e.target.value)} />
        <KindChoice label="Where it lives" value={draft.kind} onChange={(kind) => change({ ...draft, kind })} />
        <LocationFields draft={draft} onChange={change} folderLabel={text.folder} folderHint={text.folderHint} />
        {remote && <RemoteOptions appendOnly={appendOnly} onAppendOnly={setAppendOnly} connections={connections} onConnections={setConnections} />}
        {mode === 'connect' && (
          <PasswordField label="Repository password" autoComplete="off" value={password} required onChange={(e) => setPassword(e.target.value)} />
        )}
        {outcome && <TestOutcome outcome={outcome} />}
        <ErrorText message={error} />
        <div className="actions">
          {remote && (
            <button type="button" disabled={busy !== null || !draftComplete(draft)} onClick={() => void test()}>
              {busy === 'test' ? W.testing : W.test}
            </button>
          )}
          <button type="submit" className="primary" disabled={busy !== null || !ready}>
            {busy === 'save' ? text.busy : text.submit}
          </button>
        </div>
      </form>
      {trusting && (
        <TrustServerDialog
          host={`${draft.host.trim()}:${draft.port.trim()}`}
          fingerprint={trusting.fingerprint}
          algorithm={trusting.algorithm}
          changed={trusting.changed}
          onCancel={() => setTrusting(null)}
          onTrust={() => {
            const trusted = { ...draft, hostKey: trusting.fingerprint };
            setTrusting(null);
            setOutcome(null);
            setDraft(trusted);
            void test(trusted);
          }}
        />
      )}
      {confirming && <ConfirmSave mode={mode} input={confirming} onProof={(proof) => void save(confirming, proof)} onCancel={() => setConfirming(null)} />}
    </>
  );
}

/** The step-up for adding a remote repository, bound to exactly the input that will be saved. */
function ConfirmSave({ mode, input, onProof, onCancel }: { mode: Mode; input: Input; onProof: (proof: string) => void; onCancel: () => void }) {
  return mode === 'create' ? (
    <StepUpDialog method="backup.repositories.init" input={input as InputOf<'backup.repositories.init'>} onProof={onProof} onCancel={onCancel} />
  ) : (
    <StepUpDialog method="backup.repositories.connect" input={input as InputOf<'backup.repositories.connect'>} onProof={onProof} onCancel={onCancel} />
  );
}
