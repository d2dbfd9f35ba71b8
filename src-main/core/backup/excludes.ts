/**
 * Exclude patterns (picomatch globs, dot files included): a pattern with a slash matches the
 * whole path, one without matches the entry's name anywhere in the tree ("*.tmp", "node_modules").
 */
import picomatch from 'picomatch';

export type Excluder = (path: string, name: string) => boolean;

export function makeExcluder(patterns: readonly string[]): Excluder {
  const full = patterns.filter((p) => p.includes('/'));
  const base = patterns.filter((p) => !p.includes('/'));
  const matchFull = full.length ? picomatch(full, { dot: true }) : () => false;
  const matchBase = base.length ? picomatch(base, { dot: true }) : () => false;
  return (path, name) => matchFull(path) || matchBase(name);
}
