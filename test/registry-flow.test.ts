// Issue 2's "done when", step by step through the API.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startHarness, type Harness } from './harness.js';
import { createOffice, mutate, registerContractor } from './fixtures.js';

let h: Harness;
let compliance: string;
let auditor: string;
beforeAll(async () => {
  h = await startHarness();
  compliance = await h.staffToken('COMPLIANCE', 'alice@example.com');
  auditor = await h.staffToken('AUDITOR', 'bob@example.com');
});
afterAll(async () => {
  await h?.stop();
});

describe('a compliance user registers a German office and an Indian support contractor', () => {
  let office: { id: string };
  let contractor: { id: string };
  let grantId: string;

  test('requests without a bearer token get 401 with WWW-Authenticate: Bearer', async () => {
    const r = await h.gql(undefined, '{ viewer { subject } }');
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(r.body.data).toBeUndefined();
  });

  test('registers the office and the contractor', async () => {
    office = await createOffice(h, compliance, { country: 'DE' });
    expect(office).toMatchObject({ country: 'DE', version: 1 });
    contractor = await registerContractor(h, compliance, { country: 'IN' });
    expect(contractor).toMatchObject({ country: 'IN', status: 'ONBOARDING' });
  });

  test('a grant of contact.email without a mechanism is refused with POLICY_VIOLATION naming the route', async () => {
    const res = await mutate(
      h,
      compliance,
      'grantDataAccess',
      'GrantDataAccessInput',
      { contractorId: contractor.id, officeId: office.id, categories: ['contact.email'], purpose: 'TECHNICAL_SUPPORT' },
      '',
    );
    expect(res).toMatchObject({
      __typename: 'PolicyViolationError',
      code: 'POLICY_VIOLATION',
      exporterCountry: 'DE',
      importerCountry: 'IN',
    });
    expect(res.reason).toMatch(/IN has no adequacy decision/);
    expect(res.reason).toMatch(/module 2/);
    const list = await h.gql(compliance, '{ grants { nodes { id } } }');
    expect(list.body.data.grants.nodes).toEqual([]);
  });

  test('SCC with the wrong module is refused; module 2 is granted', async () => {
    const base = {
      contractorId: contractor.id,
      officeId: office.id,
      categories: ['contact.email'],
      purpose: 'TECHNICAL_SUPPORT',
      mechanism: 'SCC',
    };
    const wrong = await mutate(h, compliance, 'grantDataAccess', 'GrantDataAccessInput', { ...base, sccModule: 1 }, '');
    expect(wrong).toMatchObject({ code: 'POLICY_VIOLATION' });
    expect(wrong.reason).toMatch(/module 2 \(controller to processor\) is required/);
    const res = await mutate(
      h,
      compliance,
      'grantDataAccess',
      'GrantDataAccessInput',
      { ...base, sccModule: 2 },
      '... on GrantDataAccessPayload { grant { id mechanism sccModule crossBorder status policyExplanation categories { key } } }',
    );
    expect(res.__typename).toBe('GrantDataAccessPayload');
    expect(res.grant).toMatchObject({
      mechanism: 'SCC',
      sccModule: 2,
      crossBorder: true,
      status: 'ACTIVE',
      categories: [{ key: 'contact.email' }],
    });
    grantId = res.grant.id;
  });

  test('an auditor reads the grant back', async () => {
    const r = await h.gql(
      auditor,
      `query($id: ID!) { node(id: $id) { ... on Grant { mechanism sccModule office { country } contractor { country legalName } } } }`,
      { id: grantId },
    );
    expect(r.body).toEqual({
      data: {
        node: {
          mechanism: 'SCC',
          sccModule: 2,
          office: { country: 'DE' },
          contractor: { country: 'IN', legalName: 'Helpdesk Services Pvt Ltd' },
        },
      },
    });
  });

  test('an auditor cannot change it: FORBIDDEN, no data, nothing changed', async () => {
    const r = await h.gql(
      auditor,
      `mutation($input: RevokeGrantInput!) { revokeGrant(input: $input) { __typename } }`,
      { input: { id: grantId, reason: 'audit' } },
    );
    expect(r.status).toBe(200);
    expect(r.body.data).toBeNull();
    expect(r.body.errors[0].extensions.code).toBe('FORBIDDEN');
    const after = await h.gql(compliance, `query($id: ID!) { node(id: $id) { ... on Grant { status } } }`, {
      id: grantId,
    });
    expect(after.body.data.node.status).toBe('ACTIVE');
  });
});
