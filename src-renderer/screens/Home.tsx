/**
 * The unlocked app: a section list on the left (sticky), the chosen section on the right. It opens
 * on the overview, and each time the section changes (unlocking included) the focus moves to the
 * section's main heading, so a screen reader and the keyboard start where the content starts.
 */
import { useEffect, useRef, useState } from 'react';
import type { Status } from '../../src-shared/contract.js';
import { call } from '../api.js';
import { OverviewScreen } from './home/OverviewScreen.js';
import { AuditLogScreen } from './AuditLogScreen.js';
import { BackupSetsScreen } from './backup/BackupSetsScreen.js';
import { CheckScreen } from './backup/CheckScreen.js';
import { HistoryScreen } from './backup/HistoryScreen.js';
import { RepositoriesScreen } from './backup/RepositoriesScreen.js';
import { SnapshotsScreen, type SnapshotTarget } from './backup/SnapshotsScreen.js';
import { SecuritySettings } from './SecuritySettings.js';

const SECTIONS = [
  { id: 'overview', label: 'Overview' },
  { id: 'backups', label: 'Backup sets' },
  { id: 'snapshots', label: 'Snapshots & restore' },
  { id: 'history', label: 'History' },
  { id: 'repositories', label: 'Repositories' },
  { id: 'check', label: 'Check & repair' },
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
  unlockedVia: { via: 'code' | 'recovery' | 'push'; left: number } | null;
  onDismissUnlockNotice: () => void;
}) {
  const [section, setSection] = useState<SectionId>('overview');
  const [snapshotTarget, setSnapshotTarget] = useState<SnapshotTarget | null>(null);
  const panel = useRef<HTMLElement>(null);
  useEffect(() => {
    const heading = panel.current?.querySelector('h1');
    if (!heading) return;
    heading.tabIndex = -1;
    heading.focus();
  }, [section]);
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
              <button
                className={section === s.id ? 'nav active' : 'nav'}
                aria-current={section === s.id ? 'page' : undefined}
                onClick={() => (setSection(s.id), setSnapshotTarget(null))}
              >
                {s.label}
              </button>
            </li>
          ))}
        </ul>
        <p className="small muted">Signed in as {status.accountName}</p>
        <button onClick={lock}>Lock now</button>
      </nav>
      <section className="panel" ref={panel}>
        {unlockedVia?.via === 'recovery' && (
          <div className="notice banner" role="alert">
            <p>
              You unlocked with a recovery code; that code no longer works. <strong>{unlockedVia.left}</strong> recovery code{unlockedVia.left === 1 ? '' : 's'}{' '}
              left. If a device is lost, remove it in Security under Devices and add a new one
              {unlockedVia.left <= 3 ? ', and make new recovery codes there' : ''}.
            </p>
            <div className="actions">
              <button type="button" onClick={onDismissUnlockNotice}>
                Dismiss
              </button>
              <button
                type="button"
                className="primary"
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
        {section === 'overview' && <OverviewScreen onGo={(to) => (setSection(to), setSnapshotTarget(null))} />}
        {section === 'backups' && <BackupSetsScreen onOpenRepositories={() => setSection('repositories')} />}
        {section === 'snapshots' && <SnapshotsScreen onOpenRepositories={() => setSection('repositories')} target={snapshotTarget} />}
        {section === 'history' && <HistoryScreen onOpenSnapshot={(t) => (setSnapshotTarget(t), setSection('snapshots'))} />}
        {section === 'repositories' && <RepositoriesScreen />}
        {section === 'check' && <CheckScreen onOpenRepositories={() => setSection('repositories')} />}
        {section === 'security' && <SecuritySettings accountName={status.accountName ?? ''} />}
        {section === 'audit' && <AuditLogScreen />}
      </section>
    </div>
  );
}
