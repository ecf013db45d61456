// CORS is off unless CORS_ORIGINS names the sites that may call the API from a browser. Tokens travel in
// the Authorization header, never in cookies, so no answer ever allows credentials.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startHarness, type Harness } from './harness.js';

const preflight = (h: Harness, origin: string) =>
  h.app.fetch('http://registry.test/graphql', {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });

async function post(h: Harness, origin: string) {
  const token = await h.staffToken('AUDITOR');
  return h.app.fetch('http://registry.test/graphql', {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ viewer { kind } }' }),
  });
}

const corsHeaders = (res: Response) => [...res.headers.keys()].filter((k) => k.startsWith('access-control-'));

describe('by default', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  test('a preflight from any site gets no CORS headers: the browser refuses the call', async () => {
    const res = await preflight(h, 'https://evil.example');
    expect(res.status).toBeLessThan(500);
    expect(corsHeaders(res)).toEqual([]);
  });

  test('nor does the request itself', async () => {
    const res = await post(h, 'https://evil.example');
    expect(res.status).toBe(200); // a server-side caller is not affected
    expect(corsHeaders(res)).toEqual([]);
  });
});

describe('with CORS_ORIGINS', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ CORS_ORIGINS: 'https://app.example, https://admin.example:8443' });
  });
  afterAll(async () => {
    await h?.stop();
  });

  test('a listed site gets its own origin back, the headers it needs, and never credentials', async () => {
    for (const origin of ['https://app.example', 'https://admin.example:8443']) {
      const res = await preflight(h, origin);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      expect(res.headers.get('vary')).toMatch(/origin/i);
      expect(res.headers.get('access-control-allow-methods')).toMatch(/POST/);
      expect(res.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
      expect(res.headers.get('access-control-allow-headers')).toMatch(/idempotency-key/i);
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      const real = await post(h, origin);
      expect(real.headers.get('access-control-allow-origin')).toBe(origin);
      expect(real.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  test('any other site, or a listed host under another scheme or port, gets nothing', async () => {
    for (const origin of ['https://evil.example', 'http://app.example', 'https://app.example:444', 'null']) {
      expect(corsHeaders(await preflight(h, origin)), origin).toEqual([]);
      expect(corsHeaders(await post(h, origin)), origin).toEqual([]);
    }
  });
});

test('CORS_ORIGINS takes origins only: a wildcard, a path or a non-URL stops the start with a message naming it', () => {
  for (const bad of ['*', 'https://app.example/', 'https://app.example/path', 'app.example', 'ftp://app.example']) {
    expect(() => loadConfig({ CORS_ORIGINS: bad }), bad).toThrow(/CORS_ORIGINS/);
  }
  expect(loadConfig({}).corsOrigins).toEqual([]);
  expect(loadConfig({ CORS_ORIGINS: 'https://a.example,http://localhost:5173' }).corsOrigins).toEqual([
    'https://a.example',
    'http://localhost:5173',
  ]);
});
