// Contractor.tokenCoverage: what issueAccessToken accepts for a contractor now (purposes of its grants in effect
// with their categories, scopes, the configured longest lifetime), for staff only, at one load for a page.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startHarness, type Harness } from './harness.js';
import { createOffice, grant, issueToken, mutate, registerContractor, setStatus } from './fixtures.js';

let h: Harness;
let compliance: string;
beforeAll(async () => {
  h = await startHarness({ CONTRACTOR_TOKEN_MAX_TTL_SECONDS: '7200' });
  compliance = await h.staffToken('COMPLIANCE');
});
afterAll(() => h?.stop());

const COVERAGE = `tokenCoverage { refusal purposes { purpose categories } scopes maxLifetimeSeconds }`;

async function coverageOf(id: string, token = compliance) {
  const r = await h.gql(token, `query($id: ID!) { contractor(id: $id) { ${COVERAGE} } }`, { id });
  return r.body;
}

const tryIssue = (input: Record<string, unknown>) =>
  mutate(
    h,
    compliance,
    'issueAccessToken',
    'IssueAccessTokenInput',
    { scopes: ['REGISTRY_READ'], lifetimeSeconds: 3600, ...input },
    '... on IssueAccessTokenPayload { token }',
  );

test('staff see the purposes of grants in effect only, the scopes and the configured longest lifetime; issuing agrees', async () => {
  const office = await createOffice(h, compliance, { name: 'Munich', country: 'DE' });
  const c = await registerContractor(h, compliance, { legalName: 'Covered Co', country: 'FR' });
  await setStatus(h, compliance, c.id, 'ACTIVE');
  await grant(h, compliance, {
    contractorId: c.id,
    officeId: office.id,
    categories: ['contact.name', 'contact.email'],
  });
  // Scheduled: not in effect yet, so no token rests on it.
  await grant(h, compliance, {
    contractorId: c.id,
    officeId: office.id,
    purpose: 'ORDER_FULFILMENT',
    categories: ['contact.email'],
    validFrom: new Date(h.clock.now().getTime() + 86_400_000).toISOString(),
  });
  const body = await coverageOf(c.id);
  expect(body.errors).toBeUndefined();
  expect(body.data.contractor.tokenCoverage).toEqual({
    refusal: null,
    purposes: [{ purpose: 'TECHNICAL_SUPPORT', categories: ['contact.email', 'contact.name'] }],
    scopes: ['REGISTRY_READ', 'OBLIGATIONS_ACKNOWLEDGE', 'RECORDS_READ'],
    maxLifetimeSeconds: 7200,
  });
  // What it offers is issued; what it leaves out is refused, the lifetime beyond its maximum too.
  const issued = await tryIssue({
    contractorId: c.id,
    purposes: ['TECHNICAL_SUPPORT'],
    categories: ['contact.email', 'contact.name'],
    scopes: ['REGISTRY_READ', 'OBLIGATIONS_ACKNOWLEDGE', 'RECORDS_READ'],
    lifetimeSeconds: 7200,
  });
  expect(issued.token, JSON.stringify(issued)).toMatch(/\./);
  const scheduled = await tryIssue({
    contractorId: c.id,
    purposes: ['ORDER_FULFILMENT'],
    categories: ['contact.email'],
  });
  expect(scheduled.__typename).toBe('ValidationError');
  const tooLong = await tryIssue({
    contractorId: c.id,
    purposes: ['TECHNICAL_SUPPORT'],
    categories: ['contact.email'],
    lifetimeSeconds: 7201,
  });
  expect(tooLong.__typename).toBe('ValidationError');
});

test('a contractor that may hold no token gets a refusal and nothing to carry', async () => {
  const office = await createOffice(h, compliance, { name: 'Hamburg', country: 'DE' });
  const c = await registerContractor(h, compliance, { legalName: 'Paused Co', country: 'FR' });
  await setStatus(h, compliance, c.id, 'ACTIVE');
  await grant(h, compliance, { contractorId: c.id, officeId: office.id });
  await setStatus(h, compliance, c.id, 'SUSPENDED', 'audit pending');
  const body = await coverageOf(c.id);
  expect(body.data.contractor.tokenCoverage).toMatchObject({
    refusal: expect.stringMatching(/only to ACTIVE contractors; this one is SUSPENDED/),
    purposes: [],
  });
  const refused = await tryIssue({
    contractorId: c.id,
    purposes: ['TECHNICAL_SUPPORT'],
    categories: ['contact.email'],
  });
  expect(refused.__typename).toBe('InvalidStateError');
});

test('a contractor token is FORBIDDEN its own coverage and gets nothing of it', async () => {
  const office = await createOffice(h, compliance, { name: 'Bonn', country: 'DE' });
  const c = await registerContractor(h, compliance, { legalName: 'Self Co', country: 'FR' });
  await setStatus(h, compliance, c.id, 'ACTIVE');
  await grant(h, compliance, { contractorId: c.id, officeId: office.id });
  const own = await issueToken(h, compliance, {
    contractorId: c.id,
    categories: ['contact.email'],
    purposes: ['TECHNICAL_SUPPORT'],
  });
  const body = await coverageOf(c.id, own.token);
  expect(body.errors.map((e: any) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  expect(body.errors[0].path).toEqual(['contractor', 'tokenCoverage']);
  expect(body.data.contractor).toEqual({ tokenCoverage: null });
});

test('a page of contractors with their coverage costs the same statements for 1 as for 3', async () => {
  const PAGE = `query($first: Int!) { contractors(first: $first) { nodes { id ${COVERAGE} } } }`;
  const count = async (first: number) => {
    h.statements.length = 0;
    const r = await h.gql(compliance, PAGE, { first });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.contractors.nodes).toHaveLength(first);
    expect(r.body.data.contractors.nodes.every((n: any) => n.tokenCoverage.maxLifetimeSeconds === 7200)).toBe(true);
    return h.statements.length;
  };
  const one = await count(1);
  const three = await count(3);
  expect(three).toBe(one);
});
