/**
 * `npm run companion -- <command>`: the command-line companion. Pairs with a desktop from its
 * QR link, then listens and answers push requests (interactive by default; flags for scripts),
 * and prints one-time passwords for when push does not get through.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { currentOtp, listen, pair, PairingError, type IncomingRequest, type PairingRecord } from '../src-shared/push/companion.js';
import { shortDigest } from '../src-shared/digest.js';
import { DECISIONS, type Decision } from '../src-shared/push/messages.js';
import { formatComparisonCode } from '../src-shared/push/pairing.js';
import type { SocketFactory, SocketLike } from '../src-shared/push/relay-connection.js';
import { newSigningKeyPair } from '../src-shared/push/suite.js';
import { defaultStateDir, loadPairings, savePairings } from './state.js';

const socket: SocketFactory = (url) => new WebSocket(url, { maxPayload: 64 * 1024 }) as unknown as SocketLike;

const USAGE = `Usage: npm run companion -- <command> [options]

Commands:
  pair <link>     pair with a computer: paste the link under its QR code
  listen          wait for push requests and answer them (Ctrl+C to stop)
  otp             print the current one-time password of each pairing
  list            list pairings

Options:
  --state-dir DIR         where pairings are kept (default ~/.config/twofold-companion;
                          env TWOFOLD_COMPANION_DIR). Keep it private: it holds the keys.
  --decision D            listen: answer every request with approve, deny or not-me
                          instead of asking (for scripts)
  --number N              listen: with --decision approve, the number shown on the computer
  --once                  listen: stop after answering one request
  --relay URL             pair, listen: reach the relay at this ws(s):// address instead
                          of the one in the pairing (another instance or host name)
`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'state-dir': { type: 'string' },
    decision: { type: 'string' },
    number: { type: 'string' },
    once: { type: 'boolean', default: false },
    relay: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

const out = (line: string) => process.stdout.write(`${line}\n`);
function fail(message: string, code = 1): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

const stateDir = values['state-dir'] ?? defaultStateDir();
const [command, ...args] = positionals;

if (values.help || !command) {
  process.stdout.write(USAGE);
  process.exit(command || values.help ? 0 : 2);
}

switch (command) {
  case 'pair':
    await pairCommand(args[0]);
    break;
  case 'listen':
    await listenCommand();
    break;
  case 'otp':
    await otpCommand();
    break;
  case 'list':
    for (const p of await loadPairings(stateDir)) {
      out(`${p.name}: ${p.account} on ${p.workstation} (${p.app} ${p.appVersion}), relay ${p.relay}, paired ${new Date(p.pairedAt).toISOString()}`);
    }
    break;
  default:
    fail(`Unknown command "${command}".\n\n${USAGE}`, 2);
}

async function pairCommand(link: string | undefined): Promise<void> {
  if (!link) fail('Give the pairing link: npm run companion -- pair "<link>"', 2);
  const existing = await loadPairings(stateDir);
  let record: PairingRecord;
  try {
    record = await pair({
      link,
      socket,
      device: await newSigningKeyPair(true),
      extractableKeys: true,
      relayUrl: values.relay,
      onCode: (code) => {
        out(`Comparison code: ${formatComparisonCode(code)}`);
        out('Check that the computer shows the same code, then name this device there.');
      },
    });
  } catch (error) {
    if (error instanceof PairingError) fail(`Pairing failed: ${error.message}`);
    throw error;
  }
  // A re-pairing with the same computer account replaces nothing: each pairing is its own device.
  await savePairings(stateDir, [...existing, record]);
  out(`Paired as "${record.name}" with ${record.account} on ${record.workstation}.`);
  process.exit(0);
}

async function otpCommand(): Promise<void> {
  const pairings = await loadPairings(stateDir);
  if (pairings.length === 0) fail('No pairings yet: pair first.');
  const now = Date.now();
  const left = 30 - (Math.floor(now / 1000) % 30);
  for (const p of pairings) out(`${p.name} (${p.account} on ${p.workstation}): ${currentOtp(p, now)}  (${left} s left)`);
}

async function listenCommand(): Promise<void> {
  const pairings = await loadPairings(stateDir);
  if (pairings.length === 0) fail('No pairings yet: pair first.');
  const scripted = values.decision as Decision | undefined;
  if (scripted !== undefined && !DECISIONS.includes(scripted)) fail('--decision is approve, deny or not-me.', 2);
  const scriptedNumber = values.number === undefined ? null : Number(values.number);
  if (scripted === 'approve' && (scriptedNumber === null || !Number.isInteger(scriptedNumber))) fail('--decision approve needs --number N.', 2);

  const queue: IncomingRequest[] = [];
  let busy = false;
  let showing: IncomingRequest | null = null;
  const lines = scripted ? null : createInterface({ input: process.stdin });
  const lineWaiters: ((line: string | null) => void)[] = [];
  lines?.on('line', (line) => lineWaiters.shift()?.(line.trim()));
  /** The next line typed, or null if the request on screen was closed meanwhile. */
  const nextLine = () => new Promise<string | null>((resolve) => lineWaiters.push(resolve));

  const listener = listen(pairings, {
    socket,
    relayUrl: values.relay,
    onState: (p, state) => {
      if (state === 'ready') out(`Listening for ${p.account} on ${p.workstation}.`);
    },
    onRequest: (incoming) => {
      queue.push(incoming);
      void drain();
    },
    onClosed: (txId, outcome) => {
      // A closed request leaves the screen: not shown if still queued, no longer asked if shown.
      const queued = queue.findIndex((q) => q.request.txId === txId);
      if (queued >= 0) queue.splice(queued, 1);
      out(`Request ${txId.slice(0, 8)} closed on the computer: ${outcome}.`);
      if (showing?.request.txId === txId) lineWaiters.splice(0).forEach((wake) => wake(null));
    },
    onUnsupported: (p, version) =>
      out(
        `A request from ${p.account} on ${p.workstation} was refused: it uses request format ${version}, which this companion does not speak. ` +
          'Update Twofold Backup and the companion to the same version; meanwhile use a one-time password (npm run companion -- otp).',
      ),
  });

  async function drain(): Promise<void> {
    if (busy) return;
    busy = true;
    while (queue.length) {
      const incoming = queue.shift()!;
      const { request } = incoming;
      const left = Math.round((request.expiresAt - Date.now()) / 1000);
      if (left <= 0 || incoming.closed()) continue;
      showing = incoming;
      out('');
      out(`Request ${request.txId.slice(0, 8)} from ${request.app} ${request.appVersion} on ${request.workstation} (IP ${request.ip})`);
      out(`  ${request.action}, account ${request.account}, at ${new Date(request.time).toISOString()}, ${left} s left`);
      if (request.confirm) {
        // What the computer will do if this is approved, and the start of the digest its confirmation is bound to.
        out(`  Confirms: ${request.confirm.title}`);
        if (request.confirm.consequence) out(`  Then: ${request.confirm.consequence}`);
        out(`  Check code: ${shortDigest(request.confirm.digest)} (the computer's dialog shows the same)`);
      }
      out(`  Choices: ${request.choices.join(' ')}`);
      let decision: Decision;
      let number: number | null = null;
      if (scripted) {
        decision = scripted;
        number = scriptedNumber;
      } else {
        out("  Type the number shown on the computer to approve, d to deny, n if this wasn't you:");
        const answer = await nextLine();
        if (answer === null || incoming.closed()) continue;
        if (answer === 'd') decision = 'deny';
        else if (answer === 'n') decision = 'not-me';
        else {
          decision = 'approve';
          number = Number(answer);
        }
      }
      showing = null;
      if (decision === 'approve' && (number === null || !request.choices.includes(number))) {
        out('  That is not one of the choices. Pick the number shown on the computer.');
        if (!scripted) queue.unshift(incoming);
        continue;
      }
      try {
        await incoming.answer(decision, number);
        out(decision === 'approve' ? `Approved (${number}).` : decision === 'deny' ? 'Denied.' : 'Reported: push is paused on the computer for 20 minutes.');
      } catch (error) {
        out(`Could not answer: ${(error as Error).message}`);
      }
      if (values.once) {
        listener.stop();
        lines?.close();
        process.exit(0);
      }
    }
    showing = null;
    busy = false;
  }

  const stop = () => {
    listener.stop();
    lines?.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
