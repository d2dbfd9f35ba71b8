/**
 * A secret shown once (recovery codes, a repository password): the core keeps no readable copy,
 * so the person downloads or prints it and confirms it is saved before moving on.
 */
import { useId, useState, type ReactNode } from 'react';
import { downloadText } from '../lib/download.js';

export function ShownOnce(props: {
  title: string;
  /** What the download holds, and its file name. */
  file: { name: string; text: () => string };
  confirmLabel: string;
  onSaved: () => void;
  children: ReactNode;
}) {
  const [saved, setSaved] = useState(false);
  const checkId = useId();
  const titleId = useId();
  return (
    <section className="card printable" aria-labelledby={titleId}>
      <h2 id={titleId}>{props.title}</h2>
      {props.children}
      <div className="actions no-print">
        <button type="button" onClick={() => downloadText(props.file.name, props.file.text())}>
          Download as .txt
        </button>
        <button type="button" onClick={() => window.print()}>
          Print
        </button>
      </div>
      <div className="check no-print">
        <input id={checkId} type="checkbox" checked={saved} onChange={(e) => setSaved(e.target.checked)} />
        <label htmlFor={checkId}>{props.confirmLabel}</label>
      </div>
      <div className="actions no-print">
        <button type="button" className="primary" disabled={!saved} onClick={props.onSaved}>
          Done
        </button>
      </div>
    </section>
  );
}
