/**
 * Maintenance credentials for one forget, prune or removal on an append-only repository: an
 * SFTP account (or key) that may delete, or an S3 key pair with s3:DeleteObject. They go with
 * that one call and are kept nowhere, not even in this form once it is sent.
 */
import { useId, useState } from 'react';
import type { MaintenanceCredentials } from '../../../src-shared/repository-location.js';
import type { RepositoryView } from '../../hooks/useRepositories.js';
import { Dialog } from '../Dialog.js';
import { Field } from '../Field.js';
import { PasswordField } from '../PasswordField.js';
import { REPOSITORY_WORDS as W } from '../../lib/repository-words.js';

export interface MaintenanceDraft {
  username: string;
  authKind: 'password' | 'key';
  password: string;
  privateKey: string;
  passphrase: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export const EMPTY_MAINTENANCE: MaintenanceDraft = {
  username: '',
  authKind: 'password',
  password: '',
  privateKey: '',
  passphrase: '',
  accessKeyId: '',
  secretAccessKey: '',
};

/** The draft as the contract's maintenance credentials, or null while a field it needs is empty. */
export function maintenanceInput(repo: RepositoryView, d: MaintenanceDraft): MaintenanceCredentials | null {
  if (repo.kind === 's3')
    return d.accessKeyId.trim() && d.secretAccessKey ? { kind: 's3', accessKeyId: d.accessKeyId.trim(), secretAccessKey: d.secretAccessKey } : null;
  if (repo.kind !== 'sftp') return null;
  const user = d.username.trim() ? { username: d.username.trim() } : {};
  if (d.authKind === 'password') return d.password ? { kind: 'sftp', ...user, auth: { kind: 'password', password: d.password } } : null;
  return d.privateKey.trim()
    ? { kind: 'sftp', ...user, auth: { kind: 'key', privateKey: d.privateKey, ...(d.passphrase ? { passphrase: d.passphrase } : {}) } }
    : null;
}

export function MaintenanceFields({ repo, draft, onChange }: { repo: RepositoryView; draft: MaintenanceDraft; onChange: (d: MaintenanceDraft) => void }) {
  const set = (patch: Partial<MaintenanceDraft>) => onChange({ ...draft, ...patch });
  const name = useId();
  const keyId = useId();
  return (
    <fieldset>
      <legend>{W.maintenanceTitle}</legend>
      <p className="small">{W.maintenanceIntro(repo.name)}</p>
      {repo.kind === 's3' ? (
        <>
          <Field
            label="Maintenance access key id"
            value={draft.accessKeyId}
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => set({ accessKeyId: e.target.value })}
          />
          <PasswordField
            label="Maintenance secret access key"
            value={draft.secretAccessKey}
            autoComplete="off"
            onChange={(e) => set({ secretAccessKey: e.target.value })}
          />
        </>
      ) : (
        <>
          <Field label={W.maintenanceUser} value={draft.username} autoComplete="off" spellCheck={false} onChange={(e) => set({ username: e.target.value })} />
          {(['password', 'key'] as const).map((k) => (
            <div className="radio" key={k}>
              <input id={`${name}-${k}`} type="radio" name={name} checked={draft.authKind === k} onChange={() => set({ authKind: k })} />
              <label htmlFor={`${name}-${k}`}>{W.auth[k]}</label>
            </div>
          ))}
          {draft.authKind === 'password' ? (
            <PasswordField label="Maintenance password" value={draft.password} autoComplete="off" onChange={(e) => set({ password: e.target.value })} />
          ) : (
            <>
              <div className="field">
                <label htmlFor={keyId}>Maintenance private key</label>
                <textarea id={keyId} rows={4} value={draft.privateKey} spellCheck={false} onChange={(e) => set({ privateKey: e.target.value })} />
              </div>
              <PasswordField
                label="Key passphrase (if it has one)"
                value={draft.passphrase}
                autoComplete="off"
                onChange={(e) => set({ passphrase: e.target.value })}
              />
            </>
          )}
        </>
      )}
    </fieldset>
  );
}

/** A maintenance draft held by a screen, with its contract form for `repo` (null when none is needed or it is incomplete). */
export function useMaintenance(repo: RepositoryView | undefined) {
  const [draft, setDraft] = useState<MaintenanceDraft>(EMPTY_MAINTENANCE);
  const needed = repo?.appendOnly === true;
  return { needed, draft, setDraft, input: needed && repo ? maintenanceInput(repo, draft) : null, clear: () => setDraft(EMPTY_MAINTENANCE) };
}

/** Asks for maintenance credentials before a step-up that deletes on an append-only repository. */
export function MaintenanceDialog(props: {
  repo: RepositoryView;
  what: string;
  maintenance: ReturnType<typeof useMaintenance>;
  onContinue: (m: MaintenanceCredentials) => void;
  onCancel: () => void;
}) {
  const titleId = useId();
  const { maintenance } = props;
  return (
    <Dialog labelledBy={titleId} onCancel={props.onCancel}>
      <h2 id={titleId}>{props.what}</h2>
      <MaintenanceFields repo={props.repo} draft={maintenance.draft} onChange={maintenance.setDraft} />
      <div className="actions">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button
          type="button"
          className="primary"
          disabled={maintenance.input === null}
          onClick={() => maintenance.input && props.onContinue(maintenance.input)}
        >
          Continue
        </button>
      </div>
    </Dialog>
  );
}
