// A mutation retried with the same Idempotency-Key (say, after a dropped connection) takes effect once and
// returns the same answer; the key cannot be reused for another request.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createApp } from '../src/app.js';
import { openServices } from '../src/services.js';
import { onPostgres, startHarness, type Harness } from './harness.js';
import { contractorWithToken, issueToken } from './fixtures.js';
import { rowsOf } from '../src/db/rows.js';
import { until } from './until.js';

let h: Harness;
let compliance: string;
beforeAll(async () => {
  h = await startHarness();
  compliance = await h.staffToken('COMPLIANCE');
});
afterAll(async () => {
  await h?.stop();
});

const create = (name: string) =>
  JSON.stringify({
    query:
      'mutation($i: CreateOfficeInput!) { createOffice(input: $i) { __typename ... on CreateOfficePayload { office { id name } } } }',
    variables: { i: { name, legalEntity: 'Example BV', country: 'NL', city: 'Utrecht' } },
  });
const post = (body: string, key?: string, token = compliance) =>
  h.app.fetch('http://registry.test/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      ...(key ? { 'idempotency-key': key } : {}),
    },
    body,
  });
/** Retries as a client told to wait would (409 IN_PROGRESS or CONFLICT, Retry-After), at most 2 seconds. */
async function retryWhileWaiting(send: () => Response | Promise<Response>): Promise<Response> {
  for (let i = 0; ; i++) {
    const res = await send();
    const code = res.status === 409 ? ((await res.clone().json()) as any).errors[0].extensions.code : undefined;
    if (i >= 40 || (code !== 'IDEMPOTENCY_IN_PROGRESS' && code !== 'IDEMPOTENCY_CONFLICT')) return res;
    await new Promise((r) => setTimeout(r, 50));
  }
}
const officeCount = async (name: string) => {
  const r = await h.database.db.execute(sql`select count(*)::int as n from offices where name = ${name}`);
  return rowsOf<{ n: number }>(r)[0]!.n;
};

test('a retry with the same key takes effect once and returns the same answer', async () => {
  const body = create('Utrecht once');
  const first = await post(body, 'key-1');
  const firstText = await first.text();
  const retry = await post(body, 'key-1');
  expect(retry.status).toBe(first.status);
  expect(retry.headers.get('idempotent-replayed')).toBe('true');
  expect(await retry.text()).toBe(firstText);
  expect(await officeCount('Utrecht once')).toBe(1);
  expect(JSON.parse(firstText).data.createOffice.office.name).toBe('Utrecht once');
});

test('concurrent retries: one runs, the others wait or replay; still one effect', async () => {
  const body = create('Utrecht concurrent');
  const answers = await Promise.all(Array.from({ length: 5 }, () => post(body, 'key-2')));
  const succeeded = answers.filter((a) => a.status === 200);
  expect(succeeded.length).toBeGreaterThanOrEqual(1);
  for (const a of answers) expect([200, 409]).toContain(a.status);
  const texts = await Promise.all(succeeded.map((a) => a.text()));
  expect(new Set(texts).size).toBe(1); // every success is the same answer
  expect(await officeCount('Utrecht concurrent')).toBe(1);
  const later = await post(body, 'key-2');
  expect(later.status).toBe(200);
  expect(later.headers.get('idempotent-replayed')).toBe('true');
  expect(await later.text()).toBe(texts[0]);
});

test('the same key with another request is refused and changes nothing', async () => {
  await post(create('Utrecht A'), 'key-3');
  const other = await post(create('Utrecht B'), 'key-3');
  expect(other.status).toBe(422);
  expect(((await other.json()) as any).errors[0].extensions.code).toBe('IDEMPOTENCY_KEY_REUSED');
  expect(await officeCount('Utrecht B')).toBe(0);
});

test('keys are per token, and malformed keys are refused', async () => {
  const body = create('Utrecht per principal');
  const first = await post(body, 'key-4');
  const otherStaff = await h.staffToken('COMPLIANCE', 'dave@example.com');
  const second = await post(body, 'key-4', otherStaff);
  expect(second.status).toBe(200);
  expect(second.headers.get('idempotent-replayed')).toBeNull();
  const ids = [first, second].map(async (r) => ((await r.json()) as any).data.createOffice.office.id);
  const [a, b] = await Promise.all(ids);
  expect(a).toBeTruthy();
  expect(b).not.toBe(a); // the other principal's request ran: a second office
  expect(await officeCount('Utrecht per principal')).toBe(2);
  const bad = await post(body, 'x'.repeat(201));
  expect(bad.status).toBe(400);
  const spaced = await post(body, 'has space');
  expect(spaced.status).toBe(400);
});

test('without a key nothing is remembered', async () => {
  const body = create('Utrecht twice');
  await post(body);
  await post(body);
  expect(await officeCount('Utrecht twice')).toBe(2);
});

test('over HTTP: the client drops the connection before the answer; the retry gets the answer of the one effect', async () => {
  const { createServer, request } = await import('node:http');
  const server = createServer(h.app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const body = create('Utrecht dropped');
    await new Promise<void>((resolve) => {
      const req = request({
        host: '127.0.0.1',
        port,
        path: '/graphql',
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${compliance}`,
          'idempotency-key': 'key-drop',
          'content-length': Buffer.byteLength(body),
        },
      });
      req.on('error', () => resolve());
      req.end(body, () =>
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 1),
      );
    });
    let retry: Response | undefined;
    for (let i = 0; i < 100; i++) {
      retry = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${compliance}`,
          'idempotency-key': 'key-drop',
        },
        body,
      });
      if (retry.status !== 409) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(retry!.status).toBe(200);
    const answer = (await retry!.json()) as any;
    expect(answer.data.createOffice.office.name).toBe('Utrecht dropped');
    expect(await officeCount('Utrecht dropped')).toBe(1);
  } finally {
    server.close();
  }
});

test('another token of the same staff member runs the request itself', async () => {
  const body = create('Utrecht per token');
  expect((await post(body, 'key-5')).status).toBe(200);
  const sameSubject = await h.staffToken('COMPLIANCE'); // same subject, another token
  const again = await post(body, 'key-5', sameSubject);
  expect(again.headers.get('idempotent-replayed')).toBeNull();
  expect(await officeCount('Utrecht per token')).toBe(2);
});

test('queries ignore the key: nothing stored, so no answer (shared records) is replayed to another token', async () => {
  const a = await contractorWithToken(h, compliance, { name: 'Replay Co' });
  const b = await issueToken(h, compliance, {
    contractorId: a.contractor.id,
    categories: ['contact.email'],
    purposes: ['TECHNICAL_SUPPORT'],
    scopes: ['REGISTRY_READ'],
  });
  const stored = async () => {
    const r: any = await h.database.db.execute(sql`select count(*)::int as n from idempotency_keys`);
    return rowsOf<any>(r)[0].n as number;
  };
  const before = await stored();
  const query = JSON.stringify({
    query: '{ sharedRecords(purpose: TECHNICAL_SUPPORT, first: 5) { nodes { subjectRef } } }',
  });
  await post(query, 'fetch-1', a.token);
  expect(await stored()).toBe(before);
  const other = await post(query, 'fetch-1', b.token as string);
  expect(other.headers.get('idempotent-replayed')).toBeNull();
  const json = (await other.json()) as any;
  expect(json.errors[0].extensions.code).toBe('FORBIDDEN'); // b lacks records:read, and is told so
});

test.skipIf(!onPostgres)(
  'a request that missed its deadline may still commit: its key answers "outcome unknown", never runs it twice',
  async () => {
    const s = await startHarness({ REQUEST_TIMEOUT_MS: '300' });
    try {
      const token = await s.staffToken('COMPLIANCE');
      const lock = await s.database.sql!.reserve();
      await lock`begin`;
      await lock`lock table offices in share mode`; // the office's insert waits
      const body = create('Utrecht deadline');
      const send = () =>
        s.app.fetch('http://registry.test/graphql', {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${token}`,
            'idempotency-key': 'slow-1',
          },
          body,
        });
      const first = await send();
      expect(first.status).toBe(503);
      await lock`commit`;
      lock.release();
      const count = async () => {
        const r: any = await s.database.db.execute(
          sql`select count(*)::int as n from offices where name = 'Utrecht deadline'`,
        );
        return rowsOf<any>(r)[0].n as number;
      };
      for (let i = 0; i < 50 && (await count()) === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await count()).toBe(1); // the timed-out write committed once the lock was gone
      // The first answer is stored after it left (past its deadline the store goes on without it). A retry that
      // comes first finds the key overdue and answers "outcome unknown" without the first status (the test "a key
      // whose request died" below); this one waits for the store, as a client retrying later would see it.
      await until(
        async () =>
          rowsOf<{ status: number | null }>(
            await s.database.db.execute(sql`select status from idempotency_keys where key = 'slow-1'`),
          )[0]?.status != null,
        'the first answer stored',
      );
      const retry = await retryWhileWaiting(send);
      expect(retry.status).toBe(409);
      expect(((await retry.json()) as any).errors[0].extensions).toMatchObject({
        code: 'IDEMPOTENCY_OUTCOME_UNKNOWN',
        firstStatus: 503,
        firstCode: 'TIMEOUT',
      });
      expect(await count()).toBe(1);
    } finally {
      await s.stop();
    }
  },
);

test('a request refused by the rate limit (429) releases its key: nothing was run, a later retry may run', async () => {
  const s = await startHarness({ RATE_LIMIT_PER_TOKEN: '2' });
  try {
    const token = await s.staffToken('COMPLIANCE');
    const send = (key: string) =>
      s.app.fetch('http://registry.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': key },
        body: create(`Limited ${key}`),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await send(`limited-${i}`)).status);
    expect(statuses).toContain(429);
    const refused = statuses.map((st, i) => (st === 429 ? `limited-${i}` : null)).filter(Boolean) as string[];
    const kept = async (key: string) => {
      const r: any = await s.database.db.execute(
        sql`select count(*)::int as n from idempotency_keys where key = ${key}`,
      );
      return rowsOf<any>(r)[0].n as number;
    };
    for (const key of refused) expect(await kept(key)).toBe(0);
    expect(await kept('limited-0')).toBe(1); // the one that ran keeps its answer
  } finally {
    await s.stop();
  }
});

test('an idempotent issueAccessToken leaves no usable token in any column; the replay still hands it over', async () => {
  const { contractor } = await contractorWithToken(h, compliance, { name: 'Sealed Answers Co' });
  const body = JSON.stringify({
    query:
      'mutation($i: IssueAccessTokenInput!) { issueAccessToken(input: $i) { __typename ... on IssueAccessTokenPayload { token } } }',
    variables: {
      i: {
        contractorId: contractor.id,
        scopes: ['REGISTRY_READ'],
        categories: ['contact.email'],
        purposes: ['TECHNICAL_SUPPORT'],
        lifetimeSeconds: 3600,
      },
    },
  });
  const first = await post(body, 'issue-1');
  const token = ((await first.json()) as any).data.issueAccessToken.token as string;
  await expect(h.verify(token)).resolves.toMatchObject({ kind: 'contractor' });
  const replay = await post(body, 'issue-1');
  expect(replay.headers.get('idempotent-replayed')).toBe('true');
  expect(((await replay.json()) as any).data.issueAccessToken.token).toBe(token);
  // Every text, character, JSON and array column of every table (read as the tables' owner): nothing in it verifies as a token.
  const columns = (await h.asOwner(`
    select table_schema as s, table_name as t, column_name as c from information_schema.columns
    where table_schema not in ('pg_catalog', 'information_schema') and (data_type in ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY'))`)) as {
    s: string;
    t: string;
    c: string;
  }[];
  expect(columns.some((c) => c.t === 'idempotency_keys' && c.c === 'response')).toBe(true);
  const found: string[] = [];
  for (const { s, t, c } of columns) {
    const values = (await h.asOwner(`select "${c}"::text as v from "${s}"."${t}" where "${c}" is not null`)) as {
      v: string;
    }[];
    for (const { v } of values) {
      for (const candidate of v.match(/[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g) ?? []) {
        if (
          await h.verify(candidate).then(
            () => true,
            () => false,
          )
        )
          found.push(`${t}.${c}`);
      }
    }
  }
  expect(found).toEqual([]);
});

test.skipIf(!onPostgres)(
  "the key's own statements live within REQUEST_TIMEOUT_MS; a claim that lands after the answer is released",
  async () => {
    const s = await startHarness({ REQUEST_TIMEOUT_MS: '300' });
    try {
      const token = await s.staffToken('COMPLIANCE');
      const body = create('Utrecht late claim');
      const send = () =>
        s.app.fetch('http://registry.test/graphql', {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${token}`,
            'idempotency-key': 'late-1',
          },
          body,
        });
      const lock = await s.database.sql!.reserve();
      await lock`begin`;
      await lock`lock table idempotency_keys in access exclusive mode`; // the claim itself waits
      const t0 = Date.now();
      const first = await send();
      const ms = Date.now() - t0;
      await lock`commit`;
      lock.release();
      expect(first.status).toBe(503);
      expect(((await first.json()) as any).errors[0].extensions.code).toBe('TIMEOUT');
      expect(ms).toBeLessThan(1_000);
      // The claim lands once the table is free; nothing ran under it, so it is let go, and a retry (told to
      // wait while the claim is there) runs, once — never "outcome unknown".
      const retry = await retryWhileWaiting(send);
      expect(retry.status).toBe(200);
      expect(((await retry.json()) as any).data.createOffice.office.name).toBe('Utrecht late claim');
      const r: any = await s.database.db.execute(
        sql`select count(*)::int as n from offices where name = 'Utrecht late claim'`,
      );
      expect(rowsOf<any>(r)[0].n).toBe(1);
    } finally {
      await s.stop();
    }
  },
);

test.skipIf(!onPostgres)(
  'a key whose request died resolves to IDEMPOTENCY_OUTCOME_UNKNOWN once its deadline has passed, not IN_PROGRESS for 24 hours',
  async () => {
    const a = await startHarness({ REQUEST_TIMEOUT_MS: '1000' });
    const b = await openServices(a.config); // a second instance on the same database
    try {
      const appB = createApp(b);
      const token = await a.staffToken('COMPLIANCE');
      const body = create('Utrecht orphan');
      const send = (app: typeof appB) =>
        app.fetch('http://registry.test/graphql', {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${token}`,
            'idempotency-key': 'orphan-1',
          },
          body,
        });
      const lock = await b.database.sql!.reserve();
      await lock`begin`;
      await lock`lock table offices in share mode`; // the write waits at its insert
      const first = send(a.app);
      const claimed = async () => {
        const r: any = await b.database.db.execute(
          sql`select count(*)::int as n from idempotency_keys where key = 'orphan-1'`,
        );
        return rowsOf<any>(r)[0].n as number;
      };
      for (let i = 0; i < 40 && (await claimed()) === 0; i++) await new Promise((r) => setTimeout(r, 25));
      expect(await claimed()).toBe(1);
      // Instance A loses its database mid-request: its write fails, and so does storing the answer under the key.
      await a.database.sql!.end({ timeout: 0 });
      // Within the first request's deadline a retry is told to wait; past it, the outcome is unknown — for good.
      // (The first request may end at once or only at its deadline: the retry is sent before either.)
      const early = await send(appB);
      expect(early.status).toBe(409);
      expect(((await early.json()) as any).errors[0].extensions.code).toBe('IDEMPOTENCY_IN_PROGRESS');
      expect((await first).status).toBe(503);
      await new Promise((r) => setTimeout(r, 1_200));
      const late = await send(appB);
      expect(late.status).toBe(409);
      expect(((await late.json()) as any).errors[0].extensions).toMatchObject({ code: 'IDEMPOTENCY_OUTCOME_UNKNOWN' });
      await lock`commit`;
      lock.release();
      const again = await send(appB);
      expect(((await again.json()) as any).errors[0].extensions.code).toBe('IDEMPOTENCY_OUTCOME_UNKNOWN');
      const r: any = await b.database.db.execute(
        sql`select count(*)::int as n from offices where name = 'Utrecht orphan'`,
      );
      expect(rowsOf<any>(r)[0].n).toBe(0);
    } finally {
      await b.close();
      await a.stop();
    }
  },
);
