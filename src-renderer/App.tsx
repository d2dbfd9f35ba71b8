/** Chooses the screen from the gate's status; polls it so an auto-lock shows at once. */
import { lazy, Suspense, useCallback, useEffect, useState, type MouseEvent } from 'react';
import type { Status } from '../src-shared/contract.js';
import { call } from './api.js';
import { ThemeToggle } from './components/ThemeToggle.js';
import { LockScreen } from './screens/LockScreen.js';
import { SecondFactorScreen, type UnlockedVia } from './screens/SecondFactorScreen.js';

// The lock screens ship in the first bundle; the app behind the gate and the wizard load when
// they are needed, so the first screen paints sooner.
const Home = lazy(() => import('./screens/Home.js').then((m) => ({ default: m.Home })));
const SetupWizard = lazy(() => import('./screens/SetupWizard.js').then((m) => ({ default: m.SetupWizard })));

const POLL_MS = 5_000;

/** The skip link lands on the main heading (or the main region when a screen has none). */
function skipToMain(e: MouseEvent<HTMLAnchorElement>) {
  e.preventDefault();
  const main = document.getElementById('main');
  const heading = main?.querySelector('h1');
  if (heading) heading.tabIndex = -1;
  (heading ?? main)?.focus();
}

export function App() {
  const [status, setStatus] = useState<Status | null>(null);
  const [error, setError] = useState<string | null>(null);
  // The wizard outlives the account's creation: its later steps run in the unlocked session.
  const [wizard, setWizard] = useState(false);
  const [unlockedVia, setUnlockedVia] = useState<{ via: UnlockedVia; left: number } | null>(null);

  const refresh = useCallback(async () => {
    const result = await call('app.status', {});
    if (result.ok) {
      setStatus(result.value);
      setError(null);
    } else setError(result.error.message);
  }, []);

  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), POLL_MS);
    return () => clearInterval(timer);
  }, [refresh]);

  let screen;
  if (!status) screen = <p className="muted">{error ?? 'Starting…'}</p>;
  else if (status.setupNeeded || (wizard && status.level === 'unlocked')) {
    screen = <SetupWizard onAccountCreated={() => (setWizard(true), void refresh())} onFinished={() => (setWizard(false), void refresh())} />;
  } else if (status.level === 'unlocked') {
    screen = <Home status={status} onChange={refresh} unlockedVia={unlockedVia} onDismissUnlockNotice={() => setUnlockedVia(null)} />;
  } else if (status.level === 'second-factor') {
    screen = <SecondFactorScreen status={status} onUnlocked={(via, left) => setUnlockedVia({ via, left })} onChange={refresh} />;
  } else screen = <LockScreen status={status} onChange={() => (setUnlockedVia(null), void refresh())} />;

  return (
    <div className="app">
      <a className="skip-link" href="#main" onClick={skipToMain}>
        Skip to main content
      </a>
      <header className="topbar">
        <span className="brand" aria-label="Twofold Backup">
          Twofold Backup
        </span>
        <span className="topbar-right">
          {status && <span className="muted small">v{status.version}</span>}
          <ThemeToggle />
        </span>
      </header>
      <main className="content" id="main" tabIndex={-1}>
        <Suspense fallback={<p className="muted">Loading…</p>}>{screen}</Suspense>
      </main>
    </div>
  );
}
