/**
 * Which frames may call the router over IPC: only the app's own top-level page, loaded from
 * our custom protocol. Pure, so it is tested without Electron.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'twofold';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

export function isTrustedSenderUrl(url: string | undefined | null): boolean {
  if (!url) return false;
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST && !parsed.username && !parsed.password;
  } catch {
    return false;
  }
}

/** Navigation stays inside the app; anything else (http, file, javascript:) is refused. */
export function isAllowedNavigation(url: string): boolean {
  return isTrustedSenderUrl(url);
}
