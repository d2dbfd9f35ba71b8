/**
 * `npm run relay`: the standalone notification relay. Flags win over environment variables.
 * Prints one line `relay listening on <origin>` when ready; stops cleanly on SIGINT/SIGTERM.
 * It is a WebSocket endpoint only, unless --serve-companion says its users trust it to serve
 * the web companion's code as well (docs/security.md §4a).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_LIMITS, type RelayLimits } from './limits.js';
import { installProcessGuards } from '../src-shared/process-guards.js';
import { startRelay } from './server.js';

const env = process.env;
const LIMIT_FLAGS: { key: keyof RelayLimits; flag: string; env: string; size?: true; help: string }[] = [
  { key: 'maxFrameBytes', flag: 'max-frame', env: 'RELAY_MAX_FRAME', size: true, help: 'largest frame' },
  { key: 'maxBodyChars', flag: 'max-body', env: 'RELAY_MAX_BODY', help: 'largest body, in characters' },
  { key: 'maxTtlMs', flag: 'max-ttl', env: 'RELAY_MAX_TTL_MS', help: 'longest message lifetime, ms' },
  { key: 'queuePerRoute', flag: 'queue', env: 'RELAY_QUEUE_PER_ROUTE', help: 'messages queued per route, all senders' },
  { key: 'queuePerSender', flag: 'queue-per-sender', env: 'RELAY_QUEUE_PER_SENDER', help: 'messages one sender may queue per route' },
  { key: 'connRatePerSec', flag: 'rate', env: 'RELAY_RATE', help: 'frames per second per connection' },
  { key: 'connBurst', flag: 'burst', env: 'RELAY_BURST', help: 'burst of frames per connection' },
  { key: 'routeRatePerSec', flag: 'route-rate', env: 'RELAY_ROUTE_RATE', help: 'messages per second to one route' },
  { key: 'routeBurst', flag: 'route-burst', env: 'RELAY_ROUTE_BURST', help: 'burst of messages to one route' },
  { key: 'pingIntervalMs', flag: 'ping-interval', env: 'RELAY_PING_INTERVAL_MS', help: 'keepalive ping interval, ms' },
  { key: 'helloTimeoutMs', flag: 'hello-timeout', env: 'RELAY_HELLO_TIMEOUT_MS', help: 'time to say hello, ms' },
  { key: 'sendBufferBytes', flag: 'send-buffer', env: 'RELAY_SEND_BUFFER', size: true, help: 'unsent output per connection before it is paused' },
  { key: 'slowCloseMs', flag: 'slow-close', env: 'RELAY_SLOW_CLOSE_MS', help: 'paused this long: closed 4008, ms' },
  { key: 'connQueueBytes', flag: 'connection-queue', env: 'RELAY_CONNECTION_QUEUE', size: true, help: 'queued bytes one connection may send' },
  { key: 'addressQueueBytes', flag: 'address-queue', env: 'RELAY_ADDRESS_QUEUE', size: true, help: 'queued bytes one address may send' },
  { key: 'addressConnections', flag: 'address-connections', env: 'RELAY_ADDRESS_CONNECTIONS', help: 'open connections per address' },
  { key: 'memoryBudgetBytes', flag: 'memory-budget', env: 'RELAY_MEMORY_BUDGET', size: true, help: 'queued + send buffers + connections' },
];

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: env.RELAY_HOST ?? '127.0.0.1' },
    port: { type: 'string', default: env.RELAY_PORT ?? '8787' },
    'tls-cert': { type: 'string', default: env.RELAY_TLS_CERT },
    'tls-key': { type: 'string', default: env.RELAY_TLS_KEY },
    redis: { type: 'string', default: env.RELAY_REDIS_URL },
    'serve-companion': { type: 'boolean', default: env.RELAY_SERVE_COMPANION === '1' },
    'companion-dir': { type: 'string', default: env.RELAY_COMPANION_DIR },
    help: { type: 'boolean', default: false },
    ...Object.fromEntries(LIMIT_FLAGS.map((f) => [f.flag, { type: 'string' as const, default: env[f.env] }])),
  },
});

const show = (f: (typeof LIMIT_FLAGS)[number]) => {
  const d = DEFAULT_LIMITS[f.key];
  return f.size ? (d % (1024 * 1024) === 0 ? `${d / 1024 / 1024}M` : `${d / 1024}K`) : String(d);
};

if (values.help) {
  process.stdout.write(`Usage: npm run relay -- [options]

The Twofold push relay: routes end-to-end encrypted messages between desktops and companions.
  --host H             address to listen on (default 127.0.0.1; 0.0.0.0 for a LAN)   env RELAY_HOST
  --port N             port (default 8787; 0 picks a free one)                       env RELAY_PORT
  --tls-cert FILE      PEM certificate: serve wss:// and https://                    env RELAY_TLS_CERT
  --tls-key FILE       PEM private key for --tls-cert                                env RELAY_TLS_KEY
  --redis URL          redis://host:port: share routes and queues with other relays  env RELAY_REDIS_URL
  --serve-companion    also serve the web companion at /companion/ (build it first:  env RELAY_SERVE_COMPANION=1
                       npm run build:companion). Only for a relay your users trust
                       as much as their computers: whoever serves the page holds its keys.
  --companion-dir DIR  the built web companion (default dist/companion)             env RELAY_COMPANION_DIR
Limits (sizes take K or M; defaults in brackets):
${LIMIT_FLAGS.map((f) => `  --${`${f.flag} N`.padEnd(24)} ${`${f.help} [${show(f)}]`.padEnd(62)} env ${f.env}`).join('\n')}
`);
  process.exit(0);
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

/** A positive number; sizes may end in K or M (binary). */
function positive(flag: string, value: string | undefined, size: boolean): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)([KM]?)$/i.exec(value.trim());
  const unit = !m?.[2] ? 1 : m[2].toUpperCase() === 'K' ? 1024 : 1024 * 1024;
  const n = m ? Number(m[1]) * unit : NaN;
  if (!Number.isFinite(n) || n <= 0 || (!size && m?.[2])) fail(`--${flag} must be a positive number${size ? ' (K or M allowed)' : ''}, not "${value}".`);
  return Math.floor(n);
}

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a whole number from 0 to 65535, not "${values.port}".`);
if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) fail('Give both --tls-cert and --tls-key, or neither.');

const limits: Partial<RelayLimits> = {};
for (const f of LIMIT_FLAGS) {
  const v = positive(f.flag, (values as Record<string, unknown>)[f.flag] as string | undefined, f.size === true);
  if (v !== undefined) limits[f.key] = v;
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

let companionDir: string | undefined;
if (values['serve-companion']) {
  companionDir = (values['companion-dir'] as string | undefined) ?? join(packageRoot(), 'dist', 'companion');
  if (!existsSync(join(companionDir, 'index.html'))) fail(`No built web companion in ${companionDir}: run npm run build:companion first.`);
}

// Whatever slips through (a hostile peer finding a path nothing catches) is logged and the
// relay keeps serving everyone else (src-shared/process-guards.ts).
installProcessGuards(process, (message, fields) =>
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', message, ...fields })}\n`),
);

const relay = await startRelay({
  host: values.host as string,
  port,
  tls: values['tls-cert'] ? { cert: readFileSync(values['tls-cert'] as string), key: readFileSync(values['tls-key'] as string) } : undefined,
  redisUrl: values.redis as string | undefined,
  limits,
  companionDir,
  log: (line) => process.stdout.write(`${line}\n`),
}).catch((error: Error) => fail(`Could not start the relay: ${error.message}`));

process.stdout.write(`relay ready: endpoints connect to ${relay.url}${relay.companionUrl ? `; web companion at ${relay.companionUrl}` : ''}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await relay.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
