// The console's aggregate queries at 1,000,000 transfers on PostgreSQL (`npm run bench:aggregates`; `-- --quick`
// for 20,000; `--keep` keeps the database, `--reuse` measures a kept one again without seeding). A database of its own is seeded with bench/dataset.ts (plus disclosure requests), then each
// aggregate the auditor's page asks for — flows, monthly volume, top contractors, the disclosure report — is run
// through its domain function, its statement captured and timed with EXPLAIN ANALYZE a few times (p50, planning
// plus execution), for the console's default period (the last year) and for the whole three-year history.
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { openDatabase } from '../src/db/client.js';
import { transparencyReport } from '../src/registry/disclosures.js';
import { monthlyVolume, topContractors, transferFlows } from '../src/registry/transfer-statistics.js';
import { analyze, FULL, historyEnd, insertTransfers, QUICK, seedRegistry } from './dataset.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    runs: { type: 'string' },
    keep: { type: 'boolean' },
    reuse: { type: 'boolean' },
  },
});
const scale = values.quick ? QUICK : FULL;
const runs = Number(values.runs ?? 5);
if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL must name a PostgreSQL server (its owner role)');
const dbName = process.env.BENCH_DATABASE ?? 'registry_bench_aggregates';
if (!/^[a-z_][a-z0-9_]*$/.test(dbName)) throw new Error(`BENCH_DATABASE must be a plain identifier, not ${dbName}`);
const url = new URL(process.env.DATABASE_URL);
url.pathname = `/${dbName}`;
const DISCLOSURE_REQUESTS = values.quick ? 1_000 : 10_000;

const admin = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} });
if (!values.reuse) {
  await admin.unsafe(`drop database if exists ${dbName} with (force)`);
  await admin.unsafe(`create database ${dbName}`);
}
const database = await openDatabase({ databaseUrl: url.toString(), max: 2 });
await database.migrate();
const sql = postgres(url.toString(), { max: 2, onnotice: () => {} });
try {
  if (!values.reuse) await seed();
  const end = historyEnd();
  const periods = {
    'last year': { from: new Date(end.getTime() - 365 * 86_400_000), to: new Date(end.getTime() + 86_400_000) },
    'three years': { from: new Date(end.getTime() - 3 * 365 * 86_400_000 - 86_400_000), to: end },
  };
  const queries: [string, (p: { from: Date; to: Date }) => Promise<unknown>][] = [
    ['transferFlows', (p) => transferFlows(database.db, p)],
    ['monthlyTransferVolume', (p) => monthlyVolume(database.db, p)],
    ['topContractors (10)', (p) => topContractors(database.db, { ...p, limit: 10 })],
    ['transparencyReport', (p) => transparencyReport(database.db, p.from, p.to)],
  ];
  const { version } = (await sql`select current_setting('server_version') as version`)[0]!;
  console.log(`\nPostgreSQL ${version}; EXPLAIN (ANALYZE) p50 of ${runs} runs, planning + execution, in ms\n`);
  console.log('| aggregate | period | rows in period | p50 ms | min ms | max ms | plan |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | --- |');
  for (const [name, run] of queries) {
    for (const [label, period] of Object.entries(periods)) {
      const sent: { text: string; params: unknown[] }[] = [];
      const capture = (text: string, params: unknown[]) => sent.push({ text, params });
      database.onQuery.add(capture);
      await run(period);
      database.onQuery.delete(capture);
      const statement = sent.at(-1)!;
      const times: number[] = [];
      let plan: any;
      for (let i = 0; i < runs; i++) {
        const [row] = await sql.unsafe(
          `explain (analyze, buffers, format json) ${statement.text}`,
          statement.params as never[],
        );
        plan = (row as any)['QUERY PLAN'][0];
        times.push(plan['Planning Time'] + plan['Execution Time']);
      }
      times.sort((a, b) => a - b);
      const scanned = scannedRows(plan.Plan);
      console.log(
        `| ${name} | ${label} | ${scanned.rows.toLocaleString('en')} | ${times[Math.floor(times.length / 2)]!.toFixed(0)} | ${times[0]!.toFixed(0)} | ${times.at(-1)!.toFixed(0)} | ${scanned.nodes.join(', ')} |`,
      );
    }
  }
} finally {
  await sql.end();
  await database.close();
  if (!values.keep) await admin.unsafe(`drop database if exists ${dbName} with (force)`);
  await admin.end();
}

/** The rows the plan's scans read (the period's rows), and the scans by kind and relation. */
function scannedRows(node: any): { rows: number; nodes: string[] } {
  const own = /Scan$/.test(node['Node Type'])
    ? {
        rows: node['Actual Rows'] * (node['Actual Loops'] ?? 1),
        nodes: [`${node['Node Type']} ${node['Index Name'] ?? node['Relation Name'] ?? ''}`.trim()],
      }
    : { rows: 0, nodes: [] as string[] };
  const children = (node.Plans ?? []).map(scannedRows);
  const scans = [own, ...children].filter((c) => c.nodes.length);
  // The biggest scan is the period's rows; a join's other side (contractors) is small.
  return {
    rows: Math.max(0, ...scans.map((s) => s.rows)),
    nodes: [...new Set(scans.flatMap((s) => s.nodes))],
  };
}

/** The benchmark data set, and disclosure requests over the same three years. */
async function seed() {
  const t0 = Date.now();
  await seedRegistry(sql, scale);
  await insertTransfers(sql, scale, 1, scale.transfersFull);
  // Disclosure requests over the same three years, from every office, in both undecided states.
  await sql.unsafe(`
  insert into disclosure_requests (office_id, authority_name, authority_type, authority_country, instrument, reference,
    received_at, due_at, requested_categories, subjects_requested, status, foreign_authority, created_by)
  select 1 + i % ${scale.offices}, 'Authority ' || (i % 40), (array['LAW_ENFORCEMENT', 'REGULATOR', 'COURT'])[1 + i % 3]::authority_type,
    (array['DE', 'FR', 'IE', 'US', 'IN', 'GB'])[1 + i % 6], 'COURT_ORDER', 'REF-' || i,
    timestamptz '${historyEnd().toISOString()}' - (i % 1095) * interval '1 day',
    timestamptz '${historyEnd().toISOString()}' - (i % 1095) * interval '1 day' + interval '30 days',
    array['contact.email'], 1 + i % 5, (array['RECEIVED', 'UNDER_REVIEW'])[1 + i % 2]::disclosure_status, false, 'bench'
  from generate_series(1, ${DISCLOSURE_REQUESTS}) i`);
  await analyze(sql);
  console.log(
    `seeded ${scale.transfersFull.toLocaleString('en')} transfers, ${DISCLOSURE_REQUESTS.toLocaleString('en')} disclosure requests in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
  );
}
