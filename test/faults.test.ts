// Faults, against a PostgreSQL this test starts for itself (never the machine's shared server):
// PostgreSQL stopped and restarted under a steady write load — the service recovers without a restart
// and every acknowledged write is in the table; the pool exhausted — requests fail fast with a clear
// error and /health stays up; SIGTERM under load — /ready fails first, requests in flight complete,
// the process exits 0 within its grace period. Every loop is bounded in count and time.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp } from '../src/app.js';
import { issueStaffToken } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config.js';
import { openServices } from '../src/services.js';
import { findPostgres, freePort, startPrivatePostgres, type PrivatePostgres } from './private-postgres.js';
import { until } from './until.js';

const found = findPostgres();
const skip = 'skip' in found ? found.skip : undefined;
if (skip) console.warn(`faults.test.ts skipped: ${skip}`);

let pg: PrivatePostgres;
const secret = randomBytes(32).toString('base64url');
const dirs: string[] = [];

beforeAll(async () => {
  if (!skip) pg = await startPrivatePostgres((found as { bin: string }).bin);
}, 60_000);
afterAll(async () => {
  await pg?.destroy();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh database on the private server, and an app in this process on it. */
async function startApp(env: Record<string, string> = {}) {
  const name = `faults_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(pg.url);
  url.pathname = `/${name}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'registry-faults-'));
  dirs.push(dataDir);
  const config = loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    DATABASE_URL: url.toString(),
    KEY_ENCRYPTION_SECRET: secret,
    RATE_LIMIT_PER_TOKEN: '0',
    RATE_LIMIT_PER_ADDRESS: '0',
    DB_CONNECT_TIMEOUT_SECONDS: '2',
    ...env,
  });
  const services = await openServices(config);
  const app = createApp(services);
  const token = (await issueStaffToken(services.keys, services.tokenSettings, 'COMPLIANCE', 'faults@example.com', 3600))
    .token;
  return { services, app, token, url: url.toString(), config, dataDir };
}

/**
 * Takes every connection of the app's pool with a statement that waits on an advisory lock this test holds, and
 * resolves once both wait (seen in pg_locks): the pool is then full for as long as the test wants, however slow
 * the machine. `release` lets them finish.
 */
async function holdBothConnections(
  services: { database: { db: { execute(q: unknown): Promise<unknown> } } },
  url: string,
) {
  const KEY = 4242;
  const locker = postgres(url, { max: 1, onnotice: () => {} });
  await locker`select pg_advisory_lock(${KEY})`;
  // drizzle sends a statement when it is awaited: `then` sends these now.
  const holds = [1, 2].map(() =>
    services.database.db.execute(sql`select pg_advisory_xact_lock_shared(${KEY})`).then(() => undefined),
  );
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await locker`select pg_advisory_unlock(${KEY})`;
    await Promise.all(holds);
    await locker.end();
  };
  try {
    await until(async () => {
      const [row] = await locker<{ n: number }[]>`select count(*)::int as n from pg_locks
        where locktype = 'advisory' and objid = ${KEY} and not granted
          and database = (select oid from pg_database where datname = current_database())`;
      return row!.n === 2;
    }, 'both connections to wait on the lock');
  } catch (e) {
    await release();
    throw e;
  }
  return release;
}

/** The real server as a child process on the private PostgreSQL; resolves once /ready answers 200. */
async function spawnServer(url: string, dataDir: string, env: Record<string, string> = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: url,
      KEY_ENCRYPTION_SECRET: secret,
      PORT: String(port),
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      RATE_LIMIT_PER_TOKEN: '0',
      RATE_LIMIT_PER_ADDRESS: '0',
      DB_CONNECT_TIMEOUT_SECONDS: '2',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += String(d);
  });
  const exited = new Promise<{ code: number | null; at: number }>((r) =>
    child.once('exit', (code) => r({ code, at: Date.now() })),
  );
  const base = `http://127.0.0.1:${port}`;
  let up = false;
  // Starting tsx takes seconds, and many more on a machine busy with other test files.
  const startBy = Date.now() + 60_000;
  while (Date.now() < startBy && !up && child.exitCode === null) {
    try {
      up = (await fetch(`${base}/ready`)).ok;
    } catch {
      // not listening yet
    }
    if (!up) await sleep(100);
  }
  if (!up) throw new Error(`server did not start: ${stderr}`);
  return { child, exited, base, stderr: () => stderr };
}

const post = (base: string, token: string, query: string, variables?: unknown) =>
  fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

const CREATE = `mutation($input: CreateOfficeInput!) { createOffice(input: $input) { __typename ... on CreateOfficePayload { office { id } } ... on Error { code message } } }`;
const officeInput = (i: number) => ({
  name: `Office ${i}`,
  legalEntity: 'Fault Tolerant GmbH',
  country: 'DE',
  city: 'Berlin',
});
const rawId = (globalId: string) => Number(Buffer.from(globalId, 'base64').toString().split(':')[1]);

async function gql(
  app: { fetch: (...a: any[]) => Response | Promise<Response> },
  token: string,
  query: string,
  variables?: unknown,
) {
  const res = await app.fetch('http://registry.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe.skipIf(!!skip)('PostgreSQL stopped and restarted under write load', () => {
  test('the server recovers without a restart and loses no acknowledged write', async () => {
    const { services, token, url, dataDir } = await startApp();
    // Only the server process may see the outage: this process's connections close before it (and before
    // anything here can fail: a connection left open would meet the outage in this process).
    await services.close();
    const server = await spawnServer(url, dataDir, { REQUEST_TIMEOUT_MS: '2000' });
    const acknowledged: number[] = [];
    const failures: Record<string, number> = {};
    let i = 0;
    let stop = false;
    let ackedAfterRestart = 0;
    let restarted = false;
    const deadline = Date.now() + 40_000;
    const writer = async () => {
      while (!stop && Date.now() < deadline && i < 5_000) {
        const n = i++;
        const r = await post(server.base, token, CREATE, { input: officeInput(n) }).catch((e) => ({
          status: 0,
          body: { errors: [{ extensions: { code: `fetch: ${(e as Error).message}` } }] } as any,
        }));
        const id = r.body.data?.createOffice?.office?.id;
        if (id) {
          acknowledged.push(rawId(id));
          if (restarted) ackedAfterRestart++;
        } else {
          const code = r.body.errors?.[0]?.extensions?.code ?? r.body.data?.createOffice?.code ?? `status ${r.status}`;
          failures[code] = (failures[code] ?? 0) + 1;
          await sleep(50);
        }
      }
    };
    const writers = Array.from({ length: 4 }, writer);
    let outage: Record<string, unknown> = {};
    try {
      await until(() => acknowledged.length > 5, 'writes to be acknowledged before the fault', 30_000);
      await pg.stop('fast');
      // While it is down: writes fail with a clear error within the deadline, readiness says no, health stays up.
      await sleep(500);
      const r0 = Date.now();
      expect((await fetch(`${server.base}/ready`)).status).toBe(503);
      const readyMs = Date.now() - r0;
      expect((await fetch(`${server.base}/health`)).status).toBe(200);
      const t0 = Date.now();
      const down = await post(server.base, token, CREATE, { input: officeInput(-1) });
      const downMs = Date.now() - t0;
      expect(down.status).toBe(503);
      expect(['DATABASE_UNAVAILABLE', 'TIMEOUT', 'DATABASE_BUSY']).toContain(down.body.errors[0].extensions.code);
      expect(downMs).toBeLessThan(3_000);
      outage = { readyMs, downMs, downCode: down.body.errors[0].extensions.code };
      await sleep(1_000);
      await pg.start();
      restarted = true;
      // Recovery: writes succeed again through the same process, readiness comes back.
      await until(() => ackedAfterRestart >= 20, '20 writes acknowledged after the restart', 30_000);
      // Readiness pings on a pooled connection; one probe can still meet a connection the crash broke (it is
      // replaced then), so readiness must come back within a few probes, not on the very first.
      let readyAgain = false;
      for (let k = 0; k < 30 && !readyAgain; k++) {
        readyAgain = (await fetch(`${server.base}/ready`)).status === 200;
        if (!readyAgain) await sleep(100);
      }
      expect(readyAgain).toBe(true);
      expect(server.child.exitCode).toBeNull();
    } finally {
      stop = true;
      await Promise.all(writers);
      server.child.kill('SIGTERM');
      await server.exited;
    }
    const check = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const rows = await check<{ id: number }[]>`select id from offices`;
      const stored = new Set(rows.map((r) => Number(r.id)));
      const lost = acknowledged.filter((id) => !stored.has(id));
      console.log(
        JSON.stringify({
          scenario: 'restart',
          acknowledged: acknowledged.length,
          afterRestart: ackedAfterRestart,
          stored: stored.size,
          lost: lost.length,
          failures,
          ...outage,
          driverWriteAfterClose: (server.stderr().match(/wrote to a closed connection/g) ?? []).length,
        }),
      );
      expect(lost).toEqual([]);
      expect(new Set(acknowledged).size).toBe(acknowledged.length);
    } finally {
      await check.end();
    }
  }, 90_000);
});

describe.skipIf(!!skip)('connection pool exhausted', () => {
  test('requests fail fast with a clear error, /health stays up, service recovers', async () => {
    const { services, app, token, url } = await startApp({
      DB_POOL_MAX: '2',
      DB_POOL_QUEUE_LIMIT: '2',
      // This test counts the pool's connections exactly; the audit sealer's periodic run would take one.
      AUDIT_SEAL_INTERVAL_MS: '0',
      REQUEST_TIMEOUT_MS: '1500',
      STATEMENT_TIMEOUT_MS: '10000',
    });
    let release = async () => {};
    try {
      expect((await gql(app, token, '{ offices { nodes { id } } }')).body.errors).toBeUndefined();
      // Two statements that wait on the test's lock take both connections.
      release = await holdBothConnections(services, url);
      // Two requests queue for a connection and end at the request deadline.
      const queued = [1, 2].map(async () => {
        const t0 = Date.now();
        const r = await gql(app, token, '{ offices { nodes { id } } }');
        return { ...r, ms: Date.now() - t0 };
      });
      await until(() => services.database.pool.waiting() === 2, 'two statements waiting for a connection');
      // Now the queue is full: further requests are refused at once.
      const t0 = Date.now();
      const busy = await gql(app, token, '{ offices { nodes { id } } }');
      const busyMs = Date.now() - t0;
      expect(busy.status, JSON.stringify(busy.body)).toBe(503);
      expect(busy.body.errors[0].extensions.code).toBe('DATABASE_BUSY');
      expect(busy.body.errors[0].message).toMatch(/all 2 connections in use and 2 statements waiting/);
      expect(busyMs).toBeLessThan(200);
      const h0 = Date.now();
      expect((await app.fetch('http://registry.test/health')).status).toBe(200);
      expect(Date.now() - h0).toBeLessThan(100);
      for (const q of await Promise.all(queued)) {
        expect(q.status).toBe(503);
        expect(q.body.errors[0].extensions.code).toBe('TIMEOUT');
        expect(q.ms).toBeLessThan(2_500);
      }
      const metrics = await (
        await app.fetch('http://registry.test/metrics', {}, {
          req: { socket: { remoteAddress: '127.0.0.1' } },
        } as never)
      ).text();
      expect(metrics).toMatch(/registry_db_pool_waiting [1-9]/);
      expect(metrics).toMatch(/registry_refusals_total\{reason="database_busy"\} [1-9]/);
      console.log(JSON.stringify({ scenario: 'pool', busyMs, queuedMs: (await Promise.all(queued)).map((q) => q.ms) }));
      await release();
      for (let k = 0; k < 50 && services.database.pool.waiting() > 0; k++) await sleep(100);
      expect((await gql(app, token, '{ offices { nodes { id } } }')).body.errors).toBeUndefined();
    } finally {
      await release();
      await services.close();
    }
  }, 60_000);
});

describe.skipIf(!!skip)('SIGTERM under load', () => {
  test('readiness fails first, requests in flight complete, exit 0 within the grace period', async () => {
    const { services, token, url, dataDir } = await startApp();
    const grace = 8_000;
    const { child, exited, base } = await spawnServer(url, dataDir, {
      SHUTDOWN_GRACE_MS: String(grace),
      SHUTDOWN_DELAY_MS: '1500',
    });
    const lock = postgres(url, { max: 1, onnotice: () => {} });
    try {
      // Hold the offices table so that writes stay in flight.
      let release!: () => void;
      const released = new Promise<void>((r) => {
        release = r;
      });
      const locked = new Promise<void>((ready) => {
        void lock.begin(async (tx) => {
          await tx`lock table offices in access exclusive mode`;
          ready();
          await released;
        });
      });
      await locked;
      const inFlight = Array.from({ length: 6 }, (_, n) =>
        fetch(`${base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query: CREATE, variables: { input: officeInput(1000 + n) } }),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as any })),
      );
      await sleep(500);
      const sigterm = Date.now();
      child.kill('SIGTERM');
      await sleep(200);
      const ready = await fetch(`${base}/ready`);
      expect(ready.status).toBe(503);
      expect(child.exitCode).toBeNull();
      await sleep(800);
      release();
      const results = await Promise.all(inFlight);
      for (const r of results)
        expect(r.body.data?.createOffice?.__typename, JSON.stringify(r.body)).toBe('CreateOfficePayload');
      const { code, at } = await exited;
      expect(code).toBe(0);
      expect(at - sigterm).toBeLessThan(grace);
      const ids = results.map((r) => rawId(r.body.data.createOffice.office.id));
      const rows = await lock<{ id: number }[]>`select id from offices where id in ${lock(ids)}`;
      expect(rows).toHaveLength(6);
      console.log(
        JSON.stringify({ scenario: 'sigterm', inFlight: results.length, exitCode: code, exitMs: at - sigterm }),
      );
    } finally {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      await lock.end();
      await services.close();
    }
  }, 60_000);
});

describe.skipIf(!!skip)('PostgreSQL crashed (immediate stop) under write load', () => {
  test('writes resume once PostgreSQL accepts connections, nothing stays counted in use, SIGTERM drains in about a second', async () => {
    const { services, token, url, dataDir } = await startApp();
    await services.close();
    // The defaults (deadline, connect timeout, grace period, delay): the figures in the README are these.
    const server = await spawnServer(url, dataDir, { DB_CONNECT_TIMEOUT_SECONDS: '' });
    const grace = 10_000;
    const gauge = async (name: string) =>
      Number(new RegExp(`^${name} (\\d+)`, 'm').exec(await (await fetch(`${server.base}/metrics`)).text())?.[1]);
    const acknowledged: number[] = [];
    const outcomes: { sent: number; at: number; ok: boolean; code?: string }[] = [];
    let i = 0;
    let stop = false;
    const deadline = Date.now() + 60_000;
    const writer = async () => {
      while (!stop && Date.now() < deadline && i < 10_000) {
        const sent = Date.now();
        const r = await post(server.base, token, CREATE, { input: officeInput(i++) }).catch((e) => ({
          status: 0,
          body: { errors: [{ extensions: { code: `fetch: ${(e as Error).message}` } }] } as any,
        }));
        const id = r.body.data?.createOffice?.office?.id;
        outcomes.push({ sent, at: Date.now(), ok: Boolean(id), code: r.body.errors?.[0]?.extensions?.code });
        if (id) acknowledged.push(rawId(id));
        else await sleep(20);
      }
    };
    let writers = Array.from({ length: 4 }, writer);
    try {
      await until(() => acknowledged.length > 5, 'writes to be acknowledged before the fault', 30_000);
      const crashedAt = Date.now();
      await pg.stop('immediate');
      await sleep(6_000);
      const started = pg.start();
      // The moment PostgreSQL accepts connections, as a fresh client of this test sees it.
      let acceptedAt = 0;
      for (let k = 0; k < 1_000 && !acceptedAt; k++) {
        const probe = postgres(url, { max: 1, connect_timeout: 1, onnotice: () => {} });
        await probe`select 1`.then(
          () => {
            acceptedAt = Date.now();
          },
          () => sleep(20),
        );
        await probe.end({ timeout: 0 });
      }
      await started;
      expect(acceptedAt).toBeGreaterThan(0);
      await sleep(2_000);
      stop = true;
      await Promise.all(writers);
      const resumedMs = (outcomes.find((o) => o.ok && o.at > acceptedAt)?.at ?? Infinity) - acceptedAt;
      const lateFailures = outcomes.filter((o) => !o.ok && o.at > acceptedAt);
      const lastFailureMs = Math.max(0, ...lateFailures.map((o) => o.at - acceptedAt));
      // Nothing runs now, so nothing may be counted in use: statements abandoned at the deadline included.
      let inUse = NaN;
      for (let k = 0; k < 20 && inUse !== 0; k++) {
        inUse = await gauge('registry_db_pool_in_use');
        if (inUse !== 0) await sleep(50);
      }
      // SIGTERM with clients still writing on keep-alive connections: every answer after the listener has
      // closed says Connection: close, so no client holds the server open until the grace period runs out.
      stop = false;
      writers = Array.from({ length: 4 }, writer);
      await sleep(300);
      const sigterm = Date.now();
      server.child.kill('SIGTERM');
      const { code, at } = await server.exited;
      stop = true;
      await Promise.all(writers);
      const drainMs = at - sigterm;
      console.log(
        JSON.stringify({
          scenario: 'crash',
          downMs: acceptedAt - crashedAt,
          resumedMs,
          lastFailureMs,
          inUseAfter: inUse,
          drainMs,
          exitCode: code,
          acknowledged: acknowledged.length,
          failuresAfterAccept: lateFailures.map(
            (o) => `${o.code} sent ${o.sent - acceptedAt} ms, answered ${o.at - acceptedAt} ms`,
          ),
        }),
      );
      // Bounded by DB_CONNECT_TIMEOUT_SECONDS (2 s) plus the reconnect backoff's cap (0.5 s); typically under 0.1 s.
      expect(resumedMs).toBeLessThan(2_500);
      // A connection attempt that PostgreSQL's restart caught can hang until DB_CONNECT_TIMEOUT_SECONDS (2 s)
      // ends it, and writes queued behind it fail then (DATABASE_UNAVAILABLE); none fails later than that.
      expect(lastFailureMs).toBeLessThan(2_500);
      for (const o of lateFailures) expect(o.code).toBe('DATABASE_UNAVAILABLE');
      expect(inUse).toBe(0);
      expect(code).toBe(0);
      // SHUTDOWN_DELAY_MS (1 s), then requests in flight and the pool's close: about a second on a quiet
      // machine; what matters is that nothing waits for the grace period.
      expect(drainMs).toBeLessThan(grace / 2);
    } finally {
      stop = true;
      await Promise.all(writers);
      if (server.child.exitCode === null) {
        server.child.kill('SIGKILL');
        await server.exited;
      }
    }
    const check = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const stored = new Set((await check<{ id: number }[]>`select id from offices`).map((r) => Number(r.id)));
      expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
    } finally {
      await check.end();
    }
  }, 120_000);
});

describe.skipIf(!!skip)('pool gauges', () => {
  test('a transaction waiting for a connection counts once, as one statement waiting', async () => {
    const { services, app, token, url } = await startApp({
      DB_POOL_MAX: '2',
      DB_POOL_QUEUE_LIMIT: '10',
      // Counts the pool's connections exactly: no sealer run may take one meanwhile.
      AUDIT_SEAL_INTERVAL_MS: '0',
      STATEMENT_TIMEOUT_MS: '10000',
    });
    const metrics = async () =>
      (
        await app.fetch('http://registry.test/metrics', {}, {
          req: { socket: { remoteAddress: '127.0.0.1' } },
        } as never)
      ).text();
    let release = async () => {};
    try {
      // Two statements that wait on the test's lock take both connections; then one mutation (a transaction)
      // waits for one.
      release = await holdBothConnections(services, url);
      const write = gql(app, token, CREATE, { input: officeInput(1) });
      await until(() => services.database.pool.waiting() > 0, 'the mutation to wait for a connection');
      const during = await metrics();
      expect(during).toMatch(/^registry_db_pool_in_use 3$/m);
      expect(during).toMatch(/^registry_db_pool_waiting 1$/m);
      await release();
      expect((await write).body.data.createOffice.__typename).toBe('CreateOfficePayload');
      const after = await metrics();
      expect(after).toMatch(/^registry_db_pool_in_use 0$/m);
      expect(after).toMatch(/^registry_db_pool_waiting 0$/m);
    } finally {
      await release();
      await services.close();
    }
  }, 30_000);
});

/** One write over HTTP, with its answer as text (nothing parsed away) and how long it took. */
async function write(base: string, token: string, name: string, key?: string) {
  const t0 = Date.now();
  try {
    const r = await fetch(`${base}/graphql`, {
      method: 'POST',
      body: JSON.stringify({ query: CREATE, variables: { input: { ...officeInput(0), name } } }),
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        ...(key ? { 'idempotency-key': key } : {}),
      },
    });
    const text = await r.text();
    return {
      status: r.status,
      text,
      contentType: r.headers.get('content-type') ?? '',
      requestId: r.headers.get('x-request-id'),
      replayed: r.headers.get('idempotent-replayed') === 'true',
      ms: Date.now() - t0,
    };
  } catch (e) {
    return {
      status: 0,
      text: `fetch: ${(e as Error).message}`,
      contentType: '',
      requestId: null,
      replayed: false,
      ms: Date.now() - t0,
    };
  }
}
type Answer = Awaited<ReturnType<typeof write>>;
const codeOf = (a: Answer) => {
  try {
    const b = JSON.parse(a.text);
    return b.errors?.[0]?.extensions?.code ?? b.data?.createOffice?.code;
  } catch {
    return undefined;
  }
};
/** A stack frame, a source path, SQL, a table or driver name: nothing of the kind may reach a client. */
const LEAK = /\bat .+:\d+:\d+|src\/|\.ts\b|insert into|update "|select |idempotency_keys|Drizzle|PostgresError|stack/i;

/** Retries a key as a client told to wait would, until it gets something else (at most `ms`). */
async function retryKey(base: string, token: string, name: string, key: string, ms = 8_000) {
  const until = Date.now() + ms;
  for (;;) {
    const a = await write(base, token, name, key);
    const code = codeOf(a);
    if (Date.now() > until || (code !== 'IDEMPOTENCY_IN_PROGRESS' && code !== 'IDEMPOTENCY_CONFLICT')) return a;
    await sleep(250);
  }
}

describe.skipIf(!!skip)('PostgreSQL crashed (immediate stop) under keyed and unkeyed writes', () => {
  test('no 500 and nothing of SQL or the source in any answer; every answer within the deadline; every key resolves', async () => {
    const { services, token, url, dataDir } = await startApp();
    const deadlineMs = 2_000;
    await services.close();
    const server = await spawnServer(url, dataDir, { REQUEST_TIMEOUT_MS: String(deadlineMs) });
    const answers: (Answer & { name: string; key?: string })[] = [];
    let n = 0;
    let stop = false;
    let restarted = false;
    let keyedAfterRestart = 0;
    const writer = (keyed: boolean) => async () => {
      while (!stop && n < 5_000) {
        const i = n++;
        const name = `Crash ${keyed ? 'keyed' : 'plain'} ${i}`;
        const key = keyed ? `crash-${i}` : undefined;
        const a = await write(server.base, token, name, key);
        answers.push({ ...a, name, key });
        if (a.status === 200 && keyed && restarted) keyedAfterRestart++;
        if (a.status !== 200) await sleep(50);
      }
    };
    const writers = [...Array.from({ length: 3 }, writer(true)), ...Array.from({ length: 3 }, writer(false))];
    try {
      await until(() => answers.some((a) => a.status === 200 && a.key), 'a keyed write to succeed first', 30_000);
      await pg.stop('immediate');
      await sleep(4_000);
      await pg.start();
      restarted = true;
      await until(() => keyedAfterRestart >= 20, '20 keyed writes acknowledged after the restart', 30_000);
    } finally {
      stop = true;
      await Promise.all(writers);
    }
    try {
      const failed = answers.filter((a) => a.status !== 200);
      const keyedFailed = failed.filter((a) => a.key);
      const byStatus: Record<string, number> = {};
      for (const a of answers)
        byStatus[`${a.key ? 'keyed' : 'plain'} ${a.status} ${codeOf(a) ?? ''}`.trim()] =
          (byStatus[`${a.key ? 'keyed' : 'plain'} ${a.status} ${codeOf(a) ?? ''}`.trim()] ?? 0) + 1;
      expect(keyedFailed.length, JSON.stringify(byStatus)).toBeGreaterThan(0); // the crash was met by keyed writes
      for (const a of answers) {
        expect(a.status, `${a.name}: ${a.text}`).not.toBe(500);
        expect(a.status, `${a.name}: ${a.text}`).not.toBe(0);
        expect(a.text, a.name).not.toMatch(LEAK);
        expect(a.contentType, a.name).toMatch(/json/);
        expect(a.requestId, a.name).toBeTruthy();
      }
      const slowest = Math.max(...answers.map((a) => a.ms));
      expect(slowest).toBeLessThan(deadlineMs + 1_500);
      // After recovery every key that failed resolves: its answer replayed, a run (nothing had run under it),
      // or "outcome unknown" — never "in progress" again, never a second effect.
      const resolved: Record<string, number> = {};
      for (const a of keyedFailed) {
        const r = await retryKey(server.base, token, a.name, a.key!);
        const code = codeOf(r) ?? (r.replayed ? 'replayed' : r.status === 200 ? 'ran' : `status ${r.status}`);
        resolved[code] = (resolved[code] ?? 0) + 1;
        expect(r.text).not.toMatch(LEAK);
        expect(['replayed', 'ran', 'IDEMPOTENCY_OUTCOME_UNKNOWN'], `${a.key}: ${r.status} ${r.text}`).toContain(
          r.replayed ? 'replayed' : r.status === 200 ? 'ran' : code,
        );
      }
      const check = postgres(url, { max: 1, onnotice: () => {} });
      try {
        const rows = await check<
          { name: string; n: number }[]
        >`select name, count(*)::int as n from offices where name like 'Crash keyed %' group by name having count(*) > 1`;
        expect(rows).toEqual([]);
        const acked = answers.filter((a) => a.status === 200).map((a) => a.name);
        const stored = new Set(
          (await check<{ name: string }[]>`select name from offices where name like 'Crash %'`).map((r) => r.name),
        );
        expect(acked.filter((name) => !stored.has(name))).toEqual([]);
      } finally {
        await check.end();
      }
      console.log(
        JSON.stringify({
          scenario: 'crash-keyed',
          answers: answers.length,
          byStatus,
          slowestMs: slowest,
          keyedFailed: keyedFailed.length,
          resolved,
        }),
      );
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 120_000);

  test('a key whose server process died mid-request resolves to IDEMPOTENCY_OUTCOME_UNKNOWN, not IN_PROGRESS for 24 hours', async () => {
    const { services, token, url, dataDir } = await startApp();
    const deadlineMs = 1_500;
    const first = await spawnServer(url, dataDir, { REQUEST_TIMEOUT_MS: String(deadlineMs) });
    const lock = postgres(url, { max: 1, onnotice: () => {} });
    let second: Awaited<ReturnType<typeof spawnServer>> | undefined;
    try {
      let release!: () => void;
      const released = new Promise<void>((r) => {
        release = r;
      });
      await new Promise<void>((ready) => {
        void lock.begin(async (tx) => {
          await tx`lock table offices in access exclusive mode`;
          ready();
          await released;
        });
      });
      const inFlight = write(first.base, token, 'Orphaned office', 'orphan-1');
      const claimed = async () =>
        (await services.database.sql!`select 1 from idempotency_keys where key = 'orphan-1'`).length > 0;
      for (let k = 0; k < 40 && !(await claimed()); k++) await sleep(25);
      expect(await claimed()).toBe(true);
      first.child.kill('SIGKILL');
      await first.exited;
      await inFlight;
      release();
      second = await spawnServer(url, dataDir, { REQUEST_TIMEOUT_MS: String(deadlineMs) });
      const r = await retryKey(second.base, token, 'Orphaned office', 'orphan-1', deadlineMs + 3_000);
      expect(r.status).toBe(409);
      expect(JSON.parse(r.text).errors[0].extensions.code).toBe('IDEMPOTENCY_OUTCOME_UNKNOWN');
      const again = await write(second.base, token, 'Orphaned office', 'orphan-1');
      expect(JSON.parse(again.text).errors[0].extensions.code).toBe('IDEMPOTENCY_OUTCOME_UNKNOWN');
      const rows = await lock<{ n: number }[]>`select count(*)::int as n from offices where name = 'Orphaned office'`;
      expect(rows[0]!.n).toBe(0); // its transaction died with its process
    } finally {
      if (first.child.exitCode === null) first.child.kill('SIGKILL');
      if (second) {
        second.child.kill('SIGTERM');
        await second.exited;
      }
      await lock.end();
      await services.close();
    }
  }, 60_000);
});
