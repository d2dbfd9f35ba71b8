/**
 * The application log: JSON lines in `<dataDir>/logs/twofold.log`. Fields are plain values
 * chosen at each call site; a secret, code or password is never passed here (tests read the
 * log file to hold us to that). `time`, `level` and `message` belong to the logger: a field of
 * the same name is kept as `field.<name>`, so `level` is always a severity.
 */
import { appendFileSync, chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export type LogFields = Record<string, string | number | boolean | null>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export const LOG_FILE = join('logs', 'twofold.log');

export type LogLevel = 'info' | 'warn' | 'error';

const RESERVED = new Set(['time', 'level', 'message']);

/** One log line: the logger's own keys first, then the call site's fields (renamed where they clash). */
export function logLine(time: string, level: LogLevel, message: string, fields: LogFields = {}): string {
  const line: Record<string, unknown> = { time, level, message };
  for (const [key, value] of Object.entries(fields)) line[RESERVED.has(key) ? `field.${key}` : key] = value;
  return JSON.stringify(line);
}

export function createFileLogger(dataDir: string, now: () => number = Date.now): Logger {
  const folder = join(dataDir, 'logs');
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  // Earlier versions (and a umask) may have left them readable by others.
  chmodSync(folder, 0o700);
  const file = join(dataDir, LOG_FILE);
  let checked = false;
  let failing = false;
  const write = (level: LogLevel, message: string, fields?: LogFields) => {
    try {
      appendFileSync(file, `${logLine(new Date(now()).toISOString(), level, message, fields)}\n`, { mode: 0o600 });
      if (!checked) {
        chmodSync(file, 0o600);
        checked = true;
      }
      failing = false;
    } catch (error) {
      // The log is for diagnosis: a full disk or a removed folder must not fail the work being
      // logged (a warning in a catch block would turn a handled error into a thrown one).
      if (!failing) process.stderr.write(`Twofold Backup could not write its log file (${(error as NodeJS.ErrnoException).code ?? 'error'}).\n`);
      failing = true;
    }
  };
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}
