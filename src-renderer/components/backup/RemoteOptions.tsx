/** A remote repository's options: append-only, and how many connections it uses. */
import { useId } from 'react';
import { Field } from '../Field.js';
import { REPOSITORY_WORDS as W } from '../../lib/repository-words.js';

export function RemoteOptions(props: { appendOnly: boolean; onAppendOnly: (v: boolean) => void; connections: string; onConnections: (v: string) => void }) {
  const id = useId();
  return (
    <>
      <div className="check">
        <input id={id} type="checkbox" checked={props.appendOnly} aria-describedby={`${id}-hint`} onChange={(e) => props.onAppendOnly(e.target.checked)} />
        <label htmlFor={id}>{W.appendOnly}</label>
      </div>
      <p id={`${id}-hint`} className="small muted">
        {W.appendOnlyHint}
      </p>
      <Field
        label={W.connections}
        hint={W.connectionsHint}
        value={props.connections}
        inputMode="numeric"
        placeholder="4"
        onChange={(e) => props.onConnections(e.target.value)}
      />
    </>
  );
}
