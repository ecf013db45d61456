// An error raised in one of our HTTP hooks, outside GraphQL execution (the Idempotency-Key claim before the
// operation runs, a CSV export served by the gate), is answered like any other error: masked, coded JSON
// (503 DATABASE_UNAVAILABLE for a database outage), a request-log line with its request id, and a count in
// the metrics. Never the server adapter's own answer: HTTP 500 text/plain with the stack, SQL and source paths.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp } from '../src/app.js';
import { capturingLogger, onPostgres, startHarness, type Harness } from './harness.js';
import { rowsOf } from '../src/db/rows.js';

let h: Harness;
let app: ReturnType<typeof createApp>;
let compliance: string;
const { logger, lines } = capturingLogger('info');

beforeAll(async () => {
  h = await startHarness();
  app = createApp({ ...h, logger });
  compliance = await h.staffToken('COMPLIANCE');
});
afterAll(async () => {
  await h?.stop();
});

const CREATE = JSON.stringify({
  query: 'mutation($i: CreateOfficeInput!) { createOffice(input: $i) { __typename } }',
  variables: { i: { name: 'Hooked office', legalEntity: 'Hook BV', country: 'NL', city: 'Delft' } },
});
const local = { req: { socket: { remoteAddress: '127.0.0.1' } } } as never;

/** What neither a caller nor the log may see: a stack frame, a source path, SQL, a table name. */
function expectMasked(text: string) {
  expect(text).not.toMatch(
    /\bat .+:\d+:\d+|src\/|\.ts\b|insert into|select |idempotency_keys|disclosure_requests|stack/i,
  );
}

async function logLine(reqId: string) {
  for (let i = 0; i < 20 && !lines.some((l) => l.includes(reqId)); i++) await new Promise((r) => setTimeout(r, 10));
  return lines.map((l) => JSON.parse(l)).find((l) => l.reqId === reqId);
}

// A table renamed away (as its owner: the service's role may not alter tables) makes a real database error.
describe('an unexpected error in a hook', () => {
  test('the Idempotency-Key claim fails: masked JSON 500, a request-log line with its id, counted', async () => {
    await h.asOwner('alter table idempotency_keys rename to idempotency_keys_gone');
    try {
      const res = await app.fetch(
        'http://registry.test/graphql',
        {
          method: 'POST',
          body: CREATE,
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${compliance}`,
            'idempotency-key': 'hook-1',
            'x-request-id': 'hook-claim-1',
          },
        },
        local,
      );
      const text = await res.text();
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toMatch(/json/);
      expect(res.headers.get('x-request-id')).toBe('hook-claim-1');
      expectMasked(text);
      expect(text).not.toMatch(/Drizzle|Postgres|PGlite/i);
      expect(JSON.parse(text).errors[0]).toMatchObject({
        message: 'Unexpected error.',
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      });
      const line = await logLine('hook-claim-1');
      expect(line).toMatchObject({ level: 50, route: '/graphql', status: 500, unexpected: [{ sqlState: '42P01' }] });
      expectMasked(JSON.stringify(line));
      const metrics = await (await app.fetch('http://registry.test/metrics', {}, local)).text();
      expect(metrics).toMatch(/registry_http_responses_total\{route="graphql",status="500"\} [1-9]/);
      expect(metrics).toMatch(/registry_graphql_requests_total\{operation="none",outcome="error"\} [1-9]/);
      // Nothing ran: no office.
      const r: any = await h.database.db.execute(
        sql`select count(*)::int as n from offices where name = 'Hooked office'`,
      );
      expect(rowsOf<any>(r)[0].n).toBe(0);
    } finally {
      await h.asOwner('alter table idempotency_keys_gone rename to idempotency_keys');
    }
  });

  test('a CSV export fails: masked JSON 500 with a request-log line', async () => {
    await h.asOwner('alter table disclosure_requests rename to disclosure_requests_gone');
    try {
      const res = await app.fetch(
        'http://registry.test/export/transparency-report.csv?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z',
        {
          headers: { authorization: `Bearer ${compliance}`, 'x-request-id': 'hook-export-1' },
        },
        local,
      );
      const text = await res.text();
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toMatch(/json/);
      expect(res.headers.get('x-request-id')).toBe('hook-export-1');
      expectMasked(text);
      expect(await logLine('hook-export-1')).toMatchObject({
        level: 50,
        status: 500,
        unexpected: [{ sqlState: '42P01' }],
      });
    } finally {
      await h.asOwner('alter table disclosure_requests_gone rename to disclosure_requests');
    }
  });
});

describe.skipIf(!onPostgres)('the database gone during the Idempotency-Key claim (PostgreSQL)', () => {
  test('503 DATABASE_UNAVAILABLE, coded and masked, with a request-log line', async () => {
    const s = await startHarness({ DB_CONNECT_TIMEOUT_SECONDS: '1' });
    const { logger: ownLogger, lines: own } = capturingLogger('info');
    const a = createApp({ ...s, logger: ownLogger });
    try {
      const token = await s.staffToken('COMPLIANCE');
      await s.database.sql!.end({ timeout: 0 }); // every connection closed, no new one will be opened
      const res = await a.fetch(
        'http://registry.test/graphql',
        {
          method: 'POST',
          body: CREATE,
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${token}`,
            'idempotency-key': 'gone-1',
            'x-request-id': 'hook-gone-1',
          },
        },
        local,
      );
      const text = await res.text();
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.headers.get('x-request-id')).toBe('hook-gone-1');
      expect(JSON.parse(text).errors[0].extensions.code).toBe('DATABASE_UNAVAILABLE');
      expectMasked(text);
      expect(own.map((l) => JSON.parse(l)).find((l) => l.reqId === 'hook-gone-1')).toMatchObject({
        status: 503,
        errorCodes: ['DATABASE_UNAVAILABLE'],
      });
    } finally {
      await s.stop();
    }
  });
});
