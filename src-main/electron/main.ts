/**
 * The Electron shell, kept thin like KopiaUI's: it wires a window, a tray and IPC to the app
 * from src-main/api and holds no logic of its own. Window hardening follows Bitwarden
 * desktop: context isolation, sandbox, no Node integration, a strict CSP, a custom app://
 * protocol instead of file://, navigation, new windows and permission requests denied.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, net, powerMonitor, protocol, session, Tray, nativeImage } from 'electron';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import { installProcessGuards } from '../../src-shared/process-guards.js';
import { BASE_HEADERS, DESKTOP_CSP, fileInside, setHeaders } from '../../src-node/web-files.js';
import { startCompanionHost, type CompanionHost } from '../../src-relay/companion-host.js';
import { EMBEDDED_LIMITS } from '../../src-relay/limits.js';
import { startRelay, type Relay } from '../../src-relay/server.js';
import { relayCompanionUrl } from '../../src-shared/push/companion-origin.js';
import type { TrayStatus } from '../../src-shared/contract-shell.js';
import { openApp, type App } from '../api/app.js';
import { createShellClient, type ShellClient } from '../api/shell-client.js';
import { tuneProcess } from '../api/process-tuning.js';
import { APP_HOST, APP_ORIGIN, APP_SCHEME, isAllowedNavigation, isTrustedSenderUrl } from './trusted-sender.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const packageRoot = join(here, '..', '..', '..', '..');
const rendererDir = join(packageRoot, 'dist', 'renderer');

// This process holds the keys and runs the backups: tune and harden it before the core starts.
const hardening = tuneProcess();

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

// Whatever slips through is logged and the app keeps running (src-shared/process-guards.ts): to
// the app's log once it is open, before that to stderr.
let twofoldLogger: App['core']['logger'] | null = null;
installProcessGuards(process, (message, fields) => {
  if (twofoldLogger) twofoldLogger.error(message, fields);
  else process.stderr.write(`${message} ${JSON.stringify(fields)}\n`);
});

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  let window: BrowserWindow | null = null;
  let tray: Tray | null = null;
  let twofold: App | null = null;
  /** The tray's and the app menu's way into the app: the router, as the `shell` face. */
  let shell: ShellClient | null = null;
  let relay: Relay | null = null;
  let companionHost: CompanionHost | null = null;
  let quitting = false;
  /** Why the app stops, for the audit log; set once a quit is allowed or the OS ends the app. */
  let stopReason = 'quit';

  /**
   * A quit the user asked for (the tray's Quit, the app menu, Cmd+Q), asked of the app through the
   * router: refused while locked. Electron's before-quit cannot wait, so the quit is held there and
   * started again once the app has said yes.
   */
  const requestQuit = async () => {
    const decision = shell ? await shell.quit() : { allowed: true, message: null };
    if (!decision.allowed) {
      showWindow();
      void dialog.showMessageBox({ type: 'info', message: decision.message ?? 'Unlock first.', buttons: ['OK'] });
      return;
    }
    quitting = true;
    stopReason = 'quit from the desktop app';
    app.quit();
  };
  /** The OS ends the app (shutdown, log-out, a signal): not asked, only logged. */
  const osQuit = (why: string) => {
    quitting = true;
    stopReason = `the OS ended the app (${why})`;
    app.quit();
  };

  const showWindow = () => {
    if (!window) window = createWindow();
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
  };

  app.on('second-instance', showWindow);

  app.whenReady().then(async () => {
    // Without a keychain this stops before anything is written (openApp checks it first).
    twofold = await openApp({ dataDir: app.getPath('userData'), appVersion: app.getVersion() }).catch((error: Error) => {
      dialog.showErrorBox('Twofold Backup cannot start', error.message);
      app.exit(1);
      return null;
    });
    if (!twofold) return;
    twofoldLogger = twofold.core.logger;
    if (hardening.coreDumps || hardening.dumpable) twofold.core.logger.warn('process hardening incomplete on this platform', { ...hardening });
    const running = twofold;
    shell = createShellClient(running.router, hostname());

    // Push needs a relay: without one in the settings, run the embedded one in this process,
    // as the console does (same environment variables; 0.0.0.0 lets phones on the LAN reach it),
    // with limits that protect this process. The web companion comes from this app either way.
    const companionDir = join(packageRoot, 'dist', 'companion');
    const haveCompanion = existsSync(join(companionDir, 'index.html'));
    if (!running.core.settings.get().relayUrl) {
      relay = await startRelay({
        host: process.env.TWOFOLD_RELAY_HOST ?? '127.0.0.1',
        port: Number(process.env.TWOFOLD_RELAY_PORT) || 0,
        limits: EMBEDDED_LIMITS,
        companionDir: haveCompanion ? companionDir : undefined,
      }).catch(() => null);
      const publicUrl = process.env.TWOFOLD_RELAY_PUBLIC_URL ?? relay?.url ?? null;
      running.core.pushRelay.setEmbedded(relay ? publicUrl : null);
      running.core.pushRelay.setAppCompanion(relay && haveCompanion && publicUrl ? relayCompanionUrl(publicUrl) : null);
    } else if (haveCompanion) {
      companionHost = await startCompanionHost({
        companionDir,
        host: process.env.TWOFOLD_COMPANION_HOST ?? '127.0.0.1',
        port: Number(process.env.TWOFOLD_COMPANION_PORT) || 0,
      }).catch(() => null);
      running.core.pushRelay.setAppCompanion(companionHost ? (process.env.TWOFOLD_COMPANION_PUBLIC_URL ?? companionHost.url) : null);
    }

    protocol.handle(APP_SCHEME, async (request) => {
      const url = new URL(request.url);
      const file = fileInside(rendererDir, url.pathname);
      if (url.host !== APP_HOST || file === null) return new Response('Not found', { status: 404 });
      const response = await net.fetch(pathToFileURL(file).toString());
      const headers = new Headers(response.headers);
      setHeaders({ setHeader: (name, value) => headers.set(name, value) }, { 'Content-Security-Policy': DESKTOP_CSP }, BASE_HEADERS);
      return new Response(response.body, { status: response.status, headers });
    });

    // Nothing the page asks for (camera, notifications, geolocation, …) is granted.
    session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
    session.defaultSession.setPermissionCheckHandler(() => false);

    ipcMain.handle('twofold:call', (event, request: unknown) => {
      // Only our own top-level page may call; a subframe or a foreign page gets nothing.
      const frame = event.senderFrame;
      if (!window || event.sender !== window.webContents || !frame || frame.parent !== null || !isTrustedSenderUrl(frame.url)) {
        return { ok: false, error: { code: 'NOT_ALLOWED', message: 'This caller is not the Twofold Backup window.' } };
      }
      return running.router.call(request, { face: 'electron', ip: 'local', workstation: hostname() });
    });

    powerMonitor.on('lock-screen', () => running.lock('os-lock'));
    powerMonitor.on('suspend', () => running.lock('suspend'));
    powerMonitor.on('shutdown', () => osQuit('shutdown'));
    process.on('SIGTERM', () => osQuit('SIGTERM'));

    tray = new Tray(nativeImage.createFromPath(join(packageRoot, 'assets', 'tray.png')));
    tray.setToolTip('Twofold Backup');
    const trayShell = shell;
    // A menu is built synchronously: it shows the last status read, refreshed before it is shown.
    let status: TrayStatus = { line: 'Twofold Backup', locked: true, running: 0 };
    const menu = () =>
      Menu.buildFromTemplate([
        { label: status.line, enabled: false },
        { type: 'separator' },
        { label: 'Open Twofold Backup', click: showWindow },
        { label: 'Back up now', click: () => void trayShell.backUpNow().then(refreshMenu, refreshMenu) },
        { label: 'Lock now', click: () => void trayShell.lock().then(refreshMenu, refreshMenu) },
        { type: 'separator' },
        { label: status.locked ? 'Quit (unlock first)' : 'Quit', click: () => void requestQuit() },
      ]);
    const refreshMenu = () =>
      trayShell.status().then(
        (now) => {
          status = now;
          tray?.setContextMenu(menu());
        },
        () => tray?.setContextMenu(menu()),
      );
    void refreshMenu();
    tray.on('click', () => void refreshMenu());
    const refreshTimer = setInterval(() => void refreshMenu(), 15_000);
    app.on('before-quit', () => clearInterval(refreshTimer));

    window = createWindow();
  });

  function createWindow(): BrowserWindow {
    const win = new BrowserWindow({
      width: 1100,
      height: 760,
      show: false,
      title: 'Twofold Backup',
      webPreferences: {
        preload: join(here, 'preload.cjs'),
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        webviewTag: false,
        spellcheck: false,
      },
    });
    win.webContents.on('will-navigate', (event, url) => {
      if (!isAllowedNavigation(url)) event.preventDefault();
    });
    win.webContents.on('will-attach-webview', (event) => event.preventDefault());
    win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
    // Closing the window keeps the app (and its scheduled backups) running in the tray.
    win.on('close', (event) => {
      if (!quitting) {
        event.preventDefault();
        win.hide();
      }
    });
    // Windows ends a session through the window, not powerMonitor.
    win.on('session-end', () => osQuit('session end'));
    win.on('closed', () => {
      if (window === win) window = null;
    });
    win.once('ready-to-show', () => win.show());
    void win.loadURL(`${APP_ORIGIN}/index.html`);
    return win;
  }

  app.on('before-quit', (event) => {
    if (!quitting) {
      event.preventDefault();
      void requestQuit();
      return;
    }
    void relay?.close();
    void companionHost?.close();
    twofold?.close(stopReason);
    twofold = null;
  });
  app.on('window-all-closed', () => {
    // Stay in the tray: backups keep running while the window is closed.
  });
}
