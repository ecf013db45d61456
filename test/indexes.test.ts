// An index behind every filter a list offers: each list query is sent through GraphQL, the statement it
// sends is EXPLAINed with its own parameters and sequential scans switched off, and the plan must use the
// index meant for that filter (a filter no index serves would show a sequential scan or another index).
// Where that index does not also give the list's order (the audit log by time, obligations by due date),
// the planner may rightly prefer walking the primary key on a small table; there plain index scans are
// switched off too, so only an index that can serve the condition itself (a bitmap scan) is left.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startHarness, type Harness } from './harness.js';
import { createOffice, registerContractor } from './fixtures.js';
import { rowsOf } from '../src/db/rows.js';

let h: Harness;
let token: string;
let contractorId: string;
let officeId: string;
const sent: { sql: string; params: unknown[] }[] = [];

beforeAll(async () => {
  h = await startHarness();
  token = await h.staffToken('COMPLIANCE');
  officeId = (await createOffice(h, token, { country: 'FR', city: 'Paris' })).id;
  contractorId = (await registerContractor(h, token, { legalName: 'Indexed GmbH', country: 'DE' })).id;
  h.database.onQuery.add((sql, params) => sent.push({ sql, params }));
});
afterAll(async () => {
  await h?.stop();
});

async function explain(text: string, params: unknown[], bitmapOnly: boolean): Promise<string> {
  const settings = `set local enable_seqscan = off${bitmapOnly ? '; set local enable_indexscan = off; set local enable_indexonlyscan = off' : ''}`;
  if (h.database.kind === 'postgres') {
    const rows = await h.database.sql!.begin(async (tx) => {
      await tx.unsafe(settings);
      return tx.unsafe(`explain ${text}`, params as never[]);
    });
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  }
  const client = (
    h.database.db as unknown as {
      $client: {
        transaction<T>(
          f: (tx: { query(q: string, p?: unknown[]): Promise<{ rows: Record<string, string>[] }> }) => Promise<T>,
        ): Promise<T>;
      };
    }
  ).$client;
  const { rows } = await client.transaction(async (tx) => {
    for (const set of settings.split('; ')) await tx.query(set);
    return tx.query(`explain ${text}`, params);
  });
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

/**
 * Partitioned tables (transfers, audit_events: by month) are planned per partition, each partition and its indexes
 * with names of their own: the plan is read with each partition's and partition index's name replaced by its
 * parent's, so "Seq Scan on transfers_2026_11" counts as one on transfers and its index as the table's.
 */
async function parentNames(): Promise<[RegExp, string][]> {
  const r: any = await h.database.db.execute(
    sql.raw(`select c.relname as child, p.relname as parent from pg_inherits i
      join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent order by length(c.relname) desc`),
  );
  return rowsOf<any>(r).map((x: { child: string; parent: string }) => [new RegExp(`\\b${x.child}\\b`, 'g'), x.parent]);
}

/** The plan of the statement `query` sends to read `table`. */
async function planOf(query: string, table: string, bitmapOnly: boolean): Promise<string> {
  sent.length = 0;
  const r = await h.gql(token, query);
  expect(r.body.errors).toBeUndefined();
  const statement = sent.find((s) => s.sql.includes(`from "${table}"`));
  expect(statement, `no statement reads ${table}`).toBeDefined();
  let plan = await explain(statement!.sql, statement!.params, bitmapOnly);
  for (const [child, parent] of await parentNames()) plan = plan.replace(child, parent);
  return plan;
}

const from = '2026-01-01T00:00:00Z';
const cases: [name: string, query: () => string, table: string, indexes: string, bitmapOnly?: 'bitmap'][] = [
  [
    'transfers, no filter (newest first)',
    () => '{ transfers(first: 5) { nodes { id } } }',
    'transfers',
    'transfers_time_idx',
  ],
  [
    'transfers by time range',
    () => `{ transfers(first: 5, from: "${from}") { nodes { id } } }`,
    'transfers',
    'transfers_time_idx',
  ],
  [
    'transfers by contractor',
    () => `{ transfers(first: 5, contractorId: "${contractorId}") { nodes { id } } }`,
    'transfers',
    'transfers_contractor_idx',
  ],
  [
    'transfers by importer country',
    () => '{ transfers(first: 5, importerCountry: "US") { nodes { id } } }',
    'transfers',
    'transfers_importer_country_idx',
  ],
  [
    'transfers by category',
    () => '{ transfers(first: 5, category: "contact.email") { nodes { id } } }',
    'transfers',
    'transfers_categories_idx',
  ],
  [
    'transfers by purpose',
    () => '{ transfers(first: 5, purpose: TECHNICAL_SUPPORT) { nodes { id } } }',
    'transfers',
    'transfers_purpose_idx',
  ],
  [
    'transfers by kind',
    () => '{ transfers(first: 5, kind: CONTRACTOR_ACCESS) { nodes { id } } }',
    'transfers',
    'transfers_kind_idx',
  ],
  [
    'transfers by mechanism',
    () => '{ transfers(first: 5, mechanism: SCC) { nodes { id } } }',
    'transfers',
    'transfers_mechanism_idx',
  ],
  [
    'transfers cross-border only',
    () => '{ transfers(first: 5, crossBorderOnly: true) { nodes { id } } }',
    'transfers',
    'transfers_cross_border_idx',
  ],
  [
    'transfers third-country only',
    () => '{ transfers(first: 5, thirdCountryOnly: true) { nodes { id } } }',
    'transfers',
    'transfers_third_country_idx',
  ],
  [
    'contractors by country',
    () => '{ contractors(first: 5, country: "DE") { nodes { id } } }',
    'contractors',
    'contractors_country_idx',
  ],
  [
    'contractors by status',
    () => '{ contractors(first: 5, status: ACTIVE) { nodes { id } } }',
    'contractors',
    'contractors_status_idx',
  ],
  [
    'contractors by name',
    () => '{ contractors(first: 5, name: "index") { nodes { id } } }',
    'contractors',
    'contractors_name_idx',
  ],
  [
    'contractors by service',
    () => '{ contractors(first: 5, service: HOSTING) { nodes { id } } }',
    'contractors',
    'contractors_services_idx',
  ],
  [
    'offices by country',
    () => '{ offices(first: 5, country: "FR") { nodes { id } } }',
    'offices',
    'offices_country_idx',
  ],
  [
    'grants by contractor',
    () => `{ grants(first: 5, contractorId: "${contractorId}") { nodes { id } } }`,
    'grants',
    'grants_contractor_idx',
  ],
  [
    'grants by office',
    () => `{ grants(first: 5, officeId: "${officeId}") { nodes { id } } }`,
    'grants',
    'grants_office_idx',
    'bitmap',
  ],
  [
    'grants by purpose',
    () => '{ grants(first: 5, purpose: TECHNICAL_SUPPORT) { nodes { id } } }',
    'grants',
    'grants_purpose_idx',
  ],
  ['grants by status', () => '{ grants(first: 5, status: REVOKED) { nodes { id } } }', 'grants', 'grants_status_idx'],
  [
    'audit log by actor',
    () => '{ auditLog(first: 5, actor: "compliance@example.com") { nodes { id } } }',
    'audit_events',
    'audit_events_actor_idx',
  ],
  [
    'audit log by entity',
    () => '{ auditLog(first: 5, entityType: "Contractor", entityId: "1") { nodes { id } } }',
    'audit_events',
    'audit_events_entity_idx',
  ],
  [
    'audit log by time',
    () => `{ auditLog(first: 5, from: "${from}") { nodes { id } } }`,
    'audit_events',
    'audit_events_time_idx',
    'bitmap',
  ],
  [
    'disclosure requests by status',
    () => '{ disclosureRequests(first: 5, status: RECEIVED) { nodes { id } } }',
    'disclosure_requests',
    'disclosure_requests_status_idx',
  ],
  [
    'disclosure requests, foreign only',
    () => '{ disclosureRequests(first: 5, foreignOnly: true) { nodes { id } } }',
    'disclosure_requests',
    'disclosure_requests_foreign_idx',
  ],
  [
    'disclosure requests, overdue only',
    () => '{ disclosureRequests(first: 5, overdueOnly: true) { nodes { id } } }',
    'disclosure_requests',
    'disclosure_requests_open_due_idx',
    'bitmap',
  ],
  [
    'overdue disclosure requests',
    () => '{ overdueDisclosureRequests(first: 5) { nodes { id } } }',
    'disclosure_requests',
    'disclosure_requests_open_due_idx',
  ],
  [
    'obligations by contractor',
    () => `{ obligations(first: 5, contractorId: "${contractorId}") { nodes { id } } }`,
    'obligations',
    'obligations_contractor_idx',
  ],
  [
    'obligations due within N days',
    () => '{ obligations(first: 5, dueWithinDays: 30) { nodes { id } } }',
    'obligations',
    'obligations_expires_idx obligations_review_idx',
    'bitmap',
  ],
  [
    'obligations not yet acknowledged',
    () => '{ obligations(first: 5, unacknowledgedOnly: true) { nodes { id } } }',
    'obligations',
    'obligations_unacknowledged_idx',
  ],
  [
    'access tokens, active only',
    () => '{ accessTokens(first: 5, activeOnly: true) { nodes { id } } }',
    'access_tokens',
    'access_tokens_active_idx',
    'bitmap',
  ],
  // The auditor's aggregates read only the period asked for (the console's flow map, monthly volume, top contractors).
  [
    'transfer flows over a period',
    () => `{ transferFlows(from: "${from}", to: "2026-02-01T00:00:00Z") { records } }`,
    'transfers',
    'transfers_time_idx',
  ],
  [
    'monthly transfer volume over a period',
    () => `{ monthlyTransferVolume(from: "${from}", to: "2026-02-01T00:00:00Z") { records } }`,
    'transfers',
    'transfers_time_idx',
  ],
  [
    'top contractors over a period',
    () => `{ topContractors(from: "${from}", to: "2026-02-01T00:00:00Z") { records } }`,
    'transfers',
    'transfers_time_idx',
  ],
  [
    'access tokens by contractor',
    () => `{ accessTokens(first: 5, contractorId: "${contractorId}") { nodes { id } } }`,
    'access_tokens',
    'access_tokens_contractor_idx',
  ],
  [
    'contractors as of an instant, with their nested lists as of the same instant',
    () =>
      `{ contractors(first: 5, asOf: "${new Date().toISOString()}") { nodes { id processingLocations { country }
        grants(first: 5) { nodes { id } } obligations(first: 5) { nodes { id } } } } }`,
    'contractors_history',
    'contractors_history_id_idx processing_locations_history_contractor_idx grants_history_contractor_idx obligations_history_contractor_idx',
  ],
  [
    'grants as of an instant, by contractor',
    () => `{ grants(first: 5, contractorId: "${contractorId}", asOf: "${new Date().toISOString()}") { nodes { id } } }`,
    'grants_history',
    'grants_history_contractor_idx',
  ],
  [
    'obligations as of an instant, by contractor',
    () =>
      `{ obligations(first: 5, contractorId: "${contractorId}", asOf: "${new Date().toISOString()}") { nodes { id } } }`,
    'obligations_history',
    'obligations_history_contractor_idx',
  ],
  [
    'offices as of an instant',
    () =>
      `{ offices(first: 5, asOf: "${new Date().toISOString()}") { nodes { id grants(first: 5) { nodes { id } } } } }`,
    'offices_history',
    'offices_history_id_idx grants_history_office_idx',
  ],
];

test.each(cases)('%s: uses its index', async (_name, query, table, indexes, bitmapOnly) => {
  const plan = await planOf(query(), table, bitmapOnly === 'bitmap');
  for (const index of indexes.split(' ')) expect(plan, plan).toContain(index);
  expect(plan).not.toMatch(new RegExp(`Seq Scan on ${table}\\b`));
});
