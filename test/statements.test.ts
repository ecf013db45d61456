// No N+1: a page of contractors with their grants, categories and processing locations costs the same
// number of SQL statements for 1 contractor as for 50.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { onPostgres, startHarness, type Harness } from './harness.js';
import { addLocation, createOffice, grant, ok, registerContractor } from './fixtures.js';

let h: Harness;
let token: string;
beforeAll(async () => {
  h = await startHarness();
  token = await h.staffToken('COMPLIANCE');
});
afterAll(async () => {
  await h?.stop();
});

const PAGE = `query($first: Int!) { contractors(first: $first) { pageInfo { hasNextPage endCursor } edges { cursor node {
  id legalName country services status
  processingLocations { country operations }
  grants(first: 10) { nodes { id purpose mechanism office { name country } categories { key sensitivity } } }
} } } }`;

async function countStatements(first: number) {
  h.statements.length = 0;
  const r = await h.gql(token, PAGE, { first });
  expect(r.body.errors).toBeUndefined();
  return { statements: h.statements.length, rows: r.body.data.contractors.edges.length, body: r.body };
}

test('1 and 50 contractors cost the same number of statements', async () => {
  const office = await createOffice(h, token, { country: 'FR', city: 'Paris' });
  for (let i = 0; i < 50; i++) {
    const c = await registerContractor(h, token, { legalName: `Contractor ${i}`, country: 'DE' });
    await addLocation(h, token, c.id, 'AT');
    await grant(h, token, { contractorId: c.id, officeId: office.id, categories: ['contact.email', 'contact.name'] });
  }
  const one = await countStatements(1);
  const fifty = await countStatements(50);
  expect(one.rows).toBe(1);
  expect(fifty.rows).toBe(50);
  expect(fifty.statements).toBe(one.statements);
  expect(fifty.statements).toBeLessThanOrEqual(2);
  const node = fifty.body.data.contractors.edges[49].node;
  expect(node.processingLocations).toEqual([{ country: 'AT', operations: ['STORAGE'] }]);
  expect(node.grants.nodes).toHaveLength(1);
  expect(node.grants.nodes[0].categories.map((c: { key: string }) => c.key)).toEqual(['contact.email', 'contact.name']);
  expect(node.grants.nodes[0].office.country).toBe('FR');
});

// Grant, Office and DataCategory load a few columns always and the rest only when a field asks: asking for
// every field must still cost one statement per level and return the stored values.
test('fields a type loads only on request come in the same statement, with their values', async () => {
  const WIDE = `query { contractors(first: 50) { edges { node {
    grants(first: 10) { nodes {
      id purpose validFrom validUntil mechanism sccModule tiaReference tiaDate crossBorder policyExplanation status revokedAt revocationReason createdBy createdAt
      office { id name legalEntity country city isHeadquarters version createdAt updatedAt }
      categories { id key name description sensitivity parent { key description } }
    } }
  } } } }`;
  h.statements.length = 0;
  const r = await h.gql(token, WIDE);
  expect(r.body.errors).toBeUndefined();
  expect(h.statements.length).toBeLessThanOrEqual(2);
  const g = r.body.data.contractors.edges.at(-1).node.grants.nodes[0];
  expect(g.policyExplanation).toMatch(/\w/);
  expect(g.createdBy).toBe('compliance@example.com');
  expect(g.crossBorder).toBe(true);
  expect(g.office).toMatchObject({
    legalEntity: expect.stringMatching(/\w/),
    city: 'Paris',
    country: 'FR',
    version: 1,
  });
  const email = g.categories.find((c: { key: string }) => c.key === 'contact.email');
  expect(email.description).toMatch(/\w/);
  expect(email.parent.key).toBe('contact');
});

test('a change that re-judges many live grants loads the policy tables once, not once per grant', async () => {
  const office = await createOffice(h, token, { name: 'Vienna', country: 'AT', city: 'Vienna' });
  for (const country of ['FR', 'IT', 'ES', 'NL', 'BE', 'PL']) {
    const c = await registerContractor(h, token, { legalName: `Policy ${country}`, country });
    await grant(h, token, { contractorId: c.id, officeId: office.id });
  }
  h.statements.length = 0;
  const moved = await ok(
    h,
    token,
    'updateOffice',
    'UpdateOfficeInput',
    { id: office.id, version: office.version, country: 'DE' },
    'office',
    'country',
  );
  expect(moved.country).toBe('DE');
  const policyLoads = (table: string) => h.statements.filter((s) => new RegExp(`from "${table}"`).test(s)).length;
  expect(policyLoads('jurisdiction_members')).toBe(1);
  expect(policyLoads('route_restrictions')).toBe(1);
  expect(policyLoads('adequacy_decisions')).toBe(1);
});

// On PostgreSQL every statement with parameters goes as a named prepared statement, so that from its second use it
// costs one round trip (Bind, Execute) instead of two (Parse and Describe, then Bind and Execute): outside and inside
// transactions, and still planned for each execution's values. One pooled connection, so this session is the app's.
test.runIf(onPostgres)('statements are prepared once per connection and planned per execution', async () => {
  const one = await startHarness({ DB_POOL_MAX: '1' });
  try {
    const staff = await one.staffToken('COMPLIANCE');
    const sql = one.database.sql!;
    await createOffice(one, staff, { country: 'FR', city: 'Lyon' });
    await createOffice(one, staff, { country: 'FR', city: 'Nice' });
    const page = `query($first: Int!) { offices(first: $first) { edges { node { city } } } }`;
    for (const first of [1, 2, 2]) {
      const r = await one.gql(staff, page, { first });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data.offices.edges).toHaveLength(first);
    }
    const prepared = await sql<{ statement: string; parameter_types: string[] }[]>`
      select statement, parameter_types::text[] as parameter_types from pg_prepared_statements`;
    // The page's statement: the same text, three executions with different values, one prepared statement.
    const officeReads = prepared.filter((p) => /^select .* from "offices" as "d0" order by/i.test(p.statement));
    expect(officeReads).toHaveLength(1);
    expect(officeReads[0]!.parameter_types.length).toBeGreaterThan(0);
    // A mutation's insert runs inside write()'s transaction: prepared there too.
    expect(prepared.some((p) => /^insert into "offices"/i.test(p.statement))).toBe(true);
    expect((await sql`show plan_cache_mode`)[0]!.plan_cache_mode).toBe('force_custom_plan');
  } finally {
    await one.stop();
  }
});
