/**
 * Attacker A6, the hostile relay (docs/security.md §4a): a man in the middle that sees every
 * frame and tampers, replays and forges. It can read nothing and make the desktop accept
 * nothing; every answer it tampers with is an audit row with its reason, and counts towards the
 * growing delay between pushes; the genuine approval still works afterwards. The companion here
 * is the shared protocol implementation run in-process, so the test can also hold keys to forge with.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { canonicalJson } from '../../src-shared/canonical-json.js';
import { openRequest, requestHash, sealAnswer } from '../../src-shared/push/approval.js';
import { listen, pair, type IncomingRequest, type PairingRecord } from '../../src-shared/push/companion.js';
import { b64u, randomBytes, randomToken } from '../../src-shared/push/encoding.js';
import { parseBody } from '../../src-shared/push/messages.js';
import type { SocketFactory, SocketLike } from '../../src-shared/push/relay-connection.js';
import { encrypt, importAesKey, newSigningKeyPair } from '../../src-shared/push/suite.js';
import { LOG_FILE } from '../../src-main/core/platform/logger.js';
import type { TestApp } from '../helpers/app.js';
import { appWithRelay, toSecondFactor } from '../helpers/push.js';
import { flipByte, HostileRelay, startRelayProcess, type RelayProcess } from '../helpers/relay.js';

const socket: SocketFactory = (url) => new WebSocket(url) as unknown as SocketLike;

let relay: RelayProcess;
let hostile: HostileRelay;
let t: TestApp | undefined;
let stopListening: (() => void) | undefined;

beforeAll(async () => {
  relay = await startRelayProcess();
});
afterAll(() => relay.stop());
afterEach(async () => {
  stopListening?.();
  t?.remove();
  t = undefined;
  await hostile?.stop();
});

interface Setup {
  app: TestApp;
  record: PairingRecord;
  requests: IncomingRequest[];
  nextRequest(): Promise<IncomingRequest>;
}

/** An app and an in-process companion, paired through the hostile relay, the app at the second-factor step. */
async function setup(): Promise<Setup> {
  hostile = new HostileRelay(relay.url);
  await hostile.start();
  const app = await appWithRelay(hostile.url);
  t = app;
  const begin = await app.ok('push.beginPairing', {});
  let code = '';
  const paired = pair({ link: begin.link, socket, device: await newSigningKeyPair(true), extractableKeys: true, onCode: (c) => (code = c) });
  const status = await app.ok('push.pairingStatus', { pairingId: begin.pairingId, waitMs: 20_000 });
  expect(status.comparisonCode).toBe(`${code.slice(0, 3)} ${code.slice(3)}`);
  await app.ok('push.finishPairing', { pairingId: begin.pairingId, name: 'Phone' });
  const record = await paired;
  await toSecondFactor(app);

  const requests: IncomingRequest[] = [];
  const waiting: ((r: IncomingRequest) => void)[] = [];
  const listener = listen([record], {
    socket,
    onRequest: (r) => {
      requests.push(r);
      waiting.shift()?.(r);
    },
  });
  stopListening = listener.stop;
  return {
    app,
    record,
    requests,
    nextRequest: () => new Promise((resolve) => waiting.push(resolve)),
  };
}

/** The audit rows of refused answers, oldest first. */
async function refusedRows(app: TestApp): Promise<{ detail: string | null; outcome: string; device: string | null }[]> {
  const rows = (await app.app.core.audit.open()).query({ limit: 1000, offset: 0 }).rows;
  return rows.filter((r) => r.action === 'push.answer-refused').reverse();
}

/** Wait until the audit log has `n` refused answers, and return their details. */
async function refusals(app: TestApp, n: number): Promise<string[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const rows = await refusedRows(app);
    if (rows.length >= n) return rows.map((r) => r.detail ?? '');
    if (Date.now() > deadline) throw new Error(`the desktop did not record ${n} refused answer(s); it has ${JSON.stringify(rows)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The recorded answer frames the desktop received, and the route they went to. */
function answersSeen(): { route: string; frame: Record<string, unknown> & { t: string; body?: unknown } }[] {
  return hostile.recorded.filter(({ frame }) => parseBody(String(frame.body))?.k === 'ans');
}

async function stillWaiting(app: TestApp, requestId: string): Promise<void> {
  expect((await app.ok('push.poll', { requestId })).state).toBe('pending');
  expect((await app.ok('app.status', {})).level).toBe('second-factor');
}

describe('a hostile relay', () => {
  it('reads nothing: every body it carries is ciphertext', async () => {
    const { app, nextRequest } = await setup();
    const push = await app.ok('push.start', {});
    const incoming = await nextRequest();
    await incoming.answer('approve', push.number);
    expect((await app.ok('push.poll', { requestId: push.requestId, waitMs: 20_000 })).state).toBe('approved');
    const carried = hostile.recorded.map(({ frame }) => String(frame.body)).join('\n');
    for (const visible of ['Ada', 'Unlock', 'test-workstation', 'Twofold Backup', 'choices', 'approve', push.requestId]) {
      expect(carried).not.toContain(visible);
    }
  });

  it('cannot pass off an answer with a flipped ciphertext byte; the genuine one still works', async () => {
    const { app, nextRequest } = await setup();
    hostile.tamper = (frame) => {
      const body = parseBody(String(frame.body));
      return body?.k === 'ans' ? { ...frame, body: canonicalJson({ ...body, ct: flipByte(body.ct) }) } : frame;
    };
    const push = await app.ok('push.start', {});
    await (await nextRequest()).answer('approve', push.number);
    expect(await refusals(app, 1)).toEqual(["answer refused: bad MAC (not sealed with any companion's key, or altered)"]);
    await stillWaiting(app, push.requestId);
    // The refusal counted like a push: the next one would have to wait.
    expect((await app.ok('push.status', {})).retryAfterMs).toBeGreaterThan(0);

    // What the relay held back was the real answer: delivered intact, it is accepted.
    const [genuine] = answersSeen();
    hostile.tamper = (f) => f;
    hostile.inject(genuine!.route, genuine!.frame);
    expect((await app.ok('push.poll', { requestId: push.requestId, waitMs: 20_000 })).state).toBe('approved');
  });

  it('cannot replay an approval of an earlier request', async () => {
    const { app, nextRequest } = await setup();
    const first = await app.ok('push.start', {});
    await (await nextRequest()).answer('approve', first.number);
    expect((await app.ok('push.poll', { requestId: first.requestId, waitMs: 20_000 })).state).toBe('approved');
    const [old] = answersSeen();

    await toSecondFactor(app);
    const second = await app.ok('push.start', {});
    await nextRequest(); // the companion has it on screen; the user has not answered
    hostile.inject(old!.route, { ...old!.frame, id: randomToken(16) });
    expect(await refusals(app, 1)).toEqual(['answer refused: replay of an answer to an earlier request']);
    await stillWaiting(app, second.requestId);
  });

  it('cannot forge an approval signed by another key, even one sealed under the right key', async () => {
    const { app, record, nextRequest } = await setup();
    const push = await app.ok('push.start', {});
    const incoming = await nextRequest();
    const impostor = await newSigningKeyPair(false);
    const forged = await sealAnswer({
      ansKey: record.ansKey,
      deviceKey: impostor.privateKey,
      deviceId: record.deviceId,
      txId: incoming.request.txId,
      requestHash: incoming.hash,
      decision: 'approve',
      number: push.number,
      now: Date.now(),
    });
    hostile.inject(incoming.request.replyTo, { t: 'msg', id: randomToken(16), from: record.route, body: forged, exp: Date.now() + 30_000 });
    expect(await refusals(app, 1)).toEqual(["answer refused: bad signature (not signed by the companion's key)"]);
    expect((await refusedRows(app))[0]).toMatchObject({ outcome: 'failure', device: 'Phone' });
    await stillWaiting(app, push.requestId);
  });

  it("cannot forge an answer without the device's keys at all", async () => {
    const { app, record, nextRequest } = await setup();
    const push = await app.ok('push.start', {});
    const incoming = await nextRequest();
    const sealed = await encrypt(await importAesKey(randomBytes(32)), new TextEncoder().encode('{}'), 'x');
    const forged = canonicalJson({ k: 'ans', v: 1, ...sealed });
    hostile.inject(incoming.request.replyTo, { t: 'msg', id: randomToken(16), from: record.route, body: forged, exp: Date.now() + 30_000 });
    expect(await refusals(app, 1)).toEqual(["answer refused: bad MAC (not sealed with any companion's key, or altered)"]);
    await stillWaiting(app, push.requestId);
  });

  it('cannot redirect an approval to a different request than the one the device was shown', async () => {
    const { app, record, nextRequest } = await setup();
    const push = await app.ok('push.start', {});
    const incoming = await nextRequest();
    // Properly signed by the device, but over a request it was never sent (another action, another transaction).
    const otherRequest = { ...incoming.request, action: 'Remove a device' };
    for (const [txId, hash] of [
      [incoming.request.txId, await requestHash(otherRequest)],
      ['00000000-0000-4000-8000-000000000001', incoming.hash],
    ] as const) {
      const body = await sealAnswer({
        ansKey: record.ansKey,
        deviceKey: record.device.privateKey,
        deviceId: record.deviceId,
        txId,
        requestHash: hash,
        decision: 'approve',
        number: push.number,
        now: Date.now(),
      });
      hostile.inject(incoming.request.replyTo, { t: 'msg', id: randomToken(16), from: record.route, body, exp: Date.now() + 30_000 });
    }
    expect(await refusals(app, 2)).toEqual(['answer refused: signed for a different request', 'answer refused: signed for a different request']);
    await stillWaiting(app, push.requestId);
  });

  it("refuses a properly signed answer whose time is outside the request's life", async () => {
    const { app, record, nextRequest } = await setup();
    const push = await app.ok('push.start', {});
    const incoming = await nextRequest();
    for (const now of [0, Date.now() + 60 * 60_000]) {
      const body = await sealAnswer({
        ansKey: record.ansKey,
        deviceKey: record.device.privateKey,
        deviceId: record.deviceId,
        txId: incoming.request.txId,
        requestHash: incoming.hash,
        decision: 'approve',
        number: push.number,
        now,
      });
      hostile.inject(incoming.request.replyTo, { t: 'msg', id: randomToken(16), from: record.route, body, exp: Date.now() + 30_000 });
    }
    expect(await refusals(app, 2)).toEqual([
      "answer refused: its time is outside the request's life",
      "answer refused: its time is outside the request's life",
    ]);
    await stillWaiting(app, push.requestId);
  });

  it('records a flood of forged answers as a handful of rows and one count, and the genuine answer still works', async () => {
    const { app, record, nextRequest } = await setup();
    const push = await app.ok('push.start', {});
    const incoming = await nextRequest();
    for (let i = 0; i < 30; i++) {
      const sealed = await encrypt(await importAesKey(randomBytes(32)), new TextEncoder().encode('{}'), 'x');
      hostile.inject(incoming.request.replyTo, {
        t: 'msg',
        id: randomToken(16),
        from: record.route,
        body: canonicalJson({ k: 'ans', v: 1, ...sealed }),
        exp: Date.now() + 30_000,
      });
    }
    // Every one was judged (the log has a line for each) before the genuine answer goes out.
    await expect
      .poll(
        () =>
          readFileSync(join(app.dataDir, LOG_FILE), 'utf8')
            .split('\n')
            .filter((l) => l.includes('"reason":"bad MAC"')).length,
        { timeout: 20_000 },
      )
      .toBe(30);
    await incoming.answer('approve', push.number);
    expect((await app.ok('push.poll', { requestId: push.requestId, waitMs: 20_000 })).state).toBe('approved');
    const details = (await refusedRows(app)).map((r) => r.detail);
    expect(details).toHaveLength(6);
    expect(details.at(-1)).toBe('25 more refused answers not listed');
  });

  it('cannot show the companion a request it made up or altered', async () => {
    const { app, record, nextRequest } = await setup();
    await app.ok('push.start', {});
    await nextRequest();
    const sent = hostile.recorded.map(({ frame }) => parseBody(String(frame.body))).find((b) => b?.k === 'req');
    expect(sent?.k).toBe('req');
    if (sent?.k !== 'req') return;
    // The companion's own check (the one `listen` applies to every frame):
    expect(await openRequest(record.reqKey, record.deviceId, sent)).not.toBeNull();
    expect(await openRequest(record.reqKey, record.deviceId, { ...sent, ct: flipByte(sent.ct) })).toBeNull();
    expect(await openRequest(record.reqKey, record.deviceId, { ...sent, iv: b64u(randomBytes(12)) })).toBeNull();
    const made = await encrypt(await importAesKey(randomBytes(32)), new TextEncoder().encode('{}'), `twofold/v1/req\n${record.deviceId}`);
    expect(await openRequest(record.reqKey, record.deviceId, { k: 'req', v: 1, ...made })).toBeNull();
    // Sent to another device id, the same ciphertext does not open either (it is bound to its device).
    expect(await openRequest(record.reqKey, '00000000-0000-4000-8000-000000000002', sent)).toBeNull();
  });
});
