/**
 * Relays that share a real redis-server, and what happens when it goes away
 * (docs/protocol.md §2.5): sends are refused at once with UNAVAILABLE, and the desktop says
 * "push is unavailable" instead of waiting out the minute; a route subscribed while Redis was
 * down is subscribed when it returns and gets what is sent to it; /healthz fails while any route
 * held here has no live subscription, and says so.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { randomToken } from '../../src-shared/push/encoding.js';
import { routeIdOf } from '../../src-shared/push/suite.js';
import type { TestApp } from '../helpers/app.js';
import { appWithRelay, toSecondFactor } from '../helpers/push.js';
import { CliCompanion, startRedis, startRelayProcess, type RedisProcess, type RelayProcess } from '../helpers/relay.js';
import { Endpoint, metric, msgTo } from '../helpers/relay-clients.js';

const OUTAGE_MS = 60_000;

let redis: RedisProcess | undefined;
const relays: RelayProcess[] = [];
const endpoints: Endpoint[] = [];
let t: TestApp | undefined;
let cli: CliCompanion | undefined;
afterEach(async () => {
  endpoints.splice(0).forEach((e) => e.close());
  t?.remove();
  t = undefined;
  await cli?.close();
  cli = undefined;
  await Promise.all(relays.splice(0).map((r) => r.stop()));
  await redis?.stop();
  redis = undefined;
});

async function relayOn(redisUrl: string): Promise<RelayProcess> {
  const r = await startRelayProcess({ redis: redisUrl });
  relays.push(r);
  return r;
}

async function health(r: RelayProcess): Promise<[number, string]> {
  const res = await fetch(`${r.httpOrigin}/healthz`);
  return [res.status, await res.text()];
}

describe('a Redis outage', () => {
  it(
    'ends a push at once as unavailable, and a companion that connected during a 60 s outage is pushed to once Redis is back',
    { timeout: 180_000 },
    async () => {
      redis = await startRedis();
      const [a, b] = [await relayOn(redis.url), await relayOn(redis.url)];
      t = await appWithRelay(a.url);
      cli = new CliCompanion();
      // The desktop on instance A, the companion on instance B.
      const begin = await t.ok('push.beginPairing', {});
      const { proc: pairing, code } = await cli.pair(begin.link, ['--relay', b.url]);
      expect(await t.ok('push.pairingStatus', { pairingId: begin.pairingId, waitMs: 20_000 })).toMatchObject({ state: 'confirm', comparisonCode: code });
      await t.ok('push.finishPairing', { pairingId: begin.pairingId, name: 'Phone' });
      expect(await pairing.exited).toBe(0);

      await redis.stop();
      const outageStarted = Date.now();
      await expect.poll(() => health(b), { timeout: 10_000 }).toEqual([503, 'redis unavailable']);
      // The companion connects (and subscribes) while Redis is away.
      const listen = cli.run(['listen', '--relay', b.url]);
      await listen.waitFor(/^Listening for Ada on test-workstation\.$/);

      await toSecondFactor(t);
      const refused = await t.ok('push.start', {});
      const polled = performance.now();
      // Not the minute's expiry (the app's clock does not move here): the relay's refusal.
      expect(await t.ok('push.poll', { requestId: refused.requestId, waitMs: 20_000 })).toMatchObject({ state: 'unavailable' });
      expect(performance.now() - polled).toBeLessThan(20_000);
      const rows = (await t.app.core.audit.open()).query({ limit: 100, offset: 0 }).rows.filter((r) => r.action === 'push.unavailable');
      expect(rows.map((r) => [r.device, r.detail])).toEqual([['Phone', 'push not delivered: the relay cannot reach its store (Redis) (UNAVAILABLE)']]);

      await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - outageStarted))));
      redis = await startRedis(redis.port);
      await expect.poll(() => health(b), { timeout: 20_000 }).toEqual([200, 'ok']);
      await expect.poll(() => health(a), { timeout: 20_000 }).toEqual([200, 'ok']);
      expect(await metric(b.httpOrigin, 'relay_redis_missing_subscriptions')).toBe(0);

      // The app's clock is a test clock: bring it to real time, which the companion reads.
      t.clock.advance(Date.now() - t.clock.now());
      const push = await t.ok('push.start', {});
      await listen.waitFor(/^ {2}Choices: /, 20_000);
      listen.write(String(push.number));
      expect(await t.ok('push.poll', { requestId: push.requestId, waitMs: 20_000 })).toMatchObject({ state: 'approved' });
      expect((await t.ok('app.status', {})).level).toBe('unlocked');
    },
  );

  it('reports a route without a live subscription on /healthz, and delivers to it once it is subscribed again', { timeout: 60_000 }, async () => {
    redis = await startRedis();
    const relay = await relayOn(redis.url);
    const admin = new Redis(redis.url);
    try {
      // Redis now refuses the relay's route channels (the heartbeat channel stays allowed).
      await admin.call('ACL', 'SETUSER', 'default', 'resetchannels', '&twofold:h:*');
      const token = randomToken(32);
      const holder = await Endpoint.ready(relay.url, { token });
      endpoints.push(holder);
      expect(await holder.next((f) => f.t === 'error')).toMatchObject({ code: 'UNAVAILABLE' });
      await expect.poll(() => health(relay), { timeout: 10_000 }).toEqual([503, 'redis subscriptions missing: 1']);
      expect(await metric(relay.httpOrigin, 'relay_redis_missing_subscriptions')).toBe(1);

      await admin.call('ACL', 'SETUSER', 'default', 'allchannels');
      await expect.poll(() => health(relay), { timeout: 10_000 }).toEqual([200, 'ok']);
      const sender = await Endpoint.ready(relay.url);
      endpoints.push(sender);
      const frame = msgTo(await routeIdOf(token), 'after the gap');
      sender.send(frame);
      expect(await holder.next((f) => f.t === 'msg')).toMatchObject({ id: frame.id, body: 'after the gap' });
    } finally {
      admin.disconnect();
    }
  });
});
