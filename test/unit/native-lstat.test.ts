/**
 * A folder's lstat calls in one call to the engine's addon (native/lstat-many.c): for every
 * entry, exactly what Node's own lstat says (walk.ts `lstatEach`), the errno where it fails,
 * and a clear error for arguments of the wrong kind.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, linkSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lstatMany } from '../../src-main/core/backup/engine/native.js';
import { BIGINTS, lstatEach, NUMBERS } from '../../src-main/core/backup/engine/walk.js';
import { removeTree, tempDir } from '../helpers/backup-fixtures.js';

let work: string;
const names = ['big.bin', 'dir', 'empty', 'fifo', 'gone', 'link', 'locked', 'ünïcödé 名前.txt', 'x'.repeat(300)];

const arrays = (n: number) => ({
  numbers: new Float64Array(n * NUMBERS).fill(-1),
  bigints: new BigInt64Array(n * BIGINTS).fill(-1n),
  errnos: new Int32Array(n).fill(-1),
});

beforeAll(() => {
  work = tempDir('lstat-many');
  writeFileSync(join(work, 'big.bin'), Buffer.alloc(70_000, 1));
  linkSync(join(work, 'big.bin'), join(work, 'twin'));
  mkdirSync(join(work, 'dir'));
  writeFileSync(join(work, 'empty'), '');
  mkfifoSync(join(work, 'fifo'));
  symlinkSync('big.bin', join(work, 'link'));
  writeFileSync(join(work, 'locked'), 'secret');
  chmodSync(join(work, 'locked'), 0o400);
  writeFileSync(join(work, 'ünïcödé 名前.txt'), 'u');
  // A time below the millisecond: the nanoseconds must come through, not a rounded number.
  utimesSync(join(work, 'empty'), 1_700_000_000.123456, 1_700_000_000.987654);
});
afterAll(() => removeTree(work));

/** node:fs has no mkfifo. */
function mkfifoSync(path: string): void {
  const r = spawnSync('mkfifo', [path]);
  if (r.status !== 0) throw new Error(`mkfifo failed: ${String(r.stderr)}`);
}

describe.runIf(process.platform !== 'win32')('lstatMany', () => {
  it('is offered by the addon on this platform', () => {
    expect(lstatMany).toBeTypeOf('function');
  });

  it('answers for every entry exactly as Node lstat does: mode, ids, size, inode, nanosecond times, errno', () => {
    const native = arrays(names.length);
    const node = arrays(names.length);
    lstatMany!(work, names, native.numbers, native.bigints, native.errnos);
    lstatEach(work, names, node.numbers, node.bigints, node.errnos);
    expect(native).toEqual(node);
    // And the answers are the right ones, not merely the same ones.
    const at = (name: string) => names.indexOf(name);
    expect(native.errnos[at('gone')]).toBe(constants.errno.ENOENT);
    expect(native.errnos[at('x'.repeat(300))]).toBe(constants.errno.ENAMETOOLONG);
    expect(native.numbers[at('big.bin') * NUMBERS + 3]).toBe(70_000);
    expect(native.numbers[at('link') * NUMBERS]! & 0o170000).toBe(0o120000);
    expect(native.numbers[at('fifo') * NUMBERS]! & 0o170000).toBe(0o010000);
    expect(native.numbers[at('dir') * NUMBERS]! & 0o170000).toBe(0o040000);
    expect(native.numbers[at('locked') * NUMBERS]! & 0o777).toBe(0o400);
    expect(native.numbers[at('big.bin') * NUMBERS + 4]).toBe(2); // hard-linked as 'big.bin' and 'twin'
    expect(native.bigints[at('empty') * BIGINTS + 1]! % 1_000_000n).not.toBe(0n); // below the millisecond
    expect(native.errnos.filter((e) => e === 0)).toHaveLength(names.length - 2);
  });

  it('leaves a failed entry’s numbers as they were and goes on to the next', () => {
    const out = arrays(3);
    lstatMany!(work, ['gone', 'empty', 'also gone'], out.numbers, out.bigints, out.errnos);
    expect([...out.errnos]).toEqual([constants.errno.ENOENT, 0, constants.errno.ENOENT]);
    expect([...out.numbers.subarray(0, NUMBERS)]).toEqual([-1, -1, -1, -1, -1]);
    expect(out.numbers[NUMBERS + 3]).toBe(0);
  });

  it('fails every entry with ENAMETOOLONG when the folder path alone is too long', () => {
    const out = arrays(2);
    lstatMany!(`/${'d/'.repeat(3000)}`, ['a', 'b'], out.numbers, out.bigints, out.errnos);
    expect([...out.errnos]).toEqual([constants.errno.ENAMETOOLONG, constants.errno.ENAMETOOLONG]);
  });

  it('fails a name that does not fit after its folder with ENAMETOOLONG, never a shortened path, as Node does', () => {
    // 3,981 bytes of folder leave room for a name of 114: the long name would be cut short there.
    const folder = `/${'d/'.repeat(1990)}`;
    const native = arrays(2);
    const node = arrays(2);
    lstatMany!(folder, ['n'.repeat(200), 'short'], native.numbers, native.bigints, native.errnos);
    lstatEach(folder, ['n'.repeat(200), 'short'], node.numbers, node.bigints, node.errnos);
    expect(native.errnos[0]).toBe(constants.errno.ENAMETOOLONG);
    expect(native.errnos[1]).toBe(constants.errno.ENOENT);
    expect(native).toEqual(node);
  });

  it('accepts an empty listing (zero-length arrays have no data pointer)', () => {
    const out = arrays(0);
    expect(() => lstatMany!(work, [], out.numbers, out.bigints, out.errnos)).not.toThrow();
  });

  it('refuses arrays of the wrong kind or too short, and names that are not strings', () => {
    const out = arrays(2);
    expect(() => lstatMany!(work, ['a', 'b'], new Float64Array(2 * NUMBERS - 1), out.bigints, out.errnos)).toThrow(/long enough/);
    expect(() => lstatMany!(work, ['a', 'b'], out.numbers, new BigInt64Array(2 * BIGINTS), new Int32Array(1))).toThrow(/long enough/);
    expect(() => lstatMany!(work, ['a', 'b'], new Float32Array(8) as unknown as Float64Array, out.bigints, out.errnos)).toThrow(/Float64Array/);
    expect(() => lstatMany!(work, ['a', 7 as unknown as string], out.numbers, out.bigints, out.errnos)).toThrow(/array of strings/);
    expect(() => lstatMany!(work, 'a' as unknown as string[], out.numbers, out.bigints, out.errnos)).toThrow(/array of strings/);
  });
});
