/**
 * The shell's methods (src-shared/contract-shell.ts): what the desktop tray and app menu do
 * without the window. "Back up now" works while the app is locked, as the scheduler does: it only
 * runs the sets already configured, into their own repositories, and reveals or changes nothing
 * behind the gate. Quitting stops every schedule, so it is refused while the app is locked
 * (docs/security.md); the OS ending the app is not asked, only logged.
 */
import type { TrayStatus } from '../../src-shared/contract-shell.js';
import type { Core } from '../core/composition.js';
import type { Handlers } from './router.js';

export const QUIT_REFUSED_MESSAGE = 'Unlock Twofold Backup to quit it. While it is locked it keeps running, so that its scheduled backups go on.';

type ShellDeps = Pick<Core, 'backup' | 'gate' | 'logger' | 'clock' | 'audit' | 'accounts'>;

export function createShellHandlers(deps: ShellDeps): Pick<Handlers, 'shell.status' | 'shell.backUpNow' | 'shell.quit'> {
  const { backup, gate, logger, audit, accounts } = deps;
  return {
    'shell.status': () => trayStatus(deps),
    'shell.backUpNow': () => {
      let started = 0;
      for (const set of backup.sets.sets()) {
        if (backup.isRunning(set.id)) continue;
        try {
          backup.runSet(set.id, 'manual');
          started += 1;
        } catch (error) {
          logger.warn('tray backup could not start', { set: set.id, error: error instanceof Error ? error.name : 'unknown' });
        }
      }
      return { started };
    },
    'shell.quit': (_input, ctx) => {
      const allowed = gate.level() === 'unlocked';
      audit.recordSoon(ctx, {
        action: 'app.quit',
        outcome: allowed ? 'success' : 'failure',
        account: accounts.current()?.name ?? null,
        detail: allowed ? 'quit from the desktop app' : 'refused: the app is locked',
      });
      return { allowed, message: allowed ? null : QUIT_REFUSED_MESSAGE };
    },
  };
}

function trayStatus({ backup, gate, clock }: ShellDeps): TrayStatus {
  const locked = gate.level() !== 'unlocked';
  const running = backup.sets.sets().filter((s) => backup.isRunning(s.id)).length;
  const last = backup.sets.runs(null, 1)[0];
  let line: string;
  if (running > 0) line = `Backing up (${running} set${running === 1 ? '' : 's'})…`;
  else if (backup.sets.sets().length === 0) line = 'No backup sets yet';
  else if (!last) line = 'No backup has run yet';
  else {
    const ago = Math.max(0, Math.round((clock.now() - (last.finishedAt ?? last.startedAt)) / 60_000));
    const when = ago < 1 ? 'just now' : ago < 120 ? `${ago} min ago` : `${Math.round(ago / 60)} h ago`;
    const how = last.state === 'succeeded' ? 'finished' : last.state === 'incomplete' ? 'finished with items not kept' : last.state;
    line = `Last backup ${how} ${when}`;
  }
  return { line: `${line} · ${locked ? 'locked' : 'unlocked'}`, locked, running };
}
