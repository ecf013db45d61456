// Evidence rows in the chain: each change's audit event carries the content hash of every evidence row it wrote,
// and verifyAuditLog re-hashes the tables, naming the row and the event that differ — a transfer altered with the
// guard lifted, an importer country changed, a row deleted, a row written by no event.
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EVIDENCE_TABLES, NOT_EVIDENCE, verifyEvidenceRows } from '../src/audit/rows.js';
import { latestMigration } from '../src/db/client.js';
import * as history from '../src/db/history.js';
import * as tables from '../src/db/tables.js';
import { attestSeededRows } from '../src/registry/seeded-rows.js';
import { rowHash } from '../src/audit/row-check.js';
import { appendAuditEvents } from '../src/audit/write.js';
import { startHarness, type Harness } from './harness.js';
import { addLocation, contractorWithToken, issueToken, mutate, ok, setStatus } from './fixtures.js';
import { rawSql, recordOk, smallRegistry } from './transfer-fixtures.js';
import { rowsOf } from '../src/db/rows.js';

let h: Harness;
let compliance: string;
let auditor: string;

const VERIFY = `{ verifyAuditLog { ok checked firstBroken { seq reason }
  rows { ok checked unattested problemCount problems { table key seq reason } } } }`;

const verify = async () => (await h.gql(auditor, VERIFY)).body.data.verifyAuditLog;
const rows = async (text: string): Promise<any[]> => rowsOf<any>(await rawSql(h, text));
/** As the table owner, with the append-only guard of `table` lifted for one statement. */
async function unguarded(table: 'transfers' | 'audit_events', statement: string) {
  await h.asOwner(`alter table ${table} disable trigger ${table}_append_only`);
  try {
    await h.asOwner(statement);
  } finally {
    await h.asOwner(`alter table ${table} enable trigger ${table}_append_only`);
  }
}
/** The seq of the latest event whose row hashes name `table` row `key`. */
const eventNaming = (table: string, key: string) => eventNamingIn(h, table, key);
async function eventNamingIn(x: Harness, table: string, key: string): Promise<number> {
  const [r] = rowsOf<any>(
    await rawSql(
      x,
      `select max(seq)::int as seq from audit_events, jsonb_array_elements(row_hashes) x
    where x->>'table' = '${table}' and x->>'key' = '${key}'`,
    ),
  );
  return Number(r.seq);
}

beforeAll(async () => {
  h = await startHarness();
  compliance = await h.staffToken('COMPLIANCE', 'alice@example.com');
  auditor = await h.staffToken('AUDITOR');
});
afterAll(async () => {
  await h?.stop();
});

test('every table is classified: evidence, or not evidence with its reason', () => {
  const all = ([...Object.values(tables), ...Object.values(history)] as unknown[])
    .filter((t): t is PgTable => t instanceof PgTable)
    .map((t) => getTableConfig(t).name);
  const evidence = EVIDENCE_TABLES.map((t) => t.name);
  expect(evidence.filter((n) => n in NOT_EVIDENCE)).toEqual([]);
  expect(all.filter((n) => !evidence.includes(n) && !(n in NOT_EVIDENCE))).toEqual([]);
  expect([...evidence, ...Object.keys(NOT_EVIDENCE)].filter((n) => !all.includes(n))).toEqual([]);
});

describe('every change that writes evidence puts its rows in the chain', () => {
  test('a registry built through every mutation verifies, each evidence table written and attested', async () => {
    const reg = await smallRegistry(h, compliance);
    await ok(
      h,
      compliance,
      'updateOffice',
      'UpdateOfficeInput',
      { id: reg.office.id, version: 1, city: 'Potsdam' },
      'office',
    );
    await ok(
      h,
      compliance,
      'updateContractor',
      'UpdateContractorInput',
      { id: reg.fr.id, version: 2, contactName: 'Dana' },
      'contractor',
    );
    const location = await addLocation(h, compliance, reg.fr.id, 'BE');
    await addLocation(h, compliance, reg.fr.id, 'NL');
    await mutate(
      h,
      compliance,
      'removeProcessingLocation',
      'RemoveProcessingLocationInput',
      { id: location.id },
      '__typename',
    );
    await ok(
      h,
      compliance,
      'defineDataCategory',
      'DefineDataCategoryInput',
      { key: 'contact.fax', name: 'Fax', description: 'A fax number.', sensitivity: 'PERSONAL' },
      'dataCategory',
      'key',
    );
    await recordOk(h, compliance, { officeId: reg.office.id, contractorId: reg.india.id, recordCount: 7 });
    // A contractor that fetches records: its token, an obligation it acknowledges, a CONTRACTOR_ACCESS transfer.
    const c = await contractorWithToken(h, compliance, { name: 'Fetching Co' });
    const obligation = await ok(
      h,
      compliance,
      'addObligation',
      'AddObligationInput',
      {
        contractorId: c.contractor.id,
        kind: 'SECURITY_MEASURES',
        text: 'Allow audits',
        sourceDocument: 'DPA',
        effectiveFrom: '2020-01-01',
      },
      'obligation',
    );
    const ack = await h.gql(
      c.token,
      `mutation($id: ID!) { acknowledgeObligation(input: { id: $id }) { __typename } }`,
      {
        id: obligation.id,
      },
    );
    expect(ack.body.data.acknowledgeObligation.__typename).toBe('AcknowledgeObligationPayload');
    await mutate(
      h,
      compliance,
      'importSharedRecords',
      'ImportSharedRecordsInput',
      { officeId: c.office.id, records: [{ subjectRef: 'subj-1', values: { 'contact.email': 'a@example.org' } }] },
      '__typename',
    );
    const fetched = await h.gql(c.token, '{ sharedRecords(purpose: TECHNICAL_SUPPORT) { nodes { subjectRef } } }');
    expect(fetched.body.data.sharedRecords.nodes).toHaveLength(1);
    await mutate(
      h,
      compliance,
      'recordOptOut',
      'RecordOptOutInput',
      { subjectRef: 'subj-1', purpose: 'SPECIAL_OFFERS' },
      '__typename',
    );
    const second = await issueToken(h, compliance, {
      contractorId: c.contractor.id,
      categories: ['contact.email'],
      purposes: ['TECHNICAL_SUPPORT'],
    });
    await mutate(
      h,
      compliance,
      'revokeAccessToken',
      'RevokeAccessTokenInput',
      { id: second.accessToken.id, reason: 'lost' },
      '__typename',
    );
    // A disclosure: received, reviewed, decided, and its LEGAL_DISCLOSURE transfer.
    const request = await ok(
      h,
      compliance,
      'receiveDisclosureRequest',
      'ReceiveDisclosureRequestInput',
      {
        officeId: reg.office.id,
        authorityName: 'Landeskriminalamt Berlin',
        authorityType: 'LAW_ENFORCEMENT',
        authorityCountry: 'DE',
        instrument: 'COURT_ORDER',
        reference: 'LKA-1',
        dueAt: new Date(Date.now() + 86_400_000).toISOString(),
        requestedCategories: ['contact.email'],
        subjectsRequested: 1,
      },
      'disclosureRequest',
    );
    await ok(
      h,
      compliance,
      'startDisclosureReview',
      'DisclosureRequestIdInput',
      { id: request.id },
      'disclosureRequest',
    );
    await ok(
      h,
      compliance,
      'decideDisclosureRequest',
      'DecideDisclosureRequestInput',
      { id: request.id, decision: 'DISCLOSED' },
      'disclosureRequest',
    );
    await ok(
      h,
      compliance,
      'revokeGrant',
      'RevokeGrantInput',
      { id: reg.frGrant.id, reason: 'contract ended' },
      'grant',
    );
    await setStatus(h, compliance, reg.india.id, 'TERMINATED', 'contract ended');

    // A policy change: its record and the restriction it adds.
    const policy = await mutate(
      h,
      compliance,
      'applyPolicyChange',
      'PolicyChangeInput',
      {
        reason: 'data localisation law',
        addRestriction: { exporterCountry: 'CH', importerCountry: 'IN', legalBasis: 'Test Act', reason: 'stays home' },
      },
      '... on PolicyChangeApplied { change { id } }',
    );
    expect(policy.__typename).toBe('PolicyChangeApplied');

    // A derogation limit (the next version of the seeded default) and a published version of the sharing disclosure.
    const limit = await mutate(
      h,
      compliance,
      'applyPolicyChange',
      'PolicyChangeInput',
      { reason: 'DPO review', setDerogationLimit: { maxTransfers: 12, maxRecords: 6000 } },
      '... on PolicyChangeApplied { change { id } }',
    );
    expect(limit.__typename).toBe('PolicyChangeApplied');
    const published = await mutate(
      h,
      compliance,
      'publishDisclosure',
      'PublishDisclosureInput',
      {},
      '... on PublishDisclosurePayload { disclosureVersion { version } }',
    );
    expect(published.__typename).toBe('PublishDisclosurePayload');

    // Sealed, so the log's hashes (each entry with its row hashes) are recomputed too, not only counted.
    await h.sealer.sealNow();
    const v = await verify();
    expect(v.checked).toBeGreaterThan(0);
    expect(v.rows.problems).toEqual([]);
    expect(v).toMatchObject({ ok: true, firstBroken: null, rows: { ok: true, problemCount: 0 } });
    // The seeded rows were attested at start (src/registry/seeded-rows.ts): none is left unattested.
    expect(v.rows.unattested).toBe(0);
    // Each evidence table a change can write has rows, and each of them is named by an event.
    for (const t of EVIDENCE_TABLES.filter((t) => !t.seeded)) {
      const [{ n }] = await rows(`select count(*)::int as n from ${t.name}`);
      expect(Number(n), t.name).toBeGreaterThan(0);
    }
    const [{ n: named }] = await rows(
      `select count(distinct x->>'table')::int as n from audit_events, jsonb_array_elements(row_hashes) x`,
    );
    expect(Number(named)).toBeGreaterThanOrEqual(EVIDENCE_TABLES.filter((t) => !t.seeded).length + 1);
    // The deleted processing location is recorded as deleted (hash null) by the event that removed it.
    const [removed] = await rows(`select x->>'hash' as hash from audit_events, jsonb_array_elements(row_hashes) x
      where action = 'removeProcessingLocation' and x->>'table' = 'processing_locations'`);
    expect(removed.hash).toBeNull();
  });
});

describe('tampering with rows is named at its row and event', () => {
  test("a transfer's recordCount changed 7 → 1 with the guard off; its event left intact", async () => {
    const [t] = await rows(`select id::text as id from transfers where record_count = 7 limit 1`);
    const seq = await eventNaming('transfers', t.id);
    expect(seq).toBeGreaterThan(0);
    await unguarded('transfers', `update transfers set record_count = 1 where id = ${t.id}`);
    const v = await verify();
    expect(v.firstBroken).toBeNull(); // the chain itself is whole
    expect(v.ok).toBe(false);
    expect(v.rows).toMatchObject({ ok: false, problemCount: 1 });
    expect(v.rows.problems).toEqual([
      { table: 'transfers', key: t.id, seq, reason: `altered since event ${seq}: its hash differs` },
    ]);
    await unguarded('transfers', `update transfers set record_count = 7 where id = ${t.id}`);
    expect((await verify()).ok).toBe(true);
  });

  test("a transfer's importer country changed IN → DE", async () => {
    const [t] = await rows(`select id::text as id from transfers where importer_country = 'IN' limit 1`);
    await unguarded('transfers', `update transfers set importer_country = 'DE' where id = ${t.id}`);
    const v = await verify();
    expect(v.rows.problems).toEqual([
      expect.objectContaining({ table: 'transfers', key: t.id, seq: await eventNaming('transfers', t.id) }),
    ]);
    await unguarded('transfers', `update transfers set importer_country = 'IN' where id = ${t.id}`);
  });

  test('a grant widened by a category inserted in SQL: a row no event wrote', async () => {
    const [g] = await rows(`select id::text as id from grants order by id limit 1`);
    await rawSql(h, `insert into grant_categories (grant_id, category_key) values (${g.id}, 'contact.phone')`);
    const v = await verify();
    expect(v.rows.problems).toEqual([
      {
        table: 'grant_categories',
        key: JSON.stringify([g.id, 'contact.phone']),
        seq: null,
        reason: 'no event wrote this row',
      },
    ]);
    await rawSql(h, `delete from grant_categories where grant_id = ${g.id} and category_key = 'contact.phone'`);
    expect((await verify()).ok).toBe(true);
  });

  test('an acknowledgement forged on an obligation (a plain table, no guard) names the acknowledging event', async () => {
    const [o] = await rows(
      `select id::text as id, acknowledged_by from obligations where acknowledged_at is not null limit 1`,
    );
    const seq = await eventNaming('obligations', o.id);
    const [event] = await rows(`select action from audit_events where seq = ${seq}`);
    expect(event.action).toBe('acknowledgeObligation');
    await rawSql(h, `update obligations set acknowledged_at = acknowledged_at - interval '30 days' where id = ${o.id}`);
    const v = await verify();
    expect(v.rows.problems).toEqual([expect.objectContaining({ table: 'obligations', key: o.id, seq })]);
    await rawSql(h, `update obligations set acknowledged_at = acknowledged_at + interval '30 days' where id = ${o.id}`);
    expect((await verify()).ok).toBe(true);
  });

  test("rewriting the event's row hash to match a forged row breaks the chain at that event", async () => {
    const [t] = await rows(`select id::text as id from transfers where record_count = 7 limit 1`);
    const seq = await eventNaming('transfers', t.id);
    // Sealed before the forgery: the log's hashes cover the row hashes as written.
    await h.sealer.sealNow();
    const [{ position }] = await rows(`select position::int as position from audit_seals where event_seq = ${seq}`);
    await unguarded('transfers', `update transfers set record_count = 1 where id = ${t.id}`);
    const forged = (await verifyEvidenceRows(h.database.db)).problems[0]!;
    expect(forged.key).toBe(t.id);
    // The attacker recomputes the row's hash (the algorithm is public) and writes it into the event.
    const { rowHash } = await import('../src/audit/row-check.js');
    const table = EVIDENCE_TABLES.find((x) => x.name === 'transfers')!;
    const { sql } = await import('drizzle-orm');
    const canonical: any = await h.database.db.execute(
      sql`select ${table.canonical} as r from transfers where id = ${Number(t.id)}`,
    );
    const r = rowsOf<any>(canonical)[0].r;
    const hash = rowHash('transfers', typeof r === 'string' ? JSON.parse(r) : r);
    await unguarded(
      'audit_events',
      `update audit_events set row_hashes = (select jsonb_agg(case when x->>'key' = '${t.id}' and x->>'table' = 'transfers'
        then jsonb_set(x, '{hash}', '"${hash}"') else x end) from jsonb_array_elements(row_hashes) x) where seq = ${seq}`,
    );
    const v = await verify();
    expect(v.rows.ok).toBe(true);
    expect(v).toMatchObject({ ok: false, firstBroken: { seq: position } });
    expect(v.firstBroken.reason).toMatch(/altered/);
  });
});

describe('a deleted row', () => {
  test('a transfer deleted with the guard off is named with the event that recorded it', async () => {
    const h2 = await startHarness();
    try {
      const c = await h2.staffToken('COMPLIANCE');
      const a = await h2.staffToken('AUDITOR');
      const reg = await smallRegistry(h2, c);
      const t = await recordOk(h2, c, { officeId: reg.office.id, contractorId: reg.india.id });
      const [{ id }]: any[] = await h2.asOwner(`select id::text as id from transfers`);
      expect(t.id).toBeTruthy();
      await h2.asOwner('alter table transfers disable trigger transfers_append_only');
      await h2.asOwner(`delete from transfers where id = ${id}`);
      await h2.asOwner('alter table transfers enable trigger transfers_append_only');
      const v = (await h2.gql(a, VERIFY)).body.data.verifyAuditLog;
      const [{ seq }]: any[] = await h2.asOwner(
        `select max(seq)::int as seq from audit_events where action = 'recordTransfer'`,
      );
      expect(v).toMatchObject({ ok: false, firstBroken: null });
      expect(v.rows.problems).toEqual([
        {
          table: 'transfers',
          key: id,
          seq: Number(seq),
          reason: `deleted: event ${seq} recorded this row, it is gone`,
        },
      ]);
    } finally {
      await h2.stop();
    }
  });
});

test('paged re-hashing (composite keys included) finds the same as one page', async () => {
  const [g] = await rows(`select id::text as id from grants order by id limit 1`);
  await rawSql(h, `insert into grant_categories (grant_id, category_key) values (${g.id}, 'contact.phone')`);
  const whole = await verifyEvidenceRows(h.database.db);
  const paged = await verifyEvidenceRows(h.database.db, { batch: 2 });
  expect(paged).toEqual(whole);
  expect(whole.problems.map((p) => p.table)).toContain('grant_categories');
  expect(whole.checked).toBeGreaterThan(50);
});

describe('seeded rows, attested once in the chain', () => {
  const deps = (x: Harness) => ({
    db: x.database.db,
    clock: x.clock,
    config: x.config,
    keys: x.keys,
    tokenSettings: x.tokenSettings,
    revocations: x.revocations,
  });
  const attestations = async (x: Harness): Promise<any[]> =>
    x.asOwner(`select seq::int as seq, entity_id, actor, jsonb_array_length(row_hashes)::int as n
      from audit_events where action = 'attestSeededRows' order by seq`);

  test('the first start after a migration attests every seeded row in one event; starting again adds none', async () => {
    const h2 = await startHarness();
    try {
      const seeded = EVIDENCE_TABLES.filter((t) => t.seeded);
      let total = 0;
      for (const t of seeded)
        total += Number(((await h2.asOwner(`select count(*)::int as n from ${t.name}`)) as any[])[0].n);
      expect(total).toBeGreaterThan(20);
      expect(await attestations(h2)).toEqual([
        expect.objectContaining({ entity_id: latestMigration(), actor: 'registry:migrations', n: total }),
      ]);
      // Another start after the same migration: nothing more.
      expect(await attestSeededRows(deps(h2), latestMigration())).toBeNull();
      expect(await attestations(h2)).toHaveLength(1);
      const a = await h2.staffToken('AUDITOR');
      const v = (await h2.gql(a, VERIFY)).body.data.verifyAuditLog;
      expect(v).toMatchObject({ ok: true, rows: { ok: true, unattested: 0, problemCount: 0 } });
    } finally {
      await h2.stop();
    }
  });

  test('two instances starting at once after a new migration: one event, attesting only the new seeded row', async () => {
    const h2 = await startHarness();
    try {
      // What a new migration would seed.
      await h2.asOwner(`insert into jurisdictions (code, name, law) values ('XX', 'Example regime', 'Example Act')`);
      const results = await Promise.all([
        attestSeededRows(deps(h2), 'next_migration'),
        attestSeededRows(deps(h2), 'next_migration'),
      ]);
      expect(results.sort()).toEqual([1, null]);
      const events = await attestations(h2);
      expect(events).toHaveLength(2);
      expect(events[1]).toMatchObject({ entity_id: 'next_migration', n: 1 });
      const [named]: any[] = await h2.asOwner(
        `select x->>'table' as t, x->>'key' as k from audit_events, jsonb_array_elements(row_hashes) x where seq = ${events[1].seq}`,
      );
      expect(named).toEqual({ t: 'jurisdictions', k: 'XX' });
    } finally {
      await h2.stop();
    }
  });

  test('a limit set before the derogation-limit migration reshaped it is re-attested; one edited besides is not', async () => {
    const h2 = await startHarness();
    try {
      // As a registry of the release before that migration leaves it once migrated: two limits set by staff
      // (setDerogationLimit's event, its row hash over the old columns updated_by and updated_at), which the
      // migration turned into open versions valid from their updated_at. The second was edited besides (500 → 5000).
      const setAt = '2026-05-01T10:00:00.123Z';
      const limits: { id: number; recordsNow: number }[] = [];
      for (const [importer, recordsNow] of [
        ['IN', 500],
        ['BR', 5000],
      ] as const) {
        const [r]: any[] = await h2.asOwner(`insert into derogation_limits
          (derogation, exporter_country, importer_country, max_transfers, max_records, valid_from)
          values ('EXPLICIT_CONSENT', 'DE', '${importer}', 2, ${recordsNow}, '${setAt}') returning id`);
        limits.push({ id: Number(r.id), recordsNow });
        const id = String(r.id);
        const old = {
          id,
          derogation: 'EXPLICIT_CONSENT',
          exporter_country: 'DE',
          importer_country: importer,
          max_transfers: '2',
          max_records: '500',
          updated_by: 'alice@example.com',
          updated_at: '2026-05-01T10:00:00.123000Z',
        };
        const after = {
          id: Number(id),
          derogation: 'EXPLICIT_CONSENT',
          exporterCountry: 'DE',
          importerCountry: importer,
        };
        await h2.database.db.transaction((tx) =>
          appendAuditEvents(
            tx,
            {
              kind: 'staff',
              role: 'COMPLIANCE',
              subject: 'alice@example.com',
              tokenId: 't',
              scopes: [],
              expiresAt: new Date(8.64e15),
            },
            [
              {
                action: 'setDerogationLimit',
                entityType: 'DerogationLimit',
                entityId: id,
                before: null,
                after: { ...after, maxTransfers: 2, maxRecords: 500, updatedBy: 'alice@example.com', updatedAt: setAt },
                rowHashes: [{ table: 'derogation_limits', key: id, hash: rowHash('derogation_limits', old) }],
              },
            ],
            h2.clock.now(),
          ),
        );
      }
      const a = await h2.staffToken('AUDITOR');
      const problems = async () =>
        ((await h2.gql(a, VERIFY)).body.data.verifyAuditLog.rows.problems as { table: string; key: string }[]).filter(
          (p) => p.table === 'derogation_limits',
        );
      // Before: both read as altered.
      expect((await problems()).map((p) => p.key)).toEqual(limits.map((l) => String(l.id)));
      expect(await attestSeededRows(deps(h2), 'next_migration')).toBe(1);
      const [event] = (await attestations(h2)).slice(-1);
      expect(await eventNamingIn(h2, 'derogation_limits', String(limits[0]!.id))).toBe(event.seq);
      // After: the reshaped one is vouched for; the edited one is still named, with its own event.
      expect(await problems()).toEqual([
        expect.objectContaining({ key: String(limits[1]!.id), reason: expect.stringMatching(/^altered since event/) }),
      ]);
    } finally {
      await h2.stop();
    }
  });

  test('a seeded row altered afterwards is named with the attesting event', async () => {
    const [event] = await attestations(h);
    const [j] = await rows(`select code, law from jurisdictions order by code limit 1`);
    expect(await eventNaming('jurisdictions', j.code)).toBe(event.seq);
    await h.asOwner(`update jurisdictions set law = 'Forged Act' where code = '${j.code}'`);
    try {
      const v = await verify();
      expect(v.rows.problems.filter((p: { table: string }) => p.table === 'jurisdictions')).toEqual([
        {
          table: 'jurisdictions',
          key: j.code,
          seq: event.seq,
          reason: `altered since event ${event.seq}: its hash differs`,
        },
      ]);
    } finally {
      await h.asOwner(`update jurisdictions set law = '${j.law.replaceAll("'", "''")}' where code = '${j.code}'`);
    }
  });
});
