/**
 * Names as a file system holds them: bytes, which need not be UTF-8 (a name from an old Latin-1
 * system, say). Node decodes a name that is not UTF-8 into U+FFFD, which names no file; so the
 * engine carries every name, symlink target and extended attribute name as a string in which each
 * byte that is not part of a valid UTF-8 sequence is the code unit U+DC00 + byte (U+DC80 to
 * U+DCFF: lone surrogates, which no valid UTF-8 decodes to, so no two byte strings share a
 * string; Python calls this "surrogateescape"). Such a string is passed to the file system as its
 * bytes (`fsPath`), and a tree stores it as bytes (docs/repository-format.md §8).
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';

declare global {
  interface String {
    /** ES2024; Node 20 has it. */
    isWellFormed(): boolean;
  }
}

/** Whether `s` holds no lone surrogate: it came from valid UTF-8 and is passed to the file system as it is. */
export const isWellFormed = (s: string): boolean => s.isWellFormed();

/** Length of the valid UTF-8 sequence at b[i], or 0 when none starts there (RFC 3629). */
function sequenceAt(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0; // no encoded surrogates
  if (c >= 0xe1 && c <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/** A name's bytes as the engine's string: UTF-8 decoded, each byte outside valid UTF-8 escaped. */
export function nameFromBytes(bytes: Uint8Array): string {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(b)) return b.toString('utf8');
  let out = '';
  let run = 0; // start of the valid run not yet decoded
  let i = 0;
  while (i < b.length) {
    const n = sequenceAt(b, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out += b.toString('utf8', run, i) + String.fromCharCode(0xdc00 + b[i]!);
    run = ++i;
  }
  return out + b.toString('utf8', run);
}

/** The bytes a name stands for (the inverse of nameFromBytes). */
export function nameBytes(s: string): Buffer {
  if (isWellFormed(s)) return Buffer.from(s, 'utf8');
  const parts: Buffer[] = [];
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) {
      i++; // a surrogate pair: one character
      continue;
    }
    if (c < 0xdc80 || c > 0xdcff) throw new Error('a name holds a lone surrogate that stands for no byte');
    parts.push(Buffer.from(s.slice(run, i), 'utf8'), Buffer.of(c - 0xdc00));
    run = i + 1;
  }
  parts.push(Buffer.from(s.slice(run), 'utf8'));
  return Buffer.concat(parts);
}

/** What to hand to node:fs for a path: the string itself, or its bytes when it holds escaped bytes. */
export function fsPath(path: string): string | Buffer {
  return isWellFormed(path) ? path : nameBytes(path);
}

/** A name for people to read: escaped bytes shown as U+FFFD, as a file manager shows them. */
export function displayName(s: string): string {
  return isWellFormed(s) ? s : nameBytes(s).toString('utf8');
}

/** A folder's entry names, exact: read again as bytes only when one came back with U+FFFD in it. */
export function readNames(dir: string): string[] {
  const path = fsPath(dir);
  const names = readdirSync(path);
  if (!names.some((n) => n.includes('\uFFFD'))) return names;
  return readdirSync(path, { encoding: 'buffer' }).map(nameFromBytes);
}

/** A symlink's target as it is stored in the link, exact. */
export function readLink(path: string): string {
  return nameFromBytes(readlinkSync(fsPath(path), { encoding: 'buffer' }));
}
