/**
 * Names that are not UTF-8 (fs-names.ts): every byte string has exactly one string in the engine
 * and comes back as the same bytes; valid UTF-8 is the plain string; the file system is handed
 * the bytes, so such a name opens its own file and no other.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { displayName, fsPath, isWellFormed, nameBytes, nameFromBytes, readLink, readNames } from '../../src-main/core/backup/engine/fs-names.js';
import { removeTree, tempDir } from '../helpers/backup-fixtures.js';

const latin1 = (text: string) => Buffer.from(text, 'latin1');

describe('names as bytes', () => {
  it('decode valid UTF-8 to the plain string and escape each other byte as U+DC00 + byte', () => {
    expect(nameFromBytes(Buffer.from('café 日本 😀'))).toBe('café 日本 😀');
    expect(nameFromBytes(latin1('caf\xe9'))).toBe('caf\udce9');
    // A truncated sequence, an overlong form, an encoded surrogate and a byte past U+10FFFF.
    expect(nameFromBytes(latin1('a\xe6\x97'))).toBe('a\udce6\udc97');
    expect(nameFromBytes(latin1('\xc0\xaf'))).toBe('\udcc0\udcaf');
    expect(nameFromBytes(latin1('\xed\xa0\x80'))).toBe('\udced\udca0\udc80');
    expect(nameFromBytes(latin1('\xf4\x90\x80\x80'))).toBe('\udcf4\udc90\udc80\udc80');
    // Valid characters around an invalid byte stay what they are.
    expect(nameFromBytes(Buffer.concat([Buffer.from('é'), latin1('\xff'), Buffer.from('日')]))).toBe('é\udcff日');
  });

  it('give every byte string back exactly, and never two byte strings one string', () => {
    const seen = new Map<string, string>();
    for (let i = 0; i < 5000; i++) {
      const bytes = randomBytes(1 + (i % 12));
      const name = nameFromBytes(bytes);
      expect(nameBytes(name).equals(bytes)).toBe(true);
      const hex = bytes.toString('hex');
      expect(seen.get(name) ?? hex).toBe(hex);
      seen.set(name, hex);
      expect(isWellFormed(name)).toBe(bytes.toString('utf8') === name && Buffer.from(name).equals(bytes));
    }
  });

  it('refuse a lone surrogate that stands for no byte', () => {
    expect(() => nameBytes('x\ud800')).toThrow(/lone surrogate/);
    expect(() => nameBytes('x\udc41')).toThrow(/lone surrogate/);
    expect(nameBytes('pair 😀').equals(Buffer.from('pair 😀'))).toBe(true);
  });

  it('show escaped bytes as U+FFFD, and hand the file system strings or bytes', () => {
    expect(displayName('caf\udce9')).toBe('caf\uFFFD');
    expect(displayName('café')).toBe('café');
    expect(fsPath('/tmp/café')).toBe('/tmp/café');
    expect(fsPath('/tmp/caf\udce9')).toEqual(latin1('/tmp/caf\xe9'));
  });
});

describe('on a real file system', () => {
  let work: string;
  beforeAll(() => {
    work = tempDir('fs-names');
    mkdirSync(Buffer.concat([Buffer.from(`${work}/`), latin1('d\xe9')]));
    writeFileSync(Buffer.concat([Buffer.from(`${work}/`), latin1('d\xe9/caf\xe9')]), 'latin-1');
    writeFileSync(Buffer.concat([Buffer.from(`${work}/`), latin1('d\xe9/caf\xe8')]), 'another');
    writeFileSync(join(work, 'd\uFFFD'), 'a real U+FFFD in a valid name');
    symlinkSync(latin1('caf\xe9'), Buffer.concat([Buffer.from(`${work}/`), latin1('d\xe9/link')]));
  });
  afterAll(() => removeTree(work));

  it('lists names exactly, where Node alone would give two files one name', () => {
    expect(readdirSync(work).filter((n) => n === 'd\uFFFD')).toHaveLength(2);
    expect(readNames(work).sort()).toEqual(['d\udce9', 'd\uFFFD'].sort());
    expect(readNames(`${work}/d\udce9`).sort()).toEqual(['caf\udce8', 'caf\udce9', 'link']);
  });

  it('opens the file a name stands for, and reads a link target exactly', () => {
    expect(readFileSync(fsPath(`${work}/d\udce9/caf\udce9`), 'utf8')).toBe('latin-1');
    expect(readFileSync(fsPath(`${work}/d\udce9/caf\udce8`), 'utf8')).toBe('another');
    expect(readLink(`${work}/d\udce9/link`)).toBe('caf\udce9');
  });
});
