/**
 * Process-wide tuning for the process that holds the keys and runs the backups, called once by
 * each shell at start-up (src-main/console/main.ts, src-main/electron/main.ts), never by the core:
 * building a core in a test or a benchmark leaves the process as it was. It runs backups, often
 * unattended beside the person's own work, so it favours memory over speed (V8 flags and the
 * allocator; src-main/core/backup/engine/gc.ts).
 */
import { favourMemory } from '../core/backup/engine/gc.js';

export function tuneProcess(): void {
  favourMemory();
}
