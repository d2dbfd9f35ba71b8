/** Formatting for the backup screens: sizes, durations, rates, times, file modes. */
import type { EntryType } from '../../src-shared/contract-backup.js';

export { formatCount, isAre, plural, wasWere } from './plural.js';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${UNITS[u]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** 0:42, 12:05, 1:02:03 */
export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** A duration in ms as "850 ms", "12.3 s", "4 min 05 s". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h} h ${String(m).padStart(2, '0')} min` : `${m} min ${rest} s`;
}

export function dateTime(ms: number | string | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? '—' : d.toLocaleString();
}

const TYPE_LETTER: Record<EntryType, string> = { file: '-', dir: 'd', symlink: 'l', fifo: 'p', socket: 's', chardev: 'c', blockdev: 'b' };

/** A Unix mode as `ls -l` shows it: "-rwsr-x--T" (type letter, then setuid, setgid and sticky in the x places). */
export function formatMode(mode: number, type: EntryType): string {
  const bits = 'rwxrwxrwx';
  let s = TYPE_LETTER[type];
  for (let i = 0; i < 9; i++) {
    const set = (mode & (1 << (8 - i))) !== 0;
    // setuid (0o4000) over the owner's x, setgid (0o2000) over the group's, sticky (0o1000) over others'.
    const special = i % 3 === 2 && (mode & (0o4000 >> Math.floor(i / 3))) !== 0;
    if (special) s += i === 8 ? (set ? 't' : 'T') : set ? 's' : 'S';
    else s += set ? bits[i] : '-';
  }
  return s;
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** Lines of a textarea, trimmed, without blanks. */
export function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}
