// Every processing location is a destination: a grant is judged to the contractor's country and to every country
// where it collects, transfers, stores or processes data; adding a location its live grants do not cover is
// refused. Through the API, on a real database.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createOffice, grant, mutate, ok, registerContractor, setStatus } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';
import { rowsOf } from '../src/db/rows.js';

let h: Harness;
let compliance: string;
let berlin: { id: string };
beforeAll(async () => {
  h = await startHarness();
  compliance = await h.staffToken('COMPLIANCE');
  berlin = await createOffice(h, compliance, { name: 'Berlin', country: 'DE' });
});
afterAll(async () => {
  await h?.stop();
});

const GRANT_FIELDS = `... on GrantDataAccessPayload { grant { id mechanism sccModule crossBorder policyExplanation } }`;
const LOCATION_FIELDS = `... on AddProcessingLocationPayload { processingLocation { id country } }`;

/** An ACTIVE contractor in `country`, with processing locations in `locations` (storage). */
async function contractorIn(country: string, locations: string[] = [], legalName = `Contractor ${country}`) {
  const c = await registerContractor(h, compliance, { legalName, country });
  for (const l of locations) expect((await addLocation(c.id, l)).__typename).toBe('AddProcessingLocationPayload');
  await setStatus(h, compliance, c.id, 'ACTIVE');
  return c;
}
const addLocation = (contractorId: string, country: string) =>
  mutate(
    h,
    compliance,
    'addProcessingLocation',
    'AddProcessingLocationInput',
    { contractorId, country, operations: ['STORAGE'] },
    LOCATION_FIELDS,
  );
const requestGrant = (contractorId: string, extra: Record<string, unknown> = {}) =>
  mutate(
    h,
    compliance,
    'grantDataAccess',
    'GrantDataAccessInput',
    { contractorId, officeId: berlin.id, categories: ['contact.email'], purpose: 'TECHNICAL_SUPPORT', ...extra },
    GRANT_FIELDS,
  );
async function counts(contractorId: string) {
  const id = Number(Buffer.from(contractorId, 'base64').toString().split(':')[1]);
  const r: any = await h.database.db.execute(
    sql`select (select count(*) from audit_events)::int as events,
               (select count(*) from grants where contractor_id = ${id})::int as grants,
               (select count(*) from processing_locations where contractor_id = ${id})::int as locations`,
  );
  return rowsOf<any>(r)[0];
}

describe('a grant is judged to every processing location', () => {
  test('a DE contractor storing in CN gets no DE → DE grant without a mechanism valid for DE → CN', async () => {
    const c = await contractorIn('DE', ['CN']);
    const before = await counts(c.id);
    const bare = await requestGrant(c.id);
    expect(bare).toMatchObject({ __typename: 'PolicyViolationError', exporterCountry: 'DE', importerCountry: 'CN' });
    expect(bare.reason).toMatch(/CN has no adequacy decision/);
    expect(bare.reason).toMatch(/module 2/);
    // Adequacy is no answer for CN either.
    const adequacy = await requestGrant(c.id, { mechanism: 'ADEQUACY' });
    expect(adequacy).toMatchObject({ __typename: 'PolicyViolationError', importerCountry: 'CN' });
    expect(await counts(c.id)).toEqual(before);

    const g = await requestGrant(c.id, { mechanism: 'SCC', sccModule: 2 });
    expect(g.__typename, JSON.stringify(g)).toBe('GrantDataAccessPayload');
    expect(g.grant).toMatchObject({ mechanism: 'SCC', sccModule: 2, crossBorder: true });
    expect(g.grant.policyExplanation).toMatch(/DE: DE → DE stays in one country; CN: .*module 2/);
  });

  test('locations in the same jurisdiction need nothing; a contractor without locations is judged as before', async () => {
    const c = await contractorIn('DE', ['FR', 'NL'], 'EU-only storage GmbH');
    const g = await grant(h, compliance, { contractorId: c.id, officeId: berlin.id });
    expect(g).toMatchObject({ mechanism: 'NOT_REQUIRED', sccModule: null, crossBorder: true });
    // A mechanism that nothing needs is still refused, as for a single route.
    const scc = await requestGrant(c.id, { mechanism: 'SCC', sccModule: 2 });
    expect(scc).toMatchObject({ __typename: 'PolicyViolationError', importerCountry: 'DE' });
    expect(scc.reason).toMatch(/SCC must not be recorded/);
    const plain = await contractorIn('DE', [], 'No locations GmbH');
    expect(await grant(h, compliance, { contractorId: plain.id, officeId: berlin.id })).toMatchObject({
      mechanism: 'NOT_REQUIRED',
      crossBorder: false,
      policyExplanation: 'DE → DE stays in one country',
    });
  });

  test('a contractor in an adequate country storing in CN needs the safeguard for CN', async () => {
    const c = await contractorIn('JP', ['CN'], 'Tokyo Support KK');
    const bare = await requestGrant(c.id);
    expect(bare).toMatchObject({ __typename: 'PolicyViolationError', importerCountry: 'CN' });
    const g = await requestGrant(c.id, { mechanism: 'SCC', sccModule: 2 });
    expect(g.grant).toMatchObject({ mechanism: 'SCC', sccModule: 2 });
  });
});

describe('adding a processing location to a contractor with live grants', () => {
  test('CN storage for a contractor with a live DE → DE grant is refused, names CN, writes nothing', async () => {
    const c = await contractorIn('DE', [], 'Berlin Hosting GmbH');
    await grant(h, compliance, { contractorId: c.id, officeId: berlin.id });
    const before = await counts(c.id);
    const r = await addLocation(c.id, 'CN');
    expect(r).toMatchObject({ __typename: 'PolicyViolationError', exporterCountry: 'DE', importerCountry: 'CN' });
    expect(r.message).toMatch(/DE → CN/);
    expect(r.reason).toMatch(/NOT_REQUIRED.*would no longer be valid.*revoke it first/);
    expect(await counts(c.id)).toEqual(before);
    // A location in the same jurisdiction is covered.
    expect((await addLocation(c.id, 'FR')).__typename).toBe('AddProcessingLocationPayload');
  });

  test('a scheduled grant counts; a revoked one does not', async () => {
    const c = await contractorIn('DE', [], 'Scheduled Hosting GmbH');
    const next = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const g = await grant(h, compliance, { contractorId: c.id, officeId: berlin.id, validFrom: next });
    expect((await addLocation(c.id, 'CN')).importerCountry).toBe('CN');
    await ok(h, compliance, 'revokeGrant', 'RevokeGrantInput', { id: g.id, reason: 'moving to CN' }, 'grant');
    expect((await addLocation(c.id, 'CN')).__typename).toBe('AddProcessingLocationPayload');
  });

  test('a live grant whose SCC covers the new location lets it be added', async () => {
    const c = await contractorIn('IN', [], 'Helpdesk Pvt Ltd');
    await grant(h, compliance, { contractorId: c.id, officeId: berlin.id, mechanism: 'SCC', sccModule: 2 });
    expect((await addLocation(c.id, 'CN')).__typename).toBe('AddProcessingLocationPayload');
  });
});
