/**
 * The application log: JSON lines in `<dataDir>/logs/twofold.log`. Fields are plain values
 * chosen at each call site; a secret, code or password is never passed here (tests read the
 * log file to hold us to that).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export type LogFields = Record<string, string | number | boolean | null>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export const LOG_FILE = join('logs', 'twofold.log');

export function createFileLogger(dataDir: string, now: () => number = Date.now): Logger {
  mkdirSync(join(dataDir, 'logs'), { recursive: true, mode: 0o700 });
  const file = join(dataDir, LOG_FILE);
  const write = (level: string, message: string, fields?: LogFields) => {
    const line = JSON.stringify({ time: new Date(now()).toISOString(), level, message, ...fields });
    appendFileSync(file, `${line}\n`, { mode: 0o600 });
  };
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}
