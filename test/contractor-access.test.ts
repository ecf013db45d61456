// What a contractor token reaches: its own record, grants and obligations — and no other contractor,
// office detail, token, or policy table by any path (ID, list, node, nodes, nested edge, alias).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { auditEvents } from '../src/db/tables.js';
import { startHarness, type Harness } from './harness.js';
import { contractorWithToken, issueToken, mutate, ok, registerContractor, setStatus } from './fixtures.js';
import { rawSql } from './transfer-fixtures.js';
import { rowsOf } from '../src/db/rows.js';

let h: Harness;
let compliance: string;
let a: Awaited<ReturnType<typeof contractorWithToken>>;
let b: Awaited<ReturnType<typeof contractorWithToken>>;
let obligationA: string;
let obligationB: string;

const addObligation = (contractorId: string) =>
  ok(
    h,
    compliance,
    'addObligation',
    'AddObligationInput',
    {
      contractorId,
      kind: 'CONFIDENTIALITY',
      text: 'Keep it confidential.',
      sourceDocument: 'DPA v1',
      effectiveFrom: '2026-01-01',
    },
    'obligation',
    'id',
  );

beforeAll(async () => {
  h = await startHarness();
  compliance = await h.staffToken('COMPLIANCE');
  a = await contractorWithToken(h, compliance, { name: 'Alpha Support' });
  b = await contractorWithToken(h, compliance, { name: 'Beta Support' });
  obligationA = (await addObligation(a.contractor.id)).id;
  obligationB = (await addObligation(b.contractor.id)).id;
});
afterAll(async () => {
  await h?.stop();
});

const forbidden = (r: { body: any }) => {
  expect(r.body.errors?.map((e: any) => e.extensions?.code)).toContain('FORBIDDEN');
};

describe('a contractor token sees its own', () => {
  test('viewer', async () => {
    const r = await h.gql(
      a.token,
      '{ viewer { kind subject scopes categories purposes expiresAt contractor { id legalName } } }',
    );
    expect(r.body.data.viewer).toMatchObject({
      kind: 'CONTRACTOR',
      subject: a.contractor.id,
      categories: ['contact.email'],
      purposes: ['TECHNICAL_SUPPORT'],
      contractor: { id: a.contractor.id, legalName: 'Alpha Support' },
    });
    expect(r.body.data.viewer.scopes).toEqual(['obligations:acknowledge', 'records:read', 'registry:read']);
    expect(Date.parse(r.body.data.viewer.expiresAt)).toBeGreaterThan(Date.now() + 3500_000);
  });
  test('its record, grants and obligations', async () => {
    const r = await h.gql(
      a.token,
      `query($id: ID!) { contractor(id: $id) { legalName status grants(first: 5) { nodes { id purpose categories { key } } } obligations(first: 5) { nodes { id kind } } }
      grants { nodes { id } } obligations { nodes { id } } }`,
      { id: a.contractor.id },
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.contractor.grants.nodes).toEqual([
      { id: a.grant.id, purpose: 'TECHNICAL_SUPPORT', categories: [{ key: 'contact.email' }] },
    ]);
    expect(r.body.data.grants.nodes).toEqual([{ id: a.grant.id }]);
    expect(r.body.data.obligations.nodes).toEqual([{ id: obligationA }]);
    expect(r.body.data.contractor.obligations.nodes).toEqual([{ id: obligationA, kind: 'CONFIDENTIALITY' }]);
  });
  test('acknowledges its obligation, once', async () => {
    const ack = `mutation($id: ID!) { acknowledgeObligation(input: { id: $id }) { __typename ... on Error { code }
      ... on AcknowledgeObligationPayload { obligation { acknowledgedBy acknowledgedAt } } } }`;
    const r = await h.gql(a.token, ack, { id: obligationA });
    expect(r.body.data.acknowledgeObligation.obligation.acknowledgedBy).toBe(a.contractor.id);
    const again = await h.gql(a.token, ack, { id: obligationA });
    expect(again.body.data.acknowledgeObligation).toEqual({ __typename: 'InvalidStateError', code: 'INVALID_STATE' });
  });
});

test('an ID of the wrong kind is named with its article, and what it is', async () => {
  const ack = `mutation($id: ID!) { acknowledgeObligation(input: { id: $id }) { __typename ... on ValidationError { issues { field message } } } }`;
  const wrongKind = await h.gql(a.token, ack, { id: a.contractor.id });
  expect(wrongKind.body.data.acknowledgeObligation.issues).toEqual([
    { field: 'input.id', message: 'not an Obligation ID (it is a Contractor ID)' },
  ]);
  const garbage = await h.gql(a.token, ack, { id: 'no-such-id' });
  expect(garbage.body.data.acknowledgeObligation.issues).toEqual([
    { field: 'input.id', message: 'not an Obligation ID' },
  ]);
  const office = await h.gql(compliance, 'query($id: ID) { grants(officeId: $id) { nodes { id } } }', {
    id: a.grant.id,
  });
  expect(office.body.errors[0].message).toBe('Invalid input: officeId: not an Office ID (it is a Grant ID)');
});

describe('and nothing of anyone else', () => {
  test('another contractor by ID reads as absent', async () => {
    const r = await h.gql(a.token, 'query($id: ID!) { contractor(id: $id) { legalName } }', { id: b.contractor.id });
    expect(r.body.data.contractor).toBeNull();
  });
  test('through node and nodes', async () => {
    for (const id of [
      b.contractor.id,
      b.grant.id,
      obligationB,
      b.office.id,
      b.accessTokenId,
      a.office.id,
      a.accessTokenId,
    ]) {
      const r = await h.gql(
        a.token,
        `query($id: ID!) { node(id: $id) { id ... on Contractor { legalName } ... on Grant { purpose } ... on Obligation { text } ... on Office { name } ... on AccessToken { jti } } }`,
        { id },
      );
      expect(r.body.data?.node ?? null, id).toBeNull();
      forbidden(r);
    }
    const r = await h.gql(a.token, `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Contractor { legalName } } }`, {
      ids: [a.contractor.id, b.contractor.id],
    });
    expect(r.body.data.nodes[0]).toEqual({ id: a.contractor.id, legalName: 'Alpha Support' });
    expect(r.body.data.nodes[1]).toBeNull();
  });
  test('in lists', async () => {
    for (const q of [
      '{ contractors { nodes { id } } }',
      '{ offices { nodes { id } } }',
      '{ accessTokens { nodes { id } } }',
      '{ transferPolicy { jurisdictions { code } } }',
    ]) {
      const r = await h.gql(a.token, q);
      expect(r.body.data).toBeNull();
      forbidden(r);
    }
    const grants = await h.gql(a.token, 'query($c: ID) { grants(contractorId: $c) { nodes { id } } }', {
      c: b.contractor.id,
    });
    expect(grants.body.data.grants.nodes).toEqual([{ id: a.grant.id }]);
    const obligations = await h.gql(a.token, 'query($c: ID) { obligations(contractorId: $c) { nodes { id } } }', {
      c: b.contractor.id,
    });
    expect(obligations.body.data.obligations.nodes).toEqual([{ id: obligationA }]);
  });
  test('through nested edges', async () => {
    const r = await h.gql(a.token, '{ grants { nodes { id office { name city } } } }');
    expect(JSON.stringify(r.body.data)).not.toContain('Munich');
    forbidden(r);
  });
  test('through aliases', async () => {
    const r = await h.gql(
      a.token,
      `query($a: ID!, $b: ID!) { mine: contractor(id: $a) { legalName } theirs: contractor(id: $b) { legalName }
      n1: node(id: $b) { id } }`,
      { a: a.contractor.id, b: b.contractor.id },
    );
    expect(r.body.data.mine).toEqual({ legalName: 'Alpha Support' });
    expect(r.body.data.theirs).toBeNull();
    expect(r.body.data.n1).toBeNull();
    expect(JSON.stringify(r.body)).not.toContain('Beta Support');
  });
  test("another contractor's obligation cannot be acknowledged, and stays unacknowledged", async () => {
    const r = await h.gql(
      a.token,
      `mutation($id: ID!) { acknowledgeObligation(input: { id: $id }) { __typename ... on Error { code } } }`,
      { id: obligationB },
    );
    expect(r.body.data.acknowledgeObligation).toEqual({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    const check = await h.gql(
      compliance,
      'query($id: ID!) { node(id: $id) { ... on Obligation { acknowledgedAt } } }',
      { id: obligationB },
    );
    expect(check.body.data.node.acknowledgedAt).toBeNull();
  });
  test('an obligation that does not exist, or an ID of another type: typed errors, nothing written', async () => {
    const ack = `mutation($id: ID!) { acknowledgeObligation(input: { id: $id }) { __typename ... on Error { code } ... on ValidationError { issues { field } } } }`;
    const events = await h.database.db.$count(auditEvents);
    const missing = await h.gql(a.token, ack, { id: Buffer.from('Obligation:999999').toString('base64') });
    expect(missing.body.data.acknowledgeObligation).toEqual({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    const wrongType = await h.gql(a.token, ack, { id: a.contractor.id });
    expect(wrongType.body.data.acknowledgeObligation).toEqual({
      __typename: 'ValidationError',
      code: 'VALIDATION_FAILED',
      issues: [{ field: 'input.id' }],
    });
    expect(await h.database.db.$count(auditEvents)).toBe(events);
  });
  test('no staff mutation works with a contractor token', async () => {
    const r = await h.gql(
      a.token,
      `mutation { createOffice(input: { name: "x", legalEntity: "x", country: "DE", city: "x" }) { __typename } }`,
    );
    expect(r.body.data).toBeNull();
    forbidden(r);
  });
});

describe('scopes', () => {
  test('a token without registry:read gets insufficient_scope and no data', async () => {
    const issued = await issueToken(h, compliance, {
      contractorId: a.contractor.id,
      categories: ['contact.email'],
      purposes: ['TECHNICAL_SUPPORT'],
      scopes: ['RECORDS_READ'],
    });
    const r = await h.gql(issued.token, '{ grants { nodes { id } } }');
    expect(r.body.data).toBeNull();
    expect(r.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'insufficient_scope' });
    const ack = await h.gql(
      issued.token,
      `mutation($id: ID!) { acknowledgeObligation(input: { id: $id }) { __typename } }`,
      { id: obligationA },
    );
    forbidden(ack);
  });

  const tokenWith = async (scopes: string[]) =>
    (
      await issueToken(h, compliance, {
        contractorId: a.contractor.id,
        categories: ['contact.email'],
        purposes: ['TECHNICAL_SUPPORT'],
        scopes,
      })
    ).token as string;

  test('accessHistory needs registry:read or records:read: an acknowledge-only token gets FORBIDDEN and no data', async () => {
    const ackOnly = await tokenWith(['OBLIGATIONS_ACKNOWLEDGE']);
    const refused = await h.gql(ackOnly, '{ accessHistory { nodes { id } } }');
    expect(refused.body.data).toBeNull();
    expect(refused.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'insufficient_scope' });
    for (const scopes of [['REGISTRY_READ'], ['RECORDS_READ']]) {
      const r = await h.gql(await tokenWith(scopes), '{ accessHistory { nodes { id } } }');
      expect(r.body.errors, scopes.join()).toBeUndefined();
      expect(r.body.data.accessHistory.nodes).toEqual([]);
    }
    forbidden(await h.gql(await h.staffToken('AUDITOR'), '{ accessHistory { nodes { id } } }'));
  });

  test("an acknowledge-only token lists its own obligations, never another contractor's", async () => {
    const ackOnly = await tokenWith(['OBLIGATIONS_ACKNOWLEDGE']);
    const mine = await h.gql(ackOnly, '{ obligations { nodes { id text } } }');
    expect(mine.body.errors).toBeUndefined();
    expect(mine.body.data.obligations.nodes.map((o: { id: string }) => o.id)).toEqual([obligationA]);
    const asked = await h.gql(
      ackOnly,
      'query($c: ID) { obligations(contractorId: $c, unacknowledgedOnly: false) { nodes { id } } }',
      { c: b.contractor.id },
    );
    expect(asked.body.data.obligations.nodes).toEqual([{ id: obligationA }]);
    // Through an obligation it still cannot reach its contractor record (that needs registry:read).
    const deeper = await h.gql(ackOnly, '{ obligations { nodes { id contractor { legalName } } } }');
    forbidden(deeper);
    expect(JSON.stringify(deeper.body.data)).not.toContain('Alpha Support');
    // A records-only token reads neither.
    forbidden(await h.gql(await tokenWith(['RECORDS_READ']), '{ obligations { nodes { id } } }'));
  });
});

test('FORBIDDEN names the role or scope needed', async () => {
  const auditor = await h.staffToken('AUDITOR');
  const narrow = (scopes: string[]) =>
    issueToken(h, compliance, {
      contractorId: a.contractor.id,
      categories: ['contact.email'],
      purposes: ['TECHNICAL_SUPPORT'],
      scopes,
    }).then((t) => t.token as string);
  const [ackOnly, recordsOnly] = [await narrow(['OBLIGATIONS_ACKNOWLEDGE']), await narrow(['RECORDS_READ'])];
  const cases: [string, string, string][] = [
    [
      auditor,
      'mutation { createOffice(input: { name: "x", legalEntity: "x", country: "DE", city: "x" }) { __typename } }',
      'Mutation.createOffice needs role COMPLIANCE',
    ],
    [a.token, '{ contractors { nodes { id } } }', 'Query.contractors needs a staff token (role COMPLIANCE or AUDITOR)'],
    [auditor, '{ accessHistory { nodes { id } } }', 'Query.accessHistory needs a contractor token'],
    [ackOnly, '{ accessHistory { nodes { id } } }', 'Query.accessHistory needs scope registry:read or records:read'],
    [recordsOnly, '{ grants { nodes { id } } }', 'Query.grants needs scope registry:read'],
    [
      recordsOnly,
      '{ obligations { nodes { id } } }',
      'Query.obligations needs scope registry:read or obligations:acknowledge',
    ],
    [
      compliance,
      '{ sharedRecords(purpose: TECHNICAL_SUPPORT) { nodes { subjectRef } } }',
      'Query.sharedRecords needs scope records:read',
    ],
  ];
  for (const [token, query, message] of cases) {
    const r = await h.gql(token, query);
    expect(r.body.errors?.[0], query).toMatchObject({
      message: `Not allowed: ${message}`,
      extensions: { code: 'FORBIDDEN', reason: 'insufficient_scope' },
    });
  }
  // An object the token may not read: what a contractor token may read, the same for any object (or none).
  const node = await h.gql(a.token, `{ node(id: "${b.contractor.id}") { id } }`);
  expect(node.body.errors[0].message).toBe(
    "Not allowed: Query.node: a contractor token reads only its own contractor's record and grants (scope registry:read), " +
      'obligations (scope registry:read or obligations:acknowledge) and access history (scope registry:read or records:read)',
  );
});

describe('issuing', () => {
  const issue = (input: Record<string, unknown>) =>
    mutate(
      h,
      compliance,
      'issueAccessToken',
      'IssueAccessTokenInput',
      {
        scopes: ['REGISTRY_READ'],
        purposes: ['TECHNICAL_SUPPORT'],
        categories: ['contact.email'],
        lifetimeSeconds: 3600,
        contractorId: a.contractor.id,
        ...input,
      },
      '... on IssueAccessTokenPayload { token }',
    );
  test('refused for a category or purpose no active grant covers, or a too-long lifetime', async () => {
    const cat = await issue({ categories: ['contact.email', 'financial.payment_card'] });
    expect(cat).toMatchObject({ code: 'VALIDATION_FAILED', issues: [{ field: 'input.categories.1' }] });
    const purpose = await issue({ purposes: ['SPECIAL_OFFERS'] });
    expect(purpose.issues.map((i: { field: string }) => i.field)).toContain('input.purposes.0');
    const long = await issue({ lifetimeSeconds: 24 * 3600 + 1 });
    expect(long).toMatchObject({ code: 'VALIDATION_FAILED', issues: [{ field: 'input.lifetimeSeconds' }] });
  });
  test('a purpose no grant serves is named by its position in the input, and no token is stored', async () => {
    const count = async () => {
      const r: any = await rawSql(h, 'select count(*)::int as n from access_tokens');
      return Number(rowsOf<any>(r)[0].n);
    };
    const before = await count();
    // Sorted, ORDER_FULFILMENT would come first: the issue must still point at the second entry, where it was given.
    const res = await issue({ purposes: ['TECHNICAL_SUPPORT', 'ORDER_FULFILMENT'] });
    expect(res).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(res.issues.map((i: { field: string }) => i.field)).toEqual(['input.purposes.1']);
    expect(await count()).toBe(before);
  });
  test('refused for a contractor that is not ACTIVE', async () => {
    const c = await registerContractor(h, compliance, { legalName: 'Onboarding Co', country: 'FR' });
    expect(await issue({ contractorId: c.id })).toMatchObject({ code: 'INVALID_STATE' });
    await setStatus(h, compliance, c.id, 'TERMINATED', 'never started');
    expect(await issue({ contractorId: c.id })).toMatchObject({ code: 'INVALID_STATE' });
  });
  test('a parent grant covers children, but never a RESTRICTED child', async () => {
    const c = await contractorWithToken(h, compliance, {
      name: 'Parent Grant Co',
      categories: ['contact', 'financial'],
      purpose: 'ORDER_FULFILMENT',
    });
    const child = await issue({
      contractorId: c.contractor.id,
      purposes: ['ORDER_FULFILMENT'],
      categories: ['contact.email'],
    });
    expect(child.token).toBeTruthy();
    const card = await issue({
      contractorId: c.contractor.id,
      purposes: ['ORDER_FULFILMENT'],
      categories: ['financial.payment_card'],
    });
    expect(card).toMatchObject({ code: 'VALIDATION_FAILED' });
  });
  test('auditors cannot issue; the list shows who issued, expiry and last use, never the token', async () => {
    const auditor = await h.staffToken('AUDITOR');
    const r = await h.gql(
      auditor,
      `mutation($input: IssueAccessTokenInput!) { issueAccessToken(input: $input) { __typename } }`,
      {
        input: {
          contractorId: a.contractor.id,
          scopes: ['REGISTRY_READ'],
          purposes: ['TECHNICAL_SUPPORT'],
          categories: ['contact.email'],
          lifetimeSeconds: 60,
        },
      },
    );
    forbidden(r);
    await h.gql(a.token, '{ viewer { kind } }');
    let node: any;
    for (let i = 0; i < 50; i++) {
      node = (
        await h.gql(
          auditor,
          'query($id: ID!) { node(id: $id) { ... on AccessToken { issuedBy expiresAt lastUsedAt status contractor { id } } } }',
          { id: a.accessTokenId },
        )
      ).body.data.node;
      if (node.lastUsedAt) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    expect(node).toMatchObject({
      issuedBy: 'compliance@example.com',
      status: 'ACTIVE',
      contractor: { id: a.contractor.id },
    });
    expect(node.lastUsedAt).not.toBeNull();
    // Every field of AccessToken, found by introspection, so a field added later is covered too.
    const fields = (
      await h.gql(compliance, '{ __type(name: "AccessToken") { fields { name type { kind ofType { kind } } } } }')
    ).body.data.__type.fields
      .filter((f: any) => f.type.kind !== 'OBJECT' && f.type.ofType?.kind !== 'OBJECT')
      .map((f: any) => f.name);
    expect(fields).toEqual(expect.arrayContaining(['jti', 'issuedBy', 'signingKeyId', 'scopes']));
    const list = await h.gql(auditor, `{ accessTokens(first: 50) { nodes { ${fields.join(' ')} } } }`);
    expect(list.body.errors).toBeUndefined();
    expect(list.body.data.accessTokens.nodes.length).toBeGreaterThan(0);
    const text = JSON.stringify(list.body);
    for (const part of a.token.split('.')) expect(text).not.toContain(part);
  });
});

test('the JWKS publishes public keys only', async () => {
  const res = await h.app.fetch('http://registry.test/.well-known/jwks.json');
  const jwks = (await res.json()) as { keys: Record<string, unknown>[] };
  expect(jwks.keys.length).toBeGreaterThan(0);
  for (const k of jwks.keys) {
    expect(Object.keys(k).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
    expect(k).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
  }
});

describe('revoking tokens and rotating keys: refusals', () => {
  const REVOKE = `mutation($input: RevokeAccessTokenInput!) { revokeAccessToken(input: $input) {
    __typename ... on Error { code } ... on InvalidStateError { currentState } ... on RevokeAccessTokenPayload { accessToken { status } } } }`;
  const events = async () => {
    const r: any = await rawSql(h, 'select count(*)::int as n from audit_events');
    return Number(rowsOf<any>(r)[0].n);
  };

  test('twice is INVALID_STATE (REVOKED), expired is INVALID_STATE (EXPIRED), unknown is NOT_FOUND, another type is a ValidationError', async () => {
    const c = await contractorWithToken(h, compliance, { name: 'Revoked twice' });
    const d = await contractorWithToken(h, compliance, { name: 'Expired token' });
    const first = await h.gql(compliance, REVOKE, { input: { id: c.accessTokenId, reason: 'left the project' } });
    expect(first.body.data.revokeAccessToken).toEqual({
      __typename: 'RevokeAccessTokenPayload',
      accessToken: { status: 'REVOKED' },
    });
    const tokenId = Number(Buffer.from(d.accessTokenId, 'base64').toString().split(':')[1]);
    await rawSql(h, `update access_tokens set expires_at = now() - interval '1 minute' where id = ${tokenId}`);
    const before = await events();
    const again = await h.gql(compliance, REVOKE, { input: { id: c.accessTokenId, reason: 'again' } });
    expect(again.body.data.revokeAccessToken).toMatchObject({
      __typename: 'InvalidStateError',
      currentState: 'REVOKED',
    });
    const expired = await h.gql(compliance, REVOKE, { input: { id: d.accessTokenId, reason: 'late' } });
    expect(expired.body.data.revokeAccessToken).toMatchObject({
      __typename: 'InvalidStateError',
      currentState: 'EXPIRED',
    });

    // Neither is live: the list's activeOnly leaves both out, and each reads as what it is.
    for (const [owner, status] of [
      [c, 'REVOKED'],
      [d, 'EXPIRED'],
    ] as const) {
      const list = async (activeOnly: boolean) =>
        (
          await h.gql(
            compliance,
            'query($c: ID!, $a: Boolean) { accessTokens(first: 10, contractorId: $c, activeOnly: $a) { nodes { id status } } }',
            { c: owner.contractor.id, a: activeOnly },
          )
        ).body.data.accessTokens.nodes;
      expect(await list(true)).toEqual([]);
      expect(await list(false)).toEqual([{ id: owner.accessTokenId, status }]);
    }

    const unknown = await h.gql(compliance, REVOKE, {
      input: { id: Buffer.from('AccessToken:999999').toString('base64'), reason: 'x' },
    });
    expect(unknown.body.data.revokeAccessToken).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    const wrongType = await h.gql(compliance, REVOKE, { input: { id: c.contractor.id, reason: 'x' } });
    expect(wrongType.body.data.revokeAccessToken.__typename).toBe('ValidationError');
    expect(await events()).toBe(before);
  });

  test('auditors and contractors may neither revoke a token nor rotate the signing key', async () => {
    const auditor = await h.staffToken('AUDITOR');
    const jwks = await (await h.app.fetch('http://registry.test/.well-known/jwks.json')).text();
    const before = await events();
    for (const token of [auditor, a.token]) {
      forbidden(await h.gql(token, REVOKE, { input: { id: b.accessTokenId, reason: 'not mine to end' } }));
      forbidden(await h.gql(token, 'mutation { rotateSigningKey(input: { reason: "takeover" }) { __typename } }'));
    }
    expect(await events()).toBe(before);
    expect(await (await h.app.fetch('http://registry.test/.well-known/jwks.json')).text()).toBe(jwks);
    expect((await h.gql(b.token, '{ viewer { kind } }')).status).toBe(200);
  });
});

describe('IDs that name nothing', () => {
  const missing = Buffer.from('Contractor:999999').toString('base64');
  test('staff: node is null, nodes says NOT_FOUND — never an unexpected error', async () => {
    const one = await h.gql(compliance, `{ node(id: "${missing}") { id } }`);
    expect(one.body).toEqual({ data: { node: null } });
    const many = await h.gql(compliance, `{ nodes(ids: ["${missing}", "${a.contractor.id}"]) { id } }`);
    expect(many.body.errors[0].extensions.code).toBe('NOT_FOUND');
  });
  test('a contractor cannot tell a missing ID from one of another contractor', async () => {
    const shape = (r: { body: any }) => ({
      data: r.body.data,
      errors: r.body.errors?.map((e: any) => ({ message: e.message, code: e.extensions?.code })),
    });
    for (const field of ['node(id: $id) { id }', 'nodes(ids: [$id]) { id }']) {
      const query = `query($id: ID!) { ${field} }`;
      const foreign = shape(await h.gql(a.token, query, { id: b.contractor.id }));
      const absent = shape(await h.gql(a.token, query, { id: missing }));
      expect(foreign.errors?.[0]?.code).toBe('FORBIDDEN');
      expect(absent).toEqual(foreign);
    }
  });
});

test('a token without registry:read does not open the registry, also not through viewer or nodes', async () => {
  const narrow = await issueToken(h, compliance, {
    contractorId: a.contractor.id,
    categories: ['contact.email'],
    purposes: ['TECHNICAL_SUPPORT'],
    scopes: ['OBLIGATIONS_ACKNOWLEDGE'],
  });
  const token = narrow.token as string;
  const viewer = await h.gql(token, '{ viewer { kind scopes contractor { id legalName } } }');
  expect(viewer.body.errors[0].extensions.code).toBe('FORBIDDEN');
  expect(viewer.body.data.viewer).toMatchObject({ kind: 'CONTRACTOR', contractor: null });
  const own = await h.gql(token, `{ nodes(ids: ["${a.contractor.id}", "${a.grant.id}"]) { id } }`);
  expect(own.body.errors.map((e: any) => e.extensions.code)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
  expect(own.body.data.nodes).toEqual([null, null]);
  // Its obligations stay readable: it needs their text to acknowledge them.
  const obligation = await h.gql(token, `{ node(id: "${obligationA}") { ... on Obligation { id text } } }`);
  expect(obligation.body.errors).toBeUndefined();
  expect(obligation.body.data.node.id).toBe(obligationA);
});
