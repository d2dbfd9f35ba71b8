/**
 * `npm run relay`: the standalone notification relay. Flags win over environment variables.
 * Prints one line `relay listening on <origin>` when ready; stops cleanly on SIGINT/SIGTERM.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_LIMITS, type RelayLimits } from '../src-shared/push/messages.js';
import { installProcessGuards } from '../src-shared/process-guards.js';
import { startRelay } from './server.js';

const env = process.env;
const { values } = parseArgs({
  options: {
    host: { type: 'string', default: env.RELAY_HOST ?? '127.0.0.1' },
    port: { type: 'string', default: env.RELAY_PORT ?? '8787' },
    'tls-cert': { type: 'string', default: env.RELAY_TLS_CERT },
    'tls-key': { type: 'string', default: env.RELAY_TLS_KEY },
    redis: { type: 'string', default: env.RELAY_REDIS_URL },
    'companion-dir': { type: 'string', default: env.RELAY_COMPANION_DIR },
    'max-frame': { type: 'string', default: env.RELAY_MAX_FRAME },
    'max-body': { type: 'string', default: env.RELAY_MAX_BODY },
    'max-ttl': { type: 'string', default: env.RELAY_MAX_TTL_MS },
    queue: { type: 'string', default: env.RELAY_QUEUE_PER_ROUTE },
    rate: { type: 'string', default: env.RELAY_RATE },
    burst: { type: 'string', default: env.RELAY_BURST },
    'route-rate': { type: 'string', default: env.RELAY_ROUTE_RATE },
    'route-burst': { type: 'string', default: env.RELAY_ROUTE_BURST },
    'ping-interval': { type: 'string', default: env.RELAY_PING_INTERVAL_MS },
    'hello-timeout': { type: 'string', default: env.RELAY_HELLO_TIMEOUT_MS },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(`Usage: npm run relay -- [options]

The Twofold push relay: routes end-to-end encrypted messages between desktops and companions.
  --host H             address to listen on (default 127.0.0.1; 0.0.0.0 for a LAN)   env RELAY_HOST
  --port N             port (default 8787; 0 picks a free one)                       env RELAY_PORT
  --tls-cert FILE      PEM certificate: serve wss:// and https://                    env RELAY_TLS_CERT
  --tls-key FILE       PEM private key for --tls-cert                                env RELAY_TLS_KEY
  --redis URL          redis://host:port: share routes and queues with other relays  env RELAY_REDIS_URL
  --companion-dir DIR  the built web companion (default dist/companion)             env RELAY_COMPANION_DIR
Limits (defaults in brackets):
  --max-frame BYTES [${DEFAULT_LIMITS.maxFrameBytes}]  --max-body CHARS [${DEFAULT_LIMITS.maxBodyChars}]  --max-ttl MS [${DEFAULT_LIMITS.maxTtlMs}]
  --queue N [${DEFAULT_LIMITS.queuePerRoute}] per route  --rate N [${DEFAULT_LIMITS.connRatePerSec}]/s  --burst N [${DEFAULT_LIMITS.connBurst}] per connection
  --route-rate N [${DEFAULT_LIMITS.routeRatePerSec}]/s  --route-burst N [${DEFAULT_LIMITS.routeBurst}] per destination route
  --ping-interval MS [${DEFAULT_LIMITS.pingIntervalMs}]  --hello-timeout MS [${DEFAULT_LIMITS.helloTimeoutMs}]
  (env RELAY_MAX_FRAME, RELAY_MAX_BODY, RELAY_MAX_TTL_MS, RELAY_QUEUE_PER_ROUTE, RELAY_RATE, RELAY_BURST,
   RELAY_ROUTE_RATE, RELAY_ROUTE_BURST, RELAY_PING_INTERVAL_MS, RELAY_HELLO_TIMEOUT_MS)
`);
  process.exit(0);
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

function positive(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) fail(`--${flag} must be a positive number, not "${value}".`);
  return n;
}

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a whole number from 0 to 65535, not "${values.port}".`);
if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) fail('Give both --tls-cert and --tls-key, or neither.');

const limitFlags: [keyof RelayLimits, string][] = [
  ['maxFrameBytes', 'max-frame'],
  ['maxBodyChars', 'max-body'],
  ['maxTtlMs', 'max-ttl'],
  ['queuePerRoute', 'queue'],
  ['connRatePerSec', 'rate'],
  ['connBurst', 'burst'],
  ['routeRatePerSec', 'route-rate'],
  ['routeBurst', 'route-burst'],
  ['pingIntervalMs', 'ping-interval'],
  ['helloTimeoutMs', 'hello-timeout'],
];
const limits: Partial<RelayLimits> = {};
for (const [key, flag] of limitFlags) {
  const v = positive(flag, values[flag as keyof typeof values] as string | undefined);
  if (v !== undefined) limits[key] = v;
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
const companionDir = values['companion-dir'] ?? join(packageRoot(), 'dist', 'companion');

// Whatever slips through (a hostile peer finding a path nothing catches) is logged and the
// relay keeps serving everyone else (src-shared/process-guards.ts).
installProcessGuards(process, (message, fields) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', message, ...fields })}\n`));

const relay = await startRelay({
  host: values.host,
  port,
  tls: values['tls-cert'] ? { cert: readFileSync(values['tls-cert']), key: readFileSync(values['tls-key']!) } : undefined,
  redisUrl: values.redis,
  limits,
  companionDir: existsSync(companionDir) ? companionDir : undefined,
  log: (line) => process.stdout.write(`${line}\n`),
}).catch((error: Error) => fail(`Could not start the relay: ${error.message}`));

process.stdout.write(`relay ready: endpoints connect to ${relay.url}; web companion at ${relay.httpOrigin}/companion/\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await relay.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
