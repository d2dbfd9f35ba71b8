import { describe, expect, it } from 'vitest';
import { isAllowedNavigation, isTrustedSenderUrl } from '../../src-main/electron/trusted-sender.js';

describe('the Electron IPC sender check', () => {
  it.each(['app://twofold/index.html', 'app://twofold/', 'app://twofold/index.html#security'])('trusts our own page %s', (url) => {
    expect(isTrustedSenderUrl(url)).toBe(true);
  });

  it.each([
    ['a web page', 'https://twofold.example/'],
    ['a local file', 'file:///home/ada/evil.html'],
    ['another app:// host', 'app://evil/index.html'],
    ['credentials in the URL', 'app://user:pw@twofold/'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['a data: URL', 'data:text/html,<script>1</script>'],
    ['about:blank', 'about:blank'],
    ['nothing', ''],
    ['null', null],
    ['garbage', 'not a url'],
  ])('refuses %s', (_name, url) => {
    expect(isTrustedSenderUrl(url)).toBe(false);
  });

  it('allows navigation only within the app', () => {
    expect(isAllowedNavigation('app://twofold/index.html')).toBe(true);
    expect(isAllowedNavigation('https://example.com/')).toBe(false);
    expect(isAllowedNavigation('file:///etc/passwd')).toBe(false);
  });
});
