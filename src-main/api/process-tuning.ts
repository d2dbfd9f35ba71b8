/**
 * Process-wide tuning for the process that holds the keys and runs the backups, called once by
 * each shell at start-up (src-main/console/main.ts, src-main/electron/main.ts), never by the core:
 * building a core in a test or a benchmark leaves the process as it was. It runs backups, often
 * unattended beside the person's own work, so it favours memory over speed (V8 flags and the
 * allocator; src-main/core/backup/engine/gc.ts). It holds the vault key and the repositories'
 * master keys, so no core file may be written and, on Linux, no other process of the same user may
 * read its memory (docs/security.md, "Keys and secrets").
 */
import { favourMemory } from '../core/backup/engine/gc.js';
import { hardenProcess, type ProcessHardening } from '../core/backup/engine/native.js';

/** Returns what the hardening could not turn off on this platform (false: turned off). */
export function tuneProcess(): ProcessHardening {
  favourMemory();
  return hardenProcess();
}
