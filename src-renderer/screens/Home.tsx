/** The unlocked app: a section list on the left, the chosen section on the right. */
import { useState } from 'react';
import type { Status } from '../../src-shared/contract.js';
import { call } from '../api.js';
import { SecuritySettings } from './SecuritySettings.js';

const SECTIONS = [{ id: 'security', label: 'Security' }] as const;
type SectionId = (typeof SECTIONS)[number]['id'];

export function Home({ status, onChange }: { status: Status; onChange: () => void }) {
  const [section, setSection] = useState<SectionId>('security');
  const lock = async () => {
    await call('gate.lock', {});
    onChange();
  };
  return (
    <div className="home">
      <nav className="sidebar" aria-label="Sections">
        <ul>
          {SECTIONS.map((s) => (
            <li key={s.id}>
              <button className={section === s.id ? 'nav active' : 'nav'} aria-current={section === s.id ? 'page' : undefined} onClick={() => setSection(s.id)}>
                {s.label}
              </button>
            </li>
          ))}
        </ul>
        <p className="small muted">Signed in as {status.accountName}</p>
        <button onClick={lock}>Lock now</button>
      </nav>
      <section className="panel">{section === 'security' && <SecuritySettings />}</section>
    </div>
  );
}
