/** The unlocked app: a section list on the left, the chosen section on the right. */
import { useState } from 'react';
import type { Status } from '../../src-shared/contract.js';
import { call } from '../api.js';
import { AuditLogScreen } from './AuditLogScreen.js';
import { SecuritySettings } from './SecuritySettings.js';

const SECTIONS = [
  { id: 'security', label: 'Security' },
  { id: 'audit', label: 'Audit log' },
] as const;
type SectionId = (typeof SECTIONS)[number]['id'];

export function Home({
  status,
  onChange,
  unlockedVia,
  onDismissUnlockNotice,
}: {
  status: Status;
  onChange: () => void;
  unlockedVia: { via: 'code' | 'recovery'; left: number } | null;
  onDismissUnlockNotice: () => void;
}) {
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
      <section className="panel">
        {unlockedVia?.via === 'recovery' && (
          <div className="notice banner" role="alert">
            <p>
              You unlocked with a recovery code; that code no longer works. <strong>{unlockedVia.left}</strong> recovery
              code{unlockedVia.left === 1 ? '' : 's'} left. If a device is lost, remove it below and add a new one
              {unlockedVia.left <= 3 ? ', and make new recovery codes' : ''}.
            </p>
            <div className="actions">
              <button
                type="button"
                onClick={() => {
                  setSection('security');
                  onDismissUnlockNotice();
                }}
              >
                Review my devices
              </button>
            </div>
          </div>
        )}
        {section === 'security' && <SecuritySettings accountName={status.accountName ?? ''} />}
        {section === 'audit' && <AuditLogScreen />}
      </section>
    </div>
  );
}
