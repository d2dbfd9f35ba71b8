/**
 * A tree with what file systems hold besides plain files and folders, and a comparison of two
 * trees by the tools a person would use: `diff -r`, `stat`, `getfattr -d` and link counts.
 *
 * The tree: names that are not UTF-8 (a file, a folder and what is inside it, a symlink), a symlink
 * whose target is not UTF-8, extended attributes (text, binary, on a folder) and POSIX ACLs
 * (access and default), hard links (three names across folders, and a pair), a FIFO, a socket, a
 * device node (as root), setuid and setgid on files not owned by root, a setgid and a sticky
 * folder, a read-only folder, and modification times in 1969 and with nanoseconds everywhere.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, linkSync, lstatSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';

const asRoot = process.getuid?.() === 0;
/** A non-root owner for the setuid files (root may give files away; anyone else owns theirs). */
const OTHER = asRoot ? 1000 : (process.getuid?.() ?? 1000);

/** A path under `root` whose parts may hold Latin-1 bytes: `p(root, 'd\xe9', 'caf\xe9')`. */
export function p(root: string, ...parts: string[]): Buffer {
  return Buffer.concat([Buffer.from(root), ...parts.map((part) => Buffer.concat([Buffer.from('/'), Buffer.from(part, 'latin1')]))]);
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${String(r.stderr)}`);
}

/**
 * Python for what needs exact bytes (a command line is text to Node) or what node:fs cannot do
 * (nanosecond times, FIFOs, sockets, device nodes): each step a [call, hex path, ...args].
 */
function python(steps: [string, Buffer, ...(string | number)[]][]): void {
  const script = `
import json, os, socket, sys
for call, path, *args in json.load(sys.stdin):
    path = bytes.fromhex(path)
    if call == 'times': os.utime(path, ns=(int(args[0]), int(args[0])), follow_symlinks=False)
    elif call == 'xattr': os.setxattr(path, bytes.fromhex(args[0]), bytes.fromhex(args[1]))
    elif call == 'fifo': os.mkfifo(path)
    elif call == 'socket': socket.socket(socket.AF_UNIX).bind(path)
    elif call == 'chardev': os.mknod(path, 0o20644, os.makedev(args[0], args[1]))
`;
  const input = JSON.stringify(steps.map(([call, path, ...args]) => [call, path.toString('hex'), ...args]));
  const r = spawnSync('python3', ['-c', script], { input, stdio: ['pipe', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`python3 failed: ${String(r.stderr)}`);
}

const hex = (text: string, encoding: BufferEncoding = 'latin1') => Buffer.from(text, encoding).toString('hex');

export function makeEdgeTree(root: string): void {
  mkdirSync(root);
  const file = (path: Buffer, data: string | Buffer, mode = 0o644) => {
    writeFileSync(path, data);
    chmodSync(path, mode);
  };
  file(p(root, 'plain.txt'), 'plain\n');
  file(p(root, 'empty'), '');
  // Names that are not UTF-8, and what is inside such a folder.
  file(p(root, 'caf\xe9.txt'), 'a Latin-1 name\n');
  mkdirSync(p(root, 'd\xe9j\xe0'));
  file(p(root, 'd\xe9j\xe0', 'r\xe9sum\xe9.txt'), 'inside a Latin-1 folder\n');
  mkdirSync(p(root, 'd\xe9j\xe0', 'sub'));
  file(p(root, 'd\xe9j\xe0', 'sub', '\xff\xfe'), 'bytes that are never UTF-8\n');
  symlinkSync(Buffer.from('r\xe9sum\xe9.txt', 'latin1'), p(root, 'd\xe9j\xe0', 'link'));
  symlinkSync('plain.txt', p(root, 'l\xefnk'));
  symlinkSync(Buffer.from('nowhere/\xe9', 'latin1'), p(root, 'dangling-latin1'));
  // Extended attributes and ACLs.
  file(p(root, 'tagged.txt'), 'tagged\n');
  run('setfattr', ['-n', 'user.comment', '-v', 'kept with the file', `${root}/tagged.txt`]);
  run('setfattr', ['-n', 'user.binary', '-v', '0x00ff10e9', `${root}/tagged.txt`]);
  python([['xattr', p(root, 'tagged.txt'), hex('user.caf\xe9'), hex('a Latin-1 attribute name')]]);
  file(p(root, 'acl.txt'), 'with an access ACL\n', 0o640);
  run('setfacl', ['-m', 'u:nobody:r', `${root}/acl.txt`]);
  mkdirSync(p(root, 'shared'));
  run('setfacl', ['-m', 'u:nobody:rwx', '-d', '-m', 'u:nobody:rx', `${root}/shared`]);
  run('setfattr', ['-n', 'user.folder', '-v', 'on a folder', `${root}/shared`]);
  file(p(root, 'shared', 'inside.txt'), 'inherits the default ACL\n');
  // Hard links: three names in three folders, and a pair.
  mkdirSync(p(root, 'a'));
  mkdirSync(p(root, 'b'));
  file(p(root, 'a', 'one'), 'one file, three names\n');
  linkSync(p(root, 'a', 'one'), p(root, 'b', 'two'));
  linkSync(p(root, 'a', 'one'), p(root, 'three'));
  file(p(root, 'pair-1'), Buffer.alloc(300_000, 7));
  linkSync(p(root, 'pair-1'), p(root, 'pair-2'));
  // A FIFO, a socket, and (root only) a device node.
  python([
    ['fifo', p(root, 'fifo')],
    ['socket', p(root, 'socket')],
    ...(asRoot ? [['chardev', p(root, 'null'), 1, 3] as [string, Buffer, number, number]] : []),
  ]);
  // setuid and setgid on files not owned by root; a setgid and a sticky folder.
  file(p(root, 'setuid'), '#!/bin/sh\n', 0o755);
  file(p(root, 'setgid'), '#!/bin/sh\n', 0o755);
  mkdirSync(p(root, 'setgid-folder'));
  mkdirSync(p(root, 'sticky'));
  if (asRoot) for (const name of ['setuid', 'setgid', 'setgid-folder']) chownSync(p(root, name), OTHER, OTHER);
  chmodSync(p(root, 'setuid'), 0o4755);
  chmodSync(p(root, 'setgid'), 0o2755);
  chmodSync(p(root, 'setgid-folder'), 0o2775);
  chmodSync(p(root, 'sticky'), 0o1777);
  // A read-only folder with a file in it.
  mkdirSync(p(root, 'read-only'));
  file(p(root, 'read-only', 'inside'), 'in a read-only folder\n', 0o444);
  // Times: before 1970 and to the nanosecond, entries first, folders (deepest first) last.
  const moonLanding = BigInt(Date.UTC(1969, 6, 20, 20, 17, 40) / 1000) * 1_000_000_000n;
  const later = BigInt(Date.UTC(2021, 4, 6, 7, 8, 9) / 1000) * 1_000_000_000n;
  const when = (i: number) => (i % 3 === 0 ? moonLanding + BigInt(i) * 1_000_000_000n + 123_456_789n : later + BigInt(100_000_001 + i * 7919));
  python(
    walk(root)
      .reverse()
      .map((entry, i): [string, Buffer, string] => ['times', entry, when(i).toString()]),
  );
  chmodSync(p(root, 'read-only'), 0o555);
}

/** Every path below `root` (not root itself), parents before children, as bytes. */
function walk(root: string): Buffer[] {
  const out: Buffer[] = [];
  const visit = (dir: Buffer) => {
    for (const name of readdirSync(dir, { encoding: 'buffer' }).sort(Buffer.compare)) {
      const path = Buffer.concat([dir, Buffer.from('/'), name]);
      out.push(path);
      if (lstatSync(path).isDirectory()) visit(path);
    }
  };
  visit(Buffer.from(root));
  return out;
}

export interface TreeReport {
  /** `stat` of every entry: name, type, mode (with setuid, setgid, sticky), owner, size, links, device, mtime. */
  stat: string;
  /** `getfattr -d -m -` of every entry, ACLs included. */
  xattrs: string;
  /** Groups of names of one file (hard links), by name. */
  links: string[][];
  /** Access times that differ from modification times (a restore sets them equal, as restic does). */
  atimeNotMtime: string[];
}

/** What the tools say of the tree at `root`, with paths relative to it. Read access times first: the tools read folders. */
export function reportTree(root: string): TreeReport {
  const atimeNotMtime: string[] = [];
  const byInode = new Map<string, string[]>();
  const visit = (rel: Buffer) => {
    const path = Buffer.concat([Buffer.from(`${root}/`), rel]);
    const st = lstatSync(path, { bigint: true });
    const name = rel.toString('latin1');
    if (st.atimeNs !== st.mtimeNs) atimeNotMtime.push(name);
    if (!st.isDirectory()) byInode.set(`${st.dev}:${st.ino}`, [...(byInode.get(`${st.dev}:${st.ino}`) ?? []), name]);
    if (st.isDirectory())
      for (const child of readdirSync(path, { encoding: 'buffer' }).sort(Buffer.compare)) visit(Buffer.concat([rel, Buffer.from('/'), child]));
  };
  visit(Buffer.from('.'));
  const stat = execFileSync('sh', ['-c', "find . -print0 | sort -z | xargs -0 stat --printf '%n|%F|%a|%u|%g|%s|%h|%t,%T|%y\\n'"], { cwd: root }).toString(
    'latin1',
  );
  // One getfattr over the sorted names: -R would list each folder in the order it reads it.
  const xattrs = execFileSync('sh', ['-c', 'find . -print0 | sort -z | xargs -0 getfattr -h -d -m - -e hex'], { cwd: root }).toString('latin1');
  const links = [...byInode.values()]
    .filter((names) => names.length > 1)
    .map((names) => names.sort())
    .sort();
  return { stat, xattrs, links, atimeNotMtime };
}

/**
 * `diff -r` without following symlinks. It names every FIFO, socket and device pair ("File a is a fifo
 * while file b is a fifo") even when both are the same kind: those lines are dropped (stat
 * compares them); anything else is a difference.
 */
export function diffTree(a: string, b: string): string {
  const r = spawnSync('diff', ['-r', '--no-dereference', a, b]);
  return r.stdout
    .toString('latin1')
    .split('\n')
    .filter((line) => line !== '' && !/^File .* is a (fifo|socket|character special file|block special file) while file .* is a \1$/.test(line))
    .join('\n');
}
