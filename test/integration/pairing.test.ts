/**
 * Pairing a companion (docs/protocol.md §4) end to end: the desktop app, a real relay process
 * and the CLI companion. A QR link works once and for at most 120 s; it names the page to open
 * (the one the user trusts) apart from the relay; both screens show the same comparison code; a
 * relay that never saw the QR secret cannot pair a device of its own; a companion says "paired"
 * only when the desktop says it added the device; every failed pairing is an audit row.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { companionHello, parsePairingLink } from '../../src-shared/push/pairing.js';
import { b64u, randomToken } from '../../src-shared/push/encoding.js';
import { canonicalJson } from '../../src-shared/canonical-json.js';
import { newSigningKeyPair } from '../../src-shared/push/suite.js';
import { LOG_FILE } from '../../src-main/core/platform/logger.js';
import { startRelay } from '../../src-relay/server.js';
import { FakeClock, makeTestApp, STRONG_PASSWORD, type TestApp } from '../helpers/app.js';
import { appWithRelay, pairCli, toSecondFactor } from '../helpers/push.js';
import { CliCompanion, HostileRelay, startRelayProcess, type RelayProcess } from '../helpers/relay.js';

let relay: RelayProcess;
let t: TestApp | undefined;
const companions: CliCompanion[] = [];

beforeAll(async () => {
  relay = await startRelayProcess();
});
afterAll(() => relay.stop());
afterEach(async () => {
  t?.remove();
  t = undefined;
  await Promise.all(companions.splice(0).map((c) => c.close()));
});

async function failedPairings(app: TestApp): Promise<string[]> {
  const rows = (await app.app.core.audit.open()).query({ limit: 1000, offset: 0 }).rows;
  return rows
    .filter((r) => r.action === 'pairing.failed')
    .map((r) => r.detail ?? '')
    .reverse();
}

function companion(): CliCompanion {
  const c = new CliCompanion();
  companions.push(c);
  return c;
}

describe('pairing a companion with the CLI', () => {
  it('shows the same comparison code on both sides, adds the device as a push device, and turns 2FA on with recovery codes', async () => {
    t = await appWithRelay(relay.url);
    const cli = companion();
    const { recoveryCodes } = await pairCli(t, cli, 'Work phone');
    expect(recoveryCodes).toHaveLength(10);
    const overview = await t.ok('devices.list', {});
    expect(overview.twoFactorEnabled).toBe(true);
    expect(overview.devices).toEqual([expect.objectContaining({ kind: 'push', name: 'Work phone', active: true })]);
    const rows = (await t.ok('audit.query', { filter: { action: 'device.added' } })).rows;
    expect(rows[0]).toMatchObject({ device: 'Work phone', outcome: 'success' });
  });

  it("gives a link to the app's own web companion that names the relay apart, with the QR secret only in the fragment, expiring within 120 s", async () => {
    t = await appWithRelay(relay.url);
    t.app.core.pushRelay.setAppCompanion('http://127.0.0.1:9/companion/');
    const begin = await t.ok('push.beginPairing', {});
    const url = new URL(begin.link);
    expect(`${url.origin}${url.pathname}`).toBe('http://127.0.0.1:9/companion/');
    expect(url.search).toBe('');
    expect(begin).toMatchObject({ webCompanion: { source: 'app', url: 'http://127.0.0.1:9/companion/' }, relayUrl: relay.url });
    const payload = parsePairingLink(begin.link);
    expect(payload).toMatchObject({ relay: relay.url, account: 'Ada', workstation: 'test-workstation' });
    expect(payload.exp - t.clock.now()).toBeLessThanOrEqual(120_000);
    expect(begin.expiresAt).toBe(payload.exp);
    expect(Buffer.from(payload.s, 'base64url')).toHaveLength(16);
    expect(begin.qrSvg).toContain('<svg');
  });

  it('sends phones to the page the user chose: a web server they trust, or the relay only when they said it is trusted', async () => {
    t = await appWithRelay(relay.url);
    // Nothing serves the companion here: the link is for the CLI, and says so.
    const cliOnly = await t.ok('push.beginPairing', {});
    expect(cliOnly.webCompanion).toBeNull();
    expect(cliOnly.link.startsWith('twofold:pair#pair=')).toBe(true);
    expect(parsePairingLink(cliOnly.link).relay).toBe(relay.url);

    // While 2FA is off the choice is confirmed with the password (docs/security.md, "Step-up").
    const toOffice = { choice: { source: 'url' as const, url: 'https://office.example/companion/' } };
    const office = await t.ok('push.setWebCompanion', toOffice, await t.passwordProof('push.setWebCompanion', toOffice));
    expect(office).toMatchObject({ url: 'https://office.example/companion/', relayUrl: relay.url });
    expect((await t.ok('push.beginPairing', {})).link.startsWith('https://office.example/companion/#pair=')).toBe(true);
    const toRelay = { choice: { source: 'relay' as const } };
    const trusted = await t.ok('push.setWebCompanion', toRelay, await t.passwordProof('push.setWebCompanion', toRelay));
    expect(trusted.url).toBe(`${relay.httpOrigin}/companion/`);
    expect((await t.ok('push.beginPairing', {})).webCompanion).toEqual({ source: 'relay', url: `${relay.httpOrigin}/companion/` });

    // Plain http to another machine is refused (no WebCrypto there, and anyone on the path could change the page).
    const plain = await t.call('push.setWebCompanion', { choice: { source: 'url', url: 'http://office.example/companion/' } });
    expect(plain.ok ? 'ok' : plain.error.code).toBe('BAD_INPUT');
    const rows = (await t.ok('audit.query', { filter: { action: 'push.web-companion-changed' } })).rows.map((r) => r.detail);
    expect(rows).toEqual(['web companion from the relay (trusted)', 'web companion from https://office.example/companion/']);
  });

  it('makes the choice of web companion a step-up once 2FA is on', async () => {
    t = await appWithRelay(relay.url);
    await pairCli(t, companion());
    const refused = await t.call('push.setWebCompanion', { choice: { source: 'relay' } });
    expect(refused.ok ? 'ok' : refused.error.code).toBe('STEP_UP_REQUIRED');
    expect((await t.ok('push.webCompanion', {})).choice).toEqual({ source: 'app' });
  });

  it("accepts the companion's one-time passwords like a TOTP device's, once per step", async () => {
    t = await appWithRelay(relay.url);
    const cli = companion();
    await pairCli(t, cli);
    await toSecondFactor(t);
    const code = await cli.otp();
    expect(await t.ok('gate.submitCode', { code })).toMatchObject({ level: 'unlocked' });
    await toSecondFactor(t);
    const again = await t.call('gate.submitCode', { code });
    expect(again.ok ? 'ok' : again.error.code).toBe('AUTH_FAILED');
  });

  it('refuses the link the second time it is used', async () => {
    t = await appWithRelay(relay.url);
    const begin = await t.ok('push.beginPairing', {});
    const first = companion();
    await first.pair(begin.link);
    expect((await t.ok('push.pairingStatus', { pairingId: begin.pairingId, waitMs: 20_000 })).state).toBe('confirm');
    const second = companion().run(['pair', begin.link]);
    await second.waitFor(/^Pairing failed: This pairing code was already used/);
    expect(await second.exited).toBe(1);
    // The first companion's pairing is unaffected.
    await t.ok('push.finishPairing', { pairingId: begin.pairingId, name: 'Phone' });
    expect((await t.ok('devices.list', {})).devices.map((d) => d.name)).toEqual(['Phone']);
  });

  it('refuses the link after it expired, on the desktop as well as on the companion', async () => {
    t = await appWithRelay(relay.url);
    const begin = await t.ok('push.beginPairing', {});
    // The desktop's clock passes the expiry; the companion's (real) clock does not know yet.
    t.clock.advance(120_000);
    const late = companion().run(['pair', begin.link]);
    await late.waitFor(/^Pairing failed: This pairing code has expired/);
    expect((await t.ok('push.pairingStatus', { pairingId: begin.pairingId })).state).toBe('expired');
    expect((await t.ok('devices.list', {})).devices).toEqual([]);

    // A companion whose own clock says the link is stale refuses it without asking the desktop.
    const payload = parsePairingLink(begin.link);
    const stale = `${relay.httpOrigin}/companion/#pair=${b64u(new TextEncoder().encode(canonicalJson({ ...payload, exp: Date.now() - 1 })))}`;
    const local = companion().run(['pair', stale]);
    await local.waitFor(/^Pairing failed: This pairing code has expired/);
  });

  it('cannot be completed by a relay that never saw the QR secret', async () => {
    t = await appWithRelay(relay.url);
    const begin = await t.ok('push.beginPairing', {});
    const payload = parsePairingLink(begin.link);
    // The relay knows the mailbox and the desktop's public key (both pass through it), not the secret.
    const guessed = { ...payload, s: randomToken(16) };
    const forged = await companionHello(guessed, await newSigningKeyPair(true), Date.now());
    const ws = new WebSocket(relay.url);
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ t: 'hello', v: 1, token: randomToken(32) }));
    await new Promise((r) => ws.once('message', r));
    ws.send(JSON.stringify({ t: 'send', id: randomToken(16), to: payload.mailbox, ttlMs: 60_000, body: forged.helloBody }));
    await new Promise((r) => ws.once('message', r)); // the relay's ack: the desktop has it
    ws.close();

    // The real companion still pairs afterwards: the forged hello did not use up the code.
    const cli = companion();
    const { proc, code } = await cli.pair(begin.link);
    const status = await t.ok('push.pairingStatus', { pairingId: begin.pairingId, waitMs: 20_000 });
    expect(status).toMatchObject({ state: 'confirm', comparisonCode: code });
    await t.ok('push.finishPairing', { pairingId: begin.pairingId, name: 'Phone' });
    await proc.waitFor(/^Paired as/);
    expect((await t.ok('devices.list', {})).devices).toHaveLength(1);
    expect(await failedPairings(t)).toEqual(["refused a pairing request without the code's secret (bad MAC)"]);
  });

  it('records a second scan, a late scan and codes that differ as failed pairings', async () => {
    t = await appWithRelay(relay.url);
    const begin = await t.ok('push.beginPairing', {});
    await companion().pair(begin.link);
    expect((await t.ok('push.pairingStatus', { pairingId: begin.pairingId, waitMs: 20_000 })).state).toBe('confirm');
    await companion()
      .run(['pair', begin.link])
      .waitFor(/^Pairing failed: This pairing code was already used/);
    await t.ok('push.cancelPairing', { pairingId: begin.pairingId });
    const late = await t.ok('push.beginPairing', {});
    t.clock.advance(120_000);
    await companion()
      .run(['pair', late.link])
      .waitFor(/^Pairing failed: This pairing code has expired/);
    expect(await failedPairings(t)).toEqual([
      'refused a second scan of a code already used',
      'cancelled on the computer after the comparison code was shown',
      'refused a scan after the code expired',
    ]);
  });

  it('never leaves the companion saying "paired" when the desktop did not get its acknowledgement', { timeout: 90_000 }, async () => {
    const hostile = new HostileRelay(relay.url);
    await hostile.start();
    try {
      // The relay drops the companion's pair-ack on its way to the desktop.
      hostile.tamper = (frame) => (String(frame.body).includes('"k":"pair-ack"') ? null : frame);
      t = await appWithRelay(hostile.url);
      const begin = await t.ok('push.beginPairing', {});
      const { proc } = await companion().pair(begin.link);
      expect((await t.ok('push.pairingStatus', { pairingId: begin.pairingId, waitMs: 20_000 })).state).toBe('confirm');
      const finished = await t.call('push.finishPairing', { pairingId: begin.pairingId, name: 'Phone' });
      expect(finished.ok ? 'ok' : finished.error.code).toBe('RELAY_UNAVAILABLE');
      await proc.waitFor(/^Pairing failed: The computer could not add this device/);
      expect(await proc.exited).toBe(1);
      expect(proc.lines.some((l) => l.startsWith('Paired as'))).toBe(false);
      expect((await t.ok('devices.list', {})).devices).toEqual([]);
      expect(await failedPairings(t)).toEqual(['no acknowledgement from the companion in time']);
    } finally {
      await hostile.stop();
    }
  });

  it("works with the relay embedded in the app's process when no relay address is set", async () => {
    const embedded = await startRelay();
    try {
      t = makeTestApp({ clock: new FakeClock(Date.now()) });
      await t.ok('account.setup', { accountName: 'Ada', password: STRONG_PASSWORD });
      const missing = await t.call('push.beginPairing', {});
      expect(missing.ok ? 'ok' : missing.error.code).toBe('RELAY_UNAVAILABLE');
      t.app.core.pushRelay.setEmbedded(embedded.url);
      await pairCli(t, companion());
      expect((await t.ok('devices.list', {})).devices).toHaveLength(1);
    } finally {
      await embedded.close();
    }
  });

  it('needs a step-up once 2FA is on, and keeps no secret in the log or the audit log', async () => {
    t = await appWithRelay(relay.url);
    const cli = companion();
    await pairCli(t, cli);
    const again = await t.call('push.beginPairing', {});
    expect(again.ok ? 'ok' : again.error.code).toBe('STEP_UP_REQUIRED');
    const state = JSON.parse(readFileSync(join(cli.stateDir, 'pairings.json'), 'utf8')) as { pairings: { otpSeed: string; reqKey: string }[] };
    const log = readFileSync(join(t.dataDir, LOG_FILE), 'utf8');
    const audit = (await t.ok('audit.exportCsv', {})).csv;
    for (const secret of [state.pairings[0]!.otpSeed, state.pairings[0]!.reqKey]) {
      expect(log).not.toContain(secret);
      expect(audit).not.toContain(secret);
    }
  });
});
