/**
 * The addon's file system parts that Node lacks (native/xattr.c, native/file-meta.c,
 * native/lstat-many.c): extended attributes read and set exactly, not through symlinks; times to
 * the nanosecond and before 1970; FIFOs and sockets made; a rename that never replaces; and a
 * folder listing whose names are bytes, with extended attributes in the same pass.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, lstatSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nameFromBytes } from '../../src-main/core/backup/engine/fs-names.js';
import { lstatMany, makeNode, readXattrs, renameNoReplace, setTimes, setXattr, type XattrSlot } from '../../src-main/core/backup/engine/native.js';
import { BIGINTS, lstatEach, NUMBERS } from '../../src-main/core/backup/engine/walk.js';
import { removeTree, tempDir } from '../helpers/backup-fixtures.js';

let work: string;
const latin1 = (text: string) => Buffer.from(text, 'latin1');
const at = (...parts: string[]) => Buffer.concat([Buffer.from(work), ...parts.map((part) => Buffer.concat([Buffer.from('/'), latin1(part)]))]);
const pairs = (flat: Buffer[]) => Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!.toString('latin1'), flat[2 * i + 1]!.toString('hex')]);

beforeAll(() => {
  work = tempDir('native-meta');
  writeFileSync(join(work, 'plain'), 'no attributes');
  writeFileSync(join(work, 'tagged'), 'with attributes');
  execFileSync('setfattr', ['-n', 'user.text', '-v', 'hello', join(work, 'tagged')]);
  execFileSync('setfattr', ['-n', 'user.binary', '-v', '0x00ff', join(work, 'tagged')]);
  execFileSync('setfattr', ['-n', 'user.big', '-v', `0x${'ab'.repeat(2000)}`, join(work, 'tagged')]);
  execFileSync('setfacl', ['-m', 'u:nobody:r', join(work, 'tagged')]);
  symlinkSync('tagged', join(work, 'link'));
  writeFileSync(at('caf\xe9'), 'a Latin-1 name');
});
afterAll(() => removeTree(work));

describe.runIf(process.platform === 'linux')('extended attributes', () => {
  it('reads every attribute of an entry exactly, binary and kilobytes long, ACLs included', () => {
    expect(readXattrs(join(work, 'plain'))).toEqual([]);
    const got = pairs(readXattrs(join(work, 'tagged'))).sort();
    expect(got.map(([name]) => name)).toEqual(['system.posix_acl_access', 'user.big', 'user.binary', 'user.text']);
    expect(got.find(([name]) => name === 'user.binary')![1]).toBe('00ff');
    expect(got.find(([name]) => name === 'user.text')![1]).toBe(Buffer.from('hello').toString('hex'));
    expect(got.find(([name]) => name === 'user.big')![1]).toBe('ab'.repeat(2000));
  });

  it('does not follow a symlink, and names the errno of a path that is not there', () => {
    expect(readXattrs(join(work, 'link'))).toEqual([]);
    expect(() => readXattrs(join(work, 'gone'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('sets an attribute through a descriptor and through a path given as bytes', () => {
    const fd = openSync(join(work, 'plain'), 'r+');
    try {
      setXattr(fd, 'user.by-fd', Buffer.from([1, 2, 3]));
    } finally {
      closeSync(fd);
    }
    setXattr(at('caf\xe9'), latin1('user.\xe9'), Buffer.alloc(0));
    expect(pairs(readXattrs(join(work, 'plain')))).toEqual([['user.by-fd', '010203']]);
    expect(pairs(readXattrs(at('caf\xe9')))).toEqual([['user.\xe9', '']]);
    expect(() => setXattr(join(work, 'gone'), 'user.x', Buffer.from('x'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(() => setXattr(join(work, 'plain'), 'bogus-namespace', Buffer.from('x'))).toThrow(expect.objectContaining({ code: 'ENOTSUP' }));
  });
});

describe.runIf(process.platform !== 'win32')('times, special files and renames', () => {
  it('sets times to the nanosecond, before 1970 too, on a descriptor and on a symlink itself', () => {
    const fd = openSync(join(work, 'plain'), 'r+');
    try {
      setTimes!(fd, -1n, -14_182_939_876_543_211n);
    } finally {
      closeSync(fd);
    }
    const st = lstatSync(join(work, 'plain'), { bigint: true });
    expect([st.atimeNs, st.mtimeNs]).toEqual([-1n, -14_182_939_876_543_211n]);
    const target = lstatSync(join(work, 'tagged'), { bigint: true }).mtimeNs;
    setTimes!(join(work, 'link'), 1_700_000_000_123_456_789n, 1_700_000_000_987_654_321n);
    expect(lstatSync(join(work, 'link'), { bigint: true }).mtimeNs).toBe(1_700_000_000_987_654_321n);
    expect(lstatSync(join(work, 'tagged'), { bigint: true }).mtimeNs).toBe(target);
  });

  it('makes FIFOs and sockets, under names given as bytes', () => {
    makeNode(at('fifo\xe9'), 0o010640, 0n);
    makeNode(join(work, 'socket'), 0o140600, 0n);
    expect(lstatSync(at('fifo\xe9')).isFIFO()).toBe(true);
    expect(lstatSync(at('fifo\xe9')).mode & 0o777).toBe(0o640 & ~process.umask());
    expect(lstatSync(join(work, 'socket')).isSocket()).toBe(true);
    expect(() => makeNode(join(work, 'socket'), 0o010600, 0n)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
  });

  it('renames without ever replacing what is at the new name', () => {
    writeFileSync(join(work, 'from'), 'new');
    writeFileSync(join(work, 'taken'), 'kept');
    expect(() => renameNoReplace(join(work, 'from'), join(work, 'taken'))).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(readFileSync(join(work, 'taken'), 'utf8')).toBe('kept');
    expect(renameNoReplace(join(work, 'from'), join(work, 'free'))).toBe(true);
    expect([existsSync(join(work, 'from')), readFileSync(join(work, 'free'), 'utf8')]).toEqual([false, 'new']);
  });
});

describe.runIf(process.platform === 'linux')('a listing with names as bytes', () => {
  it('answers for a name that is not UTF-8 as Node lstat does for its bytes, with link counts and extended attributes', () => {
    const names = ['caf\xe9', 'tagged', 'plain', 'gone'];
    const escaped = names.map((n) => nameFromBytes(latin1(n)));
    const arrays = () => ({
      numbers: new Float64Array(names.length * NUMBERS),
      bigints: new BigInt64Array(names.length * BIGINTS),
      errnos: new Int32Array(names.length),
    });
    const native = arrays();
    const node = arrays();
    const xattrs: XattrSlot[] = new Array<XattrSlot>(names.length);
    lstatMany!(work, names.map(latin1), native.numbers, native.bigints, native.errnos, xattrs);
    lstatEach(work, escaped, node.numbers, node.bigints, node.errnos);
    expect(native).toEqual(node);
    expect([...native.errnos]).toEqual([0, 0, 0, constants.errno.ENOENT]);
    expect(native.numbers[1 * NUMBERS + 4]).toBe(1); // link count
    expect(xattrs[0]).toEqual([Buffer.from('user.\xe9', 'latin1'), Buffer.alloc(0)]);
    expect(
      pairs(xattrs[1] as Buffer[])
        .map(([name]) => name)
        .sort(),
    ).toEqual(['system.posix_acl_access', 'user.big', 'user.binary', 'user.text']);
    expect(xattrs[2]).toEqual([Buffer.from('user.by-fd'), Buffer.from([1, 2, 3])]);
    expect(xattrs[3]).toBeUndefined();
  });

  it('fails a name holding a NUL byte with EINVAL rather than look up a shorter one', () => {
    const out = { numbers: new Float64Array(NUMBERS), bigints: new BigInt64Array(BIGINTS), errnos: new Int32Array(1) };
    lstatMany!(work, [Buffer.from('plain\0junk')], out.numbers, out.bigints, out.errnos);
    expect(out.errnos[0]).toBe(constants.errno.EINVAL);
  });
});
