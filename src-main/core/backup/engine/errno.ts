/** errno numbers as Node's error codes ('ENOENT', ...), for what the addon (native.ts) answers. */
import { constants as osConstants } from 'node:os';

/** errno numbers to Node's codes; the first name of a number wins, as in libuv. */
const CODES = new Map<number, string>();
for (const [code, n] of Object.entries(osConstants.errno)) if (!CODES.has(n)) CODES.set(n, code);

export function errnoCode(errno: number): string {
  return CODES.get(errno) ?? 'EIO';
}

export function errnoNumber(code: string): number {
  return (osConstants.errno as Record<string, number>)[code] ?? osConstants.errno.EIO;
}

/** An Error with `code` (and `errno`) set as Node's fs errors have them. */
export function errnoError(errno: number | string, doing: string): NodeJS.ErrnoException {
  const code = typeof errno === 'number' ? errnoCode(errno) : errno;
  return Object.assign(new Error(`${code}: ${doing}`), { code, errno: typeof errno === 'number' ? errno : errnoNumber(code) });
}
