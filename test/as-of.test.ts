// The registry as of any instant: `asOf` on contractors, contractor, grants, offices and obligations answers what
// the registry held then, nested lists included, from the history the database writes with every change. The app's
// clock moves a day between three states (nothing; two contractors with grants, a location, an obligation; the
// same after a rename, a revocation, a removal, an acknowledgement and a move), and each is asked for afterwards.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { addLocation, contractorWithToken, grant, issueToken, ok, registerContractor, setStatus } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';

const DAY = 86_400_000;
let h: Harness;
let compliance: string;
let auditor: string;
let a: Awaited<ReturnType<typeof contractorWithToken>>;
let b: Awaited<ReturnType<typeof contractorWithToken>>;
/** a's second grant, valid from half a day after t1. */
let scheduled: { id: string };
let obligation: { id: string };
let beforeAnything: Date;
let t1: Date;
let t2: Date;

const CONTRACTORS = `query($at: DateTime, $first: Int, $after: String) {
  contractors(asOf: $at, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id legalName status version updatedAt
      processingLocations { country }
      grants(first: 10) { nodes { id status revocationReason office { city } categories { key } contractor { legalName } } }
      obligations(first: 10) { nodes { id acknowledgedAt isCurrent contractor { legalName } } }
    }
  }
}`;

async function data(token: string, query: string, variables: Record<string, unknown> = {}) {
  const r = await h.gql(token, query, variables);
  expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
  return r.body.data;
}
const contractorsAt = async (at: Date | null) =>
  (await data(compliance, CONTRACTORS, { at: at?.toISOString() ?? null, first: 10 })).contractors.nodes;

beforeAll(async () => {
  h = await startHarness();
  compliance = await h.staffToken('COMPLIANCE');
  auditor = await h.staffToken('AUDITOR');
  beforeAnything = h.clock.now();
  h.clock.advance(DAY);

  a = await contractorWithToken(h, compliance, { name: 'Alpha Support', country: 'FR' });
  const location = await addLocation(h, compliance, a.contractor.id, 'FR');
  scheduled = await grant(h, compliance, {
    contractorId: a.contractor.id,
    officeId: a.office.id,
    validFrom: new Date(h.clock.now().getTime() + DAY / 2).toISOString(),
  });
  obligation = await ok(
    h,
    compliance,
    'addObligation',
    'AddObligationInput',
    {
      contractorId: a.contractor.id,
      kind: 'CONFIDENTIALITY',
      text: 'Keep it confidential.',
      sourceDocument: 'DPA v1',
      effectiveFrom: '2026-01-01',
    },
    'obligation',
  );
  b = await contractorWithToken(h, compliance, { name: 'Beta Support', country: 'FR' });
  t1 = h.clock.now();
  h.clock.advance(DAY);

  const [current] = await contractorsAt(null);
  await ok(
    h,
    compliance,
    'updateContractor',
    'UpdateContractorInput',
    { id: a.contractor.id, version: current.version, legalName: 'Alpha Support Ltd' },
    'contractor',
  );
  await ok(h, compliance, 'revokeGrant', 'RevokeGrantInput', { id: a.grant.id, reason: 'contract ended' }, 'grant');
  await ok(
    h,
    compliance,
    'removeProcessingLocation',
    'RemoveProcessingLocationInput',
    { id: location.id },
    'processingLocation',
  );
  // The tokens issued at the start lived an hour: each contractor gets a fresh one.
  const fresh = async (c: typeof a) =>
    (
      await issueToken(h, compliance, {
        contractorId: c.contractor.id,
        categories: ['contact.email'],
        purposes: ['TECHNICAL_SUPPORT'],
        lifetimeSeconds: 86_400,
      })
    ).token as string;
  a.token = await fresh(a);
  const ack = await h.gql(a.token, `mutation($id: ID!) { acknowledgeObligation(input: { id: $id }) { __typename } }`, {
    id: obligation.id,
  });
  expect(ack.body.data.acknowledgeObligation.__typename).toBe('AcknowledgeObligationPayload');
  await ok(
    h,
    compliance,
    'updateOffice',
    'UpdateOfficeInput',
    { id: a.office.id, version: 1, city: 'Hamburg' },
    'office',
  );
  t2 = h.clock.now();
  h.clock.advance(DAY);
  await registerContractor(h, compliance, { legalName: 'Gamma Hosting', country: 'DE' });
  a.token = await fresh(a);
  b.token = await fresh(b);
});

afterAll(async () => {
  await h?.stop();
});

describe('contractors(asOf:)', () => {
  test('before anything was recorded: nothing', async () => {
    expect(await contractorsAt(beforeAnything)).toEqual([]);
  });

  test('at t1: the names, locations, grants (status judged at t1), offices and obligations of then', async () => {
    const [alpha, beta, ...rest] = await contractorsAt(t1);
    expect(rest).toEqual([]);
    expect(beta.legalName).toBe('Beta Support');
    expect(alpha).toMatchObject({ id: a.contractor.id, legalName: 'Alpha Support', status: 'ACTIVE' });
    expect(alpha.processingLocations).toEqual([{ country: 'FR' }]);
    expect(alpha.grants.nodes).toEqual([
      {
        id: a.grant.id,
        status: 'ACTIVE',
        revocationReason: null,
        office: { city: 'Munich' },
        categories: [{ key: 'contact.email' }],
        contractor: { legalName: 'Alpha Support' },
      },
      {
        id: scheduled.id,
        status: 'SCHEDULED',
        revocationReason: null,
        office: { city: 'Munich' },
        categories: [{ key: 'contact.email' }],
        contractor: { legalName: 'Alpha Support' },
      },
    ]);
    expect(alpha.obligations.nodes).toEqual([
      { id: obligation.id, acknowledgedAt: null, isCurrent: true, contractor: { legalName: 'Alpha Support' } },
    ]);
  });

  test('at t2: after the rename, the revocation, the removal, the acknowledgement and the move', async () => {
    const [alpha, beta, ...rest] = await contractorsAt(t2);
    expect(rest).toEqual([]);
    expect(beta.legalName).toBe('Beta Support');
    expect(alpha.legalName).toBe('Alpha Support Ltd');
    expect(alpha.processingLocations).toEqual([]);
    expect(alpha.grants.nodes.map((g: any) => [g.id, g.status, g.revocationReason, g.office.city])).toEqual([
      [a.grant.id, 'REVOKED', 'contract ended', 'Hamburg'],
      [scheduled.id, 'ACTIVE', null, 'Hamburg'],
    ]);
    expect(alpha.obligations.nodes[0].acknowledgedAt).not.toBeNull();
    expect(alpha.obligations.nodes[0].contractor.legalName).toBe('Alpha Support Ltd');
  });

  test('as of now: exactly what the live tables answer, field for field', async () => {
    const now = await contractorsAt(h.clock.now());
    expect(now).toHaveLength(3);
    expect(now).toEqual(await contractorsAt(null));
  });

  test('pages by keyset at a past instant, as today', async () => {
    const first = (await data(compliance, CONTRACTORS, { at: t1.toISOString(), first: 1 })).contractors;
    expect(first.nodes.map((c: any) => c.legalName)).toEqual(['Alpha Support']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = (
      await data(compliance, CONTRACTORS, { at: t1.toISOString(), first: 1, after: first.pageInfo.endCursor })
    ).contractors;
    expect(second.nodes.map((c: any) => c.legalName)).toEqual(['Beta Support']);
    expect(second.pageInfo.hasNextPage).toBe(false);
  });

  test('filters apply to the state of then: status and country as they were', async () => {
    const r = await data(
      auditor,
      `query($at: DateTime) { contractors(asOf: $at, country: "DE", first: 10) { nodes { legalName } } }`,
      { at: t2.toISOString() },
    );
    expect(r.contractors.nodes).toEqual([]);
    const now = await data(auditor, `{ contractors(country: "DE", first: 10) { nodes { legalName } } }`);
    expect(now.contractors.nodes).toEqual([{ legalName: 'Gamma Hosting' }]);
  });

  test('one round trip for the whole nested page, as for the current one', async () => {
    h.statements.length = 0;
    await contractorsAt(t1);
    const past = h.statements.length;
    h.statements.length = 0;
    await contractorsAt(null);
    expect(past).toBe(h.statements.length);
    expect(past).toBeLessThanOrEqual(2);
  });

  test('an instant after now is refused, with no data', async () => {
    const future = new Date(h.clock.now().getTime() + 60_000).toISOString();
    const r = await h.gql(compliance, CONTRACTORS, { at: future, first: 10 });
    expect(r.body.data).toBeNull();
    expect(r.body.errors[0].extensions.code).toBe('VALIDATION_FAILED');
    expect(r.body.errors[0].message).toMatch(/^Invalid input: asOf: .* is in the future/);
  });

  test('a contractor token may not list contractors at any instant', async () => {
    const r = await h.gql(a.token, CONTRACTORS, { at: t1.toISOString(), first: 10 });
    expect(r.body.errors[0].extensions.code).toBe('FORBIDDEN');
  });
});

describe('contractor(id:, asOf:)', () => {
  const ONE = `query($id: ID!, $at: DateTime) { contractor(id: $id, asOf: $at) {
    legalName grants(first: 10) { nodes { id status } } } }`;

  test('a contractor sees its own past, and nothing from before it existed', async () => {
    const then = await data(a.token, ONE, { id: a.contractor.id, at: t1.toISOString() });
    expect(then.contractor.legalName).toBe('Alpha Support');
    expect(then.contractor.grants.nodes.map((g: any) => g.status)).toEqual(['ACTIVE', 'SCHEDULED']);
    expect((await data(a.token, ONE, { id: a.contractor.id, at: beforeAnything.toISOString() })).contractor).toBeNull();
  });

  test("another contractor's past reads as absent, as its present does", async () => {
    expect((await data(a.token, ONE, { id: b.contractor.id, at: t1.toISOString() })).contractor).toBeNull();
    expect((await data(compliance, ONE, { id: b.contractor.id, at: t1.toISOString() })).contractor.legalName).toBe(
      'Beta Support',
    );
  });
});

describe('grants, offices and obligations (asOf:)', () => {
  const GRANTS = `query($at: DateTime, $status: GrantStatus) {
    grants(asOf: $at, status: $status, first: 10) { nodes { id status contractor { legalName } } } }`;
  const ids = (r: any) => r.grants.nodes.map((g: any) => g.id);

  test('the status filter and field judge each grant at the instant asked for', async () => {
    expect(ids(await data(compliance, GRANTS, { at: t1.toISOString(), status: 'ACTIVE' }))).toEqual([
      a.grant.id,
      b.grant.id,
    ]);
    expect(ids(await data(compliance, GRANTS, { at: t1.toISOString(), status: 'SCHEDULED' }))).toEqual([scheduled.id]);
    expect(ids(await data(compliance, GRANTS, { at: t2.toISOString(), status: 'ACTIVE' }))).toEqual([
      scheduled.id,
      b.grant.id,
    ]);
    expect(ids(await data(compliance, GRANTS, { at: t2.toISOString(), status: 'REVOKED' }))).toEqual([a.grant.id]);
    expect(ids(await data(compliance, GRANTS, { at: t1.toISOString(), status: 'REVOKED' }))).toEqual([]);
  });

  test("a contractor token lists only its own grants' past", async () => {
    const r = await data(a.token, GRANTS, { at: t1.toISOString() });
    expect(ids(r)).toEqual([a.grant.id, scheduled.id]);
    expect(r.grants.nodes[0].contractor.legalName).toBe('Alpha Support');
  });

  test('offices as they were', async () => {
    const q = `query($at: DateTime) { offices(asOf: $at, first: 10) { nodes { id city version grants(first: 10) { nodes { id } } } } }`;
    const then = (await data(auditor, q, { at: t1.toISOString() })).offices.nodes;
    const of = (id: string, nodes: any[]) => nodes.find((o) => o.id === id);
    expect(of(a.office.id, then)).toMatchObject({ city: 'Munich', version: 1 });
    expect(of(a.office.id, then).grants.nodes.map((g: any) => g.id)).toEqual([a.grant.id, scheduled.id]);
    const later = (await data(auditor, q, { at: t2.toISOString() })).offices.nodes;
    expect(of(a.office.id, later)).toMatchObject({ city: 'Hamburg', version: 2 });
    expect((await data(auditor, q, { at: beforeAnything.toISOString() })).offices.nodes).toEqual([]);
  });

  test('obligations as they were: unacknowledged at t1, acknowledged at t2', async () => {
    const q = `query($at: DateTime) { obligations(asOf: $at, unacknowledgedOnly: true, first: 10) { nodes { id } } }`;
    expect((await data(compliance, q, { at: t1.toISOString() })).obligations.nodes).toEqual([{ id: obligation.id }]);
    expect((await data(compliance, q, { at: t2.toISOString() })).obligations.nodes).toEqual([]);
    expect((await data(b.token, q, { at: t1.toISOString() })).obligations.nodes).toEqual([]);
  });

  test('an instant after now is refused on every list', async () => {
    const at = new Date(h.clock.now().getTime() + DAY).toISOString();
    for (const q of [
      `query($at: DateTime) { grants(asOf: $at) { nodes { id } } }`,
      `query($at: DateTime) { offices(asOf: $at) { nodes { id } } }`,
      `query($at: DateTime) { obligations(asOf: $at) { nodes { id } } }`,
      `query($at: DateTime) { contractor(id: "${a.contractor.id}", asOf: $at) { id } }`,
    ]) {
      const r = await h.gql(compliance, q, { at });
      expect(r.body.errors?.[0]?.extensions?.code, q).toBe('VALIDATION_FAILED');
    }
  });
});

describe('a policy change: the past keeps what it said', () => {
  test('a grant the end of US adequacy suspends reads ACTIVE as of before its effective instant, suspended after', async () => {
    const us = await registerContractor(h, compliance, {
      legalName: 'DPF Certified Inc',
      country: 'US',
      certifications: ['EU_US_DPF'],
    });
    await setStatus(h, compliance, us.id, 'ACTIVE');
    const dpfGrant = await grant(h, compliance, { contractorId: us.id, officeId: a.office.id });
    expect(dpfGrant.mechanism).toBe('ADEQUACY');
    const yesterday = h.clock.now();
    h.clock.advance(DAY);
    const effectiveAt = new Date(h.clock.now().getTime() + DAY);
    const applied = await h.gql(
      compliance,
      `mutation($input: PolicyChangeInput!) { applyPolicyChange(input: $input) { __typename } }`,
      {
        input: {
          reason: 'Court of Justice invalidates the EU-U.S. Data Privacy Framework',
          effectiveAt: effectiveAt.toISOString(),
          endAdequacy: { jurisdiction: 'EU_EEA', country: 'US' },
        },
      },
    );
    expect(applied.body.data.applyPolicyChange.__typename).toBe('PolicyChangeApplied');
    const recorded = h.clock.now();
    h.clock.advance(DAY + 1000);

    const statusAt = async (at: Date | null) =>
      (
        await data(
          compliance,
          `query($at: DateTime) { contractors(asOf: $at, first: 10) { nodes { id grants(first: 5) { nodes { id status } } } } }`,
          { at: at?.toISOString() ?? null },
        )
      ).contractors.nodes.find((c: any) => c.id === us.id).grants.nodes;
    expect(await statusAt(yesterday)).toEqual([{ id: dpfGrant.id, status: 'ACTIVE' }]);
    // Recorded, not yet in effect: the version held then names the suspension, judged at that instant.
    expect(await statusAt(recorded)).toEqual([{ id: dpfGrant.id, status: 'ACTIVE' }]);
    expect(await statusAt(h.clock.now())).toEqual([{ id: dpfGrant.id, status: 'SUSPENDED_BY_POLICY' }]);
    expect(await statusAt(null)).toEqual([{ id: dpfGrant.id, status: 'SUSPENDED_BY_POLICY' }]);
  });
});
