// The console's page and code come from this service alone, in production too: the page names only its own
// assets, every module it imports (followed through the import map) is served here and names no other host, the
// Content-Security-Policy allows nothing else (the one inline script, the import map, by its hash), and nothing
// sets a cookie. Unknown names are 404; assets revalidate by ETag.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
let prod: Harness;
beforeAll(async () => {
  [h, prod] = await Promise.all([startHarness(), startHarness({ NODE_ENV: 'production', LOG_LEVEL: 'warn' })]);
});
afterAll(async () => {
  await Promise.all([h?.stop(), prod?.stop()]);
});

const get = (app: Harness, path: string, headers: Record<string, string> = {}) =>
  app.app.fetch(`http://registry.test${path}`, { headers });

describe.each([
  ['development', () => h],
  ['production', () => prod],
])('in %s', (_, harness) => {
  test('the page, its policy, and every module it loads are served here and name no other host', async () => {
    const res = await get(harness(), '/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('set-cookie')).toBeNull();
    const html = await res.text();
    expect(html).not.toMatch(/(https?:)?\/\/[\w-]+\.[\w.-]+/);
    const importMap = html.match(/<script type="importmap">(.*?)<\/script>/s)![1]!;
    const csp = res.headers.get('content-security-policy')!;
    const hash = createHash('sha256').update(importMap).digest('base64');
    expect(csp.split('; ')).toEqual(
      expect.arrayContaining([
        "default-src 'none'",
        `script-src 'self' 'sha256-${hash}'`,
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
      ]),
    );
    // Follow every import from the entry module, bare names through the import map.
    const map = JSON.parse(importMap).imports as Record<string, string>;
    const seen = new Set<string>();
    const queue = [...html.matchAll(/(?:src|href)="(\/console\/[\w./-]+)"/g)].map((m) => m[1]!);
    while (queue.length) {
      const path = queue.shift()!;
      if (seen.has(path)) continue;
      seen.add(path);
      const asset = await get(harness(), path);
      expect(asset.status, path).toBe(200);
      expect(asset.headers.get('x-content-type-options')).toBe('nosniff');
      const text = await asset.text();
      expect(text, path).not.toMatch(
        /https?:\/\/(?!www\.w3\.org\/)|unpkg|jsdelivr|cdnjs|esm\.sh|skypack|googleapis|@import/,
      );
      if (!path.endsWith('.js')) continue;
      expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      for (const [, spec] of text.matchAll(/(?:import|export)\s*(?:[\w{}\s,*]+from\s*)?["']([^"']+)["']/g)) {
        queue.push(spec!.startsWith('.') ? new URL(spec!, `http://x${path}`).pathname : map[spec!]!);
      }
    }
    expect([...seen]).toEqual(
      expect.arrayContaining([
        '/console/app.js',
        '/console/style.css',
        '/console/icon.svg',
        '/console/grant-form.js',
        '/console/vendor/preact.js',
        '/console/vendor/preact-hooks.js',
        '/console/vendor/htm.js',
      ]),
    );
  });

  test('unknown names are 404, nothing outside the console folder is reachable, assets revalidate by ETag', async () => {
    for (const path of [
      '/console/nope.js',
      '/console/../package.json',
      '/console/vendor/../../package.json',
      '/console/',
    ])
      expect((await get(harness(), path)).status, path).toBe(404);
    const first = await get(harness(), '/console/app.js');
    await first.arrayBuffer();
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect((await get(harness(), '/console/app.js', { 'if-none-match': etag })).status).toBe(304);
  });
});

test('the page is only for GET; the API behind it still needs a token', async () => {
  expect((await h.app.fetch('http://registry.test/', { method: 'POST' })).status).toBe(404);
  expect((await h.gql(undefined, '{ viewer { kind } }')).status).toBe(401);
});
