// Rate limits per token and per address, charged per root field (aliases cannot dodge them), answered
// with 429 and Retry-After; statement_timeout and the request deadline cut slow work.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TokenBuckets } from '../src/http/rate-limit.js';
import { onPostgres, startHarness, type Harness } from './harness.js';
import { signatureSpellings } from './fixtures.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ RATE_LIMIT_PER_TOKEN: '10', RATE_LIMIT_PER_ADDRESS: '40' });
});
afterAll(async () => {
  await h?.stop();
});

/** A request from a given client address (as the Node adapter passes the socket). */
async function from(address: string, token: string | undefined, query: string) {
  const res = await h.app.fetch(
    'http://registry.test/graphql',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query }),
    },
    { req: { socket: { remoteAddress: address } } } as never,
  );
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
}

const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `v${i}: viewer { subject }`).join(' ')} }`;

describe('per token', () => {
  test('the 11th root field in a minute is refused with 429 and Retry-After', async () => {
    const token = await h.staffToken('AUDITOR', 'a@example.com');
    for (let i = 0; i < 10; i++) expect((await from('10.0.0.1', token, '{ viewer { subject } }')).status).toBe(200);
    const r = await from('10.0.0.1', token, '{ viewer { subject } }');
    expect(r.status).toBe(429);
    expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(r.body.errors[0].extensions.code).toBe('RATE_LIMITED');
    expect(r.body.errors[0].message).toMatch(/10 root fields per minute per token/);
    expect(r.body.data).toBeUndefined();
    // Another token is not affected.
    expect(
      (await from('10.0.0.1', await h.staffToken('AUDITOR', 'b@example.com'), '{ viewer { subject } }')).status,
    ).toBe(200);
  });

  test('aliases are charged one each: 11 aliased root fields in one request are refused', async () => {
    const token = await h.staffToken('AUDITOR', 'c@example.com');
    const r = await from('10.0.0.2', token, aliases(11));
    expect(r.status).toBe(429);
    expect(r.body.errors[0].message).toMatch(/an operation of 11 root fields/);
  });

  test('two requests of 5 aliases use up the bucket', async () => {
    const token = await h.staffToken('AUDITOR', 'd@example.com');
    expect((await from('10.0.0.3', token, aliases(5))).status).toBe(200);
    expect((await from('10.0.0.3', token, aliases(5))).status).toBe(200);
    expect((await from('10.0.0.3', token, '{ viewer { subject } }')).status).toBe(429);
  });

  test('root fields reached through fragments count too', async () => {
    const token = await h.staffToken('AUDITOR', 'e@example.com');
    const fields = Array.from({ length: 11 }, (_, i) => `v${i}: viewer { subject }`).join(' ');
    expect((await from('10.0.0.4', token, `{ ...R } fragment R on Query { ${fields} }`)).status).toBe(429);
  });

  test('the 16 spellings of one token are one bucket: after a 429 no other spelling gets data', async () => {
    const token = await h.staffToken('AUDITOR', 'spelled@example.com');
    const spellings = signatureSpellings(token);
    let n = 0;
    for (let i = 0; i < 10; i++)
      expect((await from(`10.0.1.${n++}`, token, '{ viewer { subject } }')).status).toBe(200);
    expect((await from(`10.0.1.${n++}`, token, '{ viewer { subject } }')).status).toBe(429);
    for (const t of spellings) {
      const r = await from(`10.0.1.${n++}`, t, '{ viewer { subject } }');
      expect(r.status, t.slice(-2)).toBe(t === token ? 429 : 401);
      expect(r.body.data).toBeUndefined();
    }
  });
});

describe('per address', () => {
  test('an address is limited across tokens, and bad tokens count against it', async () => {
    let refused: { status: number; retryAfter: string | null } | undefined;
    for (let i = 0; i < 45 && !refused; i++) {
      const r = await from(
        '192.0.2.7',
        i % 2 ? 'not-a-token' : await h.staffToken('AUDITOR', `p${i}@example.com`),
        '{ viewer { subject } }',
      );
      if (r.status === 429) refused = r;
      else expect([200, 401]).toContain(r.status);
    }
    expect(refused?.status).toBe(429);
    expect(Number(refused?.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(
      (await from('192.0.2.8', await h.staffToken('AUDITOR', 'q@example.com'), '{ viewer { subject } }')).status,
    ).toBe(200);
  });
});

describe('token buckets', () => {
  test('refill continuously and say when to retry', () => {
    let now = 0;
    const b = new TokenBuckets(60, () => now);
    for (let i = 0; i < 60; i++) expect(b.take('k').ok).toBe(true);
    const r = b.take('k');
    expect(r).toMatchObject({ ok: false, retryAfterSeconds: 1 });
    now += 5_000;
    expect(b.take('k', 5).ok).toBe(true);
    expect(b.take('k').ok).toBe(false);
    expect(b.take('k', 30)).toMatchObject({ ok: false, retryAfterSeconds: 30 });
  });
});

if (!onPostgres)
  console.warn('rate-limit.test.ts: statement_timeout and deadline tests skipped on PGlite; set DATABASE_URL');
describe.skipIf(!onPostgres)('slow work is cut (PostgreSQL)', () => {
  test('statement_timeout ends a slow statement', async () => {
    const s = await startHarness({ STATEMENT_TIMEOUT_MS: '300' });
    try {
      const t0 = Date.now();
      const err = await s.database.db.execute(sql`select pg_sleep(5)`).then(
        () => undefined,
        (e: any) => e,
      );
      expect(Date.now() - t0).toBeLessThan(2_000);
      expect(err?.cause?.code ?? err?.code).toBe('57014');
    } finally {
      await s.stop();
    }
  });

  test('a request stuck behind a held connection ends at its deadline with a clear error', async () => {
    const s = await startHarness({
      DB_POOL_MAX: '1',
      REQUEST_TIMEOUT_MS: '400',
      STATEMENT_TIMEOUT_MS: '3000',
      DB_POOL_QUEUE_LIMIT: '5',
    });
    try {
      const token = await s.staffToken('AUDITOR');
      const hold = s.database.db.execute(sql`select pg_sleep(1.5)`).then(() => 'done'); // drizzle runs a query when awaited
      await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      const r = await s.gql(token, '{ offices { nodes { id } } }');
      expect(Date.now() - t0).toBeLessThan(1_200);
      expect(r.status).toBe(503);
      expect(r.body.errors[0]).toMatchObject({
        message: 'Request deadline of 400 ms exceeded',
        extensions: { code: 'TIMEOUT' },
      });
      await hold;
      expect((await s.gql(token, '{ offices { nodes { id } } }')).body.errors).toBeUndefined();
    } finally {
      await s.stop();
    }
  });
});
