/** oathtool, an independent TOTP implementation, as the authenticator app in tests. */
import { execFileSync } from 'node:child_process';

/** The 6-digit code an authenticator app holding `base32Secret` shows at `timeMs`. */
export function oathtoolCode(base32Secret: string, timeMs: number): string {
  const when = new Date(timeMs)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
  return execFileSync('oathtool', ['--totp', '-b', base32Secret.replace(/\s/g, ''), '--now', when], { encoding: 'utf8' }).trim();
}
