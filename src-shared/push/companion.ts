/**
 * The companion's protocol logic, shared by the CLI and the web companion: pair from a link,
 * then listen on each pairing's route, show requests, and answer them. Storage and screens are
 * the faces' business; this module only holds keys as CryptoKeys (non-extractable in browsers).
 */
import { totpCode } from '../totp.js';
import { sealAnswer, openClosed, openRequest } from './approval.js';
import { parseBody, type ApprovalRequest, type Decision, type MsgFrame } from './messages.js';
import { companionHello, openPairDone, openPairRefused, pairAckBody, parsePairingLink } from './pairing.js';
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
    readonly reason: 'expired' | 'used' | 'cancelled' | 'timeout' | 'bad-link',
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

/** Pair with a desktop from its QR link. Resolves once the desktop has added this device. */
export async function pair(options: PairOptions): Promise<PairingRecord> {
  const now = options.now ?? Date.now;
  let payload;
  try {
    payload = parsePairingLink(options.link);
  } catch (error) {
    throw new PairingError('bad-link', (error as Error).message);
  }
  if (payload.exp <= now()) throw new PairingError('expired', 'This pairing code has expired. Start pairing again on the computer.');
  const pairing = await companionHello(payload, options.device, now());

  return new Promise<PairingRecord>((resolve, reject) => {
    let finished = false;
    const finish = (fn: () => void) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      fn();
    };
    // The desktop has until the QR expires to see the hello, and then the user a while to compare codes.
    const timer = setTimeout(
      () => finish(() => {
        connection.close();
        reject(new PairingError('timeout', 'The computer did not finish pairing in time.'));
      }),
      Math.max(0, payload.exp - now()) + 5 * 60_000,
    );
    const onMessage = async (msg: MsgFrame) => {
      const body = parseBody(msg.body);
      if (!body) return;
      const refused = await openPairRefused(pairing, body);
      if (refused) {
        connection.done(msg.id);
        const text =
          refused === 'used'
            ? 'This pairing code was already used. Start pairing again on the computer.'
            : refused === 'expired'
              ? 'This pairing code has expired. Start pairing again on the computer.'
              : 'Pairing was cancelled on the computer.';
        finish(() => {
          connection.close();
          reject(new PairingError(refused, text));
        });
        return;
      }
      const done = await openPairDone(pairing, body);
      if (!done || finished) return;
      connection.done(msg.id);
      const ack = connection.send(payload.mailbox, await pairAckBody(options.device, pairing.keys.th), 60_000);
      await ack.acked;
      const record: PairingRecord = {
        deviceId: done.deviceId,
        name: done.name,
        account: done.account,
        workstation: done.workstation,
        app: done.app,
        appVersion: done.appVersion,
        relay: payload.relay,
        routeToken: pairing.routeToken,
        route: pairing.route,
        otpSeed: done.otpSeed,
        pairedAt: now(),
        reqKey: await importAesKey(pairing.keys.reqKey, options.extractableKeys),
        ansKey: await importAesKey(pairing.keys.ansKey, options.extractableKeys),
        device: options.device,
      };
      pairing.keys.reqKey.fill(0);
      pairing.keys.ansKey.fill(0);
      finish(() => {
        connection.close();
        resolve(record);
      });
    };
    const connection = new RelayConnection({
      url: options.relayUrl ?? payload.relay,
      token: pairing.routeToken,
      socket: options.socket,
      now,
      onMessage: (msg) => void onMessage(msg),
    });
    void connection.whenReady().then(() => {
      if (finished) return;
      connection.send(payload.mailbox, pairing.helloBody, Math.max(1, payload.exp - now()));
      options.onCode(pairing.keys.code);
    });
  });
}

/** A request on screen, with what the user may do about it. */
export interface IncomingRequest {
  pairing: PairingRecord;
  request: ApprovalRequest;
  hash: string;
  answer(decision: Decision, number: number | null): Promise<void>;
}

export interface ListenOptions {
  socket: SocketFactory;
  onRequest: (request: IncomingRequest) => void;
  /** The desktop closed a request (answered elsewhere, expired, cancelled). */
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

/** Listen on every pairing's route until `stop()`; each request is shown once. */
export function listen(pairings: PairingRecord[], options: ListenOptions): { stop(): void; checkPending(): void } {
  const now = options.now ?? Date.now;
  const seen = new Map<string, number>(); // txId -> expiresAt, so a re-delivered request is not shown twice
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

  async function handle(p: PairingRecord, connection: RelayConnection, msg: MsgFrame): Promise<void> {
    const body = parseBody(msg.body);
    if (!body) return;
    if (body.k === 'closed') {
      const closed = await openClosed(p.reqKey, p.deviceId, body);
      if (closed) {
        connection.done(msg.id);
        options.onClosed?.(closed.txId, closed.outcome);
      }
      return;
    }
    const opened = await openRequest(p.reqKey, p.deviceId, body);
    if (!opened) return;
    if ('unsupported' in opened) {
      connection.done(msg.id);
      const tx = opened.unsupported.txId;
      if (tx !== null && seen.has(tx)) return;
      if (tx !== null) seen.set(tx, now() + 120_000);
      options.onUnsupported?.(p, opened.unsupported.v);
      return;
    }
    const { request, hash } = opened;
    const t = now();
    for (const [tx, exp] of seen) if (exp < t) seen.delete(tx);
    if (request.expiresAt <= t || seen.has(request.txId)) return;
    seen.set(request.txId, request.expiresAt);
    let answered = false;
    options.onRequest({
      pairing: p,
      request,
      hash,
      answer: async (decision, number) => {
        if (answered) throw new Error('This request was already answered.');
        if (decision === 'approve' && (number === null || !request.choices.includes(number))) {
          throw new Error('Pick the number shown on the computer.');
        }
        answered = true;
        const body = await sealAnswer({
          ansKey: p.ansKey,
          deviceKey: p.device.privateKey,
          deviceId: p.deviceId,
          txId: request.txId,
          requestHash: hash,
          decision,
          number: decision === 'approve' ? number : null,
          now: now(),
        });
        const sent = connection.send(request.replyTo, body, Math.max(1, request.expiresAt - now()));
        connection.done(msg.id);
        await sent.acked;
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
