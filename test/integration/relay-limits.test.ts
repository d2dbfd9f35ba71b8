/**
 * The relay against hostile clients of its own (docs/protocol.md §2.3), as a real process: a
 * client that stops reading is paused and then closed (4008) while the relay's memory stays
 * within its send-buffer bound and everyone else's messages keep arriving within a second; what
 * one address may queue, how many connections it may hold, and the memory budget for everything
 * (RELAY_FULL, close 4013); and routes whose queued messages nobody but their sender can displace
 * or replace, in memory and over Redis. Loopback addresses 127.0.0.x stand in for machines.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomToken } from '../../src-shared/push/encoding.js';
import { routeIdOf } from '../../src-shared/push/suite.js';
import { startConsoleProcess, startRedis, startRelayProcess, type RedisProcess, type RelayProcess } from '../helpers/relay.js';
import { Endpoint, metric, MiB, msgTo, NonReadingClient, rssBytes } from '../helpers/relay-clients.js';

const KiB = 1024;
const BODY = 'b'.repeat(16_000);
const open: Endpoint[] = [];
const hostile: NonReadingClient[] = [];
afterEach(() => {
  open.splice(0).forEach((e) => e.close());
  hostile.splice(0).forEach((c) => c.destroy());
});

async function endpoint(url: string, localAddress?: string): Promise<Endpoint> {
  const e = await Endpoint.ready(url, localAddress ? { localAddress } : undefined);
  open.push(e);
  return e;
}

/** Send `n` 16 KB messages to `route` from `sender`, and wait until each is acknowledged or refused. */
async function fill(sender: Endpoint, route: string, n: number, ttlMs = 60_000): Promise<void> {
  const ids = new Set<string>();
  for (let i = 0; i < n; i++) {
    const frame = msgTo(route, BODY, ttlMs);
    ids.add(frame.id);
    sender.send(frame);
  }
  await sender.next(() => sender.frames.filter((f) => ids.has(String(f.id))).length === n, 20_000);
}

/**
 * While `during` runs: one message a fifth of a second from one honest endpoint to another,
 * and the time each took to arrive.
 */
async function honestTraffic(url: string, during: () => Promise<void>): Promise<number[]> {
  const [a, b] = [await endpoint(url, '127.0.0.200'), await endpoint(url, '127.0.0.201')];
  const to = await b.route();
  const sentAt = new Map<string, number>();
  const took: number[] = [];
  b.ws.on('message', (data) => {
    const f = JSON.parse(data.toString()) as { t: string; id?: string };
    const t0 = f.t === 'msg' && f.id ? sentAt.get(f.id) : undefined;
    if (t0 !== undefined) took.push(performance.now() - t0);
  });
  let running = true;
  const loop = (async () => {
    while (running) {
      const frame = msgTo(to, 'hello', 10_000);
      sentAt.set(frame.id, performance.now());
      a.send(frame);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  await during();
  running = false;
  await loop;
  // Anything sent and not arrived by now took at least this long.
  for (const [id, t0] of sentAt) if (!b.frames.some((f) => f.id === id)) took.push(performance.now() - t0);
  return took;
}

/** Twenty clients that stop reading, each with a full queue it keeps asking for again. */
async function nonReadersAttack(port: number, url: string, seconds: number, sample: () => Promise<void>): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const client = await NonReadingClient.connect(port);
    hostile.push(client);
    // A sender on another address fills the client's route: 16 messages of 16 KB.
    await fill(await endpoint(url, `127.0.0.${10 + i}`), await client.route(), 16);
  }
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    for (const c of hostile) c.send({ t: 'pending' });
    await sample();
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a client that stops reading', () => {
  let relay: RelayProcess;
  beforeAll(async () => {
    relay = await startRelayProcess({ args: ['--slow-close', '4000'] });
  });
  afterAll(() => relay.stop());

  it('cannot grow the relay beyond its send-buffer bound; others get their messages within a second; it is closed with 4008', { timeout: 90_000 }, async () => {
    await fill(await endpoint(relay.url), await routeIdOf(randomToken(32)), 8); // warm up the paths measured
    await new Promise((r) => setTimeout(r, 1000));
    const idle = rssBytes(relay.pid);
    let peakRss = idle;
    let peakBuffers = 0;
    const took = await honestTraffic(relay.url, () =>
      nonReadersAttack(relay.port, relay.url, 8, async () => {
        peakRss = Math.max(peakRss, rssBytes(relay.pid));
        peakBuffers = Math.max(peakBuffers, await metric(relay.httpOrigin, 'relay_send_buffer_bytes'));
      }),
    );
    // Each stalled connection holds at most its bound plus the frame that crossed it.
    expect(peakBuffers).toBeLessThanOrEqual(20 * (256 * KiB + 32 * KiB));
    expect(peakRss - idle).toBeLessThan(64 * MiB);
    expect(took.length).toBeGreaterThanOrEqual(30);
    expect(Math.max(...took)).toBeLessThan(1000);
    expect(await metric(relay.httpOrigin, 'relay_refused_total', 'reason="send-buffer-full"')).toBeGreaterThanOrEqual(20);
    expect(await metric(relay.httpOrigin, 'relay_refused_total', 'reason="delivery-held-send-buffer"')).toBeGreaterThan(0);
    expect(await metric(relay.httpOrigin, 'relay_refused_total', 'reason="close-4008"')).toBe(20);
    await expect.poll(() => metric(relay.httpOrigin, 'relay_connections'), { timeout: 10_000 }).toBe(open.length);
  });
});

describe('the console, with the relay embedded in its process', () => {
  it("is not grown by clients that stop reading, and its API and everyone else's messages answer within a second", { timeout: 120_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'twofold-console-limits-'));
    const consoleApp = await startConsoleProcess(dataDir);
    try {
      const { port, url } = consoleApp.relay;
      await fill(await endpoint(url), await routeIdOf(randomToken(32)), 8);
      const apiTook: number[] = [];
      const status = async () => {
        const t0 = performance.now();
        expect((await consoleApp.call('app.status', {})).ok).toBe(true);
        apiTook.push(performance.now() - t0);
      };
      await status();
      await new Promise((r) => setTimeout(r, 1000));
      const idle = rssBytes(consoleApp.pid);
      let peakRss = idle;
      let peakBuffers = 0;
      const took = await honestTraffic(url, () =>
        nonReadersAttack(port, url, 8, async () => {
          peakRss = Math.max(peakRss, rssBytes(consoleApp.pid));
          peakBuffers = Math.max(peakBuffers, await metric(`http://127.0.0.1:${port}`, 'relay_send_buffer_bytes'));
          await status();
        }),
      );
      // The bound itself, exactly: each stalled connection holds at most its bound plus the frame that crossed it.
      expect(peakBuffers).toBeLessThanOrEqual(20 * (256 * KiB + 32 * KiB));
      // Unbounded, the attack would buffer ~400 MB (20 clients asking for 256 KB ten times a
      // second for 8 s). The whole app's heap also holds the garbage of serialising those
      // answers until its next collection, which on a busy machine reached ~73 MiB: hence 128.
      expect(peakRss - idle).toBeLessThan(128 * MiB);
      expect(Math.max(...took)).toBeLessThan(1000);
      expect(apiTook.length).toBeGreaterThanOrEqual(40);
      expect(Math.max(...apiTook)).toBeLessThan(1000);
    } finally {
      await consoleApp.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('what one address and the whole relay may hold', () => {
  it('caps what one address queues, however many connections it sprays from', { timeout: 60_000 }, async () => {
    const relay = await startRelayProcess();
    try {
      await new Promise((r) => setTimeout(r, 500));
      const idle = rssBytes(relay.pid);
      const sprayers = await Promise.all(Array.from({ length: 30 }, () => endpoint(relay.url)));
      for (let round = 0; round < 3; round++) {
        // Each connection sends its whole burst, each message to a route of its own.
        await Promise.all(sprayers.map(async (s) => fill(s, await routeIdOf(randomToken(32)), 1, 120_000)));
        await Promise.all(sprayers.map((s) => Promise.all(Array.from({ length: 10 }, async () => fill(s, await routeIdOf(randomToken(32)), 1, 120_000)))));
        await new Promise((r) => setTimeout(r, 1000));
      }
      const refused = sprayers.flatMap((s) => s.frames).filter((f) => f.t === 'error');
      expect(new Set(refused.map((f) => f.code))).toEqual(new Set(['OVER_QUOTA']));
      expect(await metric(relay.httpOrigin, 'relay_queued_bytes')).toBeLessThanOrEqual(4 * MiB);
      expect(await metric(relay.httpOrigin, 'relay_refused_total', 'reason="OVER_QUOTA_ADDRESS"')).toBe(refused.length);
      expect(rssBytes(relay.pid) - idle).toBeLessThan(64 * MiB);
      // Another machine is not held back by that address's quota.
      const other = await endpoint(relay.url, '127.0.0.77');
      const frame = msgTo(await routeIdOf(randomToken(32)), BODY);
      other.send(frame);
      expect(await other.next((f) => f.id === frame.id)).toEqual({ t: 'ack', id: frame.id });
    } finally {
      await relay.stop();
    }
  });

  it('keeps many addresses spraying within the memory budget: RELAY_FULL, and room again once their messages expire', { timeout: 60_000 }, async () => {
    const relay = await startRelayProcess({ args: ['--memory-budget', '8M'] });
    try {
      const sprayers = await Promise.all(Array.from({ length: 30 }, (_, i) => endpoint(relay.url, `127.0.1.${i + 1}`)));
      let peak = 0;
      for (let round = 0; round < 2; round++) {
        await Promise.all(sprayers.map((s) => Promise.all(Array.from({ length: 16 }, async () => fill(s, await routeIdOf(randomToken(32)), 1, 4_000)))));
        peak = Math.max(peak, await metric(relay.httpOrigin, 'relay_memory_budget_used_bytes'));
        await new Promise((r) => setTimeout(r, 1000));
      }
      expect(peak).toBeLessThanOrEqual(8 * MiB);
      const full = sprayers.flatMap((s) => s.frames).filter((f) => f.t === 'error');
      expect(full.length).toBeGreaterThan(0);
      expect(new Set(full.map((f) => f.code))).toEqual(new Set(['RELAY_FULL']));
      expect(await metric(relay.httpOrigin, 'relay_refused_total', 'reason="RELAY_FULL"')).toBe(full.length);
      // The sprayed messages expire; then an honest send is taken again.
      await expect.poll(() => metric(relay.httpOrigin, 'relay_queued_bytes'), { timeout: 10_000 }).toBe(0);
      const honest = await endpoint(relay.url, '127.0.2.1');
      const frame = msgTo(await routeIdOf(randomToken(32)), BODY);
      honest.send(frame);
      expect(await honest.next((f) => f.id === frame.id)).toEqual({ t: 'ack', id: frame.id });
    } finally {
      await relay.stop();
    }
  });

  it("closes connections beyond one address's share with 4030, and beyond the memory budget with 4013", { timeout: 60_000 }, async () => {
    const relay = await startRelayProcess({ args: ['--address-connections', '5', '--memory-budget', '100K'] });
    try {
      // 100 KiB holds twelve connections at 8 KiB each (and what they have in flight).
      for (let i = 0; i < 5; i++) await endpoint(relay.url, '127.0.3.1');
      const sixth = new Endpoint(relay.url, { localAddress: '127.0.3.1' });
      expect(await sixth.closed).toBe(4030);
      for (let i = 0; i < 7; i++) await endpoint(relay.url, `127.0.3.${10 + i}`);
      const over = new Endpoint(relay.url, { localAddress: '127.0.3.99' });
      expect(await over.closed).toBe(4013);
      expect(await metric(relay.httpOrigin, 'relay_refused_total', 'reason="close-4030"')).toBe(1);
      expect(await metric(relay.httpOrigin, 'relay_refused_total', 'reason="close-4013"')).toBe(1);
      open.splice(0, 1).forEach((e) => e.close()); // one leaves: there is room for one more
      await expect.poll(() => metric(relay.httpOrigin, 'relay_connections')).toBe(11);
      await endpoint(relay.url, '127.0.3.99');
    } finally {
      await relay.stop();
    }
  });
});

describe.each(['in memory', 'over Redis'])("a route's queue, %s", (mode) => {
  let redis: RedisProcess | undefined;
  let relay: RelayProcess;
  beforeAll(async () => {
    if (mode === 'over Redis') redis = await startRedis();
    // Rates out of the way: this is about who may do what to a queue.
    const high = ['--rate', '1000', '--burst', '1000', '--route-rate', '1000', '--route-burst', '1000'];
    relay = await startRelayProcess({ redis: redis?.url, args: high });
  });
  afterAll(async () => {
    await relay.stop();
    await redis?.stop();
  });

  it("cannot be emptied or altered by a third party who knows the route id and a queued message's id", async () => {
    const victim = randomToken(32);
    const route = await routeIdOf(victim);
    const owner = await endpoint(relay.url); // the desktop, say, with a request for an offline phone
    const genuine = msgTo(route, 'genuine', 60_000);
    owner.send(genuine);
    await owner.next((f) => f.id === genuine.id);

    // One attacker sends far more than its share, then a message under the genuine one's id.
    const attacker = await endpoint(relay.url, '127.0.4.1');
    for (let i = 0; i < 64; i++) attacker.send(msgTo(route, `flood ${i}`, 60_000));
    await attacker.next(() => attacker.frames.filter((f) => f.t === 'ack').length === 64);
    const forged = { ...genuine, body: 'forged' };
    attacker.send(forged);
    await attacker.next(() => attacker.frames.filter((f) => f.t === 'ack').length === 65);
    // Three more attackers fill the route; then newcomers are refused, and nothing was dropped.
    for (let a = 2; a <= 4; a++) await fill(await endpoint(relay.url, `127.0.4.${a}`), route, 16, 60_000);
    const late = await endpoint(relay.url, '127.0.4.9');
    const refused = msgTo(route, 'late', 60_000);
    late.send(refused);
    expect(await late.next((f) => f.id === refused.id)).toMatchObject({ t: 'error', code: 'QUEUE_FULL' });

    const holder = await Endpoint.ready(relay.url, { token: victim });
    open.push(holder);
    await holder.next(() => holder.frames.filter((f) => f.t === 'msg').length === 64);
    const msgs = holder.frames.filter((f) => f.t === 'msg');
    const [ownerRoute, attackerRoute] = [await owner.route(), await attacker.route()];
    expect(msgs.filter((f) => f.from === ownerRoute)).toEqual([expect.objectContaining({ id: genuine.id, body: 'genuine' })]);
    // The attacker's message under the same id is its own, beside the genuine one; it kept its last 16.
    expect(
      msgs
        .filter((f) => f.id === genuine.id)
        .map((f) => [f.from, f.body])
        .sort(),
    ).toEqual(
      [
        [ownerRoute, 'genuine'],
        [attackerRoute, 'forged'],
      ].sort(),
    );
    expect(msgs.filter((f) => f.from === attackerRoute)).toHaveLength(16);

    // The holder clears the attacker's copy by naming its sender; the genuine one stays queued.
    holder.send({ t: 'done', id: genuine.id, from: attackerRoute });
    holder.send({ t: 'pending' });
    await holder.next(() => holder.frames.filter((f) => f.t === 'msg').length === 64 + 63);
    const again = holder.frames.filter((f) => f.t === 'msg').slice(64);
    expect(again.filter((f) => f.id === genuine.id)).toEqual([expect.objectContaining({ body: 'genuine' })]);
  });
});
