/**
 * Where a repository lives: a segmented choice of Folder / SFTP / S3 and the fields of each.
 * Secrets (an SFTP password, a private key's passphrase, an S3 secret key) go in PasswordFields;
 * a private key is pasted or read from a chosen file. The draft becomes the contract's location
 * only on submit (`locationInput`): the contract's schemas say what is wrong with it.
 */
import { useId, useRef, type ChangeEvent } from 'react';
import type { LocationInput } from '../../../src-shared/repository-location.js';
import { Field } from '../Field.js';
import { PasswordField } from '../PasswordField.js';
import { REPOSITORY_WORDS as W } from '../../lib/repository-words.js';

export type Kind = LocationInput['kind'];
export type SftpAuthKind = 'password' | 'key' | 'agent';

export interface LocationDraft {
  kind: Kind;
  path: string;
  host: string;
  port: string;
  username: string;
  authKind: SftpAuthKind;
  password: string;
  privateKey: string;
  passphrase: string;
  hostKey: string | null;
  endpoint: string;
  region: string;
  bucket: string;
  prefix: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
}

export const EMPTY_DRAFT: LocationDraft = {
  kind: 'folder',
  path: '',
  host: '',
  port: '22',
  username: '',
  authKind: 'key',
  password: '',
  privateKey: '',
  passphrase: '',
  hostKey: null,
  endpoint: '',
  region: 'us-east-1',
  bucket: '',
  prefix: '',
  accessKeyId: '',
  secretAccessKey: '',
  forcePathStyle: false,
};

/** The draft as the contract's location; the core (and the router's zod) check it. */
export function locationInput(d: LocationDraft): LocationInput {
  switch (d.kind) {
    case 'folder':
      return { kind: 'folder', path: d.path.trim() };
    case 'sftp':
      return {
        kind: 'sftp',
        host: d.host.trim(),
        port: Number(d.port),
        username: d.username.trim(),
        path: d.path.trim(),
        auth:
          d.authKind === 'password'
            ? { kind: 'password', password: d.password }
            : d.authKind === 'key'
              ? { kind: 'key', privateKey: d.privateKey, ...(d.passphrase ? { passphrase: d.passphrase } : {}) }
              : { kind: 'agent' },
        hostKey: d.hostKey,
      };
    case 's3':
      return {
        kind: 's3',
        ...(d.endpoint.trim() ? { endpoint: d.endpoint.trim() } : {}),
        region: d.region.trim(),
        bucket: d.bucket.trim(),
        prefix: d.prefix.trim(),
        accessKeyId: d.accessKeyId.trim(),
        secretAccessKey: d.secretAccessKey,
        forcePathStyle: d.forcePathStyle,
      };
  }
}

/** Whether every field the kind needs has something in it (the contract checks the rest). */
export function draftComplete(d: LocationDraft): boolean {
  if (d.kind === 'folder') return d.path.trim() !== '';
  if (d.kind === 's3') return [d.region, d.bucket, d.accessKeyId, d.secretAccessKey].every((v) => v.trim() !== '');
  const auth = d.authKind === 'password' ? d.password !== '' : d.authKind === 'key' ? d.privateKey.trim() !== '' : true;
  return auth && [d.host, d.port, d.username, d.path].every((v) => v.trim() !== '');
}

/** The secrets of a draft cleared (after a save, or when the form is left). */
export function withoutSecrets(d: LocationDraft): LocationDraft {
  return { ...d, password: '', privateKey: '', passphrase: '', secretAccessKey: '' };
}

export function KindChoice({ value, onChange, label }: { value: Kind; onChange: (k: Kind) => void; label: string }) {
  const name = useId();
  return (
    <fieldset className="segmented">
      <legend>{label}</legend>
      {(['folder', 'sftp', 's3'] as const).map((k) => (
        <label key={k} className={value === k ? 'chosen' : undefined}>
          <input type="radio" name={name} checked={value === k} onChange={() => onChange(k)} />
          {W.kindLong[k]}
        </label>
      ))}
    </fieldset>
  );
}

export function LocationFields({
  draft,
  onChange,
  folderLabel = 'Folder',
  folderHint,
}: {
  draft: LocationDraft;
  onChange: (d: LocationDraft) => void;
  folderLabel?: string;
  folderHint?: string;
}) {
  const set = (patch: Partial<LocationDraft>) => onChange({ ...draft, ...patch });
  const text = (key: keyof LocationDraft) => (e: ChangeEvent<HTMLInputElement>) => set({ [key]: e.target.value } as Partial<LocationDraft>);
  const styleId = useId();
  if (draft.kind === 'folder') {
    return (
      <Field label={folderLabel} hint={folderHint} value={draft.path} required spellCheck={false} placeholder="/media/backup/twofold" onChange={text('path')} />
    );
  }
  if (draft.kind === 'sftp') return <SftpFields draft={draft} set={set} text={text} />;
  return (
    <>
      <Field
        label="Endpoint"
        hint={W.endpointHint}
        value={draft.endpoint}
        spellCheck={false}
        placeholder="https://s3.eu-central-003.backblazeb2.com"
        onChange={text('endpoint')}
      />
      <div className="two-col">
        <Field label="Region" hint={W.regionHint} value={draft.region} required spellCheck={false} onChange={text('region')} />
        <Field label="Bucket" value={draft.bucket} required spellCheck={false} autoCapitalize="off" onChange={text('bucket')} />
      </div>
      <Field label="Prefix" hint={W.prefixHint} value={draft.prefix} spellCheck={false} placeholder="laptop/home" onChange={text('prefix')} />
      <Field label="Access key id" value={draft.accessKeyId} required spellCheck={false} autoComplete="off" onChange={text('accessKeyId')} />
      <PasswordField label="Secret access key" value={draft.secretAccessKey} required autoComplete="off" onChange={text('secretAccessKey')} />
      <div className="check">
        <input id={styleId} type="checkbox" checked={draft.forcePathStyle} onChange={(e) => set({ forcePathStyle: e.target.checked })} />
        <label htmlFor={styleId}>{W.pathStyle}</label>
      </div>
    </>
  );
}

function SftpFields({
  draft,
  set,
  text,
}: {
  draft: LocationDraft;
  set: (patch: Partial<LocationDraft>) => void;
  text: (key: keyof LocationDraft) => (e: ChangeEvent<HTMLInputElement>) => void;
}) {
  const name = useId();
  const keyId = useId();
  const file = useRef<HTMLInputElement>(null);
  const chooseFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const chosen = e.target.files?.[0];
    if (chosen) set({ privateKey: await chosen.text() });
    e.target.value = '';
  };
  return (
    <>
      <div className="two-col">
        <Field
          label="Server"
          hint={W.hostHint}
          value={draft.host}
          required
          spellCheck={false}
          autoCapitalize="off"
          placeholder="nas.local"
          onChange={(e) => set({ host: e.target.value, hostKey: null })}
        />
        <Field label="Port" value={draft.port} required inputMode="numeric" onChange={(e) => set({ port: e.target.value, hostKey: null })} />
      </div>
      <Field label="User name" value={draft.username} required spellCheck={false} autoCapitalize="off" autoComplete="off" onChange={text('username')} />
      <Field
        label="Folder on the server"
        hint={W.remotePathHint}
        value={draft.path}
        required
        spellCheck={false}
        placeholder="/srv/backups/laptop"
        onChange={text('path')}
      />
      <fieldset>
        <legend>Sign in with</legend>
        {(['key', 'password', 'agent'] as const).map((k) => (
          <div className="radio" key={k}>
            <input id={`${name}-${k}`} type="radio" name={name} checked={draft.authKind === k} onChange={() => set({ authKind: k })} />
            <label htmlFor={`${name}-${k}`}>{W.auth[k]}</label>
          </div>
        ))}
      </fieldset>
      {draft.authKind === 'password' && <PasswordField label="Password" value={draft.password} required autoComplete="off" onChange={text('password')} />}
      {draft.authKind === 'key' && (
        <>
          <div className="field">
            <label htmlFor={keyId}>Private key</label>
            <textarea
              id={keyId}
              rows={4}
              value={draft.privateKey}
              spellCheck={false}
              autoComplete="off"
              placeholder="-----BEGIN OPENSSH PRIVATE KEY-----"
              aria-describedby={`${keyId}-hint`}
              onChange={(e) => set({ privateKey: e.target.value })}
            />
            <p id={`${keyId}-hint`} className="small muted">
              {W.keyHint}
            </p>
            <div className="actions">
              <button type="button" onClick={() => file.current?.click()}>
                Choose a key file…
              </button>
              <input ref={file} type="file" hidden onChange={(e) => void chooseFile(e)} />
            </div>
          </div>
          <PasswordField label="Key passphrase (if it has one)" value={draft.passphrase} autoComplete="off" onChange={text('passphrase')} />
        </>
      )}
      {draft.authKind === 'agent' && <p className="small muted">{W.agentHint}</p>}
      {draft.hostKey && (
        <p className="small">
          {W.trustedKey} <code>{draft.hostKey}</code>
        </p>
      )}
    </>
  );
}
