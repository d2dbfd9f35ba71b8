/**
 * What the desktop shell's tray menu may do without the window: show a one-line status, start
 * every backup set now, lock, and quit. "Back up now" works while the app is locked, as the
 * scheduler does: it only runs the sets already configured, into their own repositories, and
 * reveals or changes nothing behind the gate. Quitting stops every schedule, so it is refused
 * while the app is locked (docs/security.md); the OS ending the app is not asked, only logged.
 */
import { hostname } from 'node:os';
import type { Core } from '../core/composition.js';

export const QUIT_REFUSED_MESSAGE = 'Unlock Twofold Backup to quit it. While it is locked it keeps running, so that its scheduled backups go on.';

export interface QuitDecision {
  allowed: boolean;
  /** Why not, for the shell to show. */
  message: string | null;
}

export interface TrayStatus {
  /** One line for the tray menu's first, disabled item. */
  line: string;
  locked: boolean;
  running: number;
}

export interface TrayActions {
  status(): TrayStatus;
  /** Start every set that is not already running; returns how many started. */
  backUpNow(): number;
  /** The user asked to quit (tray, app menu): allowed only while unlocked; audited either way. */
  quit(): QuitDecision;
}

export function createTrayActions({
  backup,
  gate,
  logger,
  clock,
  audit,
  accounts,
}: Pick<Core, 'backup' | 'gate' | 'logger' | 'clock' | 'audit' | 'accounts'>): TrayActions {
  const here = { ip: 'local', workstation: hostname() };
  const runningCount = () => backup.sets.sets().filter((s) => backup.isRunning(s.id)).length;
  return {
    status() {
      const locked = gate.level() !== 'unlocked';
      const running = runningCount();
      const sets = backup.sets.sets();
      const last = backup.sets.runs(null, 1)[0];
      let line: string;
      if (running > 0) line = `Backing up (${running} set${running === 1 ? '' : 's'})…`;
      else if (sets.length === 0) line = 'No backup sets yet';
      else if (!last) line = 'No backup has run yet';
      else {
        const ago = Math.max(0, Math.round((clock.now() - (last.finishedAt ?? last.startedAt)) / 60_000));
        const when = ago < 1 ? 'just now' : ago < 120 ? `${ago} min ago` : `${Math.round(ago / 60)} h ago`;
        line = `Last backup ${last.state === 'succeeded' ? 'finished' : last.state === 'incomplete' ? 'finished with items not kept' : last.state} ${when}`;
      }
      return { line: `${line} · ${locked ? 'locked' : 'unlocked'}`, locked, running };
    },
    backUpNow() {
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
      return started;
    },
    quit() {
      const allowed = gate.level() === 'unlocked';
      audit.recordSoon(here, {
        action: 'app.quit',
        outcome: allowed ? 'success' : 'failure',
        account: accounts.current()?.name ?? null,
        detail: allowed ? 'quit from the desktop app' : 'refused: the app is locked',
      });
      return { allowed, message: allowed ? null : QUIT_REFUSED_MESSAGE };
    },
  };
}
