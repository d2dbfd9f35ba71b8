import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONSOLE_CSP, SESSION_COOKIE } from '../../src-main/console/server.js';
import { startTestConsole, type TestConsole } from '../helpers/console.js';

let c: TestConsole;
beforeEach(async () => {
  c = await startTestConsole();
});
afterEach(() => c.close());

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request, so the test controls the Host and Origin headers exactly. */
function raw(path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const { port } = new URL(c.server.origin);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { Host: `127.0.0.1:${port}`, ...options.headers } },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

async function signIn(): Promise<string> {
  const url = new URL(c.server.loginUrl);
  const reply = await raw(`${url.pathname}${url.search}`);
  expect(reply.status).toBe(303);
  const cookie = String(reply.headers['set-cookie']).split(';')[0]!;
  return cookie;
}

const apiCall = (cookie: string, body: unknown, headers: Record<string, string> = {}) =>
  raw('/api/call', {
    method: 'POST',
    headers: { Cookie: cookie, 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('the console server', () => {
  it('listens on 127.0.0.1 and prints a one-time login link', () => {
    expect(c.server.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(c.server.loginUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/login\?token=[A-Za-z0-9_-]{43}$/);
  });

  it('turns the link into an HttpOnly, SameSite=Strict session cookie, once', async () => {
    const url = new URL(c.server.loginUrl);
    const first = await raw(`${url.pathname}${url.search}`);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/');
    expect(String(first.headers['set-cookie'])).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=/$`));
    const second = await raw(`${url.pathname}${url.search}`);
    expect(second.status).toBe(403);
    expect(second.headers['set-cookie']).toBeUndefined();
  });

  it('refuses the API and the UI without a session', async () => {
    const api = await apiCall('', { method: 'app.status', input: {} });
    expect(api.status).toBe(401);
    expect(JSON.parse(api.body)).toEqual({ ok: false, error: { code: 'NOT_ALLOWED', message: 'Open the link printed by the console first.' } });
    const page = await raw('/');
    expect(page.status).toBe(401);
    expect(page.body).toContain('one-time link');
  });

  it('refuses a forged session cookie', async () => {
    const reply = await apiCall(`${SESSION_COOKIE}=${'A'.repeat(43)}`, { method: 'app.status', input: {} });
    expect(reply.status).toBe(401);
  });

  it('answers contract calls through the router for a signed-in session', async () => {
    const cookie = await signIn();
    const reply = await apiCall(cookie, { method: 'app.status', input: {} });
    expect(reply.status).toBe(200);
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(reply.body)).toMatchObject({ ok: true, value: { setupNeeded: true, level: 'locked' } });
  });

  it('refuses a foreign Host header (DNS rebinding) even with a valid session', async () => {
    const cookie = await signIn();
    const reply = await raw('/api/call', {
      method: 'POST',
      headers: { Host: 'attacker.example:80', Cookie: cookie, 'Content-Type': 'application/json' },
      body: JSON.stringify({ method: 'app.status', input: {} }),
    });
    expect(reply.status).toBe(421);
  });

  it('refuses a cross-site Origin even with a valid session', async () => {
    const cookie = await signIn();
    const reply = await apiCall(cookie, { method: 'app.status', input: {} }, { Origin: 'https://attacker.example' });
    expect(reply.status).toBe(403);
  });

  it('takes JSON only, and bounds the body size', async () => {
    const cookie = await signIn();
    const form = await raw('/api/call', {
      method: 'POST',
      headers: { Cookie: cookie, 'Content-Type': 'text/plain' },
      body: JSON.stringify({ method: 'app.status', input: {} }),
    });
    expect(form.status).toBe(415);
    const huge = await apiCall(cookie, { method: 'app.status', input: { pad: 'x'.repeat(300 * 1024) } });
    expect(huge.status).toBe(413);
    const broken = await raw('/api/call', { method: 'POST', headers: { Cookie: cookie, 'Content-Type': 'application/json' }, body: '{not json' });
    expect(broken.status).toBe(400);
    expect(JSON.parse(broken.body)).toEqual({ ok: false, error: { code: 'BAD_INPUT', message: 'The request is not valid JSON.' } });
  });

  it('sends a strict CSP and hardening headers on every response', async () => {
    for (const reply of [await raw('/'), await signIn().then((cookie) => raw('/', { headers: { Cookie: cookie } }))]) {
      expect(reply.headers['content-security-policy']).toBe(CONSOLE_CSP);
      expect(reply.headers['x-content-type-options']).toBe('nosniff');
      expect(reply.headers['x-frame-options']).toBe('DENY');
      expect(reply.headers['referrer-policy']).toBe('no-referrer');
    }
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe-inline');
    expect(CONSOLE_CSP).not.toContain('unsafe-eval');
  });

  it('does not serve files outside the UI folder', async () => {
    const cookie = await signIn();
    const reply = await raw('/../../package.json', { headers: { Cookie: cookie } });
    expect(reply.body).not.toContain('"name": "twofold-backup"');
    const encoded = await raw('/%2e%2e/%2e%2e/package.json', { headers: { Cookie: cookie } });
    expect(encoded.body).not.toContain('"name": "twofold-backup"');
  });
});
