/**
 * The push protocol's pure parts (src-shared/push): encodings, the pairing handshake run by both
 * sides in memory, and the desktop's acceptance rule for answers. The integration tests run
 * the same functions over a real relay.
 */
import { describe, expect, it } from 'vitest';
import { ANSWER_CLOCK_SKEW_MS, judgeAnswer, newChoices, openAnswer, openRequest, sealAnswer, sealRequest } from '../../src-shared/push/approval.js';
import { canonicalJson } from '../../src-shared/canonical-json.js';
import { b64u, fromB64u, randomBytes, utf8 } from '../../src-shared/push/encoding.js';
import { parseBody, type ApprovalAnswer, type ApprovalRequest } from '../../src-shared/push/messages.js';
import {
  acceptPairHello,
  companionHello,
  openPairDone,
  openPairRefused,
  openPairResult,
  pairAckBody,
  pairDoneBody,
  pairingLink,
  pairRefusedBody,
  pairResultBody,
  parsePairingLink,
  startPairing,
  verifyPairAck,
} from '../../src-shared/push/pairing.js';
import { encrypt, importAesKey, importVerifyKey, exportPublicKey, newSigningKeyPair, routeIdOf } from '../../src-shared/push/suite.js';

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);

describe('encodings', () => {
  it('round-trips base64url for every length and refuses non-canonical input', () => {
    for (let n = 0; n < 40; n++) {
      const bytes = randomBytes(n);
      const text = b64u(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64url'));
      expect(fromB64u(text)).toEqual(bytes);
    }
    expect(() => fromB64u('AB')).toThrow(); // leftover bits set: "AA" is the one encoding of 0x00
    expect(() => fromB64u('A')).toThrow();
    expect(() => fromB64u('a+b/')).toThrow();
  });

  it('derives a route id of 22 characters that does not reveal the token', async () => {
    const token = b64u(randomBytes(32));
    const route = await routeIdOf(token);
    expect(route).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(token).not.toContain(route);
    expect(await routeIdOf(token)).toBe(route);
  });
});

async function paired() {
  const desktop = await startPairing({ relayUrl: 'ws://relay.test/v1', account: 'Ada', workstation: 'office-7', now: NOW });
  const link = pairingLink('http://relay.test/companion/', desktop.payload);
  const device = await newSigningKeyPair(false);
  const companion = await companionHello(parsePairingLink(link), device, NOW);
  const accepted = await acceptPairHello(desktop, parseBody(companion.helloBody)!);
  return { desktop, link, device, companion, accepted };
}

describe('pairing, both sides in memory', () => {
  it('ends with the same keys and comparison code on both sides, and the device key on the desktop', async () => {
    const { companion, accepted, device } = await paired();
    expect(accepted).not.toBeNull();
    expect(accepted!.keys.code).toMatch(/^\d{6}$/);
    expect(accepted!.keys.code).toBe(companion.keys.code);
    expect(accepted!.keys.reqKey).toEqual(companion.keys.reqKey);
    expect(accepted!.keys.ansKey).toEqual(companion.keys.ansKey);
    expect(accepted!.deviceKey).toBe(await exportPublicKey(device.publicKey));
    expect(accepted!.deviceRoute).toBe(companion.route);
  });

  it('puts everything in the link fragment and caps the code at 120 seconds', async () => {
    const desktop = await startPairing({ relayUrl: 'ws://relay.test/v1', account: 'Ada', workstation: 'w', now: NOW, ttlMs: 10 * 60_000 });
    const link = pairingLink('http://relay.test/companion/', desktop.payload);
    expect(link.startsWith('http://relay.test/companion/#pair=')).toBe(true);
    expect(parsePairingLink(link)).toEqual(desktop.payload);
    expect(desktop.payload.exp).toBe(NOW + 120_000);
    expect(() => parsePairingLink('http://relay.test/companion/#pair=AAAA')).toThrow('damaged');
  });

  it('refuses a hello made without the QR secret, or with any byte changed', async () => {
    const { desktop, link } = await paired();
    const payload = parsePairingLink(link);
    const guessed = await companionHello({ ...payload, s: b64u(randomBytes(16)) }, await newSigningKeyPair(false), NOW);
    expect(await acceptPairHello(desktop, parseBody(guessed.helloBody)!)).toBeNull();
    const genuine = await companionHello(payload, await newSigningKeyPair(false), NOW);
    const body = parseBody(genuine.helloBody)!;
    if (body.k !== 'pair-hello') throw new Error('not a hello');
    const flipped = Buffer.from(body.ct, 'base64url');
    flipped[3]! ^= 1;
    expect(await acceptPairHello(desktop, { ...body, ct: flipped.toString('base64url') })).toBeNull();
    // The route is in the transcript: a relay cannot send the desktop's answer somewhere else.
    expect(await acceptPairHello(desktop, { ...body, route: 'A'.repeat(22) })).toBeNull();
    expect(await acceptPairHello(desktop, body)).not.toBeNull();
  });

  it('refuses a link that has expired', async () => {
    const { link } = await paired();
    await expect(companionHello(parsePairingLink(link), await newSigningKeyPair(false), NOW + 120_000)).rejects.toThrow('expired');
  });

  it('hands over the OTP seed under the pairing key, acknowledged by the device key; refusals carry a MAC', async () => {
    const { desktop, companion, accepted, device } = await paired();
    const inner = {
      deviceId: '00000000-0000-4000-8000-000000000001',
      name: 'Phone',
      otpSeed: 'A'.repeat(32),
      account: 'Ada',
      workstation: 'office-7',
      app: 'Twofold Backup',
      appVersion: '1.0.0',
    };
    const done = parseBody(await pairDoneBody(accepted!.keys, inner))!;
    expect(await openPairDone(companion, done)).toEqual(inner);
    const ack = parseBody(await pairAckBody(device, companion.keys.th))!;
    expect(await verifyPairAck(accepted!.deviceKey, accepted!.keys.th, ack)).toBe(true);
    const other = await newSigningKeyPair(false);
    expect(await verifyPairAck(await exportPublicKey(other.publicKey), accepted!.keys.th, ack)).toBe(false);
    const refused = parseBody(await pairRefusedBody(desktop.secret, accepted!.keys.th, 'used'))!;
    expect(await openPairRefused(companion, refused)).toBe('used');
    const forged = parseBody(await pairRefusedBody(randomBytes(16), accepted!.keys.th, 'used'))!;
    expect(await openPairRefused(companion, forged)).toBeNull();
  });

  it('tells the companion whether its device was added, readable only by it and only for its device id', async () => {
    const { companion, accepted } = await paired();
    const deviceId = '00000000-0000-4000-8000-000000000001';
    const added = parseBody(await pairResultBody(accepted!.keys.d2c, { deviceId, outcome: 'added' }))!;
    expect(await openPairResult(companion, deviceId, added)).toBe('added');
    const failed = parseBody(await pairResultBody(accepted!.keys.d2c, { deviceId, outcome: 'failed' }))!;
    expect(await openPairResult(companion, deviceId, failed)).toBe('failed');
    // For another device id, or sealed under another pairing's key: not this pairing's result.
    expect(await openPairResult(companion, '00000000-0000-4000-8000-000000000002', added)).toBeNull();
    const other = await paired();
    const foreign = parseBody(await pairResultBody(other.accepted!.keys.d2c, { deviceId, outcome: 'added' }))!;
    expect(await openPairResult(companion, deviceId, foreign)).toBeNull();
  });
});

describe('approval requests and answers', () => {
  async function exchange(decision: 'approve' | 'deny' | 'not-me', pick: (request: ApprovalRequest, shown: number) => number | null) {
    const { accepted, device } = await paired();
    const deviceId = '00000000-0000-4000-8000-000000000001';
    const desktopReq = await importAesKey(accepted!.keys.reqKey);
    const desktopAns = await importAesKey(accepted!.keys.ansKey);
    const { choices, number } = newChoices();
    const request: ApprovalRequest = {
      type: 'approval',
      v: 2,
      txId: '00000000-0000-4000-8000-00000000000a',
      nonce: b64u(randomBytes(16)),
      deviceId,
      action: 'Unlock',
      account: 'Ada',
      workstation: 'office-7',
      app: 'Twofold Backup',
      appVersion: '1.0.0',
      ip: '10.0.0.7',
      time: NOW,
      expiresAt: NOW + 60_000,
      choices,
      replyTo: 'R'.repeat(22),
      confirm: null,
    };
    const sealed = await sealRequest(desktopReq, request);
    const opened = await openRequest(await importAesKey(accepted!.keys.reqKey), deviceId, parseBody(sealed.body)!);
    expect(opened).toEqual({ request, hash: sealed.hash });
    const answerBody = await sealAnswer({
      ansKey: await importAesKey(accepted!.keys.ansKey),
      deviceKey: device.privateKey,
      deviceId,
      txId: request.txId,
      requestHash: sealed.hash,
      decision,
      number: pick(request, number),
      now: NOW + 1_000,
    });
    const opened2 = await openAnswer(desktopAns, await importVerifyKey(accepted!.deviceKey), deviceId, parseBody(answerBody)!);
    if (!('answer' in opened2)) throw new Error(`the answer did not open: ${opened2.failure}`);
    return {
      answer: opened2.answer,
      body: answerBody,
      keys: { desktopAns, verify: await importVerifyKey(accepted!.deviceKey), deviceId },
      pending: { txId: request.txId, hash: sealed.hash, number, time: request.time, expiresAt: request.expiresAt },
    };
  }

  it('offers three distinct two-digit choices that include the number shown', () => {
    for (let i = 0; i < 200; i++) {
      const { choices, number } = newChoices();
      expect(new Set(choices).size).toBe(3);
      expect(choices.every((c) => c >= 10 && c <= 99)).toBe(true);
      expect(choices).toContain(number);
    }
  });

  it('approves only with the number shown, before expiry', async () => {
    const { answer, pending } = await exchange('approve', (_r, shown) => shown);
    expect(judgeAnswer(pending, answer, NOW + 1_000)).toBe('approve');
    expect(judgeAnswer(pending, answer, pending.expiresAt)).toBe('late');
    const wrong = await exchange('approve', (r, shown) => r.choices.find((c) => c !== shown)!);
    expect(judgeAnswer(wrong.pending, wrong.answer, NOW + 1_000)).toBe('number-mismatch');
  });

  it('passes deny and not-me through, without a number', async () => {
    for (const decision of ['deny', 'not-me'] as const) {
      const { answer, pending } = await exchange(decision, () => null);
      expect(answer.number).toBeNull();
      expect(judgeAnswer(pending, answer, NOW + 1_000)).toBe(decision);
    }
  });

  it('carries what a step-up confirms inside the sealed request, and the answer signs over it', async () => {
    const { accepted } = await paired();
    const deviceId = '00000000-0000-4000-8000-000000000001';
    const key = await importAesKey(accepted!.keys.reqKey);
    const confirm = { title: 'Remove the device “Pixel 8”', consequence: 'This authenticator app stops working at once.', digest: 'ab'.repeat(32) };
    const request: ApprovalRequest = {
      type: 'approval',
      v: 2,
      txId: '00000000-0000-4000-8000-00000000000c',
      nonce: b64u(randomBytes(16)),
      deviceId,
      action: 'Remove a device',
      account: 'Ada',
      workstation: 'office-7',
      app: 'Twofold Backup',
      appVersion: '1.0.0',
      ip: '10.0.0.7',
      time: NOW,
      expiresAt: NOW + 60_000,
      choices: [11, 22, 33],
      replyTo: 'R'.repeat(22),
      confirm,
    };
    const sealed = await sealRequest(key, request);
    expect(sealed.body).not.toContain('Pixel 8');
    expect(await openRequest(key, deviceId, parseBody(sealed.body)!)).toEqual({ request, hash: sealed.hash });
    // The hash the answer signs covers the confirmation: another target is another request.
    const other = await sealRequest(key, { ...request, confirm: { ...confirm, title: 'Remove the device “iPad”' } });
    expect(other.hash).not.toBe(sealed.hash);
  });

  it('refuses, without showing it, a request of another version from its own desktop; drops one it cannot open', async () => {
    const { accepted } = await paired();
    const deviceId = '00000000-0000-4000-8000-000000000001';
    const key = await importAesKey(accepted!.keys.reqKey);
    const old = {
      type: 'approval',
      v: 1,
      txId: '00000000-0000-4000-8000-00000000000d',
      nonce: b64u(randomBytes(16)),
      deviceId,
      action: 'Unlock',
      account: 'Ada',
      workstation: 'office-7',
      app: 'Twofold Backup',
      appVersion: '0.1.0',
      ip: '10.0.0.7',
      time: NOW,
      expiresAt: NOW + 60_000,
      choices: [11, 22, 33],
      replyTo: 'R'.repeat(22),
    };
    const sealed = await encrypt(key, utf8(canonicalJson(old)), `twofold/v1/req\n${deviceId}`);
    const body = parseBody(canonicalJson({ k: 'req', v: 1, ...sealed }))!;
    expect(await openRequest(key, deviceId, body)).toEqual({ unsupported: { v: 1, txId: old.txId } });
    const stranger = await importAesKey(randomBytes(32));
    expect(await openRequest(stranger, deviceId, body)).toBeNull();
  });

  it('refuses an answer for another transaction or another request', async () => {
    const { answer, pending } = await exchange('approve', (_r, shown) => shown);
    const other: ApprovalAnswer = { ...answer };
    expect(judgeAnswer({ ...pending, txId: '00000000-0000-4000-8000-00000000000b' }, other, NOW)).toBe('wrong-request');
    expect(judgeAnswer({ ...pending, hash: b64u(randomBytes(32)) }, other, NOW)).toBe('wrong-request');
  });

  it("checks the answer's time against the request's life, give or take the allowed clock skew", async () => {
    const { answer, pending } = await exchange('approve', (_r, shown) => shown);
    const at = (time: number) => judgeAnswer(pending, { ...answer, time }, NOW + 1_000);
    expect(at(0)).toBe('bad-time');
    expect(at(pending.time - ANSWER_CLOCK_SKEW_MS - 1)).toBe('bad-time');
    expect(at(pending.time - ANSWER_CLOCK_SKEW_MS)).toBe('approve');
    expect(at(pending.expiresAt + ANSWER_CLOCK_SKEW_MS)).toBe('approve');
    expect(at(pending.expiresAt + ANSWER_CLOCK_SKEW_MS + 1)).toBe('bad-time');
  });

  it('carries no device id in the clear, and says why an answer does not open', async () => {
    const { body, keys } = await exchange('deny', () => null);
    expect(body).not.toContain(keys.deviceId);
    expect(Object.keys(JSON.parse(body) as object).sort()).toEqual(['ct', 'iv', 'k', 'v']);
    const parsed = parseBody(body)!;
    if (parsed.k !== 'ans') throw new Error('not an answer');
    const flipped = Buffer.from(parsed.ct, 'base64url');
    flipped[5]! ^= 1;
    expect(await openAnswer(keys.desktopAns, keys.verify, keys.deviceId, { ...parsed, ct: flipped.toString('base64url') })).toEqual({ failure: 'bad-mac' });
    // Sealed for another device id (the id is in the associated data): the tag fails too.
    expect(await openAnswer(keys.desktopAns, keys.verify, '00000000-0000-4000-8000-000000000009', parsed)).toEqual({ failure: 'bad-mac' });
    const stranger = await newSigningKeyPair(false);
    expect(await openAnswer(keys.desktopAns, stranger.publicKey, keys.deviceId, parsed)).toEqual({ failure: 'bad-signature' });
  });
});
