/**
 * The companion's protocol logic, shared by the CLI and the web companion: pair from a link,
 * then listen on each pairing's route, show requests, and answer them. Storage and screens are
 * the faces' business; this module only holds keys as CryptoKeys (non-extractable in browsers).
 */
import { totpCode } from '../totp.js';
import { sealAnswer, openClosed, openRequest, PUSH_TTL_MS } from './approval.js';
import { parseBody, type ApprovalRequest, type Decision, type MsgFrame, type PairDoneInner } from './messages.js';
import { companionHello, openPairDone, openPairRefused, openPairResult, pairAckBody, parsePairingLink, type CompanionPairing } from './pairing.js';
import { RelayConnection, type SocketFactory } from './relay-connection.js';
import { base32Decode } from '../totp.js';
import { importAesKey, type Key, type KeyPair } from './suite.js';

/** One pairing as a companion keeps it. */
export interface PairingRecord {
  deviceId: string;
  name: string;
  account: string;
  workstation: string;
  app: string;
  appVersion: string;
  relay: string;
  routeToken: string;
  route: string;
  otpSeed: string;
  pairedAt: number;
  reqKey: Key;
  ansKey: Key;
  device: KeyPair;
}

export class PairingError extends Error {
  constructor(
    readonly reason: 'expired' | 'used' | 'cancelled' | 'failed' | 'timeout' | 'unavailable' | 'bad-link',
    message: string,
  ) {
    super(message);
    this.name = 'PairingError';
  }
}

export interface PairOptions {
  link: string;
  socket: SocketFactory;
  /** Made on this device; extractable only where the face must save it to a file (the CLI). */
  device: KeyPair;
  extractableKeys: boolean;
  /** Shown to the user right away, to compare with the computer's screen. */
  onCode: (code: string) => void;
  /** Connect through this relay address instead of the QR's (another instance, another name for it). */
  relayUrl?: string;
  now?: () => number;
}

/** How long pair-hello, pair-ack are kept by the relay; the desktop waits 30 s for the ack. */
export const PAIR_ACK_TTL_MS = 30_000;
/** After its ack, how long the companion waits for the desktop's pair-result before it gives up. */
export const PAIR_RESULT_TIMEOUT_MS = 60_000;

const REFUSED_TEXT = {
  used: 'This pairing code was already used. Start pairing again on the computer.',
  expired: 'This pairing code has expired. Start pairing again on the computer.',
  cancelled: 'Pairing was cancelled on the computer.',
} as const;

/**
 * Pair with a desktop from its QR link. Resolves only once the desktop said it added this device
 * (pair-result), never on the ack alone: a lost ack must not leave a pairing the desktop lacks.
 */
export async function pair(options: PairOptions): Promise<PairingRecord> {
  const now = options.now ?? Date.now;
  let payload;
  try {
    payload = parsePairingLink(options.link);
  } catch (error) {
    throw new PairingError('bad-link', (error as Error).message);
  }
  if (payload.exp <= now()) throw new PairingError('expired', REFUSED_TEXT.expired);
  const pairing = await companionHello(payload, options.device, now());

  return new Promise<PairingRecord>((resolve, reject) => {
    let finished = false;
    let done: PairDoneInner | null = null;
    const finish = (fn: () => void) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      connection.close();
      fn();
    };
    const fail = (reason: PairingError['reason'], text: string) => finish(() => reject(new PairingError(reason, text)));
    // The desktop has until the QR expires to see the hello, and then the user a while to compare codes.
    let timer = setTimeout(() => fail('timeout', 'The computer did not finish pairing in time.'), Math.max(0, payload.exp - now()) + 5 * 60_000);

    const onMessage = async (msg: MsgFrame) => {
      const body = parseBody(msg.body);
      if (!body || finished) return;
      const refused = await openPairRefused(pairing, body);
      if (refused) {
        connection.done(msg.id, msg.from);
        return fail(refused, REFUSED_TEXT[refused]);
      }
      if (done) {
        const outcome = await openPairResult(pairing, done.deviceId, body);
        if (!outcome) return;
        connection.done(msg.id, msg.from);
        if (outcome === 'failed') return fail('failed', 'The computer could not add this device. Start pairing again on the computer.');
        const record = await toRecord(pairing, done, options, now());
        return finish(() => resolve(record));
      }
      const opened = await openPairDone(pairing, body);
      if (!opened || done) return;
      done = opened;
      connection.done(msg.id, msg.from);
      clearTimeout(timer);
      timer = setTimeout(
        () => fail('timeout', 'The computer did not confirm the pairing. Start again; if the computer lists this device, remove it there.'),
        PAIR_RESULT_TIMEOUT_MS,
      );
      const refusal = await connection.send(payload.mailbox, await pairAckBody(options.device, pairing.keys.th), PAIR_ACK_TTL_MS).acked;
      if (refusal) fail('unavailable', "The relay did not take this device's confirmation. Start pairing again on the computer.");
    };
    const connection = new RelayConnection({
      url: options.relayUrl ?? payload.relay,
      token: pairing.routeToken,
      socket: options.socket,
      now,
      onMessage: (msg) => void onMessage(msg),
    });
    void connection.whenReady().then(async () => {
      if (finished) return;
      const sent = connection.send(payload.mailbox, pairing.helloBody, Math.max(1, payload.exp - now()));
      options.onCode(pairing.keys.code);
      const refusal = await sent.acked;
      if (refusal) fail('unavailable', 'The relay did not take the pairing request. Try again in a moment.');
    });
  });
}

async function toRecord(pairing: CompanionPairing, done: PairDoneInner, options: PairOptions, pairedAt: number): Promise<PairingRecord> {
  const record: PairingRecord = {
    deviceId: done.deviceId,
    name: done.name,
    account: done.account,
    workstation: done.workstation,
    app: done.app,
    appVersion: done.appVersion,
    relay: pairing.payload.relay,
    routeToken: pairing.routeToken,
    route: pairing.route,
    otpSeed: done.otpSeed,
    pairedAt,
    reqKey: await importAesKey(pairing.keys.reqKey, options.extractableKeys),
    ansKey: await importAesKey(pairing.keys.ansKey, options.extractableKeys),
    device: options.device,
  };
  pairing.keys.reqKey.fill(0);
  pairing.keys.ansKey.fill(0);
  return record;
}

/** A request on screen, with what the user may do about it. */
export interface IncomingRequest {
  pairing: PairingRecord;
  request: ApprovalRequest;
  hash: string;
  /** Set once the desktop closed it: it leaves the screen and cannot be answered. */
  closed(): string | null;
  answer(decision: Decision, number: number | null): Promise<void>;
}

export interface ListenOptions {
  socket: SocketFactory;
  onRequest: (request: IncomingRequest) => void;
  /** The desktop closed a request (answered elsewhere, expired, cancelled): take it off the screen. */
  onClosed?: (txId: string, outcome: string) => void;
  /**
   * The desktop sent a request in a version this companion does not speak (docs/protocol.md
   * §5.1): it is not shown and not answered; tell the user to update one side.
   */
  onUnsupported?: (pairing: PairingRecord, version: number) => void;
  onState?: (pairing: PairingRecord, state: 'connecting' | 'ready' | 'closed') => void;
  /** Connect through this relay address instead of each pairing's own. */
  relayUrl?: string;
  now?: () => number;
}

/** What the companion remembers of a transaction, so neither a re-delivery nor a late request shows it again. */
interface Seen {
  until: number;
  closed: string | null;
}

/**
 * Listen on every pairing's route until `stop()`. Each request is shown once; after its `closed`
 * it is taken off the screen, cannot be answered, and a re-delivered copy (or one that arrives
 * after its `closed`) is not shown at all.
 */
export function listen(pairings: PairingRecord[], options: ListenOptions): { stop(): void; checkPending(): void } {
  const now = options.now ?? Date.now;
  const seen = new Map<string, Seen>(); // by txId
  const connections = pairings.map((p) => {
    const connection: RelayConnection = new RelayConnection({
      url: options.relayUrl ?? p.relay,
      token: p.routeToken,
      socket: options.socket,
      now,
      onState: (state) => options.onState?.(p, state),
      onMessage: (msg) => void handle(p, connection, msg),
    });
    return connection;
  });

  const remember = (txId: string, until: number): Seen => {
    const t = now();
    for (const [tx, s] of seen) if (s.until < t) seen.delete(tx);
    let entry = seen.get(txId);
    if (!entry) seen.set(txId, (entry = { until, closed: null }));
    entry.until = Math.max(entry.until, until);
    return entry;
  };

  async function handle(p: PairingRecord, connection: RelayConnection, msg: MsgFrame): Promise<void> {
    const body = parseBody(msg.body);
    if (!body) return;
    if (body.k === 'closed') {
      const closed = await openClosed(p.reqKey, p.deviceId, body);
      if (!closed) return;
      connection.done(msg.id, msg.from);
      const entry = remember(closed.txId, now() + 2 * PUSH_TTL_MS);
      if (entry.closed) return;
      entry.closed = closed.outcome;
      options.onClosed?.(closed.txId, closed.outcome);
      return;
    }
    const opened = await openRequest(p.reqKey, p.deviceId, body);
    if (!opened) return;
    if ('unsupported' in opened) {
      connection.done(msg.id, msg.from);
      const tx = opened.unsupported.txId;
      if (tx !== null && seen.has(tx)) return;
      if (tx !== null) remember(tx, now() + 120_000);
      options.onUnsupported?.(p, opened.unsupported.v);
      return;
    }
    const { request, hash } = opened;
    connection.done(msg.id, msg.from);
    if (request.expiresAt <= now() || seen.has(request.txId)) return;
    const entry = remember(request.txId, request.expiresAt + PUSH_TTL_MS);
    let answered = false;
    options.onRequest({
      pairing: p,
      request,
      hash,
      closed: () => entry.closed,
      answer: async (decision, number) => {
        if (entry.closed) throw new Error('This request was closed on the computer.');
        if (answered) throw new Error('This request was already answered.');
        if (decision === 'approve' && (number === null || !request.choices.includes(number))) {
          throw new Error('Pick the number shown on the computer.');
        }
        answered = true;
        const sealed = await sealAnswer({
          ansKey: p.ansKey,
          deviceKey: p.device.privateKey,
          deviceId: p.deviceId,
          txId: request.txId,
          requestHash: hash,
          decision,
          number: decision === 'approve' ? number : null,
          now: now(),
        });
        const refusal = await connection.send(request.replyTo, sealed, Math.max(1, request.expiresAt - now())).acked;
        if (refusal) throw new Error('The relay did not take the answer. Use the one-time password instead.');
      },
    });
  }

  return {
    stop: () => connections.forEach((c) => c.close()),
    checkPending: () => connections.forEach((c) => c.checkPending()),
  };
}

/** The one-time password a pairing shows now, for when push does not get through. */
export function currentOtp(pairing: Pick<PairingRecord, 'otpSeed'>, now: number): string {
  return totpCode(base32Decode(pairing.otpSeed), now);
}
