/**
 * The last line of defence of a long-running process (the console, the desktop app, the relay):
 * a promise rejection nobody handled, or an exception nothing caught, is logged and the process
 * keeps serving. Without these handlers Node ends the process on either, so one missed `catch`
 * anywhere (a damaged repository, a hostile peer) would take the gate, the scheduler and every
 * other user of the process down with it. Every part of the engine reports its own failures; this
 * is for the one that slips through, and the log says where it came from so it can be fixed.
 *
 * What is logged is the error's kind, its code and the code location it was thrown from, never
 * its message: a message can carry anything (a path, a peer's input), and the log must never
 * hold a secret. Runtime-neutral: the process object is passed in.
 */

export type FaultFields = Record<string, string | number | boolean | null>;

/** What the handlers need of Node's `process`. */
export interface GuardTarget {
  on(event: 'unhandledRejection' | 'uncaughtException', listener: (reason: unknown) => void): unknown;
}

/** An error as the log may hold it: kind, code, and the first frame of its stack. */
export function describeFault(reason: unknown): FaultFields {
  if (!(reason instanceof Error)) return { kind: typeof reason, code: null, where: null };
  const code = (reason as { code?: unknown }).code;
  // The stack's first line repeats the message: only the frames below it are kept.
  const frame = (reason.stack ?? '').split('\n').find((line) => /^\s+at /.test(line));
  return {
    kind: reason.name || 'Error',
    code: typeof code === 'string' || typeof code === 'number' ? String(code) : null,
    where: frame ? frame.trim().slice(0, 300) : null,
  };
}

/** Log, and keep running, on any rejection or exception nothing else handled. */
export function installProcessGuards(target: GuardTarget, log: (message: string, fields: FaultFields) => void): void {
  const report = (what: string) => (reason: unknown) => {
    try {
      log(what, describeFault(reason));
    } catch {
      // A log that cannot be written must not turn into the fault it reports.
    }
  };
  target.on('unhandledRejection', report('unhandled promise rejection (the process goes on)'));
  target.on('uncaughtException', report('uncaught exception (the process goes on)'));
}
