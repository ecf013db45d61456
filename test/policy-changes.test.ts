// Policy as versioned data: a compliance user ends US adequacy effective tomorrow, previews what breaks, applies
// it; from the effective instant (the test moves the app's clock) the DPF grants read SUSPENDED_BY_POLICY, their
// tokens are refused, policyFindings lists them, and re-papering with SCC module 2 reinstates one.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startHarness, type Harness } from './harness.js';
import { createOffice, grant, issueToken, mutate, registerContractor, setStatus } from './fixtures.js';
import { until } from './until.js';

let h: Harness;
let compliance: string;
beforeAll(async () => {
  h = await startHarness();
  compliance = await h.staffToken('COMPLIANCE');
});
afterAll(() => h?.stop());

const DAY = 86_400_000;

const IMPACT = `effectiveAt grants { grant { id status } reason validMechanisms { mechanism sccModule } }
  tokens { id status } contractors { id legalName } recentTransfers { count records categories }`;

async function preview(input: Record<string, unknown>, token = compliance) {
  const r = await h.gql(
    token,
    `query($input: PolicyChangeInput!) { previewPolicyChange(input: $input) { __typename
      ... on Error { code message } ... on ValidationError { issues { field message } }
      ... on PolicyImpact { ${IMPACT} } } }`,
    { input },
  );
  expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
  return r.body.data.previewPolicyChange;
}

const apply = (input: Record<string, unknown>, token = compliance) =>
  mutate(
    h,
    token,
    'applyPolicyChange',
    'PolicyChangeInput',
    input,
    `... on PolicyChangeApplied { change { id kind reason effectiveAt appliedAt suspendedGrants } impact { ${IMPACT} } }`,
  );

const grantStatus = async (id: string) =>
  (
    await h.gql(compliance, 'query($id: ID!) { node(id: $id) { ... on Grant { status suspendedByPolicyFrom } } }', {
      id,
    })
  ).body.data.node;

const viewerStatus = async (token: string) => (await h.gql(token, '{ viewer { kind } }')).status;

const count = async (sql: string) => Number(((await h.asOwner(sql)) as { n: number | string }[])[0]!.n);

async function usContractor(name: string, certifications: string[]) {
  const c = await registerContractor(h, compliance, { legalName: name, country: 'US', certifications });
  await setStatus(h, compliance, c.id, 'ACTIVE');
  return c;
}

describe('ending US adequacy effective tomorrow', () => {
  let office: { id: string };
  let dpf: { id: string };
  let dpfGrant: { id: string };
  let sccGrant: { id: string };
  let dpfToken: string;
  let sccToken: string;
  let tomorrow: Date;

  beforeAll(async () => {
    office = await createOffice(h, compliance, { name: 'Berlin', country: 'DE', city: 'Berlin' });
    dpf = await usContractor('DPF Certified Inc', ['EU_US_DPF']);
    const scc = await usContractor('Clauses Inc', ['EU_US_DPF']);
    const plain = await usContractor('Uncertified Inc', []);
    dpfGrant = await grant(h, compliance, { contractorId: dpf.id, officeId: office.id });
    expect(dpfGrant).toMatchObject({ mechanism: 'ADEQUACY' });
    sccGrant = await grant(h, compliance, {
      contractorId: scc.id,
      officeId: office.id,
      mechanism: 'SCC',
      sccModule: 2,
    });
    await grant(h, compliance, { contractorId: plain.id, officeId: office.id, mechanism: 'SCC', sccModule: 2 });
    dpfToken = (
      await issueToken(h, compliance, {
        contractorId: dpf.id,
        categories: ['contact.email'],
        purposes: ['TECHNICAL_SUPPORT'],
      })
    ).token;
    sccToken = (
      await issueToken(h, compliance, {
        contractorId: scc.id,
        categories: ['contact.email'],
        purposes: ['TECHNICAL_SUPPORT'],
      })
    ).token;
    tomorrow = new Date(h.clock.now().getTime() + DAY);
  });

  const endUs = () => ({
    reason: 'Court of Justice invalidates the EU-U.S. Data Privacy Framework',
    effectiveAt: tomorrow.toISOString(),
    endAdequacy: { jurisdiction: 'EU_EEA', country: 'US' },
  });

  test('the preview lists exactly the grants resting on the DPF and their tokens, and writes nothing', async () => {
    const before = await count('select count(*) as n from policy_changes');
    const audit = await count('select count(*) as n from audit_events');
    const p = await preview(endUs());
    expect(p.__typename).toBe('PolicyImpact');
    expect(p.grants.map((g: any) => g.grant.id)).toEqual([dpfGrant.id]);
    expect(p.grants[0].reason).toMatch(/US has no adequacy decision under/);
    expect(p.grants[0].validMechanisms).toEqual([{ mechanism: 'SCC', sccModule: 2 }]);
    expect(p.tokens).toHaveLength(1);
    expect(p.contractors.map((c: any) => c.id)).toEqual([dpf.id]);
    expect(p.recentTransfers).toEqual({ count: 0, records: 0, categories: [] });
    expect(await count('select count(*) as n from policy_changes')).toBe(before);
    expect(await count('select count(*) as n from audit_events')).toBe(audit);
    expect(await count('select count(*) as n from adequacy_decisions where valid_until is not null')).toBe(0);
  });

  test('applied, it changes nothing today; from tomorrow the DPF grant is suspended and its token refused', async () => {
    const applied = await apply(endUs());
    expect(applied.__typename, JSON.stringify(applied)).toBe('PolicyChangeApplied');
    expect(applied.change).toMatchObject({ kind: 'endAdequacy', appliedAt: null, suspendedGrants: 1 });
    expect(applied.impact.grants.map((g: any) => g.grant.id)).toEqual([dpfGrant.id]);
    // Today: nothing changed yet.
    expect((await grantStatus(dpfGrant.id)).status).toBe('ACTIVE');
    expect(await viewerStatus(dpfToken)).toBe(200);
    // A new grant resting on the DPF today would be suspended tomorrow: refused now, naming the change.
    const late = await mutate(
      h,
      compliance,
      'grantDataAccess',
      'GrantDataAccessInput',
      { contractorId: dpf.id, officeId: office.id, purpose: 'ORDER_FULFILMENT', categories: ['contact.email'] },
      '',
    );
    expect(late).toMatchObject({
      code: 'POLICY_VIOLATION',
      reason: expect.stringMatching(/a recorded policy change no longer allows it: .*US has no adequacy/),
    });

    // The policy as of any instant: US adequacy today, none the day after tomorrow.
    const asOf = async (at?: Date) =>
      (
        await h.gql(
          compliance,
          `query($at: DateTime) { transferPolicy(asOf: $at) { asOf jurisdictions { code adequacyDecisions { country endsAt } } } }`,
          { at: at?.toISOString() },
        )
      ).body.data.transferPolicy.jurisdictions
        .find((j: any) => j.code === 'EU_EEA')
        .adequacyDecisions.find((a: any) => a.country === 'US');
    expect(await asOf()).toMatchObject({ country: 'US', endsAt: tomorrow.toISOString() });
    expect(await asOf(new Date(tomorrow.getTime() + DAY))).toBeUndefined();
    // checkRoute(at:) judges under the policy in force then.
    const check = async (at: Date) =>
      (
        await h.gql(
          compliance,
          `query($at: DateTime) { transferPolicy { checkRoute(from: "DE", to: "US", certifications: [EU_US_DPF], at: $at) { allowed explanation } } }`,
          { at: at.toISOString() },
        )
      ).body.data.transferPolicy.checkRoute;
    expect((await check(h.clock.now())).allowed).toBe(true);
    expect(await check(new Date(tomorrow.getTime() + 1000))).toMatchObject({
      allowed: false,
      explanation: expect.stringMatching(/US has no adequacy decision/),
    });
    // The history of changes.
    const history = await h.gql(
      compliance,
      '{ policyChanges(first: 5) { nodes { kind reason effectiveAt appliedAt } } }',
    );
    expect(history.body.data.policyChanges.nodes[0]).toMatchObject({
      kind: 'endAdequacy',
      effectiveAt: tomorrow.toISOString(),
      appliedAt: null,
    });

    // Tomorrow: nobody runs a job; the instance's scheduler applies the change once.
    h.clock.advance(DAY + 1000);
    expect((await grantStatus(dpfGrant.id)).status).toBe('SUSPENDED_BY_POLICY');
    await until(async () => (await viewerStatus(dpfToken)) === 401, "the suspended grant's token to be refused");
    expect(await viewerStatus(sccToken)).toBe(200);
    expect((await grantStatus(sccGrant.id)).status).toBe('ACTIVE');
    const findings = await h.gql(
      compliance,
      '{ policyFindings(first: 10) { nodes { id status policySuspensionReason suspendedByChange { kind effectiveAt } } } }',
    );
    expect(findings.body.data.policyFindings.nodes).toEqual([
      {
        id: dpfGrant.id,
        status: 'SUSPENDED_BY_POLICY',
        policySuspensionReason: expect.stringMatching(/US.*valid here: SCC module 2/),
        // The change that caused it, as the findings queue shows it.
        suspendedByChange: { kind: 'endAdequacy', effectiveAt: tomorrow.toISOString() },
      },
    ]);
    // What the registry said yesterday is unchanged: the grant was ACTIVE then.
    const yesterday = new Date(h.clock.now().getTime() - DAY).toISOString();
    const past = await h.gql(
      compliance,
      `query($at: DateTime!) { contractors(first: 100, asOf: $at) { nodes { id grants(first: 10) { nodes { id status } } } } }`,
      { at: yesterday },
    );
    expect(past.body.errors, JSON.stringify(past.body.errors)).toBeUndefined();
    const then = past.body.data.contractors.nodes.find((c: any) => c.id === dpf.id);
    expect(then.grants.nodes).toEqual([{ id: dpfGrant.id, status: 'ACTIVE' }]);
    await until(
      async () => (await count(`select count(*) as n from audit_events where action = 'policyChangeTookEffect'`)) === 1,
      'the scheduler to apply the due change',
    );
    expect(await count('select count(*) as n from policy_changes where applied_at is null')).toBe(0);
    // No new token under the suspended grant.
    const refused = await mutate(
      h,
      compliance,
      'issueAccessToken',
      'IssueAccessTokenInput',
      {
        contractorId: dpf.id,
        categories: ['contact.email'],
        purposes: ['TECHNICAL_SUPPORT'],
        scopes: ['REGISTRY_READ'],
        lifetimeSeconds: 600,
      },
      '',
    );
    expect(refused.code).toBe('VALIDATION_FAILED');
  });

  test('re-papering with SCC module 2 reinstates the grant; ADEQUACY is refused', async () => {
    const repaper = (input: Record<string, unknown>) =>
      mutate(
        h,
        compliance,
        'repaperGrant',
        'RepaperGrantInput',
        input,
        '... on RepaperGrantPayload { grant { id status mechanism sccModule } }',
      );
    const stillAdequacy = await repaper({ id: dpfGrant.id, mechanism: 'ADEQUACY' });
    expect(stillAdequacy).toMatchObject({ code: 'POLICY_VIOLATION' });
    expect((await grantStatus(dpfGrant.id)).status).toBe('SUSPENDED_BY_POLICY');
    const done = await repaper({ id: dpfGrant.id, mechanism: 'SCC', sccModule: 2 });
    expect(done.grant).toMatchObject({ status: 'ACTIVE', mechanism: 'SCC', sccModule: 2 });
    const findings = await h.gql(compliance, '{ policyFindings(first: 10) { nodes { id } } }');
    expect(findings.body.data.policyFindings.nodes).toEqual([]);
    const notSuspended = await repaper({ id: sccGrant.id, mechanism: 'SCC', sccModule: 2 });
    expect(notSuspended).toMatchObject({ code: 'INVALID_STATE' });
    const token = await issueToken(h, compliance, {
      contractorId: dpf.id,
      categories: ['contact.email'],
      purposes: ['TECHNICAL_SUPPORT'],
    });
    expect(await viewerStatus(token.token)).toBe(200);
    expect(await count(`select count(*) as n from audit_events where action = 'repaperGrant'`)).toBe(1);
  });
});

describe('changes effective now, and other kinds', () => {
  test('suspending an adequacy decision now suspends its grants and revokes their tokens at once; amending resumes it', async () => {
    const office = await createOffice(h, compliance, { name: 'Paris', country: 'FR', city: 'Paris' });
    const c = await registerContractor(h, compliance, { legalName: 'Tokyo KK', country: 'JP' });
    await setStatus(h, compliance, c.id, 'ACTIVE');
    const g = await grant(h, compliance, { contractorId: c.id, officeId: office.id });
    const t = await issueToken(h, compliance, {
      contractorId: c.id,
      categories: ['contact.email'],
      purposes: ['TECHNICAL_SUPPORT'],
    });
    const r = await apply({ reason: 'review pending', suspendAdequacy: { jurisdiction: 'EU_EEA', country: 'JP' } });
    expect(r.change.appliedAt).not.toBeNull();
    expect(r.impact.grants.map((x: any) => x.grant.id)).toEqual([g.id]);
    expect(r.impact.grants[0].reason).toMatch(/suspended/);
    expect((await grantStatus(g.id)).status).toBe('SUSPENDED_BY_POLICY');
    expect(await viewerStatus(t.token)).toBe(401);
    const again = await apply({ reason: 'twice', suspendAdequacy: { jurisdiction: 'EU_EEA', country: 'JP' } });
    expect(again.code).toBe('INVALID_STATE');
    h.clock.advance(1000);
    const resumed = await apply({ reason: 'review done', amendAdequacy: { jurisdiction: 'EU_EEA', country: 'JP' } });
    expect(resumed.__typename, JSON.stringify(resumed)).toBe('PolicyChangeApplied');
    const check = await h.gql(
      compliance,
      '{ transferPolicy { checkRoute(from: "FR", to: "JP") { allowed mechanism } } }',
    );
    expect(check.body.data.transferPolicy.checkRoute).toEqual({ allowed: true, mechanism: 'ADEQUACY' });
  });

  test('amending a decision with a sunset keeps the sunset: the next version ends when the one it replaces would', async () => {
    const sunset = '2099-06-30T00:00:00.000Z';
    const adopted = await apply({
      reason: 'adopted with a sunset',
      adoptAdequacy: {
        jurisdiction: 'EU_EEA',
        country: 'BR',
        instrument: 'Decision BR',
        adoptedOn: '2026-01-01',
        endsAt: sunset,
      },
    });
    expect(adopted.__typename, JSON.stringify(adopted)).toBe('PolicyChangeApplied');
    h.clock.advance(1000);
    const amended = await apply({
      reason: 'renamed',
      amendAdequacy: { jurisdiction: 'EU_EEA', country: 'BR', instrument: 'Decision BR (amended)' },
    });
    expect(amended.__typename, JSON.stringify(amended)).toBe('PolicyChangeApplied');
    const r = await h.gql(
      compliance,
      '{ transferPolicy { jurisdictions { code adequacyDecisions { country instrument endsAt } } } }',
    );
    const eu = r.body.data.transferPolicy.jurisdictions.find((j: { code: string }) => j.code === 'EU_EEA');
    expect(eu.adequacyDecisions.filter((a: { country: string }) => a.country === 'BR')).toEqual([
      { country: 'BR', instrument: 'Decision BR (amended)', endsAt: sunset },
    ]);
  });

  test('a new jurisdiction with its members, and a restriction added and ended', async () => {
    const added = await apply({
      reason: 'model the Swiss FADP',
      addJurisdiction: {
        code: 'CH_FADP',
        name: 'Switzerland',
        law: 'Federal Act on Data Protection (FADP)',
        members: ['CH'],
      },
    });
    expect(added.__typename, JSON.stringify(added)).toBe('PolicyChangeApplied');
    const ch = await h.gql(
      compliance,
      '{ transferPolicy { checkRoute(from: "CH", to: "IN") { allowed explanation } } }',
    );
    expect(ch.body.data.transferPolicy.checkRoute.allowed).toBe(false);
    const taken = await apply({
      reason: 'again',
      addJurisdiction: { code: 'LI_X', name: 'Liechtenstein', law: 'x', members: ['LI'] },
    });
    expect(taken).toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/LI is in EU_EEA/) });

    const restricted = await apply({
      reason: 'localisation law',
      addRestriction: { exporterCountry: 'CH', importerCountry: 'IN', legalBasis: 'Test Act', reason: 'stays home' },
    });
    expect(restricted.__typename).toBe('PolicyChangeApplied');
    const list = await h.gql(compliance, '{ transferPolicy { restrictions { id exporterCountry legalBasis } } }');
    const row = list.body.data.transferPolicy.restrictions.find((x: any) => x.legalBasis === 'Test Act');
    const check = async () =>
      (
        await h.gql(
          compliance,
          '{ transferPolicy { checkRoute(from: "CH", to: "IN", mechanism: SCC, sccModule: 2) { allowed explanation } } }',
        )
      ).body.data.transferPolicy.checkRoute;
    expect((await check()).explanation).toMatch(/Test Act/);
    h.clock.advance(1000);
    const ended = await apply({ reason: 'repealed', endRestriction: { restrictionId: row.id } });
    expect(ended.__typename, JSON.stringify(ended)).toBe('PolicyChangeApplied');
    expect((await check()).allowed).toBe(true);
  });

  test('a purpose limit changed suspends the grants outside it', async () => {
    const office = await createOffice(h, compliance, { name: 'Lyon', country: 'FR', city: 'Lyon' });
    const c = await registerContractor(h, compliance, { legalName: 'Support FR', country: 'FR' });
    await setStatus(h, compliance, c.id, 'ACTIVE');
    const g = await grant(h, compliance, { contractorId: c.id, officeId: office.id, categories: ['contact.email'] });
    const limits = async () =>
      (
        await h.gql(compliance, '{ transferPolicy { purposeLimits { purpose categoryKeys } } }')
      ).body.data.transferPolicy.purposeLimits.find((l: any) => l.purpose === 'PRODUCT_IMPROVEMENT').categoryKeys;
    const previous = await limits();
    const p = await preview({
      reason: 'narrower',
      setPurposeLimit: { purpose: 'TECHNICAL_SUPPORT', categoryKeys: ['device'] },
    });
    expect(p.grants.map((x: any) => x.grant.id)).toContain(g.id);
    const unknown = await apply({
      reason: 'x',
      setPurposeLimit: { purpose: 'PRODUCT_IMPROVEMENT', categoryKeys: ['no.such'] },
    });
    expect(unknown.code).toBe('VALIDATION_FAILED');
    expect(await limits()).toEqual(previous);
  });
});

describe('bad input is refused with a typed error and changes nothing', () => {
  test.each([
    ['unknown country', { endAdequacy: { jurisdiction: 'EU_EEA', country: 'XX' } }, 'VALIDATION_FAILED'],
    ['unknown jurisdiction', { endAdequacy: { jurisdiction: 'NOPE', country: 'US' } }, 'NOT_FOUND'],
    ['no decision in force', { endAdequacy: { jurisdiction: 'EU_EEA', country: 'IN' } }, 'NOT_FOUND'],
    [
      'ends before adopted',
      {
        adoptAdequacy: {
          jurisdiction: 'EU_EEA',
          country: 'IN',
          instrument: 'Decision X',
          adoptedOn: '2099-01-01',
          endsAt: '2098-01-01T00:00:00Z',
        },
      },
      'VALIDATION_FAILED',
    ],
    [
      'overlapping decisions',
      { adoptAdequacy: { jurisdiction: 'EU_EEA', country: 'JP', instrument: 'Decision Y', adoptedOn: '2026-01-01' } },
      'CONFLICT',
    ],
    [
      'an effective date in the past',
      { effectiveAt: '2020-01-01T00:00:00Z', endAdequacy: { jurisdiction: 'EU_EEA', country: 'JP' } },
      'VALIDATION_FAILED',
    ],
    [
      'two kinds at once',
      {
        endAdequacy: { jurisdiction: 'EU_EEA', country: 'JP' },
        suspendAdequacy: { jurisdiction: 'EU_EEA', country: 'JP' },
      },
      'VALIDATION_FAILED',
    ],
    ['no kind', {}, 'VALIDATION_FAILED'],
  ])('%s', async (_name, change, code) => {
    const before = await count('select count(*) as n from policy_changes');
    const decisions = await count('select count(*) as n from adequacy_decisions');
    const r = await apply({ reason: 'test', ...change });
    expect(r.code, JSON.stringify(r)).toBe(code);
    const p = await preview({ reason: 'test', ...change });
    expect(p.code).toBe(code);
    expect(await count('select count(*) as n from policy_changes')).toBe(before);
    expect(await count('select count(*) as n from adequacy_decisions')).toBe(decisions);
  });

  test('auditors may neither preview nor apply', async () => {
    const auditor = await h.staffToken('AUDITOR');
    const r = await h.gql(
      auditor,
      'mutation { applyPolicyChange(input: { reason: "x", endAdequacy: { jurisdiction: "EU_EEA", country: "JP" } }) { __typename } }',
    );
    expect(r.body.data?.applyPolicyChange ?? null).toBeNull();
    expect(r.body.errors?.[0]?.extensions?.code ?? r.body.errors?.[0]?.message).toBeTruthy();
  });
});
