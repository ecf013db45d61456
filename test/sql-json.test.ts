// Reads answered by one planned SQL statement (src/graphql/sql-json/) answer exactly what normal execution answers:
// the same JSON, key order included, for every document here; what the planner does not know, and every error,
// goes to normal execution (the executions counter of /metrics says which path answered).
import { Kind, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CONTRACTORS_PAGE, CONTRACTORS_PAGE_AS_OF, TRANSFERS_PAGE } from '../bench/queries.js';
import { createApp } from '../src/app.js';
import {
  addLocation,
  contractorWithToken,
  createOffice,
  grant,
  ok,
  registerContractor,
  setStatus,
} from './fixtures.js';
import { startHarness, type Harness } from './harness.js';
import { recordOk, smallRegistry } from './transfer-fixtures.js';

let h: Harness;
/** The same services without the planner: normal execution for every request. */
let plain: ReturnType<typeof createApp>;
let compliance: string;
let auditor: string;
let contractorToken: string;

const DAY = 86_400_000;

beforeAll(async () => {
  h = await startHarness();
  plain = createApp({ ...h, answerFromSql: false });
  compliance = await h.staffToken('COMPLIANCE');
  auditor = await h.staffToken('AUDITOR');
  const berlin = await createOffice(h, compliance, { name: 'Berlin', country: 'DE', city: 'Berlin' });
  const paris = await createOffice(h, compliance, { name: "Paris l'Opéra", country: 'FR', city: 'Paris' });
  // A contractor with no grants and no locations, one with several of each, one terminated, one with a long name.
  await registerContractor(h, compliance, { legalName: 'Empty Holdings Ltd', country: 'GB', contactEmail: null });
  for (let i = 0; i < 5; i++) {
    const c = await registerContractor(h, compliance, {
      legalName: `Northwind Softworks ${i} "S.A."`,
      country: i === 4 ? 'IN' : i % 2 ? 'FR' : 'AT',
      services: i % 2 ? ['TECHNICAL_SUPPORT', 'HOSTING'] : ['TECHNICAL_SUPPORT'],
      certifications: i === 3 ? ['EU_US_DPF'] : [],
      contractReference: i === 1 ? 'CR-1' : null,
    });
    await setStatus(h, compliance, c.id, 'ACTIVE');
    if (i % 2) await addLocation(h, compliance, c.id, 'DE', ['STORAGE', 'PROCESSING']);
    await addLocation(h, compliance, c.id, 'CH');
    for (let g = 0; g < i; g++) {
      await grant(h, compliance, {
        contractorId: c.id,
        officeId: g % 2 ? paris.id : berlin.id,
        categories: g % 2 ? ['contact.email', 'contact.name'] : ['contact.email'],
        // One grant starting later (SCHEDULED), one ending in a day.
        ...(g === 1 ? { validFrom: new Date(h.clock.now().getTime() + 3 * DAY).toISOString() } : {}),
        ...(g === 2 ? { validUntil: new Date(h.clock.now().getTime() + DAY).toISOString() } : {}),
        // India has no adequacy decision: standard contractual clauses, module 2.
        ...(i === 4 ? { mechanism: 'SCC', sccModule: 2 } : {}),
        tiaReference: g === 0 ? 'TIA-7' : null,
        tiaDate: g === 0 ? '2026-01-02' : null,
      });
    }
  }
  const revoked = await grant(h, compliance, {
    contractorId: (await registerContractor(h, compliance, { legalName: 'Revoked Grants AG', country: 'FR' })).id,
    officeId: berlin.id,
  });
  await ok(h, compliance, 'revokeGrant', 'RevokeGrantInput', { id: revoked.id, reason: 'ended' }, 'grant', 'id');
  contractorToken = (await contractorWithToken(h, compliance, { name: 'Own Records Co' })).token;
});
afterAll(async () => {
  await h?.stop();
});

async function executions(): Promise<{ sql: number; resolvers: number; failed: number }> {
  const res = await h.app.fetch('http://registry.test/metrics', {}, {
    req: { socket: { remoteAddress: '127.0.0.1' } },
  } as never);
  const counts = { sql: 0, resolvers: 0, failed: 0 };
  for (const m of (await res.text()).matchAll(/^registry_graphql_executions_total\{path="(\w+)"\} (\d+)/gm))
    counts[m[1] as keyof typeof counts] = Number(m[2]);
  return counts;
}

/** The answer with the planner and without it, and which path answered the first. */
async function both(token: string, query: string, variables?: Record<string, unknown>) {
  const before = await executions();
  h.statements.length = 0;
  const planned = await h.gql(token, query, variables);
  const statements = h.statements.length;
  const after = await executions();
  const res = await plain.fetch('http://registry.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const normal = { status: res.status, body: await res.json() };
  return {
    planned: planned.body,
    normal: normal.body,
    status: [planned.status, normal.status],
    statements,
    path:
      after.sql > before.sql
        ? 'sql'
        : after.resolvers > before.resolvers
          ? 'resolvers'
          : after.failed > before.failed
            ? 'failed'
            : 'none',
  };
}

/** The operation's root response keys, in the order the document names them. */
function rootResponseKeys(query: string): string[] {
  const operation = parse(query).definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  const keys = (operation?.selectionSet.selections ?? []).flatMap((s) =>
    s.kind === Kind.FIELD ? [s.alias?.value ?? s.name.value] : [],
  );
  return [...new Set(keys)];
}

/**
 * Same JSON text (so same key order), planned by SQL. Root fields are compared one by one: normal execution
 * places sibling root fields in the order their promises settle (the executor's promiseForObject), so two
 * root connections can come back swapped there; the planner answers in the document's order, as the spec's
 * serialized-map ordering asks.
 */
async function expectPlannedSame(token: string, query: string, variables?: Record<string, unknown>) {
  const r = await both(token, query, variables);
  expect(r.normal.errors).toBeUndefined();
  expect(r.planned).toEqual(r.normal);
  expect(Object.keys(r.planned.data)).toEqual(rootResponseKeys(query));
  for (const key of Object.keys(r.planned.data)) {
    expect(JSON.stringify(r.planned.data[key])).toBe(JSON.stringify(r.normal.data[key]));
  }
  expect(r.path).toBe('sql');
  return r;
}

const EVERY_FIELD = `query Every($n: Int, $g: Int) {
  __typename
  list: contractors(first: $n) {
    __typename
    pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
    nodes { ...C }
    edges { c: cursor __typename node { id ... on Contractor { legalName } ... on Node { nodeId: id } } }
  }
}
fragment C on Contractor {
  __typename id legalName country services role status statusReason statusChangedAt contactName contactEmail
  contractReference dpaSignedOn certifications version createdAt updatedAt
  processingLocations { __typename id country operations createdAt }
  grants(first: $g) {
    __typename
    edges { cursor node { ...G } }
    nodes { id status }
    pageInfo { hasNextPage endCursor startCursor hasPreviousPage }
  }
}
fragment G on Grant {
  __typename id purpose validFrom validUntil mechanism sccModule tiaReference tiaDate crossBorder policyExplanation
  status revokedAt revocationReason suspendedByPolicyFrom policySuspensionReason createdBy createdAt
  office { __typename id name legalEntity country city isHeadquarters version createdAt updatedAt }
  categories { __typename id key name description sensitivity }
}`;

describe('the same answer as normal execution', () => {
  test('the contractors page of the benchmark, in one statement', async () => {
    const r = await expectPlannedSame(compliance, CONTRACTORS_PAGE);
    expect(r.statements).toBe(1);
    expect(r.planned.data.contractors.edges.length).toBeGreaterThan(5);
  });

  test('every field of the planned types, aliases, fragments, inline fragments, __typename, nulls', async () => {
    const r = await expectPlannedSame(auditor, EVERY_FIELD, { n: 50, g: 3 });
    expect(r.statements).toBe(1);
    const nodes = r.planned.data.list.nodes as { legalName: string; grants: { nodes: { status: string }[] } }[];
    // What the data holds: a contractor without grants, statuses judged now (SCHEDULED, REVOKED), a next page.
    expect(nodes.find((c) => c.legalName === 'Empty Holdings Ltd')!.grants.nodes).toEqual([]);
    const statuses = new Set(nodes.flatMap((c) => c.grants.nodes.map((g) => g.status)));
    expect(statuses).toEqual(new Set(['ACTIVE', 'SCHEDULED', 'REVOKED']));
  });

  test('statuses judged at the request’s now, as the resolvers judge them', async () => {
    h.clock.advance(2 * DAY);
    try {
      const r = await expectPlannedSame(compliance, EVERY_FIELD, { n: 50, g: 10 });
      const statuses = new Set(
        (r.planned.data.list.nodes as { grants: { nodes: { status: string }[] } }[]).flatMap((c) =>
          c.grants.nodes.map((g) => g.status),
        ),
      );
      expect(statuses).toContain('EXPIRED');
    } finally {
      h.clock.reset();
    }
  });

  test('pages followed by their cursors, outer and nested', async () => {
    const PAGE = `query($after: String, $gAfter: String) { contractors(first: 2, after: $after) {
      edges { cursor node { legalName grants(first: 1, after: $gAfter) { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor } } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;
    let after: string | null = null;
    let pages = 0;
    do {
      const r = await expectPlannedSame(compliance, PAGE, { after });
      const info = r.planned.data.contractors.pageInfo;
      after = info.hasNextPage ? info.endCursor : null;
      pages++;
      const first = r.planned.data.contractors.edges[0]?.node.grants.pageInfo.endCursor;
      if (first) await expectPlannedSame(compliance, PAGE, { after, gAfter: first });
    } while (after);
    expect(pages).toBeGreaterThan(3);
  });

  test('filters from the domain, an empty page, first: 0, merged fields of one response key', async () => {
    await expectPlannedSame(
      compliance,
      `{ contractors(country: "fr", first: 3) { edges { node { legalName country } } } }`,
    );
    await expectPlannedSame(
      compliance,
      `{ contractors(name: "north soft", service: HOSTING) { nodes { legalName services } } }`,
    );
    await expectPlannedSame(
      compliance,
      `{ contractors(status: ACTIVE, first: 2) { pageInfo { hasNextPage endCursor } } }`,
    );
    const empty = await expectPlannedSame(
      compliance,
      `{ contractors(country: "ZZ") { edges { cursor } nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`,
    );
    expect(empty.planned.data.contractors.edges).toEqual([]);
    await expectPlannedSame(
      compliance,
      `{ contractors(first: 0) { edges { cursor } pageInfo { hasNextPage endCursor } } }`,
    );
    await expectPlannedSame(
      compliance,
      `{ contractors(first: 3) { edges { node { id } } } contractors(first: 3) { edges { node { legalName id } cursor } } }`,
    );
    await expectPlannedSame(
      compliance,
      `{ a: contractors(first: 1) { nodes { id } } b: contractors(first: 2, after: "REM6Tjox") { nodes { id } } }`,
    );
  });
});

describe('normal execution answers what the planner does not know', () => {
  const fallsBack = async (token: string, query: string, variables?: Record<string, unknown>) => {
    const r = await both(token, query, variables);
    expect(r.path).toBe('resolvers');
    expect(r.planned).toEqual(r.normal);
    expect(r.status[0]).toBe(r.status[1]);
    return r;
  };

  test('a field the domain computes in JS, a relation it does not plan, a directive, asOf', async () => {
    const r = await fallsBack(compliance, `{ contractors(first: 2) { nodes { id tokenCoverage { __typename } } } }`);
    expect(r.planned.errors).toBeUndefined();
    await fallsBack(compliance, `{ contractors(first: 2) { nodes { id parent { id } } } }`);
    // Nothing to read: no statement at all, as without the planner.
    expect((await fallsBack(compliance, `{ __typename }`)).statements).toBe(0);
    await fallsBack(
      compliance,
      `query($x: Boolean!) { contractors(first: 2) { nodes { id legalName @include(if: $x) } } }`,
      {
        x: false,
      },
    );
    const asOf = await fallsBack(compliance, CONTRACTORS_PAGE_AS_OF, { asOf: h.clock.now().toISOString() });
    expect(asOf.planned.errors).toBeUndefined();
  });

  test('a planned statement that fails: normal execution answers, counted as failed', async () => {
    await h.asOwner('alter table processing_locations rename to processing_locations_gone');
    try {
      const r = await both(compliance, CONTRACTORS_PAGE);
      expect(r.path).toBe('failed');
      expect(r.planned.errors[0].message).toBe('Unexpected error.');
      expect(r.planned).toEqual(r.normal);
    } finally {
      await h.asOwner('alter table processing_locations_gone rename to processing_locations');
    }
    expect((await both(compliance, CONTRACTORS_PAGE)).path).toBe('sql');
  });

  test('a statement the database refuses for a value of the request: that error, one statement, not run twice', async () => {
    const r = await both(compliance, '{ contractors(country: "\\u0000") { nodes { id } } }');
    expect(r.path).toBe('sql');
    expect(r.statements).toBe(1);
    expect(r.normal.errors[0].extensions.code).toBe('VALIDATION_FAILED');
    expect(r.planned).toEqual(r.normal);
    expect(r.status).toEqual([r.status[1], r.status[1]]);
  });

  test('a refused value in one of two root lists: normal execution says which, with the same error', async () => {
    // Year 10000 in a cursor: a valid Date, which PostgreSQL refuses. The error belongs to `b`, not to the first list.
    const after = Buffer.from('DC:T:["D:253402300800000","N:5"]').toString('base64');
    const query = `query($a: String) { a: contractors(first: 1) { edges { cursor } } b: transfers(first: 1, after: $a) { edges { cursor } } }`;
    const r = await both(compliance, query, { a: after });
    expect(r.path).toBe('failed');
    expect(r.normal.errors[0].path).toEqual(['b']);
    expect(JSON.stringify(r.planned)).toBe(JSON.stringify(r.normal));
    // One root list: the statement's error is answered where execution places it, key order included.
    const one = await both(compliance, `query($a: String) { b: transfers(first: 1, after: $a) { edges { cursor } } }`, {
      a: after,
    });
    expect(one.path).toBe('sql');
    expect(one.statements).toBe(1);
    expect(one.normal.errors[0].path).toEqual(['b']);
    expect(JSON.stringify(one.planned)).toBe(JSON.stringify(one.normal));
  });

  test('a connection asked only for its __typename (no rows, several rows): normal execution', async () => {
    for (const query of [
      '{ contractors(first: 2) { t: __typename } }',
      '{ contractors(country: "JP") { __typename } }',
      '{ transfers(first: 2) { __typename } }',
    ]) {
      const r = await both(compliance, query);
      expect(r.path).toBe('resolvers');
      expect(r.planned.errors).toBeUndefined();
      expect(r.planned).toEqual(r.normal);
    }
  });

  test('a contractor token: the same refusal', async () => {
    const r = await fallsBack(contractorToken, CONTRACTORS_PAGE);
    expect(r.planned.errors[0].extensions.code).toBe('FORBIDDEN');
  });

  test('a bad cursor, a page too large or negative, a variable of the wrong type, a filter the domain refuses', async () => {
    const cases: [string, Record<string, unknown>?][] = [
      [`{ contractors(first: 2, after: "not-a-cursor") { nodes { id } } }`],
      [`{ contractors(first: 2, after: "REM6Uzp4") { nodes { id } } }`], // DC:S:x, a string key
      [`query($n: Int) { contractors(first: $n) { nodes { id } } }`, { n: 101 }],
      [`query($n: Int) { contractors(first: $n) { nodes { id } } }`, { n: -1 }],
      [`query($n: Int) { contractors(first: $n) { nodes { id } } }`, { n: 'ten' }],
      [`{ contractors(name: "!!") { nodes { id } } }`],
    ];
    for (const [query, variables] of cases) {
      const r = await both(compliance, query, variables);
      expect(r.planned.errors?.length, query).toBeGreaterThan(0);
      expect(r.planned, query).toEqual(r.normal);
      expect(r.status[0]).toBe(r.status[1]);
      expect(r.path === 'resolvers' || r.path === 'none', query).toBe(true);
    }
  });
});

describe('the transfers page', () => {
  // The history list reads its newest month first (readNewestFirst): one statement when that month fills the page,
  // and a second over the whole range when it falls short — the planner states the same in SQL.
  const PAGE = `query($first: Int, $after: String, $from: DateTime, $to: DateTime, $country: String, $contractorId: ID) {
    transfers(first: $first, after: $after, from: $from, to: $to, importerCountry: $country, contractorId: $contractorId) {
      edges { cursor node { ...T } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }
  fragment T on Transfer {
    __typename id occurredAt kind exporterCountry originCountry importerKind importerAuthority importerCountry categories
    purpose mechanism sccModule derogationJustification policyExplanation recordCount crossBorder thirdCountry recordedBy
    exporterOffice { id name country } exporterContractor { id } importerContractor { id legalName status }
    importerOffice { id } grant { id status mechanism office { name } }
  }`;
  const range = { from: '2024-01-01T00:00:00Z', to: '2025-01-01T00:00:00Z' };
  let india: { id: string };

  beforeAll(async () => {
    const r = await smallRegistry(h, compliance, ' (transfers)');
    india = r.india;
    const at = (iso: string) =>
      recordOk(h, compliance, { officeId: r.office.id, contractorId: r.india.id, occurredAt: iso });
    // Three in the range's newest month, two of them at the same instant (the id breaks the tie), two in March.
    for (const iso of ['2024-12-30T10:00:00Z', '2024-12-30T10:00:00Z', '2024-12-02T08:00:00.123Z']) await at(iso);
    for (const iso of ['2024-03-01T10:00:00Z', '2024-03-01T09:00:00Z']) await at(iso);
    await recordOk(h, compliance, { officeId: r.office.id, contractorId: r.fr.id, occurredAt: '2024-12-31T10:00:00Z' });
  });

  test('the benchmark page: planned, two statements when the newest month falls short of it', async () => {
    const r = await expectPlannedSame(compliance, TRANSFERS_PAGE, { ...range, country: 'IN' });
    expect(r.planned.data.transfers.edges).toHaveLength(5);
    expect(r.statements).toBe(2);
  });

  test('one statement when the newest month fills the page; pages followed by cursors across months', async () => {
    const first = await expectPlannedSame(compliance, PAGE, { ...range, country: 'IN', first: 2 });
    expect(first.statements).toBe(1);
    const seen = first.planned.data.transfers.edges.map((e: { node: { occurredAt: string } }) => e.node.occurredAt);
    let after = first.planned.data.transfers.pageInfo.endCursor;
    for (let i = 0; i < 5 && after; i++) {
      const r = await expectPlannedSame(compliance, PAGE, { ...range, country: 'IN', first: 2, after });
      seen.push(...r.planned.data.transfers.edges.map((e: { node: { occurredAt: string } }) => e.node.occurredAt));
      after = r.planned.data.transfers.pageInfo.hasNextPage ? r.planned.data.transfers.pageInfo.endCursor : null;
    }
    expect(seen).toEqual([
      '2024-12-30T10:00:00.000Z',
      '2024-12-30T10:00:00.000Z',
      '2024-12-02T08:00:00.123Z',
      '2024-03-01T10:00:00.000Z',
      '2024-03-01T09:00:00.000Z',
    ]);
  });

  test('every field and relation, no range (this month first), another filter, an empty page', async () => {
    await expectPlannedSame(compliance, PAGE, { first: 50 });
    await expectPlannedSame(auditor, PAGE, { first: 3, contractorId: india.id });
    await expectPlannedSame(compliance, PAGE, { ...range, country: 'FR' });
    const empty = await expectPlannedSame(compliance, PAGE, { ...range, country: 'JP' });
    expect(empty.planned.data.transfers.edges).toEqual([]);
    await expectPlannedSame(compliance, PAGE, { from: '2024-12-01T00:00:00Z', to: '2024-12-31T00:00:00Z', first: 1 });
  });

  test('a cursor of another list, a contractor token, a range the domain refuses: normal execution', async () => {
    const contractors = await h.gql(compliance, '{ contractors(first: 1) { pageInfo { endCursor } } }');
    const foreign = await both(compliance, PAGE, {
      first: 2,
      after: contractors.body.data.contractors.pageInfo.endCursor,
    });
    expect(foreign.path).toBe('resolvers');
    expect(foreign.planned).toEqual(foreign.normal);
    const backwards = await both(compliance, PAGE, { from: range.to, to: range.from });
    expect(backwards.path).toBe('resolvers');
    expect(backwards.planned.errors[0].extensions.code).toBe('VALIDATION_FAILED');
    expect(backwards.planned).toEqual(backwards.normal);
    const own = await both(contractorToken, PAGE, { first: 2 });
    expect(own.path).toBe('resolvers');
    expect(own.planned).toEqual(own.normal);
  });
});
