/**
 * `npm run console`: start the core and serve the UI on loopback, for machines without a
 * desktop and for end-to-end tests. Prints the one-time link that opens a session.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { installProcessGuards } from '../../src-shared/process-guards.js';
import { startCompanionHost, type CompanionHost } from '../../src-relay/companion-host.js';
import { EMBEDDED_LIMITS } from '../../src-relay/limits.js';
import { startRelay, type Relay } from '../../src-relay/server.js';
import { relayCompanionUrl } from '../../src-shared/push/companion-origin.js';
import { openApp } from '../api/app.js';
import { tuneProcess } from '../api/process-tuning.js';
import { startConsole } from './server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.TWOFOLD_CONSOLE_PORT ?? '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'data-dir': { type: 'string', default: process.env.TWOFOLD_DATA_DIR },
    'relay-host': { type: 'string', default: process.env.TWOFOLD_RELAY_HOST ?? '127.0.0.1' },
    'relay-port': { type: 'string', default: process.env.TWOFOLD_RELAY_PORT ?? '0' },
    'relay-public-url': { type: 'string', default: process.env.TWOFOLD_RELAY_PUBLIC_URL },
    'companion-host': { type: 'string', default: process.env.TWOFOLD_COMPANION_HOST ?? '127.0.0.1' },
    'companion-port': { type: 'string', default: process.env.TWOFOLD_COMPANION_PORT ?? '0' },
    'companion-public-url': { type: 'string', default: process.env.TWOFOLD_COMPANION_PUBLIC_URL },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(`Usage: npm run console -- [--port N] [--host 127.0.0.1|::1|localhost] [--data-dir DIR]

Starts Twofold Backup without a desktop and prints a one-time link to open it in a browser.
  --port       port to listen on (default: a free one; env TWOFOLD_CONSOLE_PORT)
  --host       loopback address to listen on (default 127.0.0.1)
  --data-dir   where the database and logs live (default ~/.config/twofold-backup;
               env TWOFOLD_DATA_DIR)
  --relay-host, --relay-port
               where the embedded push relay listens when no relay address is set in
               the settings (default 127.0.0.1 and a free port; 0.0.0.0 to reach phones
               on the LAN; env TWOFOLD_RELAY_HOST, TWOFOLD_RELAY_PORT)
  --relay-public-url
               the ws(s):// address companions use to reach the embedded relay, for
               pairing links (default: its loopback address; env TWOFOLD_RELAY_PUBLIC_URL)
  --companion-host, --companion-port, --companion-public-url
               where this app serves the web companion itself when the relay is another
               one (set in the settings); the embedded relay serves it otherwise, as this
               app (env TWOFOLD_COMPANION_HOST, TWOFOLD_COMPANION_PORT,
               TWOFOLD_COMPANION_PUBLIC_URL)
`);
  process.exit(0);
}

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`--port must be a whole number from 0 to 65535, not "${values.port}".\n`);
  process.exit(2);
}

const dataDir = values['data-dir'] ?? join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'twofold-backup');
/** The package root, whether this runs from source (tsx) or from the compiled dist/main tree. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('Cannot find the package root.');
    dir = parent;
  }
  return dir;
}
const rendererDir = join(packageRoot(), 'dist', 'renderer');
const version = process.env.npm_package_version ?? '0.0.0';

// This process holds the keys and runs the backups: tune and harden it before the core starts.
const hardening = tuneProcess();

// Without a keychain this stops here, before the data folder, the database or a log is written.
const app = await openApp({ dataDir, appVersion: version }).catch((error: Error) => {
  process.stderr.write(`Twofold Backup cannot start: ${error.message}\n`);
  process.exit(1);
});
// Whatever slips through is logged and the console keeps serving (src-shared/process-guards.ts).
installProcessGuards(process, (message, fields) => app.core.logger.error(message, fields));
if (hardening.coreDumps || hardening.dumpable) app.core.logger.warn('process hardening incomplete on this platform', { ...hardening });

// Push needs a relay: without one in the settings, run the embedded one in this process, with
// limits that protect this process. The web companion's code comes from this app either way
// (docs/security.md §4a): the embedded relay is this app; beside another relay, a static host.
const companionDir = join(packageRoot(), 'dist', 'companion');
const haveCompanion = existsSync(join(companionDir, 'index.html'));
let relay: Relay | null = null;
let companionHost: CompanionHost | null = null;
if (!app.core.settings.get().relayUrl) {
  relay = await startRelay({
    host: values['relay-host'],
    port: Number(values['relay-port']) || 0,
    limits: EMBEDDED_LIMITS,
    companionDir: haveCompanion ? companionDir : undefined,
  }).catch((error: Error) => {
    process.stderr.write(`Could not start the embedded push relay (push stays off): ${error.message}\n`);
    return null;
  });
  const publicUrl = values['relay-public-url'] ?? relay?.url ?? null;
  app.core.pushRelay.setEmbedded(relay ? publicUrl : null);
  app.core.pushRelay.setAppCompanion(relay && haveCompanion && publicUrl ? relayCompanionUrl(publicUrl) : null);
} else if (haveCompanion) {
  companionHost = await startCompanionHost({ companionDir, host: values['companion-host'], port: Number(values['companion-port']) || 0 }).catch(
    (error: Error) => {
      process.stderr.write(`Could not serve the web companion (the CLI companion still pairs): ${error.message}\n`);
      return null;
    },
  );
  app.core.pushRelay.setAppCompanion(companionHost ? (values['companion-public-url'] ?? companionHost.url) : null);
}
const server = await startConsole({ router: app.router, rendererDir, host: values.host, port }).catch((error: Error) => {
  process.stderr.write(`Could not start the console: ${error.message}\n`);
  app.close();
  process.exit(1);
});

process.stdout.write(`Twofold Backup console ${version}
  data:  ${dataDir}
  open:  ${server.loginUrl}
  relay: ${relay ? `${relay.url} (embedded)` : (app.core.settings.get().relayUrl ?? 'none')}
  web companion: ${app.core.pushRelay.appCompanionUrl() ?? 'not served (npm run build:companion)'}
This link works once. Press Ctrl+C to stop.
`);

const stop = async (signal: string) => {
  await server.close();
  await relay?.close();
  await companionHost?.close();
  app.close(`the OS ended the app (${signal})`);
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
