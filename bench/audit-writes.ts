// npm run bench:writes [-- --seconds 8] [-- --million]
// The write path under load (issue 15 §5): createOffice mutations and contractor sharedRecords fetches (each fetch
// writes an audit event) per second at 16 and 64 connections, against the real server on a fresh PostgreSQL
// database. Prints one JSON line per level. With --million: also a log of 1,000,000 events, sealed, then verified
// inside the service (verifyAuditLog) and by the offline verifier's proofs, with the times.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { createApp } from '../src/app.js';
import { issueStaffToken } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config.js';
import { openServices } from '../src/services.js';
import { BENCH_PURPOSE, QUICK, analyze, seedRegistry } from './dataset.js';
import { measureHttp } from './load.js';
import { SHARED_RECORDS, body } from './queries.js';
import { healthReady, startServer } from './servers.js';
import { benchTokens } from './tokens.js';

const argv = process.argv.slice(2);
const seconds = Number(argv[argv.indexOf('--seconds') + 1] ?? 8) || 8;
const million = argv.includes('--million');
if (!process.env.DATABASE_URL) {
  console.error('needs DATABASE_URL (a PostgreSQL server it may create a database on)');
  process.exit(2);
}
const log = (msg: string) => console.error(`[writes ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const dbName = `registry_bench_writes_${process.pid}`;
const admin = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} });
const url = new URL(process.env.DATABASE_URL);
url.pathname = `/${dbName}`;
const env: Record<string, string> = {
  DATABASE_URL: url.toString(),
  DATA_DIR: mkdtempSync(join(tmpdir(), 'registry-bench-writes-')),
  KEY_ENCRYPTION_SECRET: 'benchmark-key-encryption-secret-0123456789',
  RATE_LIMIT_PER_TOKEN: '0',
  RATE_LIMIT_PER_ADDRESS: '0',
  DB_POOL_QUEUE_LIMIT: '1000',
};

async function main() {
  await admin.unsafe(`create database ${dbName}`);
  // In this process the log is sealed only when asked, so that sealing the million events is timed whole; the
  // server under load keeps its own sealer.
  const services = await openServices(
    loadConfig({ ...env, NODE_ENV: 'production', LOG_LEVEL: 'silent', AUDIT_SEAL_INTERVAL_MS: '0' }),
  );
  const sql = postgres(env.DATABASE_URL!, { max: 4, onnotice: () => {} });
  try {
    await seedRegistry(sql, QUICK);
    await analyze(sql);
    const app = createApp(services);
    const { staff, contractor } = await benchTokens(app, services);
    const createOffice = body(`mutation($input: CreateOfficeInput!) { createOffice(input: $input) { __typename } }`, {
      input: { name: 'Bench office', legalEntity: 'Bench GmbH', country: 'DE', city: 'Bonn' },
    });
    const scenarios = [
      ['createOffice', staff, createOffice],
      ['sharedRecords', contractor, body(SHARED_RECORDS, { purpose: BENCH_PURPOSE })],
    ] as const;
    // The SQL statements one request of each takes, counted in this process (its sealer runs only when asked).
    for (const [name, token, payload] of scenarios) {
      let statements = 0;
      const count = () => void statements++;
      services.database.onQuery.add(count);
      try {
        const r = await app.fetch('http://bench.local/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: payload,
        });
        if (!r.ok) throw new Error(`${name}: HTTP ${r.status}`);
        await r.text();
      } finally {
        services.database.onQuery.delete(count);
      }
      console.log(JSON.stringify({ name, statementsPerRequest: statements }));
    }
    const server = await startServer('server', 'src/server.ts', env, { ready: healthReady, path: '/graphql' });
    try {
      for (const connections of [16, 64]) {
        for (const [name, token, payload] of scenarios) {
          const m = await measureHttp(
            name,
            { url: server.url, headers: { authorization: `Bearer ${token}` }, body: payload },
            connections,
            seconds,
            connections * 2,
          );
          console.log(JSON.stringify({ name, connections, rps: Math.round(m.requestsPerSecond), p99: m.p99 }));
        }
      }
    } finally {
      await server.stop();
    }
    if (million) await millionEvents(services, sql);
  } finally {
    await sql.end();
    await services.close();
    await admin.unsafe(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  }
}

async function millionEvents(services: Awaited<ReturnType<typeof openServices>>, sql: postgres.Sql) {
  const { sealPending } = await import('../src/audit/seal.js');
  const { verifyAuditChain } = await import('../src/audit/verify.js');
  const { verifyRemoteLog } = await import('../src/audit/offline.js');
  await services.sealer.sealNow();
  const [row] = await sql`select count(*)::int as n from audit_events`;
  const n = Number(row?.n ?? 0);
  let t = Date.now();
  const todo = 1_000_000 - n;
  for (let done = 0; done < todo; done += 100_000)
    await sql`insert into audit_events (occurred_at, actor, actor_role, action, entity_type, entity_id, after)
      select now(), 'bench@example.com', 'COMPLIANCE', 'createOffice', 'Office', i::text,
        jsonb_build_object('name', 'Office ' || i, 'country', 'DE', 'city', 'Bonn')
      from generate_series(1, ${Math.min(100_000, todo - done)}) i`;
  log(`inserted ${todo} events in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  t = Date.now();
  const s = {
    signer: services.checkpointSigner,
    origin: services.config.tokenIssuer,
    checkpointEvery: 1000,
    checkpointSeconds: 60,
    now: () => new Date(),
    batch: 5000,
  };
  const sealed = await sealPending(services.database.db, s);
  if (sealed.busy || sealed.treeSize !== 1_000_000)
    throw new Error(`sealed a tree of ${sealed.treeSize}, not 1,000,000`);
  console.log(JSON.stringify({ step: 'seal', events: sealed.treeSize, seconds: (Date.now() - t) / 1000 }));
  t = Date.now();
  const v = await verifyAuditChain(services.database.db);
  console.log(
    JSON.stringify({ step: 'verifyAuditLog', ok: v.ok, checked: v.checked, seconds: (Date.now() - t) / 1000 }),
  );
  const app = createApp(services);
  const auditor = (await issueStaffToken(services.keys, services.tokenSettings, 'AUDITOR', 'auditor@example.com', 3600))
    .token;
  const fetcher = ((input: URL, init?: RequestInit) => app.fetch(input, init ?? {})) as typeof fetch;
  const saved = (await (await app.fetch('http://bench.local/.well-known/audit-checkpoint')).json()) as any;
  t = Date.now();
  const r = await verifyRemoteLog({ url: 'http://bench.local', token: auditor, saved, sample: 100, fetch: fetcher });
  console.log(JSON.stringify({ step: 'offline, 102 inclusion proofs', ok: r.ok, seconds: (Date.now() - t) / 1000 }));
  t = Date.now();
  const full = await verifyRemoteLog({
    url: 'http://bench.local',
    token: auditor,
    saved,
    sample: 0,
    full: true,
    fetch: fetcher,
  });
  console.log(JSON.stringify({ step: 'offline --full', ok: full.ok, seconds: (Date.now() - t) / 1000 }));
}

await main();
