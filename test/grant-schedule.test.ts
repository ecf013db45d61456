// A grant is in effect from its validFrom until its validUntil, on every path, by one rule. With the app's clock
// moved forward: a grant starting tomorrow reads SCHEDULED and gives nothing today (status and filter, token issue,
// the records fetch, recordTransfer, records of processing and its CSV), and everything tomorrow; after its
// validUntil it reads EXPIRED and gives nothing again. The live-grant checks count a scheduled grant as live.
import { and, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { grants as grantsTable } from '../src/db/tables.js';
import { GRANT_STATUSES_AT } from '../src/db/enums.js';
import { grantStatusAt, grantStatusAtSql, grantStatusIs } from '../src/registry/grant-status.js';
import { createOffice, grant, mutate, ok, registerContractor, setStatus } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';
import { csv, parseCsv, recordTransfer } from './transfer-fixtures.js';

const DAY = 86_400_000;
let h: Harness;
let compliance: string;
let auditor: string;
let officeA: { id: string };
let officeB: { id: string };
let contractor: { id: string; version: number };
/** In effect now, until the day after tomorrow. */
let current: { id: string };
/** From tomorrow, office B, email and phone. */
let tomorrows: { id: string; status: string };
/** From tomorrow, for another purpose. */
let otherPurpose: { id: string };
let token: string;

const GRANT_IDS = '{ id status }';
const listed = async (status: string) => {
  const r = await h.gql(
    compliance,
    `query($s: GrantStatus) { grants(status: $s, first: 100) { nodes ${GRANT_IDS} } }`,
    { s: status },
  );
  expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
  return r.body.data.grants.nodes.map((g: { id: string }) => g.id) as string[];
};
const statusOf = async (id: string) => {
  const r = await h.gql(compliance, `query($id: ID!) { node(id: $id) { ... on Grant { status } } }`, { id });
  return r.body.data.node.status as string;
};
const issue = (input: { categories: string[]; purposes: string[] }) =>
  mutate(
    h,
    compliance,
    'issueAccessToken',
    'IssueAccessTokenInput',
    { contractorId: contractor.id, scopes: ['RECORDS_READ'], lifetimeSeconds: 3600, ...input },
    '... on IssueAccessTokenPayload { token }',
  );
const fetchRecords = async () => {
  const r = await h.gql(
    token,
    '{ sharedRecords(purpose: TECHNICAL_SUPPORT, first: 100) { nodes { subjectRef values { category } } } }',
  );
  expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
  return r.body.data.sharedRecords.nodes.map((n: { subjectRef: string }) => n.subjectRef).sort() as string[];
};
const activities = async () => {
  const r = await h.gql(
    auditor,
    '{ recordsOfProcessing { activities { purpose dataCategories recipients { legalName } } } }',
  );
  expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
  return r.body.data.recordsOfProcessing.activities as { purpose: string; dataCategories: string[] }[];
};
const csvLines = async () => {
  const file = await csv(h, auditor, '/export/records-of-processing.csv');
  expect(file.status).toBe(200);
  const [header, ...rows] = parseCsv(file.text);
  return rows.map((r) => `${r[0]} ${r[header!.indexOf('categories')]}`).sort();
};

beforeAll(async () => {
  h = await startHarness();
  compliance = await h.staffToken('COMPLIANCE');
  auditor = await h.staffToken('AUDITOR');
  officeA = await createOffice(h, compliance, { name: 'Munich', country: 'DE', city: 'Munich' });
  officeB = await createOffice(h, compliance, { name: 'Hamburg', country: 'DE', city: 'Hamburg' });
  contractor = await registerContractor(h, compliance, { legalName: 'Support FR', country: 'FR' });
  contractor = await setStatus(h, compliance, contractor.id, 'ACTIVE');
  const now = h.clock.now().getTime();
  current = await grant(h, compliance, {
    contractorId: contractor.id,
    officeId: officeA.id,
    validUntil: new Date(now + 2 * DAY).toISOString(),
  });
  tomorrows = await grant(h, compliance, {
    contractorId: contractor.id,
    officeId: officeB.id,
    categories: ['contact.email', 'contact.phone'],
    validFrom: new Date(now + DAY).toISOString(),
  });
  otherPurpose = await grant(h, compliance, {
    contractorId: contractor.id,
    officeId: officeA.id,
    purpose: 'ORDER_FULFILMENT',
    validFrom: new Date(now + DAY).toISOString(),
  });
  for (const [office, subjectRef, values] of [
    [officeA, 'a-1', { 'contact.email': 'a1@example.com' }],
    [officeB, 'b-1', { 'contact.email': 'b1@example.com', 'contact.phone': '+49 40 1234567' }],
  ] as const) {
    const res = await mutate(
      h,
      compliance,
      'importSharedRecords',
      'ImportSharedRecordsInput',
      { officeId: office.id, records: [{ subjectRef, values }] },
      '... on ImportSharedRecordsPayload { imported }',
    );
    expect(res).toMatchObject({ imported: 1 });
  }
  // Issued today under the grant in effect; it is the same token that reads more tomorrow.
  const issued = await issue({ categories: ['contact.email'], purposes: ['TECHNICAL_SUPPORT'] });
  expect(issued.token, JSON.stringify(issued)).toEqual(expect.any(String));
  token = issued.token;
});
afterAll(async () => {
  await h?.stop();
});

describe('today: the grant starting tomorrow gives nothing', () => {
  test('it reads SCHEDULED and is listed by status: SCHEDULED only', async () => {
    expect(tomorrows.status).toBe('SCHEDULED');
    expect(await statusOf(tomorrows.id)).toBe('SCHEDULED');
    expect(await statusOf(current.id)).toBe('ACTIVE');
    expect(await listed('SCHEDULED')).toEqual([tomorrows.id, otherPurpose.id]);
    expect(await listed('ACTIVE')).toEqual([current.id]);
    expect(await listed('EXPIRED')).toEqual([]);
  });

  test('no token for its purpose or its categories', async () => {
    const purpose = await issue({ categories: ['contact.email'], purposes: ['ORDER_FULFILMENT'] });
    expect(purpose).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(purpose.issues).toContainEqual({
      field: 'input.purposes.0',
      message: 'no active grant for purpose ORDER_FULFILMENT',
    });
    const phone = await issue({ categories: ['contact.phone'], purposes: ['TECHNICAL_SUPPORT'] });
    expect(phone).toMatchObject({ code: 'VALIDATION_FAILED', issues: [{ field: 'input.categories.0' }] });
  });

  test('the records fetch reads only the office whose grant is in effect', async () => {
    expect(await fetchRecords()).toEqual(['a-1']);
  });

  test('no transfer can be recorded under it', async () => {
    const r = await recordTransfer(h, compliance, { officeId: officeB.id, contractorId: contractor.id });
    expect(r).toMatchObject({
      __typename: 'PolicyViolationError',
      code: 'POLICY_VIOLATION',
      reason: expect.stringMatching(/^no ACTIVE grant/),
    });
  });

  test('records of processing (GraphQL and CSV) leave it out', async () => {
    expect((await activities()).map((a) => a.purpose)).toEqual(['TECHNICAL_SUPPORT']);
    expect(await csvLines()).toEqual(['TECHNICAL_SUPPORT contact.email']);
  });

  test('the live-grant check counts it: a move that breaks its route is refused, as of its validFrom', async () => {
    const other = await registerContractor(h, compliance, { legalName: 'Scheduled Only FR', country: 'FR' });
    await setStatus(h, compliance, other.id, 'ACTIVE');
    const only = await grant(h, compliance, {
      contractorId: other.id,
      officeId: officeA.id,
      validFrom: new Date(h.clock.now().getTime() + DAY).toISOString(),
    });
    const move = (version: number) =>
      mutate(
        h,
        compliance,
        'updateContractor',
        'UpdateContractorInput',
        { id: other.id, version, country: 'IN' },
        '... on UpdateContractorPayload { contractor { country version } }',
      );
    const refused = await move(2);
    expect(refused).toMatchObject({
      code: 'POLICY_VIOLATION',
      reason: expect.stringContaining(`active grant ${only.id}`),
    });
    // A scheduled grant can be revoked before it starts; then nothing holds the contractor back.
    const revoked = await ok(
      h,
      compliance,
      'revokeGrant',
      'RevokeGrantInput',
      { id: only.id, reason: 'plans changed' },
      'grant',
      'status',
    );
    expect(revoked.status).toBe('REVOKED');
    expect(await move(2)).toMatchObject({ contractor: { country: 'IN', version: 3 } });
  });
});

describe('tomorrow: it gives everything', () => {
  beforeAll(() => {
    h.clock.advance(DAY + 60_000);
  });

  test('it reads ACTIVE and is listed by status: ACTIVE', async () => {
    expect(await statusOf(tomorrows.id)).toBe('ACTIVE');
    expect(await listed('SCHEDULED')).toEqual([]);
    expect(await listed('ACTIVE')).toEqual([current.id, tomorrows.id, otherPurpose.id]);
  });

  test('the token issued yesterday now reads its office too', async () => {
    expect(await fetchRecords()).toEqual(['a-1', 'b-1']);
  });

  test('tokens for its purpose and categories are issued', async () => {
    expect(await issue({ categories: ['contact.email'], purposes: ['ORDER_FULFILMENT'] })).toMatchObject({
      token: expect.any(String),
    });
    expect(await issue({ categories: ['contact.phone'], purposes: ['TECHNICAL_SUPPORT'] })).toMatchObject({
      token: expect.any(String),
    });
  });

  test('a transfer is recorded under it', async () => {
    const r = await recordTransfer(h, compliance, {
      officeId: officeB.id,
      contractorId: contractor.id,
      categories: ['contact.phone'],
    });
    expect(r.__typename, JSON.stringify(r)).toBe('RecordTransferPayload');
    expect(r.transfer).toMatchObject({ kind: 'CONTRACTOR_SHARE', grant: { id: tomorrows.id } });
  });

  test('records of processing (GraphQL and CSV) list it', async () => {
    const a = await activities();
    expect(a.map((x) => x.purpose)).toEqual(['ORDER_FULFILMENT', 'TECHNICAL_SUPPORT']);
    expect(a.find((x) => x.purpose === 'TECHNICAL_SUPPORT')!.dataCategories).toEqual([
      'contact.email',
      'contact.phone',
    ]);
    expect(await csvLines()).toEqual([
      'ORDER_FULFILMENT contact.email',
      'TECHNICAL_SUPPORT contact.email',
      'TECHNICAL_SUPPORT contact.email;contact.phone',
    ]);
  });
});

describe('after its validUntil: the first grant gives nothing again', () => {
  beforeAll(() => {
    h.clock.advance(DAY);
  });

  test('it reads EXPIRED, is listed by status: EXPIRED, and its office is no longer read', async () => {
    expect(await statusOf(current.id)).toBe('EXPIRED');
    expect(await listed('EXPIRED')).toEqual([current.id]);
    expect(await listed('ACTIVE')).toEqual([tomorrows.id, otherPurpose.id]);
    expect(await fetchRecords()).toEqual(['b-1']);
    const r = await recordTransfer(h, compliance, { officeId: officeA.id, contractorId: contractor.id });
    expect(r).toMatchObject({ code: 'POLICY_VIOLATION' });
    const revoke = await mutate(
      h,
      compliance,
      'revokeGrant',
      'RevokeGrantInput',
      { id: current.id, reason: 'late' },
      '... on RevokeGrantPayload { grant { id } }',
    );
    expect(revoke).toMatchObject({ code: 'INVALID_STATE', message: expect.stringMatching(/this one is EXPIRED$/) });
  });
});

test('the SQL predicate and the TS function agree on every grant at every moment', async () => {
  const rows = await h.database.db.select().from(grantsTable);
  expect(new Set(rows.map((g) => grantStatusAt(g, h.clock.now())))).toEqual(new Set(['ACTIVE', 'EXPIRED', 'REVOKED']));
  const ids = rows.map((g) => g.id);
  const base = h.clock.now().getTime();
  const moments = [-4 * DAY, -3 * DAY, -2 * DAY - 30_000, -DAY, 0, DAY].map((d) => new Date(base + d));
  // The exact edges too: validFrom is in effect, validUntil is not.
  for (const g of rows) moments.push(g.validFrom, ...(g.validUntil ? [g.validUntil] : []));
  for (const at of moments) {
    for (const status of GRANT_STATUSES_AT) {
      const bySql = (
        await h.database.db
          .select({ id: grantsTable.id })
          .from(grantsTable)
          .where(and(inArray(grantsTable.id, ids), grantStatusIs(status, at)))
      )
        .map((r) => r.id)
        .sort();
      const byTs = rows
        .filter((g) => grantStatusAt(g, at) === status)
        .map((g) => g.id)
        .sort();
      expect(bySql, `${status} at ${at.toISOString()}`).toEqual(byTs);
    }
    // The status as a value (what a page answered from SQL shows) is the same function's answer too.
    const valued = await h.database.db
      .select({ id: grantsTable.id, status: grantStatusAtSql(at) })
      .from(grantsTable)
      .where(inArray(grantsTable.id, ids));
    for (const r of valued)
      expect(r.status, `${r.id} at ${at.toISOString()}`).toBe(
        grantStatusAt(
          rows.find((g) => g.id === r.id)!,
          at,
        ),
      );
  }
});
