// npm run bench:cpu [-- --reuse] [-- --keep] [-- --cpu-prof] [-- --requests N] [-- --rounds N] [-- --only word]
//                   [-- --against DIR]
// CPU time the server process spends per request, which a shared machine's load changes far less than wall-clock
// time. The real server (src/server.ts) and the hand-written SQL behind plain node:http (bench/sql-server.ts) run
// as child processes on the quick data set; this process sends each scenario's request N times, one at a time, and
// reads the child's user + system time (/proc/<pid>/stat) before and after. Several rounds, the median counts.
// PostgreSQL's own CPU is not in the figure: it is the same statement for both servers. Background work of the
// server (the audit sealer's timer) falls into every round alike.
// `--against DIR` also starts the server of another checkout (DIR, with its node_modules) on the same database and
// measures both in interleaved rounds: a before/after comparison that the machine's drifting load affects alike.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import postgres from 'postgres';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openServices } from '../src/services.js';
import {
  analyze,
  BENCH_PURPOSE,
  changeRegistryLater,
  historyEnd,
  insertTransfers,
  QUICK,
  seedRegistry,
} from './dataset.js';
import { body, CONTRACTORS_PAGE, SHARED_RECORDS, TRANSFERS_PAGE, VIEWER } from './queries.js';
import { benchServerEnv, healthReady, startServer, type ServerProcess } from './servers.js';
import { benchTokens } from './tokens.js';

const argv = process.argv.slice(2);
const option = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const reuse = argv.includes('--reuse');
const keep = argv.includes('--keep') || reuse;
const cpuProf = argv.includes('--cpu-prof');
/** Requests per round for a small answer; the contractors page gets a tenth of it. */
const REQUESTS = Number(option('--requests') ?? 400);
const ROUNDS = Number(option('--rounds') ?? 5);
/** `--only transfers` runs the scenarios whose name contains the word (with --cpu-prof: a profile of that alone). */
const only = option('--only');
const against = option('--against');

if (!process.env.DATABASE_URL) {
  console.error('npm run bench:cpu needs DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres)');
  process.exit(2);
}
const dbName = process.env.BENCH_DATABASE ?? 'registry_bench_cpu';
if (!/^[a-z_][a-z0-9_]*$/.test(dbName))
  throw new Error(`BENCH_DATABASE must be a plain lower-case identifier, not ${dbName}`);
const benchUrl = (() => {
  const u = new URL(process.env.DATABASE_URL!);
  u.pathname = `/${dbName}`;
  return u.toString();
})();
const log = (msg: string) => console.error(`[bench:cpu ${new Date().toISOString().slice(11, 19)}] ${msg}`);

/** User + system CPU of a process so far, in milliseconds (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

interface Target {
  path: string;
  headers: Record<string, string>;
  body: string;
}

async function send(server: ServerProcess, t: Target): Promise<void> {
  const res = await fetch(server.url + t.path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...t.headers },
    body: t.body,
  });
  const text = await res.text();
  if (res.status !== 200 || text.includes('"errors"'))
    throw new Error(`${server.name} ${t.path}: ${res.status} ${text.slice(0, 400)}`);
}

/** CPU milliseconds per request of each server, median of ROUNDS rounds of `n` sequential requests, rounds interleaved. */
async function cpuPerRequest(servers: ServerProcess[], t: Target, n: number): Promise<number[]> {
  for (const server of servers) for (let i = 0; i < Math.max(20, n / 2); i++) await send(server, t);
  const rounds = servers.map(() => [] as number[]);
  for (let r = 0; r < ROUNDS; r++)
    for (const [k, server] of servers.entries()) {
      const before = cpuMs(server.pid);
      for (let i = 0; i < n; i++) await send(server, t);
      rounds[k]!.push((cpuMs(server.pid) - before) / n);
    }
  return rounds.map((rs) => rs.sort((a, b) => a - b)[Math.floor(rs.length / 2)]!);
}

async function main() {
  const admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
  const exists = (await admin`select 1 from pg_database where datname = ${dbName}`).length > 0;
  const dataDir = mkdtempSync(join(tmpdir(), 'registry-bench-cpu-'));
  const serverEnv = benchServerEnv(benchUrl, dataDir);

  if (!(reuse && exists)) {
    await admin.unsafe(`drop database if exists ${dbName} with (force)`);
    await admin.unsafe(`create database ${dbName}`);
  }
  const config = loadConfig({ ...serverEnv, NODE_ENV: 'production', LOG_LEVEL: 'silent' });
  const services = await openServices(config);
  const sql = postgres(benchUrl, { max: 4, onnotice: () => {} });
  const servers: ServerProcess[] = [];
  try {
    if (!(reuse && exists)) {
      const t0 = Date.now();
      await seedRegistry(sql, QUICK);
      await changeRegistryLater(sql);
      await insertTransfers(sql, QUICK, 1, QUICK.transfersFull);
      await analyze(sql);
      log(`seeded the quick data set in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    const { staff, contractor } = await benchTokens(createApp(services), services);
    const end = historyEnd();
    const window = {
      country: 'US',
      from: new Date(end.getTime() - 2 * 365 * 86_400_000).toISOString(),
      to: end.toISOString(),
    };

    const serverOpts = {
      ready: healthReady,
      path: '',
      nodeArgs: cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${join(tmpdir(), 'registry-bench-profiles')}`] : [],
    };
    const ours = await startServer('server', 'src/server.ts', serverEnv, serverOpts);
    servers.push(ours);
    const other = against
      ? await startServer(`server in ${against}`, 'src/server.ts', serverEnv, { ...serverOpts, cwd: resolve(against) })
      : undefined;
    if (other) servers.push(other);
    const plain = await startServer('plain-sql', 'bench/sql-server.ts', { DATABASE_URL: benchUrl }, serverOpts);
    servers.push(plain);
    const registry = other ? [ours, other] : [ours];
    const staffHeaders = { authorization: `Bearer ${staff}` };
    const wide = Math.max(10, Math.round(REQUESTS / 10));
    const scenarios: { name: string; servers: ServerProcess[]; target: Target; n: number }[] = [
      {
        name: 'viewer (contractor token)',
        servers: registry,
        target: { path: '/graphql', headers: { authorization: `Bearer ${contractor}` }, body: body(VIEWER) },
        n: REQUESTS,
      },
      {
        name: 'sharedRecords (contractor token, 100 records)',
        servers: registry,
        target: {
          path: '/graphql',
          headers: { authorization: `Bearer ${contractor}` },
          body: body(SHARED_RECORDS, { purpose: BENCH_PURPOSE }),
        },
        n: wide,
      },
      {
        name: '{ __typename } (staff token)',
        servers: registry,
        target: { path: '/graphql', headers: staffHeaders, body: body('{ __typename }') },
        n: REQUESTS,
      },
      {
        name: 'transfers first page (50 rows)',
        servers: registry,
        target: { path: '/graphql', headers: staffHeaders, body: body(TRANSFERS_PAGE, window) },
        n: REQUESTS,
      },
      {
        name: '  same SQL behind plain node:http',
        servers: [plain],
        target: { path: '/transfers', headers: {}, body: JSON.stringify(window) },
        n: REQUESTS,
      },
      {
        name: 'contractors page (50 with grants)',
        servers: registry,
        target: { path: '/graphql', headers: staffHeaders, body: body(CONTRACTORS_PAGE) },
        n: wide,
      },
      {
        name: '  same SQL behind plain node:http',
        servers: [plain],
        target: { path: '/contractors', headers: {}, body: '{}' },
        n: wide,
      },
    ];
    const results: { name: string; ms: number[]; n: number }[] = [];
    for (const s of scenarios) {
      if (only && !s.name.includes(only)) continue;
      const ms = await cpuPerRequest(s.servers, s.target, s.n);
      results.push({ name: s.name, ms, n: s.n });
      log(`${s.name}: ${ms.map((m) => m.toFixed(3)).join(' / ')} ms CPU per request`);
    }
    const lines = [
      `server CPU per request (user + system, median of ${ROUNDS} rounds, sequential requests; quick data set)`,
      '',
      other
        ? `| scenario | requests per round | this checkout, ms | ${against}, ms | this / that |`
        : '| scenario | requests per round | CPU ms per request |',
      other ? '| --- | ---: | ---: | ---: | ---: |' : '| --- | ---: | ---: |',
      ...results.map((r) => {
        const cells = r.ms.map((m) => m.toFixed(3));
        if (other) cells.push(r.ms.length === 2 ? (r.ms[0]! / r.ms[1]!).toFixed(2) : '–');
        if (other && r.ms.length === 1) cells.splice(1, 0, '–');
        return `| ${r.name} | ${r.n} | ${cells.join(' | ')} |`;
      }),
    ];
    const ms = (name: string, k = 0) => results.find((r) => r.name.startsWith(name))?.ms[k] ?? NaN;
    const plainMs = (path: number) => results.filter((r) => r.name.startsWith('  same'))[path]?.ms[0] ?? NaN;
    if (!only)
      lines.push(
        '',
        `transfers first page / plain SQL server: ${(ms('transfers') / plainMs(0)).toFixed(2)}`,
        `contractors page / plain SQL server: ${(ms('contractors') / plainMs(1)).toFixed(2)}`,
      );
    console.log(lines.join('\n'));
  } finally {
    for (const s of servers) await s.stop();
    await sql.end();
    await services.close();
    if (!keep) await admin.unsafe(`drop database if exists ${dbName} with (force)`);
    await admin.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
