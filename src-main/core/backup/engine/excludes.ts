/**
 * Exclude patterns (picomatch globs, dot files included): a pattern with a slash matches the
 * whole path, one without matches the entry's name anywhere in the tree ("*.tmp", "node_modules").
 * Patterns are written with "/" on every system; on Windows a path is matched with its "\"
 * read as "/" (`C:/Users/Ada/*.tmp`), and without regard to case, as Windows compares names.
 */
import picomatch from 'picomatch';
import type { PathStyle } from '../../../../src-shared/paths.js';
import { HOST_PATH_STYLE } from './path-style.js';

export type Excluder = (path: string, name: string) => boolean;

export function makeExcluder(patterns: readonly string[], style: PathStyle = HOST_PATH_STYLE): Excluder {
  const windows = style === 'win32';
  const options = { dot: true, nocase: windows, windows: false };
  const full = patterns.filter((p) => p.includes('/'));
  const base = patterns.filter((p) => !p.includes('/'));
  const matchFull = full.length ? picomatch(full, options) : () => false;
  const matchBase = base.length ? picomatch(base, options) : () => false;
  const slashes = windows ? (p: string) => p.replaceAll('\\', '/') : (p: string) => p;
  return (path, name) => matchFull(slashes(path)) || matchBase(name);
}
