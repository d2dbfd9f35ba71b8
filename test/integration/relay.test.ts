/**
 * The relay on its own (docs/protocol.md §2), as a real process on loopback: routes, queues
 * until expiry, "check pending", limits with their error and close codes while everyone else
 * keeps being served, health and metrics, TLS, clean shutdown, and scale-out over Redis.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { randomToken } from '../../src-shared/push/encoding.js';
import { routeIdOf } from '../../src-shared/push/suite.js';
import type { TestApp } from '../helpers/app.js';
import { appWithRelay, toSecondFactor } from '../helpers/push.js';
import { CliCompanion, startRedis, startRelayProcess, type RedisProcess, type RelayProcess } from '../helpers/relay.js';
import { Endpoint, msgTo } from '../helpers/relay-clients.js';

let relay: RelayProcess;
const open: Endpoint[] = [];
beforeAll(async () => {
  relay = await startRelayProcess({ args: ['--hello-timeout', '500'] });
});
afterAll(() => relay.stop());
afterEach(() => open.splice(0).forEach((e) => e.close()));

async function endpoint(url = relay.url): Promise<Endpoint> {
  const e = await Endpoint.ready(url);
  open.push(e);
  return e;
}

describe('routing', () => {
  it('gives each route token its route id, and delivers to the holder of the route only', async () => {
    const [a, b, c] = [await endpoint(), await endpoint(), await endpoint()];
    const ready = a.frames[0]!;
    expect(ready).toMatchObject({ t: 'ready', route: await a.route(), limits: { maxBody: 16384, maxTtlMs: 120000, ratePerSec: 20 } });
    const frame = msgTo(await b.route(), 'for b');
    a.send(frame);
    expect(await a.next((f) => f.t === 'ack')).toEqual({ t: 'ack', id: frame.id });
    expect(await b.next((f) => f.t === 'msg')).toMatchObject({ id: frame.id, from: await a.route(), body: 'for b' });
    // c saw nothing but its own ready.
    expect(c.frames.map((f) => f.t)).toEqual(['ready']);
  });

  it('queues a message until it expires, for a route that connects late or checks pending, until it is done', async () => {
    const sender = await endpoint();
    const token = randomToken(32);
    const route = await routeIdOf(token);
    const kept = msgTo(route, 'kept', 60_000);
    const short = msgTo(route, 'short', 300);
    sender.send(kept);
    sender.send(short);
    await sender.next((f) => f.t === 'ack' && f.id === short.id);
    await new Promise((r) => setTimeout(r, 400)); // `short` expires at the relay
    const late = new Endpoint(relay.url);
    open.push(late);
    late.token = token;
    await late.opened;
    late.send({ t: 'hello', v: 1, token });
    const delivered = await late.next((f) => f.t === 'msg');
    expect(delivered).toMatchObject({ id: kept.id, body: 'kept' });
    late.send({ t: 'pending' });
    await late.next(() => late.frames.filter((f) => f.t === 'msg').length === 2);
    expect(late.frames.filter((f) => f.t === 'msg').map((f) => f.body)).toEqual(['kept', 'kept']);
    late.send({ t: 'done', id: kept.id });
    late.send({ t: 'pending' });
    // Once done, "pending" brings nothing; a fresh message proves the connection is still served.
    const marker = msgTo(route, 'marker');
    sender.send(marker);
    await late.next((f) => f.id === marker.id);
    expect(late.frames.filter((f) => f.t === 'msg').map((f) => f.body)).toEqual(['kept', 'kept', 'marker']);
  });
});

describe('limits', () => {
  it('answers malformed frames with BAD_FRAME and closes with 4002 after five, serving everyone else', async () => {
    const [bystander, peer] = [await endpoint(), await endpoint()];
    const bad = await endpoint();
    bad.send('not json');
    expect(await bad.next((f) => f.t === 'error')).toMatchObject({ code: 'BAD_FRAME' });
    for (const frame of [{ t: 'send' }, { t: 'nope' }, '[]', '{"t":"send","id":"x","to":"y","ttlMs":1,"body":""}']) bad.send(frame);
    expect(await bad.closed).toBe(4002);
    const frame = msgTo(await peer.route(), 'still here');
    bystander.send(frame);
    expect(await peer.next((f) => f.t === 'msg')).toMatchObject({ body: 'still here' });
  });

  it('closes on a bad hello (4000), on no hello in time (4001), and refuses frames before hello (NOT_READY)', async () => {
    const badHello = new Endpoint(relay.url);
    await badHello.opened;
    badHello.send({ t: 'hello', v: 1, token: 'short' });
    expect(await badHello.closed).toBe(4000);

    const silent = new Endpoint(relay.url);
    await silent.opened;
    expect(await silent.closed).toBe(4001);

    const early = new Endpoint(relay.url);
    open.push(early);
    await early.opened;
    early.send({ t: 'pending' });
    expect(await early.next((f) => f.t === 'error')).toMatchObject({ code: 'NOT_READY' });
  });

  it('closes a connection that sends a frame over the size limit with 1009, and refuses an oversize body with BODY_TOO_BIG', async () => {
    const big = await endpoint();
    const peer = await endpoint();
    big.send(msgTo(await peer.route(), 'x'.repeat(20_000)));
    expect(await big.next((f) => f.t === 'error')).toMatchObject({ code: 'BODY_TOO_BIG' });
    big.send(msgTo(await peer.route(), 'x'.repeat(40 * 1024)));
    expect(await big.closed).toBe(1009);
    expect(peer.frames.filter((f) => f.t === 'msg')).toEqual([]);
    const other = await endpoint();
    other.send(msgTo(await peer.route(), 'fine'));
    expect(await peer.next((f) => f.t === 'msg')).toMatchObject({ body: 'fine' });
  });

  it('rate-limits a flooding connection (RATE_LIMITED, then close 4029) while others are served', async () => {
    const [bystander, peer] = [await endpoint(), await endpoint()];
    const flood = await endpoint();
    const target = await (await endpoint()).route();
    for (let i = 0; i < 200; i++) flood.send(msgTo(target));
    expect(await flood.closed).toBe(4029);
    expect(flood.frames.filter((f) => f.t === 'error' && f.code === 'RATE_LIMITED').length).toBeGreaterThan(0);
    const frame = msgTo(await peer.route(), 'unaffected');
    bystander.send(frame);
    expect(await peer.next((f) => f.t === 'msg')).toMatchObject({ body: 'unaffected' });
  });

  it('limits what one route receives (ROUTE_BUSY), whoever sends it', async () => {
    const victim = await (await endpoint()).route();
    const senders = await Promise.all(Array.from({ length: 4 }, () => endpoint()));
    for (const s of senders) for (let i = 0; i < 15; i++) s.send(msgTo(victim));
    // Every one of the 60 sends is answered: acknowledged or refused.
    await Promise.all(senders.map((s) => s.next(() => s.frames.filter((f) => f.t === 'ack' || f.code === 'ROUTE_BUSY').length === 15)));
    const refused = senders.flatMap((s) => s.frames).filter((f) => f.code === 'ROUTE_BUSY').length;
    const accepted = senders.flatMap((s) => s.frames).filter((f) => f.t === 'ack').length;
    expect(refused).toBeGreaterThan(0);
    expect(accepted).toBeLessThanOrEqual(40 + 5); // the burst, plus what refilled meanwhile
  });
});

describe('operations', () => {
  it('answers /healthz and /metrics, and by default serves nothing else: not the web companion either', async () => {
    await endpoint();
    const health = await fetch(`${relay.httpOrigin}/healthz`);
    expect([health.status, await health.text()]).toEqual([200, 'ok']);
    const metrics = await (await fetch(`${relay.httpOrigin}/metrics`)).text();
    expect(metrics).toMatch(/^relay_connections \d+$/m);
    expect(metrics).toMatch(/^relay_messages_routed_total \d+$/m);
    expect(metrics).toMatch(/^relay_refused_total\{reason="RATE_LIMITED"\} \d+$/m);
    expect(metrics).toContain('process_resident_memory_bytes');
    expect((await fetch(`${relay.httpOrigin}/v1`)).status).toBe(404);
    expect((await fetch(`${relay.httpOrigin}/etc/passwd`)).status).toBe(404);
    // Whoever serves the companion's page holds its keys: a relay does so only when told to.
    expect((await fetch(`${relay.httpOrigin}/companion/`)).status).toBe(404);
    expect(relay.proc.lines.join('\n')).toContain('web companion: not served');
  });

  it('serves the web companion only with --serve-companion, with its CSP, and refuses to start without a built one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twofold-companion-dir-'));
    try {
      const missing = await startRelayProcess({ args: ['--serve-companion', '--companion-dir', dir] }).catch((e: Error) => e);
      expect(String(missing)).toContain(`No built web companion in ${dir}: run npm run build:companion first.`);
      writeFileSync(join(dir, 'index.html'), '<!doctype html><title>companion</title>');
      const own = await startRelayProcess({ args: ['--serve-companion', '--companion-dir', dir] });
      try {
        const page = await fetch(`${own.httpOrigin}/companion/`);
        expect([page.status, await page.text()]).toEqual([200, '<!doctype html><title>companion</title>']);
        expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
        expect((await fetch(`${own.httpOrigin}/companion/..%2f..%2fetc%2fpasswd`)).status).toBe(404);
      } finally {
        await own.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps answering connections alive with ping/pong and ends one that stops answering', async () => {
    const own = await startRelayProcess({ args: ['--ping-interval', '200'] });
    try {
      const lively = await Endpoint.ready(own.url);
      const silent = new Endpoint(own.url, { autoPong: false });
      await silent.opened;
      silent.send({ t: 'hello', v: 1, token: silent.token });
      // No pong by the next ping: the relay drops the socket without a close frame.
      expect(await silent.closed).toBe(1006);
      await new Promise((r) => setTimeout(r, 600)); // three more ping rounds for the lively one
      expect(lively.ws.readyState).toBe(WebSocket.OPEN);
      lively.close();
    } finally {
      await own.stop();
    }
  });

  it('spreads keepalive pings: forty connections opened at once are not all pinged in one burst', async () => {
    const own = await startRelayProcess({ args: ['--ping-interval', '2000'] });
    try {
      const started = Date.now();
      const crowd = await Promise.all(Array.from({ length: 40 }, () => Endpoint.ready(own.url)));
      const firstPing = await Promise.all(crowd.map((e) => new Promise<number>((resolve) => e.ws.once('ping', () => resolve(Date.now() - started)))));
      // The first ping falls in the second half of the interval (1-2 s here), at each connection's own time.
      for (const at of firstPing) expect(at).toBeGreaterThanOrEqual(900);
      for (const at of firstPing) expect(at).toBeLessThan(2_900);
      const ticks = new Set(firstPing.map((at) => Math.floor(at / 450)));
      expect(ticks.size).toBeGreaterThan(1);
      for (const e of crowd) e.close();
    } finally {
      await own.stop();
    }
  });

  it('shuts down cleanly: endpoints get 1001 and the process exits 0', async () => {
    const own = await startRelayProcess();
    const e = await Endpoint.ready(own.url);
    await own.stop();
    expect(await e.closed).toBe(1001);
    expect(await own.proc.exited).toBe(0);
  });

  it('serves wss:// with a certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twofold-tls-'));
    try {
      const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
          '-days',
          '1',
          '-keyout',
          key,
          '-out',
          cert,
        ],
        { stdio: 'ignore' },
      );
      const own = await startRelayProcess({ args: ['--tls-cert', cert, '--tls-key', key] });
      try {
        expect(own.proc.lines.join('\n')).toContain(`wss://127.0.0.1:${own.port}/v1`);
        const e = await Endpoint.ready(`wss://127.0.0.1:${own.port}/v1`, { ca: execFileSync('cat', [cert]) });
        expect(e.frames[0]).toMatchObject({ t: 'ready' });
        e.close();
      } finally {
        await own.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('scale-out over Redis', () => {
  let redis: RedisProcess;
  let a: RelayProcess;
  let b: RelayProcess;
  let t: TestApp | undefined;
  let cli: CliCompanion | undefined;
  beforeAll(async () => {
    redis = await startRedis();
    [a, b] = await Promise.all([startRelayProcess({ redis: redis.url }), startRelayProcess({ redis: redis.url })]);
  });
  afterAll(async () => {
    await Promise.all([a.stop(), b.stop()]);
    await redis.stop();
  });
  afterEach(async () => {
    t?.remove();
    await cli?.close();
  });

  it('routes and queues across instances: a device on B gets what was sent on A, live and late', async () => {
    const onA = await endpoint(a.url);
    const onB = await endpoint(b.url);
    const live = msgTo(await onB.route(), 'live across');
    onA.send(live);
    expect(await onB.next((f) => f.t === 'msg')).toMatchObject({ body: 'live across', from: await onA.route() });

    const token = randomToken(32);
    onA.send(msgTo(await routeIdOf(token), 'queued on A'));
    await onA.next((f) => f.t === 'ack' && f.id !== live.id);
    const late = new Endpoint(b.url);
    open.push(late);
    await late.opened;
    late.send({ t: 'hello', v: 1, token });
    expect(await late.next((f) => f.t === 'msg')).toMatchObject({ body: 'queued on A' });
  });

  it('reports itself unhealthy and refuses sends with UNAVAILABLE while Redis is down', async () => {
    const ownRedis = await startRedis();
    const own = await startRelayProcess({ redis: ownRedis.url });
    try {
      const e = await Endpoint.ready(own.url);
      expect((await fetch(`${own.httpOrigin}/healthz`)).status).toBe(200);
      await ownRedis.stop();
      await expect.poll(async () => (await fetch(`${own.httpOrigin}/healthz`)).status, { timeout: 10_000 }).toBe(503);
      const frame = msgTo(await e.route(), 'nowhere');
      e.send(frame);
      expect(await e.next((f) => f.t === 'error' && f.id === frame.id, 20_000)).toMatchObject({ code: 'UNAVAILABLE' });
      e.close();
    } finally {
      await own.stop();
    }
  });

  it('pairs and approves with the desktop on instance A and the companion on instance B', async () => {
    t = await appWithRelay(a.url);
    cli = new CliCompanion();
    const begin = await t.ok('push.beginPairing', {});
    const { proc: pairing, code } = await cli.pair(begin.link, ['--relay', b.url]);
    expect(await t.ok('push.pairingStatus', { pairingId: begin.pairingId, waitMs: 20_000 })).toMatchObject({ state: 'confirm', comparisonCode: code });
    await t.ok('push.finishPairing', { pairingId: begin.pairingId, name: 'Phone' });
    expect(await pairing.exited).toBe(0);

    await toSecondFactor(t);
    const push = await t.ok('push.start', {});
    const proc = cli.run(['listen', '--relay', b.url, '--decision', 'approve', '--number', String(push.number), '--once']);
    await proc.waitFor(/^Approved/);
    expect(await t.ok('push.poll', { requestId: push.requestId, waitMs: 20_000 })).toMatchObject({ state: 'approved' });
  });
});
