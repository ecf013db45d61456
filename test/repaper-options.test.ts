// Grant.repaperOptions: how a grant a policy change suspends can be made valid again, decided by the registry
// (the same judgement repaperGrant applies), for staff only, at one load for a page of grants.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startHarness, type Harness } from './harness.js';
import { createOffice, grant, issueToken, mutate, registerContractor, setStatus } from './fixtures.js';

let h: Harness;
let compliance: string;
beforeAll(async () => {
  h = await startHarness();
  compliance = await h.staffToken('COMPLIANCE');
});
afterAll(() => h?.stop());

const apply = (input: Record<string, unknown>) =>
  mutate(
    h,
    compliance,
    'applyPolicyChange',
    'PolicyChangeInput',
    input,
    '... on PolicyChangeApplied { change { id } }',
  );

const repaper = (input: Record<string, unknown>) =>
  mutate(
    h,
    compliance,
    'repaperGrant',
    'RepaperGrantInput',
    input,
    '... on RepaperGrantPayload { grant { id status } }',
  );

const FINDINGS = `query($first: Int!) { policyFindings(first: $first) { nodes {
  id status repaperOptions { mechanisms { mechanism sccModule } parentFirst { id status } } } } }`;

async function findings(first = 50) {
  const r = await h.gql(compliance, FINDINGS, { first });
  expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
  return r.body.data.policyFindings.nodes as {
    id: string;
    status: string;
    repaperOptions: {
      mechanisms: { mechanism: string; sccModule: number | null }[];
      parentFirst: { id: string } | null;
    };
  }[];
}

describe('a grant whose adequacy a policy change suspends', () => {
  let granted: { id: string };
  test('lists the mechanisms repaperGrant accepts, and repaperGrant agrees', async () => {
    const office = await createOffice(h, compliance, { name: 'Paris', country: 'FR', city: 'Paris' });
    const c = await registerContractor(h, compliance, { legalName: 'Tokyo KK', country: 'JP' });
    await setStatus(h, compliance, c.id, 'ACTIVE');
    granted = await grant(h, compliance, { contractorId: c.id, officeId: office.id });
    // Before any change it waits for nothing.
    const before = await h.gql(
      compliance,
      'query($id: ID!) { node(id: $id) { ... on Grant { repaperOptions { mechanisms { mechanism } } } } }',
      {
        id: granted.id,
      },
    );
    expect(before.body.data.node).toEqual({ repaperOptions: null });

    const r = await apply({ reason: 'review pending', suspendAdequacy: { jurisdiction: 'EU_EEA', country: 'JP' } });
    expect(r.__typename, JSON.stringify(r)).toBe('PolicyChangeApplied');
    const [finding] = (await findings()).filter((f) => f.id === granted.id);
    const options = finding!.repaperOptions;
    expect(options.parentFirst).toBeNull();
    expect(options.mechanisms).toContainEqual({ mechanism: 'SCC', sccModule: 2 });
    expect(options.mechanisms.map((m) => m.mechanism)).not.toContain('ADEQUACY');
    // What it does not list, repaperGrant refuses; what it lists, repaperGrant accepts.
    const refused = await repaper({ id: granted.id, mechanism: 'ADEQUACY' });
    expect(refused.__typename).toBe('PolicyViolationError');
    const accepted = await repaper({ id: granted.id, ...options.mechanisms[0] });
    expect(accepted.grant, JSON.stringify(accepted)).toEqual({ id: granted.id, status: 'ACTIVE' });
    expect((await findings()).map((f) => f.id)).not.toContain(granted.id);
  });

  test('a contractor token is FORBIDDEN the field on its own grant, and gets nothing of it', async () => {
    const c = await registerContractor(h, compliance, { legalName: 'Reader Co', country: 'FR' });
    await setStatus(h, compliance, c.id, 'ACTIVE');
    const office = await createOffice(h, compliance, { name: 'Lyon', country: 'FR', city: 'Lyon' });
    const g = await grant(h, compliance, { contractorId: c.id, officeId: office.id });
    const own = await issueToken(h, compliance, {
      contractorId: c.id,
      categories: ['contact.email'],
      purposes: ['TECHNICAL_SUPPORT'],
    });
    const r = await h.gql(
      own.token,
      '{ grants(first: 5) { nodes { id repaperOptions { mechanisms { mechanism } } } } }',
    );
    expect(r.body.errors?.map((e: any) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(r.body.errors[0].path).toEqual(['grants', 'nodes', 0, 'repaperOptions']);
    expect(r.body.data.grants.nodes).toEqual([{ id: g.id, repaperOptions: null }]);
  });
});

test('an onward grant under a suspended parent names the parent to re-paper first', async () => {
  const office = await createOffice(h, compliance, { name: 'Prague', country: 'CZ' });
  const processor = await registerContractor(h, compliance, { legalName: 'Helpdesk IN', country: 'IN' });
  const sub = await registerContractor(h, compliance, {
    legalName: 'Sub CH',
    country: 'CH',
    role: 'SUBPROCESSOR',
    parentContractorId: processor.id,
  });
  for (const c of [processor, sub]) await setStatus(h, compliance, c.id, 'ACTIVE');
  const parent = await grant(h, compliance, {
    contractorId: processor.id,
    officeId: office.id,
    mechanism: 'SCC',
    sccModule: 2,
  });
  const onward = await grant(h, compliance, { contractorId: sub.id, parentGrantId: parent.id });
  const r = await apply({
    reason: 'localisation law',
    addRestriction: { exporterCountry: 'CZ', importerCountry: 'IN', legalBasis: 'CZ Act', reason: 'stays home' },
  });
  expect(r.__typename, JSON.stringify(r)).toBe('PolicyChangeApplied');
  const byId = new Map((await findings()).map((f) => [f.id, f.repaperOptions]));
  // A forbidden route: no mechanism fixes the parent.
  expect(byId.get(parent.id)).toEqual({ mechanisms: [], parentFirst: null });
  // The onward hop IN → CH stays valid by adequacy, once the parent gives data again.
  const o = byId.get(onward.id)!;
  expect(o.parentFirst).toEqual({ id: parent.id, status: 'SUSPENDED_BY_POLICY' });
  expect(o.mechanisms).toContainEqual({ mechanism: 'ADEQUACY', sccModule: null });
  const refused = await repaper({ id: onward.id, mechanism: 'ADEQUACY' });
  expect(refused.__typename).toBe('InvalidStateError');
  expect(refused.message).toContain(`${parent.id} is SUSPENDED_BY_POLICY`);
});

test('a page of findings costs the same statements for 1 grant as for 8', async () => {
  const office = await createOffice(h, compliance, { name: 'Madrid', country: 'ES' });
  for (let i = 0; i < 6; i++) {
    const c = await registerContractor(h, compliance, { legalName: `Seoul ${i}`, country: 'KR' });
    await setStatus(h, compliance, c.id, 'ACTIVE');
    await grant(h, compliance, { contractorId: c.id, officeId: office.id });
  }
  const r = await apply({ reason: 'review', suspendAdequacy: { jurisdiction: 'EU_EEA', country: 'KR' } });
  expect(r.__typename, JSON.stringify(r)).toBe('PolicyChangeApplied');
  const count = async (first: number) => {
    h.statements.length = 0;
    const nodes = await findings(first);
    expect(nodes).toHaveLength(first);
    expect(nodes.every((n) => n.repaperOptions)).toBe(true);
    return { statements: h.statements.length, nodes };
  };
  const one = await count(1);
  // The onward test's two findings, then these six.
  const all = await count(8);
  expect(all.statements).toBe(one.statements);
  expect(all.nodes.slice(2).map((n) => n.repaperOptions.mechanisms)).toEqual(
    Array(6).fill(expect.arrayContaining([{ mechanism: 'SCC', sccModule: 2 }])),
  );
});
