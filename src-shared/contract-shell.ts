/**
 * The desktop shell's own methods: what its tray and app menu do without the window. They are
 * `public` because the tray works while the app is locked (a status line, "Back up now", Quit),
 * and `shellOnly`: no window, page or console caller reaches them (the router refuses), so the
 * lock screen cannot read the backup status or write "quit" rows into the audit log.
 */
import { z } from 'zod';
import { Empty, method, type MethodSpec } from './method.js';

export const TrayStatusSchema = z.object({
  /** One line for the tray menu's first, disabled item. */
  line: z.string(),
  locked: z.boolean(),
  /** Backup sets running now. */
  running: z.number().int().nonnegative(),
});
export type TrayStatus = z.infer<typeof TrayStatusSchema>;

export const QuitDecisionSchema = z.object({
  allowed: z.boolean(),
  /** Why not, for the shell to show. */
  message: z.string().nullable(),
});
export type QuitDecision = z.infer<typeof QuitDecisionSchema>;

export const shellMethods = {
  'shell.status': method({
    level: 'public',
    shellOnly: true,
    action: 'Show the backup status in the tray',
    input: Empty,
    output: TrayStatusSchema,
  }),
  /** Runs the sets already configured, into their own repositories, as the scheduler does: nothing behind the gate changes. */
  'shell.backUpNow': method({
    level: 'public',
    shellOnly: true,
    action: 'Back up every set now',
    input: Empty,
    output: z.object({ started: z.number().int().nonnegative() }),
  }),
  /** Allowed only while unlocked (a locked app keeps its schedules going); audited either way. */
  'shell.quit': method({
    level: 'public',
    shellOnly: true,
    action: 'Quit Twofold Backup',
    input: Empty,
    output: QuitDecisionSchema,
  }),
} satisfies Record<string, MethodSpec>;
