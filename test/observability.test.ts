// Logs: one JSON line per request with request id, operation, actor, status and duration — and never a
// token or a value sent in variables. Metrics: per-operation counts and latency, pool use, token checks,
// readable only from loopback or with METRICS_TOKEN. Readiness: false during shutdown or without a database.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp } from '../src/app.js';
import { contractorWithToken, ok } from './fixtures.js';
import { capturingLogger, startHarness, type Harness } from './harness.js';

let h: Harness;
let app: ReturnType<typeof createApp>;
const { logger, lines } = capturingLogger('debug');
let compliance: string;
let contractorToken: string;

beforeAll(async () => {
  h = await startHarness();
  // The same services, a second app whose log we capture.
  app = createApp({ ...h, logger });
  compliance = await h.staffToken('COMPLIANCE', 'alice@example.com');
  contractorToken = (await contractorWithToken(h, compliance, { name: 'Observed Co' })).token;
});
afterAll(async () => {
  await h?.stop();
});

async function call(
  token: string | undefined,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
  address = '127.0.0.1',
) {
  const res = await app.fetch(
    'http://registry.test/graphql',
    {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: JSON.stringify({ query, variables }),
    },
    { req: { socket: { remoteAddress: address } } } as never,
  );
  return { res, body: await res.json() };
}

const metricsOf = async (headers: Record<string, string> = {}, address = '127.0.0.1', target = app) =>
  target.fetch('http://registry.test/metrics', { headers }, { req: { socket: { remoteAddress: address } } } as never);

describe('logs', () => {
  const secretValues = ['Zzyzx Hidden Lane 7', 'jane.private@example.org', 'Quietplace GmbH'];

  beforeAll(async () => {
    await call(
      compliance,
      `mutation CreateOffice($input: CreateOfficeInput!) { createOffice(input: $input) { __typename } }`,
      { input: { name: 'Hidden office', legalEntity: 'Quietplace GmbH', country: 'DE', city: 'Zzyzx Hidden Lane 7' } },
      { 'x-request-id': 'req-abc-123' },
    );
    await call(
      compliance,
      `mutation Register($input: RegisterContractorInput!) { registerContractor(input: $input) { __typename } }`,
      {
        input: {
          legalName: 'Logged Ltd',
          country: 'FR',
          services: ['HOSTING'],
          role: 'PROCESSOR',
          contactEmail: 'jane.private@example.org',
        },
      },
    );
    await call(contractorToken, 'query Mine { viewer { subject } }');
    await call('eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl', '{ viewer { subject } }');
    await call(compliance, '{ nosuchfield }');
  });

  const parsed = () => lines.map((l) => JSON.parse(l));

  test('one JSON line per request: request id (echoed), operation, actor, status, duration', async () => {
    const { res } = await call(compliance, 'query Who { viewer { subject } }', undefined, {
      'x-request-id': 'trace-42',
    });
    expect(res.headers.get('x-request-id')).toBe('trace-42');
    const line = parsed().find((l) => l.reqId === 'trace-42');
    expect(line).toMatchObject({
      msg: 'request',
      route: '/graphql',
      status: 200,
      operation: 'Who',
      actor: 'alice@example.com',
      actorKind: 'staff',
      method: 'POST',
    });
    expect(typeof line.durationMs).toBe('number');
    expect(parsed().find((l) => l.reqId === 'req-abc-123')).toMatchObject({ operation: 'CreateOffice', status: 200 });
    expect(parsed().find((l) => l.operation === 'Mine')).toMatchObject({ actorKind: 'contractor' });
    expect(parsed().find((l) => l.status === 401)).toBeDefined();
    expect(parsed().find((l) => l.errorCodes?.includes('GRAPHQL_VALIDATION_FAILED'))).toBeDefined();
  });

  test('a request id that is not a plain identifier is replaced', async () => {
    const { res } = await call(compliance, '{ viewer { subject } }', undefined, {
      'x-request-id': 'bad id\nwith "quotes"',
    });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('no token, no signature, no value from variables appears in the log', () => {
    const text = lines.join('\n');
    expect(lines.length).toBeGreaterThanOrEqual(5);
    for (const t of [compliance, contractorToken]) {
      expect(text).not.toContain(t);
      expect(text).not.toContain(t.split('.')[2]!);
      expect(text).not.toContain(t.split('.')[1]!.slice(0, 40));
    }
    expect(text).not.toContain('c2lnbmF0dXJl');
    for (const v of secretValues) expect(text).not.toContain(v);
    expect(text).not.toMatch(/authorization|bearer/i);
  });

  test('expected refusals are logged at info with their code, never at error level as unexpected', async () => {
    const office = await ok(
      h,
      compliance,
      'createOffice',
      'CreateOfficeInput',
      { name: 'Log office', legalEntity: 'Log GmbH', country: 'DE', city: 'Bonn' },
      'office',
    );
    const from = lines.length;
    // [request id, query, variables, what the answer says, the codes its log line carries]
    const refusals: [string, string, Record<string, unknown> | undefined, string, string[] | undefined][] = [
      [
        'thrown-validation',
        '{ contractor(id: "not-an-id") { legalName } }',
        undefined,
        'VALIDATION_FAILED',
        ['VALIDATION_FAILED'],
      ],
      [
        'deep-list',
        `{ viewer(x: ${'['.repeat(9000)}${']'.repeat(9000)}) { kind } }`,
        undefined,
        'QUERY_LIMIT_EXCEEDED',
        ['QUERY_LIMIT_EXCEEDED'],
      ],
      [
        'wide-record',
        'mutation($input: ImportSharedRecordsInput!) { importSharedRecords(input: $input) { __typename } }',
        {
          input: {
            officeId: office.id,
            records: [
              {
                subjectRef: 'wide',
                values: Object.fromEntries(Array.from({ length: 70_000 }, (_, i) => [`k${i}`, 'v'])),
              },
            ],
          },
        },
        '"__typename":"ValidationError"',
        undefined,
      ], // a typed error in the payload: no error code in the response
    ];
    for (const [id, query, variables, says] of refusals) {
      const { res, body } = await call(compliance, query, variables, { 'x-request-id': id });
      expect(res.status, id).toBeLessThan(500);
      expect(JSON.stringify(body), id).toContain(says);
      // A resolver's expected failure keeps the field it belongs to.
      if (id === 'thrown-validation')
        expect(body.errors[0]).toMatchObject({ path: ['contractor'], locations: [{ line: 1, column: 3 }] });
    }
    const logged = lines.slice(from).map((l) => JSON.parse(l));
    expect(
      logged.filter((l) => l.level >= 40),
      JSON.stringify(logged),
    ).toEqual([]);
    expect(logged.filter((l) => l.msg === 'unexpected error' || l.unexpected)).toEqual([]);
    for (const [id, , , , codes] of refusals) {
      const line = logged.find((l) => l.reqId === id);
      expect(line, id).toMatchObject({ level: 30, msg: 'request' });
      expect(line.errorCodes, id).toEqual(codes);
    }
  });

  test('an unexpected database error is logged by class and SQLSTATE, without SQL or values', async () => {
    const h2 = await startHarness();
    const { logger: ownLogger, lines: own } = capturingLogger('info');
    const app2 = createApp({ ...h2, logger: ownLogger });
    try {
      const token = await h2.staffToken('AUDITOR');
      await h2.asOwner('alter table offices rename to offices_gone');
      // Development mode is where Yoga would attach the original error (whose message quotes the SQL).
      const mode = process.env.NODE_ENV;
      process.env.NODE_ENV = 'development';
      let answer: string;
      try {
        const res = await app2.fetch('http://registry.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: 'query Offices { offices { nodes { name } } }' }),
        });
        answer = await res.text();
      } finally {
        process.env.NODE_ENV = mode;
      }
      expect(JSON.parse(answer).errors[0].message).toBe('Unexpected error.');
      expect(answer).not.toMatch(/originalError|offices_gone|select |stack/i);
      const text = own.join('\n');
      expect(text).toMatch(/"unexpected":\[\{"errorType":"DrizzleQueryError","sqlState":"42P01"\}\]/);
      expect(text).not.toMatch(/select |SELECT |offices_gone|"offices"| from /);
    } finally {
      await h2.stop();
    }
  });
});

describe('metrics', () => {
  test('per-operation counts and latency, pool use, token verifications and refusals', async () => {
    await call(compliance, 'query Counted { viewer { subject } }');
    await call(compliance, 'query Counted { viewer { subject } }');
    await call('garbage.token.here', '{ viewer { subject } }');
    const res = await metricsOf();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/registry_graphql_requests_total\{operation="Counted",outcome="ok"\} 2/);
    expect(text).toMatch(/registry_graphql_request_duration_seconds_count\{operation="Counted"\} 2/);
    expect(text).toMatch(/registry_graphql_request_duration_seconds_bucket\{le="0.1",operation="Counted"\} \d/);
    expect(text).toMatch(/registry_token_verifications_total\{result="accepted"\} \d+/);
    expect(text).toMatch(/registry_token_verifications_total\{result="refused"\} [1-9]/);
    expect(text).toMatch(/registry_db_pool_in_use \d+/);
    expect(text).toMatch(/registry_db_pool_max \d+/);
    expect(text).toMatch(/registry_db_statements_total [1-9]/);
    expect(text).toMatch(/registry_http_responses_total\{route="graphql",status="401"\} [1-9]/);
    expect(text).not.toContain(compliance);
  });

  test('operation names cannot blow up the label set: at most 200 names, the rest and overlong ones count as other', async () => {
    const overlong = `Op_${'x'.repeat(80)}`;
    for (const name of [...Array.from({ length: 210 }, (_, i) => `Op_${i}`), overlong]) {
      const { res } = await call(compliance, `query ${name} { viewer { subject } }`);
      expect(res.status).toBe(200);
    }
    const text = await (await metricsOf()).text();
    const labels = new Set(
      [...text.matchAll(/registry_graphql_requests_total\{operation="([^"]+)"/g)].map((m) => m[1]),
    );
    expect(labels.size, [...labels].filter((l) => !l!.startsWith('Op_')).join(' ')).toBeLessThanOrEqual(200 + 3); // 200 names, plus "anonymous", "other" and "none" (refused before parsing)
    expect(labels).toContain('other');
    expect(labels).toContain('Op_0');
    expect(labels).not.toContain('Op_209');
    expect(labels).not.toContain(overlong);
  });

  test('only loopback may read /metrics without METRICS_TOKEN', async () => {
    expect((await metricsOf({}, '203.0.113.5')).status).toBe(403);
  });

  test('with METRICS_TOKEN, only a request bearing it', async () => {
    const m = await startHarness({ METRICS_TOKEN: 'metrics-secret-0123456789' });
    try {
      expect((await metricsOf({}, '127.0.0.1', m.app)).status).toBe(403);
      expect((await metricsOf({ authorization: 'Bearer wrong-secret-0123456789' }, '203.0.113.5', m.app)).status).toBe(
        403,
      );
      expect(
        (await metricsOf({ authorization: 'Bearer metrics-secret-0123456789' }, '203.0.113.5', m.app)).status,
      ).toBe(200);
      expect(
        (await metricsOf({ authorization: 'bearer metrics-secret-0123456789' }, '203.0.113.5', m.app)).status,
      ).toBe(200); // scheme: any case
    } finally {
      await m.stop();
    }
  });
});

describe('readiness', () => {
  test('/ready is false while shutting down, /health stays up', async () => {
    let accepting = true;
    const a = createApp({ ...h, isAccepting: () => accepting });
    expect((await a.fetch('http://registry.test/ready')).status).toBe(200);
    accepting = false;
    const res = await a.fetch('http://registry.test/ready');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ready: false });
    expect((await a.fetch('http://registry.test/health')).status).toBe(200);
  });

  test('/ready is false once the database is gone, and says so quietly (debug, not error)', async () => {
    const r = await startHarness();
    const { logger: probeLogger, lines: probeLines } = capturingLogger('debug');
    const probeApp = createApp({ ...r, logger: probeLogger });
    try {
      expect((await probeApp.fetch('http://registry.test/ready')).status).toBe(200);
      await r.database.close();
      expect((await probeApp.fetch('http://registry.test/ready')).status).toBe(503);
      expect((await probeApp.fetch('http://registry.test/health')).status).toBe(200);
      const ready = probeLines.map((l) => JSON.parse(l)).filter((l) => l.route === '/ready');
      expect(ready.map((l) => [l.status, l.level])).toEqual([
        [200, 20],
        [503, 20],
      ]);
    } finally {
      await r.stop().catch(() => {});
    }
  });
});
