/**
 * The restore form of the snapshot browser: where to (the original places or another folder)
 * and what to do with a file that exists. Overwriting is a step-up, which the router asks for
 * and the confirmation names (where the files go); a restore into a repository or the app's
 * data folder is refused by the core.
 */
import { useId, useState, type FormEvent } from 'react';
import type { OutputOf } from '../../../src-shared/contract.js';
import { ErrorText, Field } from '../Field.js';
import { useConfirmedCall } from '../../hooks/useConfirmedCall.js';

type Snapshot = OutputOf<'backup.snapshots.list'>['snapshots'][number];

export function RestoreForm({
  repositoryId,
  snapshot,
  selected,
  busy,
  onClear,
  onStarted,
}: {
  repositoryId: string;
  snapshot: Snapshot;
  selected: string[];
  busy: boolean;
  onClear: () => void;
  /** `destination` is the folder the files go to, or null for their original places. */
  onStarted: (jobId: string, destination: string | null) => void;
}) {
  const [target, setTarget] = useState<'original' | 'folder'>('folder');
  const [folder, setFolder] = useState('');
  const [onExisting, setOnExisting] = useState<'skip' | 'overwrite' | 'fail'>('fail');
  const [error, setError] = useState<string | null>(null);
  const name = useId();
  const { run, dialog } = useConfirmedCall();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    // Overwriting existing files is a step-up; the router asks, and the dialog names the destination.
    const r = await run('backup.restore.start', {
      repositoryId,
      snapshotId: snapshot.id,
      paths: selected,
      target: target === 'original' ? { kind: 'original' } : { kind: 'folder', path: folder.trim() },
      onExisting,
    });
    if (!r.ok) return setError(r.error.message);
    setError(null);
    onStarted(r.value.jobId, target === 'original' ? null : folder.trim());
  };

  const label = selected.length === 0 ? 'Restore the whole snapshot' : `Restore ${selected.length} selected item${selected.length === 1 ? '' : 's'}`;
  return (
    <>
      <form className="subcard restore-form" aria-labelledby={`${name}-title`} onSubmit={submit} data-testid="restore-form">
        <h3 id={`${name}-title`}>Restore</h3>
        <p className="small" data-testid="restore-selection">
          {selected.length === 0 ? (
            'Nothing selected: everything in this snapshot is restored. Tick files or folders to restore only those.'
          ) : (
            <>
              Selected:{' '}
              {selected.slice(0, 5).map((p) => (
                <code key={p} className="chip">
                  {p}
                </code>
              ))}
              {selected.length > 5 && ` and ${selected.length - 5} more`}{' '}
              <button type="button" className="link" onClick={onClear}>
                Clear selection
              </button>
            </>
          )}
        </p>
        <div className="two-col">
          <fieldset>
            <legend>Restore to</legend>
            <div className="radio">
              <input id={`${name}-folder`} type="radio" name={`${name}-target`} checked={target === 'folder'} onChange={() => setTarget('folder')} />
              <label htmlFor={`${name}-folder`}>Another folder</label>
            </div>
            <div className="radio">
              <input id={`${name}-orig`} type="radio" name={`${name}-target`} checked={target === 'original'} onChange={() => setTarget('original')} />
              <label htmlFor={`${name}-orig`}>Their original places ({snapshot.paths.join(', ')})</label>
            </div>
            {target === 'folder' && (
              <Field
                label="Restore into folder"
                hint="A full path. Items keep their path inside the snapshot: docs/report.pdf lands in <folder>/docs/report.pdf."
                value={folder}
                spellCheck={false}
                required
                placeholder="/home/ada/Restored"
                onChange={(e) => setFolder(e.target.value)}
              />
            )}
          </fieldset>
          <fieldset>
            <legend>If a file already exists</legend>
            {(
              [
                ['fail', 'Stop the restore (nothing is overwritten)'],
                ['skip', 'Skip it and keep the existing file'],
                ['overwrite', 'Overwrite it with the copy from the snapshot'],
              ] as const
            ).map(([v, text]) => (
              <div className="radio" key={v}>
                <input id={`${name}-${v}`} type="radio" name={`${name}-existing`} checked={onExisting === v} onChange={() => setOnExisting(v)} />
                <label htmlFor={`${name}-${v}`}>{text}</label>
              </div>
            ))}
          </fieldset>
        </div>
        <ErrorText message={error} />
        <div className="actions">
          <button type="submit" className="primary" disabled={busy || (target === 'folder' && !folder.trim())}>
            {label}
          </button>
        </div>
      </form>
      {dialog}
    </>
  );
}
