/**
 * The path rules of both families (src-shared/paths.ts), checked against Node's own
 * implementation of each (`node:path`'s posix and win32 functions) wherever the two overlap,
 * so that Windows paths are tested on Linux with Windows' rules.
 */
import { posix, win32 } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  absolutePathProblem,
  displaySnapshotPath,
  fromSnapshotPath,
  isAbsoluteInEitherStyle,
  isInsidePath,
  lastName,
  normalizePath,
  parsePath,
  sameName,
  samePath,
  styleOfPath,
  toSnapshotPath,
} from '../../src-shared/paths.js';

const WINDOWS_ABSOLUTE = [
  'C:\\',
  'C:\\Users\\Ada\\Documents',
  'c:/Users/Ada/Documents/',
  'D:\\Photos\\2026\\.\\Summer',
  'C:\\Users\\Ada\\\\Double\\',
  '\\\\nas\\share',
  '\\\\nas\\share\\Backups\\Ada',
  '//nas/share/Backups',
  '\\\\?\\C:\\Very\\Long\\Path',
  '\\\\?\\UNC\\nas\\share\\dir',
  'C:\\Users\\Ada\\Résumé 日本語',
];

describe('Windows paths', () => {
  it.each(WINDOWS_ABSOLUTE)('accepts %s as absolute, as node:path.win32 does', (p) => {
    expect(absolutePathProblem(p, 'win32')).toBeNull();
    expect(win32.isAbsolute(p)).toBe(true);
    expect(styleOfPath(p) === 'win32' || p.startsWith('//')).toBe(true);
  });

  it.each([
    ['C:relative\\file', 'Put a backslash after the drive letter (for example C:\\Users).'],
    ['C:', 'Put a backslash after the drive letter (for example C:\\Users).'],
    ['\\rooted\\without\\drive', 'Use a full path, such as C:\\Users\\you\\Documents or \\\\server\\share\\folder.'],
    ['Documents\\file.txt', 'Use a full path, such as C:\\Users\\you\\Documents or \\\\server\\share\\folder.'],
    ['\\\\nas', 'Use a full path, such as C:\\Users\\you\\Documents or \\\\server\\share\\folder.'],
    ['\\\\.\\PhysicalDrive0', 'Use a full path, such as C:\\Users\\you\\Documents or \\\\server\\share\\folder.'],
    ['C:\\Users\\..\\Windows', 'Use a path without "..".'],
    ['', 'Enter a folder.'],
    ['C:\\nul\0byte', 'Paths cannot contain NUL characters.'],
  ])('refuses %j with a reason a person can act on', (p, reason) => {
    expect(absolutePathProblem(p, 'win32')).toBe(reason);
  });

  it.each(WINDOWS_ABSOLUTE.filter((p) => !p.startsWith('\\\\?\\')))('normalises %s as node:path.win32 does', (p) => {
    const node = win32.normalize(p);
    const trimmed = node.length > win32.parse(node).root.length ? node.replace(/\\+$/, '') : node;
    const ours = normalizePath(p, 'win32');
    // Node keeps a drive root as "C:\"; ours too; Node writes a drive letter as typed, ours upper-case.
    expect(ours.toLowerCase()).toBe(trimmed.toLowerCase());
  });

  it('drops the long-path prefix: \\\\?\\C:\\x is C:\\x, \\\\?\\UNC\\s\\h is \\\\s\\h', () => {
    expect(normalizePath('\\\\?\\C:\\Very\\Long\\Path', 'win32')).toBe('C:\\Very\\Long\\Path');
    expect(normalizePath('\\\\?\\UNC\\nas\\share\\dir', 'win32')).toBe('\\\\nas\\share\\dir');
  });

  it('compares without regard to case, as Windows does', () => {
    expect(samePath('C:\\Users\\Ada', 'c:/users/ADA/', 'win32')).toBe(true);
    expect(samePath('\\\\NAS\\Share\\x', '//nas/share/X', 'win32')).toBe(true);
    expect(samePath('C:\\Users\\Ada', 'D:\\Users\\Ada', 'win32')).toBe(false);
    expect(isInsidePath('C:\\Users\\Ada\\Documents\\x.txt', 'c:\\users\\ada', 'win32')).toBe(true);
    expect(isInsidePath('C:\\Users\\Adam', 'C:\\Users\\Ada', 'win32')).toBe(false);
    expect(isInsidePath('\\\\nas\\share\\Backups\\repo', '\\\\NAS\\SHARE', 'win32')).toBe(true);
    expect(sameName('Photos', 'PHOTOS', 'win32')).toBe(true);
  });

  it('names the last part, a drive or a share where there is none', () => {
    expect(lastName('C:\\Users\\Ada\\Documents\\', 'win32')).toBe('Documents');
    expect(lastName('D:\\', 'win32')).toBe('D');
    expect(lastName('\\\\nas\\backups', 'win32')).toBe('backups');
    expect(lastName('C:\\Users\\Ada\\Documents', 'win32')).toBe(win32.basename('C:\\Users\\Ada\\Documents'));
  });
});

describe('POSIX paths', () => {
  it.each(['/', '/home/ada', '/home/ada/', '/home//ada/./Documents', '/mnt/nas/C:/odd but legal'])(
    'accepts %s and normalises it as node:path.posix does',
    (p) => {
      expect(absolutePathProblem(p, 'posix')).toBeNull();
      expect(normalizePath(p, 'posix')).toBe(posix.normalize(p).replace(/(.)\/$/, '$1'));
    },
  );

  it.each([
    ['home/ada', 'Use a full path (starting with /).'],
    ['C:\\Users\\Ada', 'Use a full path (starting with /).'],
    ['/home/ada/../root', 'Use a path without "..".'],
  ])('refuses %j', (p, reason) => {
    expect(absolutePathProblem(p, 'posix')).toBe(reason);
  });

  it('compares exactly: case matters', () => {
    expect(samePath('/home/Ada', '/home/ada', 'posix')).toBe(false);
    expect(samePath('/home/ada/', '/home//ada', 'posix')).toBe(true);
    expect(isInsidePath('/srv/backups/repo/data', '/srv/backups/repo', 'posix')).toBe(true);
    expect(isInsidePath('/srv/backups/repository', '/srv/backups/repo', 'posix')).toBe(false);
    expect(sameName('Photos', 'photos', 'posix')).toBe(false);
    expect(lastName('/home/ada/Documents', 'posix')).toBe(posix.basename('/home/ada/Documents'));
  });
});

describe('the contract, which does not know the machine', () => {
  it('takes an absolute path of either family and nothing else', () => {
    expect(isAbsoluteInEitherStyle('/home/ada')).toBe(true);
    expect(isAbsoluteInEitherStyle('C:\\Users\\Ada')).toBe(true);
    expect(isAbsoluteInEitherStyle('\\\\nas\\share\\x')).toBe(true);
    expect(isAbsoluteInEitherStyle('Documents')).toBe(false);
    expect(isAbsoluteInEitherStyle('C:Documents')).toBe(false);
  });
});

describe('the platform-neutral form in snapshots', () => {
  it.each([
    ['posix', '/home/ada/Documents', '/home/ada/Documents', '/home/ada/Documents'],
    ['win32', 'C:\\Users\\Ada\\Documents', '/C/Users/Ada/Documents', 'C:\\Users\\Ada\\Documents'],
    ['win32', 'd:/Photos/', '/D/Photos', 'D:\\Photos'],
    ['win32', 'E:\\', '/E', 'E:\\'],
    ['win32', '\\\\nas\\share\\Backups', '//nas/share/Backups', '\\\\nas\\share\\Backups'],
    ['win32', '\\\\?\\UNC\\nas\\share', '//nas/share', '\\\\nas\\share'],
  ] as const)('%s %s is stored as %s and shown as %s', (style, native, stored, shown) => {
    expect(toSnapshotPath(native, style)).toBe(stored);
    expect(displaySnapshotPath(stored, style)).toBe(shown);
    expect(fromSnapshotPath(stored, style, style)).toBe(shown);
    // Stored paths use only "/" and say nothing a POSIX reader would misread as a separator.
    expect(stored.includes('\\')).toBe(false);
  });

  it('gives no original location on the other family: such a snapshot restores into a folder', () => {
    expect(fromSnapshotPath('/C/Users/Ada', 'win32', 'posix')).toBeNull();
    expect(fromSnapshotPath('/home/ada', 'posix', 'win32')).toBeNull();
  });

  it('keeps POSIX paths exactly as they were, so existing snapshots keep their meaning', () => {
    expect(parsePath('/home/ada', 'posix')).toEqual({ style: 'posix', root: '', parts: ['home', 'ada'] });
    expect(toSnapshotPath('/home/ada', 'posix')).toBe('/home/ada');
  });
});
