// History partitioned by month: transfers and audit events land in their month's partition (a month without one
// takes the default partition, and moves when its partition is made), pages read the same across partition
// boundaries, the audit log verifies across partitions, and archiving a month exports and detaches its
// partitions while every checkpoint still verifies, with the archived events counted.
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { archiveMonths } from '../src/audit/archive.js';
import type { Checkpoint } from '../src/audit/checkpoint.js';
import { leafHash, verifyInclusion } from '../src/audit/merkle.js';
import { formatReport, verifyRemoteLog } from '../src/audit/offline.js';
import { readArchives, type ArchiveEntries } from '../src/audit/offline-archive.js';
import { rowHash } from '../src/audit/row-check.js';
import { openDatabase, type Database } from '../src/db/client.js';
import { ensurePartitions } from '../src/db/partitions.js';
import { rowsOf } from '../src/db/rows.js';
import { capturingLogger, onPostgres, startHarness, type Harness } from './harness.js';
import { createOffice, grant, registerContractor, setStatus } from './fixtures.js';
import { PAST, recordOk, recordTransfer } from './transfer-fixtures.js';

let h: Harness;
let compliance: string;
let auditor: string;
/** The tables' owner: archiving detaches partitions, which the service's role may not. */
let owner: Database;
let out: string;
let reg: Awaited<ReturnType<typeof registry>>;
/** What the services log in the background. */
const logged = capturingLogger('info');

const BASE = 'http://registry.test';
const VERIFY = `{ verifyAuditLog { ok checked archived pending headSeq firstBroken { seq reason }
  rows { ok checked archived problemCount problems { table key reason } } } }`;

/** A German office and an ACTIVE Indian processor (SCC module 2) granted e-mail since 2020, set up in 2024. */
async function registry() {
  const office = await createOffice(h, compliance, { name: 'Berlin office', country: 'DE' });
  const india = await registerContractor(h, compliance, {
    legalName: 'Helpdesk IN',
    country: 'IN',
    dpaSignedOn: '2023-06-01',
  });
  await setStatus(h, compliance, india.id, 'ACTIVE');
  await grant(h, compliance, {
    contractorId: india.id,
    officeId: office.id,
    categories: ['contact.email'],
    validFrom: PAST,
    mechanism: 'SCC',
    sccModule: 2,
  });
  return { office, india };
}

/** Moves the app's clock to `iso`. */
function clockAt(iso: string) {
  h.clock.advance(Date.parse(iso) - h.clock.now().getTime());
}

async function rows<T = Record<string, unknown>>(text: string): Promise<T[]> {
  return (await h.asOwner(text)) as T[];
}

async function one<T>(text: string): Promise<T> {
  const [row] = await rows<T>(text);
  if (!row) throw new Error(`no row: ${text}`);
  return row;
}

/** Where each transfer (by id) and event (by seq) lives: its partition. */
async function partitionsOf(table: 'transfers' | 'audit_events', key: 'id' | 'seq', keys: number[]) {
  const found = await rows<{ k: string | number; p: string }>(
    `select ${key} as k, tableoid::regclass::text as p from ${table} where ${key} in (${keys.join(',')})`,
  );
  return Object.fromEntries(found.map((r) => [Number(r.k), r.p]));
}

async function attached(table: string): Promise<string[]> {
  const r = await rows<{ relid: string }>(
    `select relid::text from pg_partition_tree('${table}') where isleaf order by relid::text`,
  );
  return r.map((x) => x.relid);
}

async function verify() {
  await h.sealer.sealNow();
  const r = await h.gql(auditor, VERIFY);
  expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
  return r.body.data.verifyAuditLog;
}

async function latestCheckpoint(): Promise<Checkpoint> {
  const res = await h.app.fetch(`${BASE}/.well-known/audit-checkpoint`);
  expect(res.status).toBe(200);
  return (await res.json()) as Checkpoint;
}

const record = (occurredAt: string, contractor = reg.india) =>
  recordOk(h, compliance, { officeId: reg.office.id, contractorId: contractor.id, occurredAt });

const TRANSFERS = `query($first: Int, $after: String, $from: DateTime, $to: DateTime) {
  transfers(first: $first, after: $after, from: $from, to: $to) { pageInfo { hasNextPage endCursor } nodes { id occurredAt } } }`;

async function allPages(first: number, vars: Record<string, unknown>) {
  const seen: { id: string; occurredAt: string }[] = [];
  for (let after: string | undefined; ;) {
    const r = await h.gql(auditor, TRANSFERS, { ...vars, first, after });
    expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
    seen.push(...r.body.data.transfers.nodes);
    if (!r.body.data.transfers.pageInfo.hasNextPage) return seen;
    after = r.body.data.transfers.pageInfo.endCursor;
  }
}

/** The plan of `text` with its parameters, as PostgreSQL (or PGlite) would run it. */
async function explain(text: string, params: unknown[]): Promise<string> {
  if (h.database.kind === 'postgres') {
    const plan = await h.database.sql!.unsafe(`explain ${text}`, params as never[]);
    return plan.map((r) => r['QUERY PLAN']).join('\n');
  }
  const client = (h.database.db as unknown as { $client: { query(q: string, p: unknown[]): Promise<{ rows: any[] }> } })
    .$client;
  return (await client.query(`explain ${text}`, params)).rows.map((r) => r['QUERY PLAN']).join('\n');
}

/** For each statement a page of `first` transfers sends, the partitions of `transfers` its plan reads. */
async function plannedPartitions(first: number, vars: Record<string, unknown>): Promise<string[][]> {
  const sent: { text: string; params: unknown[] }[] = [];
  const listen = (text: string, params: unknown[]) => void sent.push({ text, params });
  h.database.onQuery.add(listen);
  try {
    const r = await h.gql(auditor, TRANSFERS, { ...vars, first });
    expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
  } finally {
    h.database.onQuery.delete(listen);
  }
  const plans: string[][] = [];
  for (const s of sent.filter((x) => x.text.includes('from "transfers"'))) {
    const plan = await explain(s.text, s.params);
    plans.push([...new Set(plan.match(/\btransfers_(\d{4}_\d{2}|default)\b/g))].sort());
  }
  return plans;
}

/** The number behind a transfer's global ID, base64("Transfer:<id>"). */
const num = (t: { id: string }) => Number(Buffer.from(t.id, 'base64').toString('utf8').split(':')[1]);

/** The registry over HTTP; with `tamper`, a compromised one serving the event at that position as archived. */
function servedAsArchived(tamper?: number): typeof fetch {
  return (async (input: URL, init?: RequestInit) => {
    const res = await h.app.fetch(input, init ?? {});
    if (tamper === undefined || !String(input).endsWith('/graphql')) return res;
    const body = (await res.json()) as { data?: { auditEntries?: { position: number }[] } };
    for (const e of body.data?.auditEntries ?? [])
      if (e.position === tamper) Object.assign(e, { entry: null, archived: true });
    return new Response(JSON.stringify(body), { status: res.status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

beforeAll(async () => {
  h = await startHarness({}, { logger: logged.logger });
  owner = onPostgres
    ? await openDatabase({ databaseUrl: h.config.migrationDatabaseUrl!, max: 1 })
    : (h.database as Database);
  compliance = await h.staffToken('COMPLIANCE', 'alice@example.com');
  auditor = await h.staffToken('AUDITOR');
  out = mkdtempSync(join(tmpdir(), 'registry-archive-'));
  // The registry's story starts in February 2024: partitions for February to June, made by the service's role
  // through the function the service calls at start.
  clockAt('2024-02-10T12:00:00Z');
  await ensurePartitions(h.database.db, h.clock.now(), 4);
  reg = await registry();
});
afterAll(async () => {
  if (onPostgres) await owner?.close();
  await h?.stop();
  rmSync(out, { recursive: true, force: true });
});

describe('month partitions', () => {
  let feb: number[];
  let mar: number[];
  let apr: number[];
  let backdated: number;
  let unsealedFeb: number;

  test('transfers and events across three months land in three partitions', async () => {
    expect(await attached('transfers')).toEqual(expect.arrayContaining(['transfers_2024_02', 'transfers_2024_06']));
    feb = [num(await record('2024-02-01T00:00:00.000Z')), num(await record('2024-02-09T08:00:00.000Z'))];
    clockAt('2024-03-10T12:00:00Z');
    mar = [num(await record('2024-03-01T00:00:00.000Z'))];
    // Recorded in March, occurred in February: the transfer is February's, its event March's.
    backdated = num(await record('2024-02-29T23:59:59.999Z'));
    clockAt('2024-04-10T12:00:00Z');
    apr = [num(await record('2024-04-01T00:00:00.000Z')), num(await record('2024-04-10T11:00:00.000Z'))];

    const where = await partitionsOf('transfers', 'id', [...feb, ...mar, backdated, ...apr]);
    for (const id of [...feb, backdated]) expect(where[id]).toBe('transfers_2024_02');
    for (const id of mar) expect(where[id]).toBe('transfers_2024_03');
    for (const id of apr) expect(where[id]).toBe('transfers_2024_04');

    const events = await rows<{ p: string; n: string | number }>(
      `select tableoid::regclass::text as p, count(*) as n from audit_events
       where occurred_at >= '2024-02-01' and occurred_at < '2024-05-01' group by 1 order by 1`,
    );
    expect(events.map((e) => e.p)).toEqual(['audit_events_2024_02', 'audit_events_2024_03', 'audit_events_2024_04']);
    expect(events.every((e) => Number(e.n) > 0)).toBe(true);
  });

  test('pages read the same across partition boundaries, in every page size', async () => {
    const vars = { from: '2024-02-01T00:00:00Z', to: '2024-05-01T00:00:00Z' };
    const whole = await allPages(50, vars);
    const expected = await rows<{ id: string | number }>(
      `select id from transfers where occurred_at >= '2024-02-01' and occurred_at < '2024-05-01' order by occurred_at desc, id desc`,
    );
    expect(whole.map((t) => t.occurredAt)).toEqual([
      '2024-04-10T11:00:00.000Z',
      '2024-04-01T00:00:00.000Z',
      '2024-03-01T00:00:00.000Z',
      '2024-02-29T23:59:59.999Z',
      '2024-02-09T08:00:00.000Z',
      '2024-02-01T00:00:00.000Z',
    ]);
    expect(whole).toHaveLength(expected.length);
    for (const size of [1, 2, 4]) expect(await allPages(size, vars)).toEqual(whole);
  });

  test('a page plans only the newest month when that month fills it', async () => {
    const vars = { from: '2024-02-01T00:00:00Z', to: '2024-05-01T00:00:00Z' };
    // One row (two asked, to know whether a next page exists): April holds both, planned over its partition alone.
    expect(await plannedPartitions(1, vars)).toEqual([['transfers_2024_04']]);
    // Six rows: April falls short, so the whole range is asked in a second statement, planned over its months (the
    // page is answered by one planned statement, src/graphql/sql-json/; the resolvers' readNewestFirst asks only the
    // months before April then).
    expect(await plannedPartitions(6, vars)).toEqual([
      ['transfers_2024_04'],
      ['transfers_2024_02', 'transfers_2024_03', 'transfers_2024_04'],
    ]);
    // A range ending in the future (the clock is in April 2024) starts from the clock's month, not from the empty
    // months before its end: still one statement, April's rows read, February and March not planned.
    const [plan, ...more] = await plannedPartitions(1, { ...vars, to: '2024-12-01T00:00:00Z' });
    expect(more).toEqual([]);
    expect(plan).toContain('transfers_2024_04');
    expect(plan).not.toContain('transfers_2024_03');
    expect(plan).not.toContain('transfers_2024_02');
  });

  test('the audit log verifies across partitions', async () => {
    const v = await verify();
    expect(v).toMatchObject({ ok: true, archived: 0, pending: 0, firstBroken: null });
    expect(v.rows).toMatchObject({ ok: true, archived: 0, problemCount: 0 });
    const { n } = await one<{ n: string | number }>('select count(*) as n from audit_events');
    expect(v.checked).toBe(Number(n));
  });

  test('an event whose partition was detached without archiving is a missing event, named', async () => {
    const { position } = await one<{ position: string | number }>(
      `select min(s.position) as position from audit_seals s join audit_events_2024_03 e on e.seq = s.event_seq`,
    );
    await h.asOwner('alter table audit_events detach partition audit_events_2024_03');
    try {
      const v = await verify();
      expect(v.ok).toBe(false);
      expect(v.firstBroken).toEqual({
        seq: Number(position),
        reason: 'the event sealed at this position is missing',
      });
    } finally {
      await h.asOwner(
        `alter table audit_events attach partition audit_events_2024_03 for values from ('2024-03-01T00:00:00Z') to ('2024-04-01T00:00:00Z')`,
      );
    }
    expect((await verify()).ok).toBe(true);
  });

  test('a write in a month without a partition succeeds, and moves in when the month gets one', async () => {
    const t = await record('2023-11-15T10:00:00.000Z');
    const id = num(t);
    expect((await partitionsOf('transfers', 'id', [id!]))[id!]).toBe('transfers_default');
    await ensurePartitions(h.database.db, new Date('2023-11-01T00:00:00Z'), 0);
    expect((await partitionsOf('transfers', 'id', [id!]))[id!]).toBe('transfers_2023_11');
    const r = await h.gql(auditor, `query($id: ID!) { node(id: $id) { ... on Transfer { id occurredAt } } }`, {
      id: t.id,
    });
    expect(r.body.data.node).toEqual({ id: t.id, occurredAt: '2023-11-15T10:00:00.000Z' });
    // Moved, not changed: the row still hashes as its event said.
    expect(await verify()).toMatchObject({ ok: true, rows: { ok: true, problemCount: 0 } });
  });

  test('archiving refuses a bad month and a month not over, changing nothing', async () => {
    const before = await attached('transfers');
    for (const [month, message] of [
      ['2024-13', /YYYY-MM/],
      ['2024-05', /current month \(2024-04\)/],
    ] as const)
      await expect(archiveMonths(owner.db, { before: month, out, now: h.clock.now() })).rejects.toThrow(message);
    expect(await attached('transfers')).toEqual(before);
  });

  test('archiving refuses a month with events not sealed yet', async () => {
    // An event written in February (the clock set back) and not sealed.
    clockAt('2024-02-20T12:00:00Z');
    unsealedFeb = num(await record('2024-02-20T11:00:00.000Z'));
    clockAt('2024-04-10T12:00:00Z');
    const before = await attached('audit_events');
    await expect(archiveMonths(owner.db, { before: '2024-03', out, now: h.clock.now() })).rejects.toThrow(
      /not sealed yet/,
    );
    expect(await attached('audit_events')).toEqual(before);
    const { n } = await one<{ n: string | number }>('select count(*) as n from audit_archives');
    expect(Number(n)).toBe(0);
  });

  test('archiving exports and detaches the months before; every checkpoint still verifies, archived counted', async () => {
    await h.sealer.sealNow();
    const saved = await latestCheckpoint();
    const { n: febEvents } = await one<{ n: string | number }>('select count(*) as n from audit_events_2024_02');
    const { n: febTransfers } = await one<{ n: string | number }>('select count(*) as n from transfers_2024_02');
    // Months before March: November 2023 and February 2024.
    const done = await archiveMonths(owner.db, { before: '2024-03', out, now: h.clock.now() });
    expect(done.map((m) => [m.month, m.events, m.transfers])).toEqual([
      ['2023-11', 0, 1],
      ['2024-02', Number(febEvents), Number(febTransfers)],
    ]);
    expect(await attached('transfers')).not.toContain('transfers_2024_02');
    expect(await attached('audit_events')).not.toContain('audit_events_2024_02');
    expect(await attached('transfers')).toContain('transfers_2024_03');
    const kept = await rows<{ t: string }>(
      `select table_name as t from information_schema.tables where table_schema = 'archive' order by 1`,
    );
    expect(kept.map((k) => k.t)).toEqual([
      'audit_events_2023_11',
      'audit_events_2024_02',
      'transfers_2023_11',
      'transfers_2024_02',
    ]);

    // The files: hashes as the manifest says; each event's entry hashes to its leaf; each transfer to its hash.
    const dir = join(out, '2024-02');
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    for (const f of manifest.files) expect(sha256(join(dir, f.name))).toBe(f.sha256);
    const events = readFileSync(join(dir, 'audit-events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events).toHaveLength(Number(febEvents));
    for (const e of events) expect(leafHash(e.entry)).toBe(e.leafHash);
    const transfers = readFileSync(join(dir, 'transfers.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(transfers.map((t) => Number(t.key)).sort((a, b) => a - b)).toEqual(
      [...feb, backdated, unsealedFeb].sort((a, b) => a - b),
    );
    for (const t of transfers) expect(rowHash('transfers', t.row)).toBe(t.hash);

    // Verification: the archived events are counted, the chain and every checkpoint's root still check; two
    // transfers' events are still here and name rows now in the archive: the backdated one (event in March) and
    // November's (event in April).
    const v = await verify();
    expect(v).toMatchObject({ ok: true, archived: Number(febEvents), pending: 0, firstBroken: null });
    expect(v.rows).toMatchObject({ ok: true, archived: 2, problemCount: 0 });

    // An archived event's inclusion is still provable, from its stored leaf (which the archive file's entry hashes to).
    const first = events[0];
    const r = await h.gql(
      auditor,
      `query($p: Int!, $n: Int!) { inclusionProof(position: $p, treeSize: $n) { entry { entry archived leafHash } path } }`,
      { p: first.position, n: saved.treeSize },
    );
    expect(r.body.errors).toBeUndefined();
    const proof = r.body.data.inclusionProof;
    expect(proof.entry).toEqual({ entry: null, archived: true, leafHash: first.leafHash });
    expect(verifyInclusion(first.position - 1, saved.treeSize, leafHash(first.entry), proof.path, saved.rootHash)).toBe(
      true,
    );

    // The outsider's check from the checkpoint saved before archiving, every entry re-hashed. Without the
    // archives, the archived events are not verified: a warning verdict, not VERIFIED.
    const outsider = (o: { archives?: ArchiveEntries; tamper?: number } = {}) =>
      verifyRemoteLog({
        url: BASE,
        token: auditor,
        saved,
        events: [first.position],
        sample: 0,
        full: true,
        archives: o.archives,
        fetch: servedAsArchived(o.tamper),
      });
    const blind = await outsider();
    expect(blind.findings.filter((f) => !f.ok)).toEqual([
      expect.objectContaining({ check: 'archived events', unverified: true }),
    ]);
    expect(blind).toMatchObject({ ok: false, verdict: 'INCOMPLETE' });
    expect(formatReport(blind)).toMatch(/WARN {2}archived events: \d+ event\(s\) .* were NOT verified/);
    expect(formatReport(blind)).not.toContain('VERIFIED: the log');

    // With the true archives: every archived entry hashes to the leaf served.
    const report = await outsider({ archives: readArchives([out]) });
    expect(report.findings.filter((f) => !f.ok)).toEqual([]);
    expect(report).toMatchObject({ ok: true, verdict: 'VERIFIED' });
    expect(report.findings.find((f) => f.check === 'archived events')!.detail).toMatch(
      new RegExp(`^${Number(febEvents)} archived event\\(s\\) checked`),
    );

    // A compromised server hides an event (of March, still in the database) by serving it as archived, with its
    // sealed leaf: it is in no archive, so the check fails, naming it.
    const { position: hidden } = await one<{ position: string | number }>(
      `select min(s.position) as position from audit_seals s join audit_events_2024_03 e on e.seq = s.event_seq`,
    );
    const caught = await outsider({ archives: readArchives([out]), tamper: Number(hidden) });
    expect(caught.verdict).toBe('FAILED');
    expect(caught.findings.filter((f) => !f.ok)).toEqual([
      expect.objectContaining({ check: 'archived events', positions: [Number(hidden)] }),
    ]);

    // An archive whose events file was altered: its manifest check fails, and the altered entry no longer hashes
    // to the leaf the registry serves.
    const copy = join(out, 'altered');
    cpSync(dir, join(copy, '2024-02'), { recursive: true });
    const lines = readFileSync(join(copy, '2024-02', 'audit-events.jsonl'), 'utf8')
      .trim()
      .split('\n');
    const changed = JSON.parse(lines[0]!);
    changed.entry = changed.entry.replace('"position":', '"position" :');
    lines[0] = JSON.stringify(changed);
    writeFileSync(join(copy, '2024-02', 'audit-events.jsonl'), `${lines.join('\n')}\n`);
    const tampered = await outsider({ archives: readArchives([copy]) });
    rmSync(copy, { recursive: true, force: true });
    expect(tampered.verdict).toBe('FAILED');
    expect(tampered.findings.filter((f) => !f.ok)).toEqual([
      expect.objectContaining({
        check: 'archive manifest',
        detail: expect.stringContaining('audit-events.jsonl does not have the SHA-256 manifest.json gives'),
      }),
      expect.objectContaining({ check: 'archived events', positions: [first.position] }),
    ]);
  });

  test('an archived month gets no new partition; a write there lands in the default partition', async () => {
    await ensurePartitions(h.database.db, new Date('2024-02-01T00:00:00Z'), 0);
    expect(await attached('transfers')).not.toContain('transfers_2024_02');
    await record('2024-02-15T00:00:00.000Z');
    const [row] = await rows<{ p: string }>(
      `select tableoid::regclass::text as p from transfers where occurred_at = '2024-02-15T00:00:00Z'`,
    );
    expect(row!.p).toBe('transfers_default');
    expect((await verify()).ok).toBe(true);
  });

  test('an altered archived-month event would have been refused: altering a sealed event blocks archiving', async () => {
    const { seq } = await one<{ seq: string | number }>(`select min(seq) as seq from audit_events_2024_03`);
    await h.asOwner('alter table audit_events_2024_03 disable trigger audit_events_append_only');
    try {
      await h.asOwner(`update audit_events_2024_03 set actor = 'mallory' where seq = ${seq}`);
      await expect(archiveMonths(owner.db, { before: '2024-04', out, now: h.clock.now() })).rejects.toThrow(
        new RegExp(`event ${seq} \\(position \\d+\\) no longer hashes to its sealed leaf`),
      );
      expect(await attached('audit_events')).toContain('audit_events_2024_03');
    } finally {
      await h.asOwner(`update audit_events_2024_03 set actor = 'alice@example.com' where seq = ${seq}`);
      await h.asOwner('alter table audit_events_2024_03 enable trigger audit_events_append_only');
    }
    expect((await verify()).ok).toBe(true);
  });

  test('archiving with --drop writes the files as the manifest says, then drops the partitions', async () => {
    const done = await archiveMonths(owner.db, { before: '2024-04', out, now: h.clock.now(), drop: true });
    expect(done.map((m) => m.month)).toEqual(['2024-03']);
    expect(await attached('audit_events')).not.toContain('audit_events_2024_03');
    const kept = await rows<{ t: string }>(
      `select table_name as t from information_schema.tables where table_name like '%2024_03'`,
    );
    expect(kept).toEqual([]);
    const dir = join(out, '2024-03');
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    for (const f of manifest.files) expect(sha256(join(dir, f.name))).toBe(f.sha256);
    expect(await verify()).toMatchObject({ ok: true, rows: { ok: true, problemCount: 0 } });
  });
});

test("a failed check of the coming months' partitions is logged and counted, and the next one retries", async () => {
  const failures = async () => {
    const res = await h.app.fetch('http://registry.test/metrics', {}, {
      req: { socket: { remoteAddress: '127.0.0.1' } },
    } as never);
    expect(res.status).toBe(200);
    return Number(/^registry_partition_check_failures_total (\d+)$/m.exec(await res.text())?.[1]);
  };
  expect(await failures()).toBe(0);
  await h.asOwner('alter function registry_ensure_partitions(timestamptz, integer) rename to registry_ensure_off');
  try {
    await h.partitionChecks.run();
  } finally {
    await h.asOwner('alter function registry_ensure_off(timestamptz, integer) rename to registry_ensure_partitions');
  }
  expect(await failures()).toBe(1);
  const line = logged.lines.map((l) => JSON.parse(l)).find((l) => /partitions could not be made/.test(l.msg));
  expect(line).toMatchObject({ level: 50, code: '42883' });
  await h.partitionChecks.run();
  expect(await failures()).toBe(1);
});

test('recording a transfer still refuses bad input (the partitioned table changes no rule)', async () => {
  const r = await recordTransfer(h, compliance, {
    officeId: reg.office.id,
    contractorId: reg.india.id,
    occurredAt: '2999-01-01T00:00:00Z',
  });
  expect(r.__typename).toBe('ValidationError');
});

test.skipIf(!onPostgres)(
  "a row written while its month's partition is being made is moved into it, not lost",
  async () => {
    const copy = `insert into transfers (occurred_at, kind, exporter_office_id, exporter_country, importer_kind,
        importer_contractor_id, importer_country, categories, purpose, mechanism, scc_module, policy_explanation,
        record_count, cross_border, third_country, recorded_by)
      select '2022-07-10T00:00:00Z', kind, exporter_office_id, exporter_country, importer_kind, importer_contractor_id,
        importer_country, categories, purpose, mechanism, scc_module, policy_explanation, record_count, cross_border,
        third_country, recorded_by from transfers where importer_kind = 'CONTRACTOR' limit 1 returning id`;
    let id = 0;
    let made: Promise<unknown> | undefined;
    await owner.db.transaction(async (tx) => {
      id = Number(rowsOf<{ id: string | number }>(await tx.execute(sql.raw(copy)))[0]!.id);
      // The month's partition is made while the row is written and not yet committed.
      made = ensurePartitions(h.database.db, new Date('2022-07-01T00:00:00Z'), 0).then(
        () => null,
        (e: any) => String((e.cause ?? e).message),
      );
      for (let i = 0; i < 200; i++) {
        const [w] = await rows<{ n: string | number }>(`select count(*) as n from pg_locks where not granted`);
        if (Number(w!.n) > 0) break;
        await sleep(25);
      }
    });
    expect(await made).toBeNull();
    expect((await partitionsOf('transfers', 'id', [id]))[id]).toBe('transfers_2022_07');
  },
);
