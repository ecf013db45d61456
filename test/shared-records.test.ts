// Contractors fetch only what grants × token × purpose × opt-outs allow, only after acknowledging their
// obligations, and every page is logged as a CONTRACTOR_ACCESS transfer that the auditor sees.
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { covers, coversSql } from '../src/registry/categories.js';
import { startHarness, type Harness } from './harness.js';
import { createOffice, grant, issueToken, mutate, ok, registerContractor, setStatus } from './fixtures.js';
import { rowsOf } from '../src/db/rows.js';

let h: Harness;
let compliance: string;
let auditor: string;
let offices: { id: string; country: string }[];

const CATEGORY_VALUES: Record<string, string> = {
  'contact.name': 'Ada Lovelace',
  'contact.email': 'ada@example.org',
  'device.hardware': 'Intel NUC 12',
  'device.software': 'Windows 11',
  'financial.payment_card': '4111 1111 1111 1111',
};
const RESTRICTED = new Set(['financial.payment_card']);
const SUBJECTS = ['subj-1', 'subj-2', 'subj-3', 'subj-4'];
const PURPOSES = ['TECHNICAL_SUPPORT', 'ORDER_FULFILMENT'] as const;

const records = `query($purpose: Purpose!, $first: Int, $after: String) { sharedRecords(purpose: $purpose, first: $first, after: $after) {
  pageInfo { hasNextPage endCursor } nodes { subjectRef exporterCountry values { category value } } } }`;

beforeAll(async () => {
  h = await startHarness();
  compliance = await h.staffToken('COMPLIANCE');
  auditor = await h.staffToken('AUDITOR');
  offices = [
    await createOffice(h, compliance, { name: 'Munich', country: 'DE', city: 'Munich' }),
    await createOffice(h, compliance, { name: 'Lyon', country: 'FR', city: 'Lyon' }),
  ];
  for (const office of offices) {
    const res = await mutate(
      h,
      compliance,
      'importSharedRecords',
      'ImportSharedRecordsInput',
      {
        officeId: office.id,
        records: SUBJECTS.map((subjectRef) => ({ subjectRef, values: CATEGORY_VALUES })),
      },
      '... on ImportSharedRecordsPayload { imported created updated }',
    );
    expect(res).toMatchObject({ imported: 4, created: 4, updated: 0 });
  }
});
afterAll(async () => {
  await h?.stop();
});

async function fetchAll(token: string, purpose: string, first: number) {
  const all: { subjectRef: string; exporterCountry: string; values: { category: string; value: string }[] }[] = [];
  let after: string | null = null;
  for (let i = 0; i < 20; i++) {
    const r = await h.gql(token, records, { purpose, first, after });
    if (r.body.errors) return { errors: r.body.errors, all };
    all.push(...r.body.data.sharedRecords.nodes);
    if (!r.body.data.sharedRecords.pageInfo.hasNextPage) break;
    after = r.body.data.sharedRecords.pageInfo.endCursor;
  }
  return { all, errors: undefined };
}

describe('importing', () => {
  test('a bad value, an unknown category or a duplicate subject refuses the whole batch', async () => {
    const office = offices[0]!;
    const res = await mutate(
      h,
      compliance,
      'importSharedRecords',
      'ImportSharedRecordsInput',
      {
        officeId: office.id,
        records: [
          { subjectRef: 'new-1', values: { 'contact.email': 'not-an-email' } },
          { subjectRef: 'new-2', values: { 'financial.payment_card': '4111 1111 1111 1112' } },
          { subjectRef: 'new-3', values: { 'no.such.category': 'x' } },
          { subjectRef: 'new-3', values: { 'contact.name': 'x' } },
          { subjectRef: 'Ada Lovelace <ada@example.org>', values: { 'contact.name': 'x' } },
          // Padded: would be a second subject beside "subj-1", out of reach of subj-1's opt-outs.
          { subjectRef: ' subj-1 ', values: { 'contact.name': 'x' } },
          // Under a group: would skip the card check and reach a grant of `financial`.
          { subjectRef: 'new-7', values: { financial: '4111 1111 1111 1111' } },
        ],
      },
      '',
    );
    expect(res.code).toBe('VALIDATION_FAILED');
    expect(
      res.issues.map((i: { field: string }) => i.field),
      JSON.stringify(res.issues),
    ).toEqual(
      expect.arrayContaining([
        'input.records.0.values.contact.email',
        'input.records.1.values.financial.payment_card',
        'input.records.2.values.no.such.category',
        'input.records.3.subjectRef',
        'input.records.4.subjectRef',
        'input.records.5.subjectRef',
        'input.records.6.values.financial',
      ]),
    );
    const padded = await mutate(
      h,
      compliance,
      'recordOptOut',
      'RecordOptOutInput',
      { subjectRef: ' subj-1 ', purpose: 'TECHNICAL_SUPPORT' },
      '',
    );
    expect(padded.issues.map((i: { field: string }) => i.field)).toEqual(['input.subjectRef']);
    const token = await fullAccessToken('Batch Check Co', [offices[0]!], ['contact.name'], 'TECHNICAL_SUPPORT');
    const { all } = await fetchAll(token, 'TECHNICAL_SUPPORT', 100);
    expect(all.map((r) => r.subjectRef).sort()).toEqual(SUBJECTS);
  });
  test('auditors cannot import and batches are bounded', async () => {
    const r = await h.gql(
      auditor,
      'mutation($i: ImportSharedRecordsInput!) { importSharedRecords(input: $i) { __typename } }',
      { i: { officeId: offices[0]!.id, records: [{ subjectRef: 'x', values: { 'contact.name': 'x' } }] } },
    );
    expect(r.body.errors[0].extensions.code).toBe('FORBIDDEN');
    const big = await mutate(
      h,
      compliance,
      'importSharedRecords',
      'ImportSharedRecordsInput',
      {
        officeId: offices[0]!.id,
        records: Array.from({ length: 1001 }, (_, i) => ({ subjectRef: `b-${i}`, values: { 'contact.name': 'x' } })),
      },
      '',
    );
    expect(big).toMatchObject({ code: 'VALIDATION_FAILED', issues: [{ field: 'input.records' }] });
  });
  test('a record of 70,000 keys is refused up front, naming the limit; nothing is written', async () => {
    const before = await counts();
    const values = Object.fromEntries(Array.from({ length: 70_000 }, (_, i) => [`k${i}`, 'v']));
    const res = await mutate(
      h,
      compliance,
      'importSharedRecords',
      'ImportSharedRecordsInput',
      {
        officeId: offices[0]!.id,
        records: [{ subjectRef: 'wide-1', values }],
      },
      '',
    );
    expect(res).toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [{ field: 'input.records.0.values', message: 'at most 200 values per record (one per data category)' }],
    });
    expect(await counts()).toEqual(before);
  });
  test('a batch naming more keys than a statement has parameters gets the unknown categories, not a database error', async () => {
    // 350 records × 200 distinct keys = 70,000 keys, each record within its limit, the body under MAX_BODY_BYTES.
    const key = (n: number) => n.toString(36).padStart(4, '0');
    const records = Array.from({ length: 350 }, (_, r) => ({
      subjectRef: `many-${r}`,
      values: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [key(r * 200 + i), ''])),
    }));
    const before = await counts();
    const res = await mutate(
      h,
      compliance,
      'importSharedRecords',
      'ImportSharedRecordsInput',
      { officeId: offices[0]!.id, records },
      '',
    );
    expect(res.code).toBe('VALIDATION_FAILED');
    expect(res.issues[0]).toEqual({ field: 'input.records.0.values.0000', message: 'unknown data category 0000' });
    expect(await counts()).toEqual(before);
  });
});

const counts = async () => {
  const r: any = await h.database.db.execute(
    sql`select (select count(*) from shared_records)::int as records, (select count(*) from audit_events)::int as events`,
  );
  return rowsOf<any>(r)[0];
};

/** An ACTIVE contractor with one grant per office for `purpose` over `categories`, and a token for them. */
async function fullAccessToken(name: string, from: { id: string }[], categories: string[], purpose: string) {
  const c = await registerContractor(h, compliance, { legalName: name, country: 'FR' });
  await setStatus(h, compliance, c.id, 'ACTIVE');
  for (const o of from) await grant(h, compliance, { contractorId: c.id, officeId: o.id, categories, purpose });
  return (await issueToken(h, compliance, { contractorId: c.id, categories, purposes: [purpose] })).token as string;
}

describe('gates', () => {
  test('support contractor: exactly name, e-mail and device details; never a card; no opted-out subject; only after acknowledging', async () => {
    const c = await registerContractor(h, compliance, { legalName: 'Done-When Support Ltd', country: 'IN' });
    await setStatus(h, compliance, c.id, 'ACTIVE');
    const cats = ['contact.name', 'contact.email', 'device.hardware', 'device.software'];
    await grant(h, compliance, {
      contractorId: c.id,
      officeId: offices[0]!.id,
      categories: cats,
      purpose: 'TECHNICAL_SUPPORT',
      mechanism: 'SCC',
      sccModule: 2,
    });
    const obligation = await ok(
      h,
      compliance,
      'addObligation',
      'AddObligationInput',
      {
        contractorId: c.id,
        kind: 'CONFIDENTIALITY',
        text: 'Keep it confidential.',
        sourceDocument: 'DPA v2',
        effectiveFrom: '2026-01-01',
      },
      'obligation',
      'id',
    );
    await mutate(
      h,
      compliance,
      'recordOptOut',
      'RecordOptOutInput',
      { subjectRef: 'subj-2', purpose: 'TECHNICAL_SUPPORT' },
      '... on RecordOptOutPayload { subjectRef }',
    );
    const token = (
      await issueToken(h, compliance, { contractorId: c.id, categories: cats, purposes: ['TECHNICAL_SUPPORT'] })
    ).token;

    const blocked = await h.gql(token, records, { purpose: 'TECHNICAL_SUPPORT' });
    expect(blocked.body.data).toBeNull();
    expect(blocked.body.errors[0].extensions).toMatchObject({
      code: 'FORBIDDEN',
      reason: 'obligations_unacknowledged',
      obligations: [obligation.id],
    });

    await h.gql(token, 'mutation($id: ID!) { acknowledgeObligation(input: { id: $id }) { __typename } }', {
      id: obligation.id,
    });
    const { all, errors } = await fetchAll(token, 'TECHNICAL_SUPPORT', 2);
    expect(errors).toBeUndefined();
    expect(all.map((r) => r.subjectRef).sort()).toEqual(['subj-1', 'subj-3', 'subj-4']);
    for (const r of all) {
      expect(r.exporterCountry).toBe('DE');
      expect(r.values.map((v) => v.category)).toEqual(cats.slice().sort());
      expect(JSON.stringify(r)).not.toContain('4111');
    }
    const other = await h.gql(token, records, { purpose: 'ORDER_FULFILMENT' });
    expect(other.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'insufficient_scope' });
  });
  test('the contractor lists its own access history; the auditor sees each fetch in the transfer history', async () => {
    const token = await fullAccessToken('History Co', [offices[1]!], ['contact.name'], 'TECHNICAL_SUPPORT');
    const other = await fullAccessToken('Other History Co', [offices[1]!], ['contact.name'], 'TECHNICAL_SUPPORT');
    const fetched = await fetchAll(token, 'TECHNICAL_SUPPORT', 2);
    await fetchAll(other, 'TECHNICAL_SUPPORT', 100);
    const mine = await h.gql(
      token,
      '{ accessHistory(first: 10) { nodes { id kind recordCount categories exporterCountry importerCountry mechanism purpose } } }',
    );
    expect(mine.body.errors).toBeUndefined();
    const nodes = mine.body.data.accessHistory.nodes as { id: string; recordCount: number; categories: string[] }[];
    expect(nodes.map((n) => n.recordCount).sort()).toEqual([1, 2]);
    expect(nodes.reduce((n, t) => n + t.recordCount, 0)).toBe(fetched.all.length);
    expect(nodes[0]).toMatchObject({
      kind: 'CONTRACTOR_ACCESS',
      categories: ['contact.name'],
      exporterCountry: 'FR',
      importerCountry: 'FR',
      mechanism: 'NOT_REQUIRED',
      purpose: 'TECHNICAL_SUPPORT',
    });
    // Another contractor's access events are not reachable by ID.
    const theirs = (await h.gql(other, '{ accessHistory(first: 10) { nodes { id } } }')).body.data.accessHistory
      .nodes as { id: string }[];
    const probe = await h.gql(token, 'query($id: ID!) { node(id: $id) { id } }', { id: theirs[0]!.id });
    expect(probe.body.data?.node ?? null).toBeNull();
    // Its own event is readable by ID; not with a token of the same contractor that may only acknowledge.
    const own = await h.gql(token, 'query($id: ID!) { node(id: $id) { id } }', { id: nodes[0]!.id });
    expect(own.body.data.node.id).toBe(nodes[0]!.id);
    const ownId = (await h.gql(token, '{ grants(first: 1) { nodes { contractor { id } } } }')).body.data.grants.nodes[0]
      .contractor.id;
    const ackOnly = (
      await issueToken(h, compliance, {
        contractorId: ownId,
        categories: ['contact.name'],
        purposes: ['TECHNICAL_SUPPORT'],
        scopes: ['OBLIGATIONS_ACKNOWLEDGE'],
      })
    ).token as string;
    const refused = await h.gql(ackOnly, 'query($id: ID!) { node(id: $id) { id } }', { id: nodes[0]!.id });
    expect(refused.body.data?.node ?? null).toBeNull();
    expect(refused.body.errors[0].extensions.code).toBe('FORBIDDEN');
    // The auditor sees the same events in the history.
    const audit = await h.gql(
      auditor,
      'query($ids: [ID!]!) { nodes(ids: $ids) { ... on Transfer { kind recordCount accessToken { id } } } }',
      { ids: nodes.map((n) => n.id) },
    );
    expect(audit.body.data.nodes.map((n: { kind: string }) => n.kind)).toEqual([
      'CONTRACTOR_ACCESS',
      'CONTRACTOR_ACCESS',
    ]);
    expect(audit.body.data.nodes[0].accessToken).not.toBeNull();
    // Staff use `transfers`, not accessHistory.
    expect((await h.gql(auditor, '{ accessHistory { nodes { id } } }')).body.errors[0].extensions.code).toBe(
      'FORBIDDEN',
    );
  });
  test('staff tokens cannot read record values', async () => {
    for (const t of [auditor, compliance]) {
      const r = await h.gql(t, records, { purpose: 'TECHNICAL_SUPPORT' });
      expect(r.body.data).toBeNull();
      expect(r.body.errors[0].extensions.code).toBe('FORBIDDEN');
    }
  });
  test('an expired grant yields nothing for its office at once; revoking a grant ends the tokens for its purpose; a suspended contractor is refused', async () => {
    const c = await registerContractor(h, compliance, { legalName: 'Two Grants Co', country: 'FR' });
    await setStatus(h, compliance, c.id, 'ACTIVE');
    const g1 = await grant(h, compliance, {
      contractorId: c.id,
      officeId: offices[0]!.id,
      categories: ['contact.name'],
      purpose: 'TECHNICAL_SUPPORT',
    });
    const g2 = await grant(h, compliance, {
      contractorId: c.id,
      officeId: offices[1]!.id,
      categories: ['contact.name'],
      purpose: 'TECHNICAL_SUPPORT',
    });
    const token = (
      await issueToken(h, compliance, {
        contractorId: c.id,
        categories: ['contact.name'],
        purposes: ['TECHNICAL_SUPPORT'],
      })
    ).token;
    expect((await fetchAll(token, 'TECHNICAL_SUPPORT', 100)).all.length).toBe(6); // subj-2 opted out above, at both offices
    // Expire the first grant in the database (time passing): its office's records vanish from the next page.
    const { sql } = await import('drizzle-orm');
    const { decodeGlobalID } = await import('@pothos/plugin-relay');
    await h.database.db.execute(
      sql`update grants set valid_until = now() - interval '1 second', valid_from = now() - interval '1 day' where id = ${Number(decodeGlobalID(g1.id).id)}`,
    );
    const after = await fetchAll(token, 'TECHNICAL_SUPPORT', 100);
    expect(after.all.map((r) => r.exporterCountry)).toEqual(['FR', 'FR', 'FR']);

    // Revoking the second grant ends every token of the contractor for that purpose, at once.
    await ok(h, compliance, 'revokeGrant', 'RevokeGrantInput', { id: g2.id, reason: 'contract ended' }, 'grant');
    expect((await h.gql(token, records, { purpose: 'TECHNICAL_SUPPORT' })).status).toBe(401);

    // A new grant and token read that grant's office only; suspension refuses the token.
    await grant(h, compliance, {
      contractorId: c.id,
      officeId: offices[0]!.id,
      categories: ['contact.name'],
      purpose: 'TECHNICAL_SUPPORT',
    });
    const fresh = (
      await issueToken(h, compliance, {
        contractorId: c.id,
        categories: ['contact.name'],
        purposes: ['TECHNICAL_SUPPORT'],
      })
    ).token;
    const again = await fetchAll(fresh, 'TECHNICAL_SUPPORT', 100);
    expect(again.all).toHaveLength(3);
    expect(again.all.map((r) => r.exporterCountry)).toEqual(['DE', 'DE', 'DE']); // Munich only
    await setStatus(h, compliance, c.id, 'SUSPENDED', 'audit');
    expect((await h.gql(fresh, records, { purpose: 'TECHNICAL_SUPPORT' })).status).toBe(401);
  });
});

describe('property: nothing outside what the rules allow, and every fetch logged as returned', () => {
  const categoryKeys = [
    'contact',
    'contact.name',
    'contact.email',
    'device',
    'device.hardware',
    'financial',
    'financial.payment_card',
  ];
  // The keys above each purpose may use (the seeded purpose limitation): a card is for orders, a device for support.
  const purposeKeys = {
    TECHNICAL_SUPPORT: categoryKeys.filter((k) => !k.startsWith('financial')),
    ORDER_FULFILMENT: categoryKeys.filter((k) => !k.startsWith('device')),
  };
  const grantArb = fc.constantFrom(...PURPOSES).chain((purpose) =>
    fc.record({
      office: fc.integer({ min: 0, max: 1 }),
      purpose: fc.constant(purpose),
      categories: fc.subarray(purposeKeys[purpose], { minLength: 1 }),
      expired: fc.boolean(),
    }),
  );
  const worldArb = fc.record({
    grants: fc.array(grantArb, { minLength: 1, maxLength: 4 }),
    tokenPick: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
    optOuts: fc.subarray(SUBJECTS.flatMap((s) => PURPOSES.map((p) => `${s}|${p}`))),
    pageSize: fc.integer({ min: 1, max: 5 }),
  });
  let run = 0;
  let fetched = 0;
  // The rule restated here, not imported, so the oracle cannot share a bug with the service: a grant (or
  // token) of a key covers that key and its descendants, except RESTRICTED ones, which must be named.
  const grantCovers = (granted: string, key: string) =>
    key === granted || (!RESTRICTED.has(key) && key.startsWith(`${granted}.`));

  test('random grants × purposes × opt-outs × token categories × offices', async () => {
    await fc.assert(
      fc.asyncProperty(worldArb, async (world) => {
        run++;
        const subjects = SUBJECTS.map((s) => `${s}-r${run}`);
        // Fresh offices and subjects per run: only this run's records can match.
        const runOffices = [
          await createOffice(h, compliance, { name: `Munich ${run}`, country: 'DE', city: 'Munich' }),
          await createOffice(h, compliance, { name: `Lyon ${run}`, country: 'FR', city: 'Lyon' }),
        ];
        for (const office of runOffices) {
          await mutate(
            h,
            compliance,
            'importSharedRecords',
            'ImportSharedRecordsInput',
            {
              officeId: office.id,
              records: subjects.map((subjectRef) => ({ subjectRef, values: CATEGORY_VALUES })),
            },
            '... on ImportSharedRecordsPayload { imported }',
          );
        }
        for (const o of world.optOuts) {
          const [s, purpose] = o.split('|');
          await mutate(
            h,
            compliance,
            'recordOptOut',
            'RecordOptOutInput',
            { subjectRef: `${s}-r${run}`, purpose },
            '... on RecordOptOutPayload { subjectRef }',
          );
        }
        const c = await registerContractor(h, compliance, { legalName: `Property Co ${run}`, country: 'FR' });
        await setStatus(h, compliance, c.id, 'ACTIVE');
        const made: { office: number; purpose: string; categories: string[]; expired: boolean; id: string }[] = [];
        for (const g of world.grants) {
          const created = await grant(h, compliance, {
            contractorId: c.id,
            officeId: runOffices[g.office]!.id,
            categories: g.categories,
            purpose: g.purpose,
          });
          made.push({ ...g, id: created.id });
        }
        const purpose = world.grants[0]!.purpose;
        // Token categories: a random pick of what the live grants for this purpose cover (the service refuses anything else).
        const coverable = Object.keys(CATEGORY_VALUES).filter((k) =>
          made.some((g) => g.purpose === purpose && g.categories.some((gk) => grantCovers(gk, k))),
        );
        if (!coverable.length) return; // e.g. only `financial` granted: it covers no value here (the card must be named)
        const picked = coverable.filter((_, i) => world.tokenPick[i]);
        const tokenCats = picked.length ? picked : [coverable[0]!];
        fetched++;
        const issued = await issueToken(h, compliance, {
          contractorId: c.id,
          categories: tokenCats,
          purposes: [purpose],
        });
        for (const g of made.filter((x) => x.expired)) {
          // Time passing: the grant's window closes while the token lives on (revoking would end the token too).
          await h.database.db.execute(
            (await import('drizzle-orm'))
              .sql`update grants set valid_from = now() - interval '1 day', valid_until = now() - interval '1 second' where id = ${Number((await import('@pothos/plugin-relay')).decodeGlobalID(g.id).id)}`,
          );
        }

        const { all, errors } = await fetchAll(issued.token, purpose, world.pageSize);
        expect(errors).toBeUndefined();
        const expected = new Map<string, string[]>();
        for (const [oi, office] of runOffices.entries()) {
          for (const s of subjects) {
            if (world.optOuts.includes(`${s.replace(`-r${run}`, '')}|${purpose}`)) continue;
            const live = made.filter((g) => !g.expired && g.purpose === purpose && g.office === oi);
            const keys = Object.keys(CATEGORY_VALUES).filter(
              (k) =>
                live.some((g) => g.categories.some((gk) => grantCovers(gk, k))) &&
                tokenCats.some((tk) => grantCovers(tk, k)),
            );
            if (keys.length) expected.set(`${office.country}|${s}`, keys.sort());
          }
        }
        const got = new Map(
          all
            .filter((r) => r.subjectRef.endsWith(`-r${run}`))
            .map((r) => [`${r.exporterCountry}|${r.subjectRef}`, r.values.map((v) => v.category)]),
        );
        expect(all.every((r) => r.subjectRef.endsWith(`-r${run}`))).toBe(true);
        expect(Object.fromEntries(got)).toEqual(Object.fromEntries(expected));
        for (const r of all) for (const v of r.values) expect(v.value).toBe(CATEGORY_VALUES[v.category]);

        // The access log holds exactly what was returned.
        const logged = await h.gql(
          auditor,
          `query($c: ID!) { transfers(first: 100, contractorId: $c, kind: CONTRACTOR_ACCESS) { nodes { recordCount categories } } }`,
          { c: c.id },
        );
        expect(logged.body.errors).toBeUndefined();
        const nodes = logged.body.data.transfers.nodes as { recordCount: number; categories: string[] }[];
        expect(nodes.reduce((n, t) => n + t.recordCount, 0)).toBe(all.length);
        const loggedCats = new Set(nodes.flatMap((t) => t.categories));
        expect([...loggedCats].sort()).toEqual(
          [...new Set(all.flatMap((r) => r.values.map((v) => v.category)))].sort(),
        );
      }),
      { numRuns: 12 },
    );
    expect(fetched).toBeGreaterThanOrEqual(6); // most runs reach the fetch, so the property is really exercised
  }, 240_000);
});

describe('what auditors see of shared records', () => {
  test('counts, categories and subject references in the audit log and the history — never a record value', async () => {
    // A fetch first, so the access side is in the log as well.
    const token = await fullAccessToken(
      'Audited Reader',
      [offices[0]!],
      ['contact.email', 'financial.payment_card'],
      'ORDER_FULFILMENT',
    );
    expect((await fetchAll(token, 'ORDER_FULFILMENT', 100)).errors).toBeUndefined();
    const seen: unknown[] = [];
    for (const [query, path] of [
      [
        'query($after: String) { auditLog(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { action entityType entityId before after } } }',
        'auditLog',
      ],
      [
        'query($after: String) { transfers(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { kind categories recordCount policyExplanation } } }',
        'transfers',
      ],
    ] as const) {
      let after: string | null = null;
      for (let i = 0; i < 50; i++) {
        const r = await h.gql(auditor, query, { after });
        expect(r.body.errors).toBeUndefined();
        seen.push(...r.body.data[path].nodes);
        if (!r.body.data[path].pageInfo.hasNextPage) break;
        after = r.body.data[path].pageInfo.endCursor;
      }
    }
    const text = JSON.stringify(seen);
    expect(text).toContain('importSharedRecords');
    expect(text).toContain('CONTRACTOR_ACCESS');
    for (const value of Object.values(CATEGORY_VALUES)) expect(text).not.toContain(value);
  });
});

describe('gates judged when the page is read', () => {
  const DAY = 86_400_000;
  const accessCount = async () => {
    const r: any = await h.database.db.execute(
      (await import('drizzle-orm')).sql`select count(*)::int as n from transfers where kind = 'CONTRACTOR_ACCESS'`,
    );
    return Number(rowsOf<any>(r)[0].n);
  };

  test("an obligation taking effect tomorrow blocks from tomorrow on, on the registry's clock; the fetch is logged at that clock's time", async () => {
    const c = await registerContractor(h, compliance, { legalName: 'Clock Reader', country: 'FR' });
    await setStatus(h, compliance, c.id, 'ACTIVE');
    await grant(h, compliance, {
      contractorId: c.id,
      officeId: offices[0]!.id,
      categories: ['contact.name'],
      purpose: 'TECHNICAL_SUPPORT',
    });
    const tomorrow = new Date(h.clock.now().getTime() + DAY).toISOString().slice(0, 10);
    const obligation = await ok(
      h,
      compliance,
      'addObligation',
      'AddObligationInput',
      {
        contractorId: c.id,
        kind: 'CONFIDENTIALITY',
        text: 'Keep it confidential.',
        sourceDocument: 'DPA v3',
        effectiveFrom: tomorrow,
      },
      'obligation',
      'id',
    );
    const token = (
      await issueToken(h, compliance, {
        contractorId: c.id,
        categories: ['contact.name'],
        purposes: ['TECHNICAL_SUPPORT'],
      })
    ).token;
    const today = await fetchAll(token, 'TECHNICAL_SUPPORT', 100);
    expect(today.errors).toBeUndefined();
    expect(today.all.length).toBeGreaterThan(0);

    h.clock.advance(DAY + 60_000);
    try {
      const before = await accessCount();
      const blocked = await h.gql(token, records, { purpose: 'TECHNICAL_SUPPORT' });
      expect(blocked.body.data).toBeNull();
      expect(blocked.body.errors[0].extensions).toMatchObject({
        code: 'FORBIDDEN',
        reason: 'obligations_unacknowledged',
        obligations: [obligation.id],
      });
      expect(await accessCount()).toBe(before);

      await h.gql(token, 'mutation($id: ID!) { acknowledgeObligation(input: { id: $id }) { __typename } }', {
        id: obligation.id,
      });
      expect((await fetchAll(token, 'TECHNICAL_SUPPORT', 100)).all).toHaveLength(today.all.length);
      const history = await h.gql(token, '{ accessHistory(first: 1) { nodes { occurredAt } } }');
      expect(history.body.data.accessHistory.nodes[0].occurredAt.slice(0, 10)).toBe(tomorrow);
    } finally {
      h.clock.reset();
    }
  });

  test('a contractor no longer ACTIVE reads nothing with a token that is still valid, and nothing is logged', async () => {
    const c = await registerContractor(h, compliance, { legalName: 'Lapsed Reader', country: 'FR' });
    await setStatus(h, compliance, c.id, 'ACTIVE');
    await grant(h, compliance, {
      contractorId: c.id,
      officeId: offices[0]!.id,
      categories: ['contact.name'],
      purpose: 'TECHNICAL_SUPPORT',
    });
    const token = (
      await issueToken(h, compliance, {
        contractorId: c.id,
        categories: ['contact.name'],
        purposes: ['TECHNICAL_SUPPORT'],
      })
    ).token;
    const { sql } = await import('drizzle-orm');
    const { decodeGlobalID } = await import('@pothos/plugin-relay');
    // Suspended behind the registry's back: setContractorStatus would also have revoked the token.
    await h.database.db.execute(
      sql`update contractors set status = 'SUSPENDED' where id = ${Number(decodeGlobalID(c.id).id)}`,
    );
    const before = await accessCount();
    const refused = await h.gql(token, records, { purpose: 'TECHNICAL_SUPPORT' });
    expect(refused.body.data).toBeNull();
    expect(refused.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'contractor_not_active' });
    expect(await accessCount()).toBe(before);
  });
});

test('the SQL and the TS "covers" agree on every pair of seeded categories', async () => {
  const r: any = await h.database.db.execute(sql`select g.key as granted, c.key, c.sensitivity,
    ${coversSql(sql`g.key`, sql`c.key`, sql`c.sensitivity`)} as covered from data_categories g cross join data_categories c`);
  const rows = rowsOf<{ granted: string; key: string; sensitivity: string; covered: boolean }>(r);
  expect(rows.length).toBeGreaterThan(100);
  const outcomes = new Set<string>();
  for (const row of rows) {
    const byTs = covers(row.granted, row.key, row.sensitivity === 'RESTRICTED');
    expect(Boolean(row.covered), `${row.granted} → ${row.key}`).toBe(byTs);
    outcomes.add(`${byTs}:${row.key === row.granted}:${row.sensitivity === 'RESTRICTED'}`);
  }
  // Covered and not, the key itself and a descendant, RESTRICTED and not: every branch of the rule was compared.
  expect(outcomes).toEqual(
    new Set(['true:true:true', 'true:true:false', 'true:false:false', 'false:false:true', 'false:false:false']),
  );
});
