/** Builds source trees on disk for the backup tests, and compares two trees as `diff -r` and stat do. */
import { execFileSync } from 'node:child_process';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_KDF = { memoryKiB: 19_456, iterations: 2, parallelism: 1 };

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `twofold-${prefix}-`));
}

export function removeTree(path: string): void {
  // Read-only folders in fixtures must be made writable before they can be removed.
  try {
    execFileSync('chmod', ['-R', 'u+rwx', path], { stdio: 'ignore' });
  } catch {
    // already gone
  }
  rmSync(path, { recursive: true, force: true });
}

/** Deterministic pseudo-random bytes (AES-256-CTR keyed by the seed): the same seed gives the same file. */
export function pseudoRandom(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(seed).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

/**
 * The tree the issue names: empty files, files from 0 B to `bigMiB` MiB (one big file), unicode
 * names, deep folders, symlinks (relative, absolute, dangling, to a folder), modes and times.
 */
export function makeSourceTree(root: string, bigMiB = 100): void {
  mkdirSync(root, { recursive: true });
  const t = (s: number) => new Date(Date.UTC(2021, 4, 6, 7, 8, 9) + s * 1000 + 123);
  const file = (rel: string, data: Buffer | string, mode = 0o644, when = 0) => {
    const p = join(root, rel);
    writeFileSync(p, data);
    chmodSync(p, mode);
    utimesSync(p, t(when), t(when));
  };
  mkdirSync(join(root, 'empty-folder'));
  file('empty.txt', '');
  file('one-byte', 'x', 0o600, 1);
  file('small.txt', 'hello, twofold\n', 0o644, 2);
  file('page.bin', randomBytes(4096), 0o640, 3);
  file('odd.bin', randomBytes(65_537), 0o644, 4);
  file('text.log', 'line of very compressible text\n'.repeat(40_000), 0o644, 5);
  file('medium.bin', randomBytes(1_500_000), 0o755, 6);
  file('five.bin', randomBytes(5 * 1024 * 1024 + 17), 0o644, 7);
  file('read-only.txt', 'do not touch\n', 0o444, 8);
  file('big.bin', randomBytes(bigMiB * 1024 * 1024), 0o644, 9);
  mkdirSync(join(root, 'ünïcödé'));
  file('ünïcödé/café.txt', 'café\n', 0o644, 10);
  file('ünïcödé/日本語のファイル.txt', '日本語\n', 0o644, 11);
  file('ünïcödé/emoji 🎉 party.md', '# 🎉\n', 0o644, 12);
  file('ünïcödé/e\u0301-combining', 'combining\n', 0o644, 13);
  file('ünïcödé/with space & $ymbols (1).txt', 'symbols\n', 0o644, 14);
  let deep = 'deep';
  for (let i = 0; i < 30; i++) deep = join(deep, `level-${i}`);
  mkdirSync(join(root, deep), { recursive: true });
  file(join(deep, 'bottom.txt'), 'at the bottom\n', 0o644, 15);
  symlinkSync('small.txt', join(root, 'link-relative'));
  symlinkSync('/etc/hostname', join(root, 'link-absolute'));
  symlinkSync('does/not/exist', join(root, 'link-dangling'));
  symlinkSync('ünïcödé', join(root, 'link-to-folder'));
  mkdirSync(join(root, 'locked-folder'));
  file('locked-folder/inside.txt', 'inside\n', 0o644, 16);
  chmodSync(join(root, 'locked-folder'), 0o555);
  chmodSync(join(root, 'empty-folder'), 0o700);
  // Folder times last: creating entries above changed them.
  for (const d of ['empty-folder', 'ünïcödé', 'locked-folder', 'deep']) utimesSync(join(root, d), t(100), t(100));
}

/** `diff -r` without following symlinks: empty output means the same names and bytes. */
export function diffTrees(a: string, b: string): string {
  try {
    return execFileSync('diff', ['-r', '--no-dereference', a, b], { encoding: 'utf8' });
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? e);
  }
}

export interface StatLine {
  path: string;
  type: string;
  mode: number;
  size: number;
  mtimeMs: number;
  link: string | null;
}

/** What `stat` shows for every entry below `root`: type, mode, size, mtime (ms), link target. */
export function statTree(root: string): StatLine[] {
  const out: StatLine[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, r));
      const type = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'file';
      out.push({
        path: r,
        type,
        mode: st.mode & 0o7777,
        size: type === 'file' ? st.size : 0,
        mtimeMs: Math.floor(st.mtimeMs),
        link: type === 'symlink' ? readlinkSync(join(root, r)) : null,
      });
      if (type === 'dir') walk(r);
    }
  };
  walk('');
  return out;
}

/** Invert one byte of a file in place: damage a pack where a test wants it. */
export function flipByte(path: string, at: number): void {
  const fd = openSync(path, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0] = b[0]! ^ 0xff;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
}
