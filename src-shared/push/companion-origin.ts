/**
 * Where a pairing link sends a phone (docs/security.md §4a): the web companion's code comes from
 * an origin the user trusts, named separately from the relay, which only carries ciphertext.
 * Pure URL logic, for the core, the shells and the UI alike.
 */

/** What the user chose to trust with the web companion's code. */
export type WebCompanionSource = 'app' | 'url' | 'relay';

/**
 * A page that may hold the companion: https:// anywhere, or http:// on this machine's loopback
 * (browsers give WebCrypto only to such secure contexts); no credentials or fragment in it.
 */
export function isTrustedCompanionUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  if (url.username || url.password || url.hash) return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/** The web companion a relay serves when it runs with --serve-companion: ws(s)://host/v1 -> http(s)://host/companion/. */
export function relayCompanionUrl(relayUrl: string): string | null {
  let url: URL;
  try {
    url = new URL(relayUrl);
  } catch {
    return null;
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return null;
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  url.pathname = '/companion/';
  url.search = '';
  url.hash = '';
  return url.toString();
}

/** The link base when no web companion is available: only the CLI companion can use it. */
export const CLI_ONLY_LINK_BASE = 'twofold:pair';
