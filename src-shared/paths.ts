/**
 * Absolute paths of both families the app runs on, as pure string rules (no node:path, so the
 * renderer and the contract use the very same code as the core):
 *
 * - `posix` (Linux, macOS): `/home/ada/Documents`. Compared exactly (byte for byte, as the
 *   kernel does; macOS's case-insensitive volumes are the user's to know about).
 * - `win32`: drive paths `C:\Users\Ada` (or `C:/Users/Ada`) and UNC paths `\\nas\share\dir`,
 *   also with the `\\?\` long-path prefix. Compared case-insensitively, as Windows does.
 *
 * Snapshots store source paths in one platform-neutral form (docs/repository-format.md): a
 * POSIX path as it is; a drive path as `/C/Users/Ada`; a UNC path as `//nas/share/dir`; plus the
 * snapshot's `pathStyle`, so a snapshot made on either family lists and restores on the other.
 */
export type PathStyle = 'posix' | 'win32';

export interface ParsedPath {
  style: PathStyle;
  /** POSIX: ''. win32: 'C:' for a drive, '\\\\server\\share' for UNC. */
  root: string;
  /** The names below the root; no empty parts, no '.', no '..'. */
  parts: string[];
}

const DRIVE = /^([A-Za-z]):[\\/](.*)$/s;
/** `\\server\share\rest`; a server name never starts with `?` or `.` (those are device paths). */
const UNC = /^[\\/]{2}([^\\/?.][^\\/]*)[\\/]+([^\\/]+)(?:[\\/](.*))?$/s;
const LONG_PREFIX = '\\\\?\\';

/** The family a path is written in, judged from its start; null when it is absolute in neither. */
export function styleOfPath(path: string): PathStyle | null {
  if (path.startsWith('/')) return 'posix';
  return parsePath(path, 'win32') ? 'win32' : null;
}

/** Why `path` is not a usable absolute path of `style`, in the user's words; null when it is. */
export function absolutePathProblem(path: string, style: PathStyle): string | null {
  if (path.length === 0) return 'Enter a folder.';
  if (path.includes('\0')) return 'Paths cannot contain NUL characters.';
  const parsed = parsePath(path, style);
  if (parsed) return parsed.parts.includes('..') ? 'Use a path without "..".' : null;
  if (style === 'posix') return 'Use a full path (starting with /).';
  if (/^[A-Za-z]:(?![\\/])/.test(path)) return 'Put a backslash after the drive letter (for example C:\\Users).';
  return 'Use a full path, such as C:\\Users\\you\\Documents or \\\\server\\share\\folder.';
}

/** A path of either family, for the contract, which cannot know the machine's own. */
export function isAbsoluteInEitherStyle(path: string): boolean {
  return absolutePathProblem(path, 'posix') === null || absolutePathProblem(path, 'win32') === null;
}

/** Splits an absolute path of `style` into root and names (`.` dropped); null when not absolute. */
export function parsePath(path: string, style: PathStyle): ParsedPath | null {
  if (style === 'posix') {
    if (!path.startsWith('/')) return null;
    return { style, root: '', parts: names(path.split('/')) };
  }
  // `\\?\C:\…` and `\\?\UNC\server\share\…` name the same places as without the prefix.
  let rest = path;
  if (rest.startsWith(LONG_PREFIX)) {
    rest = rest.slice(LONG_PREFIX.length);
    if (/^UNC\\/i.test(rest)) rest = `\\\\${rest.slice(4)}`;
    else if (!DRIVE.test(rest)) return null;
  }
  const drive = DRIVE.exec(rest);
  if (drive) return { style, root: `${drive[1]!.toUpperCase()}:`, parts: names(drive[2]!.split(/[\\/]/)) };
  const unc = UNC.exec(rest);
  if (unc) {
    const [, server, share, tail] = unc;
    return { style, root: `\\\\${server}\\${share}`, parts: names((tail ?? '').split(/[\\/]/)) };
  }
  return null;
}

function names(split: string[]): string[] {
  return split.filter((p) => p !== '' && p !== '.');
}

/** The path written the one way this family writes it: separators, no trailing separator. */
export function formatPath(p: ParsedPath): string {
  if (p.style === 'posix') return `/${p.parts.join('/')}`;
  return `${p.root}\\${p.parts.join('\\')}`;
}

/** Normalises an absolute path of `style`; throws for anything else (check it first). */
export function normalizePath(path: string, style: PathStyle): string {
  const parsed = parsePath(path, style);
  if (!parsed) throw new Error(`Not an absolute ${style} path.`);
  return formatPath(parsed);
}

function key(p: ParsedPath): string[] {
  const all = [p.root, ...p.parts];
  return p.style === 'win32' ? all.map((s) => s.toLowerCase()) : all;
}

/** Whether two absolute paths of `style` name the same place (case-insensitive on Windows). */
export function samePath(a: string, b: string, style: PathStyle): boolean {
  const pa = parsePath(a, style);
  const pb = parsePath(b, style);
  if (!pa || !pb) return false;
  const ka = key(pa);
  const kb = key(pb);
  return ka.length === kb.length && ka.every((s, i) => s === kb[i]);
}

/** Whether `inner` is `outer` or lies below it (case-insensitive on Windows). */
export function isInsidePath(inner: string, outer: string, style: PathStyle): boolean {
  const pi = parsePath(inner, style);
  const po = parsePath(outer, style);
  if (!pi || !po) return false;
  const ki = key(pi);
  const ko = key(po);
  return ki.length >= ko.length && ko.every((s, i) => s === ki[i]);
}

/** Two names in one folder collide where the file system would take them for one. */
export function sameName(a: string, b: string, style: PathStyle): boolean {
  return style === 'win32' ? a.toLowerCase() === b.toLowerCase() : a === b;
}

/** The last name of an absolute path (for a bare drive or share: the drive letter or share name). */
export function lastName(path: string, style: PathStyle): string {
  const p = parsePath(path, style);
  if (!p) throw new Error(`Not an absolute ${style} path.`);
  if (p.parts.length > 0) return p.parts[p.parts.length - 1]!;
  if (p.style === 'win32') return p.root.startsWith('\\\\') ? p.root.split('\\').pop()! : p.root.slice(0, 1);
  return '';
}

/** The snapshot's platform-neutral form of an absolute path of `style`. */
export function toSnapshotPath(path: string, style: PathStyle): string {
  const p = parsePath(path, style);
  if (!p) throw new Error(`Not an absolute ${style} path.`);
  if (p.style === 'posix') return formatPath(p);
  const tail = p.parts.length ? `/${p.parts.join('/')}` : '';
  if (p.root.startsWith('\\\\')) {
    const [, , server, share] = p.root.split('\\');
    return `//${server}/${share}${tail}`;
  }
  return `/${p.root.slice(0, 1)}${tail}`;
}

/**
 * A snapshot's path, back in the form of the machine it was made on (`snapshotStyle`), for
 * display; when `style` is another family the path means nothing here, and the result is null.
 */
export function fromSnapshotPath(stored: string, snapshotStyle: PathStyle, style: PathStyle): string | null {
  if (snapshotStyle !== style) return null;
  if (style === 'posix') return stored;
  return displaySnapshotPath(stored, 'win32');
}

/** How a snapshot's path reads to a person, in the notation of the machine that made it. */
export function displaySnapshotPath(stored: string, snapshotStyle: PathStyle): string {
  if (snapshotStyle === 'posix') return stored;
  const unc = /^\/\/([^/]+)\/([^/]+)(?:\/(.*))?$/s.exec(stored);
  if (unc) return `\\\\${unc[1]}\\${unc[2]}${unc[3] ? `\\${unc[3].split('/').join('\\')}` : ''}`;
  const drive = /^\/([A-Za-z])(?:\/(.*))?$/s.exec(stored);
  if (drive) return `${drive[1]!.toUpperCase()}:\\${(drive[2] ?? '').split('/').join('\\')}`;
  return stored;
}

/** The style of the machine this code runs on, from `process.platform` or the renderer's own guess. */
export function styleOfPlatform(platform: string): PathStyle {
  return platform === 'win32' ? 'win32' : 'posix';
}
