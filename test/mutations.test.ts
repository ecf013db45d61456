// Failure paths of every mutation of the registry core, through the real app with real tokens and SQL.
// Each failure must be a typed error naming what is wrong, and must write nothing: the audit log keeps
// its length and every registry table reads back exactly as before.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  accessTokens,
  auditEvents,
  contractors,
  dataCategories,
  disclosureRequests,
  grantCategories,
  grants,
  obligations,
  offices,
  processingLocations,
  sharedRecords,
  signingKeys,
  subjectOptOuts,
  transfers,
} from '../src/db/tables.js';
import { currentOn, isCurrentOn } from '../src/registry/obligations.js';
import { createOffice, grant, mutate, ok, registerContractor, setStatus } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
let compliance: string;
let auditor: string;
let office: { id: string; country: string; version: number };
let active: { id: string };
beforeAll(async () => {
  h = await startHarness();
  compliance = await h.staffToken('COMPLIANCE', 'alice@example.com');
  auditor = await h.staffToken('AUDITOR', 'bob@example.com');
  office = await createOffice(h, compliance, { name: 'Munich office', city: 'Munich' });
  active = await registerContractor(h, compliance, { legalName: 'Active Support SARL', country: 'FR' });
  await setStatus(h, compliance, active.id, 'ACTIVE');
});
afterAll(async () => {
  await h?.stop();
});

const auditCount = () => h.database.db.$count(auditEvents);

/** Every row of every table a mutation of the registry core can write. */
async function dump() {
  const db = h.database.db;
  const all = await Promise.all(
    [
      offices,
      contractors,
      processingLocations,
      dataCategories,
      grants,
      grantCategories,
      obligations,
      accessTokens,
      auditEvents,
      sharedRecords,
      subjectOptOuts,
      transfers,
      signingKeys,
      disclosureRequests,
    ].map((t) => db.select().from(t)),
  );
  return all.map((rows) => rows.map((r) => JSON.stringify(r)).sort());
}

const ERROR_DETAILS =
  '... on ConflictError { currentVersion } ... on InvalidStateError { currentState } ... on NotFoundError { entity id }';

/** Runs a mutation that must fail with `code`, and proves that nothing was written. */
async function fail(field: string, inputType: string, input: Record<string, unknown>, code: string) {
  const [events, before] = [await auditCount(), await dump()];
  const res = await mutate(h, compliance, field, inputType, input, ERROR_DETAILS);
  expect(res.__typename, JSON.stringify(res)).not.toMatch(/Payload$/);
  expect(res.code, JSON.stringify(res)).toBe(code);
  expect(res.message).toMatch(/\S/);
  expect(await auditCount()).toBe(events);
  expect(await dump()).toEqual(before);
  return res;
}

/** A VALIDATION_FAILED whose issues name `field`. */
async function invalid(field: string, inputType: string, input: Record<string, unknown>, path: string) {
  const res = await fail(field, inputType, input, 'VALIDATION_FAILED');
  expect(res.__typename).toBe('ValidationError');
  expect(
    res.issues.map((i: { field: string }) => i.field),
    JSON.stringify(res.issues),
  ).toContain(path);
  return res;
}

const gid = (type: string, id: number | string) => encodeGlobalID(type, String(id));
const long = (n: number) => 'x'.repeat(n);

async function readContractor(id: string) {
  const r = await h.gql(
    compliance,
    `query($id: ID!) { contractor(id: $id) { legalName country status statusReason version role parent { id } dpaSignedOn } }`,
    { id },
  );
  expect(r.body.errors).toBeUndefined();
  return r.body.data.contractor;
}

async function readGrant(id: string) {
  const r = await h.gql(
    compliance,
    `query($id: ID!) { node(id: $id) { ... on Grant { status revocationReason revokedAt } } }`,
    { id },
  );
  expect(r.body.errors).toBeUndefined();
  return r.body.data.node;
}

describe('createOffice', () => {
  const input = { name: 'Lyon office', legalEntity: 'Example Software SAS', country: 'FR', city: 'Lyon' };
  test.each(['XX', 'de', 'DEU', '', 'D'])('country %j is refused', async (country) => {
    await invalid('createOffice', 'CreateOfficeInput', { ...input, country }, 'input.country');
  });
  test.each([
    ['name', ''],
    ['name', '   '],
    ['name', long(201)],
    ['legalEntity', ''],
    ['legalEntity', long(201)],
    ['city', ''],
    ['city', long(101)],
  ])('%s %j is refused', async (key, value) => {
    await invalid('createOffice', 'CreateOfficeInput', { ...input, [key]: value }, `input.${key}`);
  });
  test('strings at their bound are accepted (and trimmed)', async () => {
    const o = await ok(
      h,
      compliance,
      'createOffice',
      'CreateOfficeInput',
      { ...input, name: `  ${long(200)}  `, city: long(100) },
      'office',
      'name city',
    );
    expect(o).toEqual({ name: long(200), city: long(100) });
  });
  test('a second headquarters is a CONFLICT', async () => {
    await createOffice(h, compliance, { name: 'Headquarters', isHeadquarters: true });
    const res = await fail('createOffice', 'CreateOfficeInput', { ...input, isHeadquarters: true }, 'CONFLICT');
    expect(res.message).toMatch(/headquarters/);
  });
});

describe('updateOffice', () => {
  test('bad country, empty and over-long strings are refused and change nothing', async () => {
    for (const country of ['XX', 'de', 'DEU']) {
      await invalid(
        'updateOffice',
        'UpdateOfficeInput',
        { id: office.id, version: office.version, country },
        'input.country',
      );
    }
    await invalid(
      'updateOffice',
      'UpdateOfficeInput',
      { id: office.id, version: office.version, name: ' ' },
      'input.name',
    );
    await invalid(
      'updateOffice',
      'UpdateOfficeInput',
      { id: office.id, version: office.version, city: long(101) },
      'input.city',
    );
    await invalid('updateOffice', 'UpdateOfficeInput', { id: office.id, version: 0 }, 'input.version');
  });
  test('a Contractor ID is not an Office ID', async () => {
    await invalid('updateOffice', 'UpdateOfficeInput', { id: active.id, version: 1, name: 'x' }, 'input.id');
    await invalid('updateOffice', 'UpdateOfficeInput', { id: 'not-a-global-id', version: 1, name: 'x' }, 'input.id');
  });
  test('an unknown office is NOT_FOUND', async () => {
    const res = await fail(
      'updateOffice',
      'UpdateOfficeInput',
      { id: gid('Office', 999999), version: 1, name: 'x' },
      'NOT_FOUND',
    );
    expect(res).toMatchObject({ entity: 'Office' });
  });
  test('a stale version is a CONFLICT and changes nothing', async () => {
    const o = await createOffice(h, compliance, { name: 'Vienna office', country: 'AT', city: 'Vienna' });
    const updated = await ok(
      h,
      compliance,
      'updateOffice',
      'UpdateOfficeInput',
      { id: o.id, version: o.version, city: 'Graz' },
      'office',
      'city version',
    );
    expect(updated).toEqual({ city: 'Graz', version: 2 });
    const res = await fail('updateOffice', 'UpdateOfficeInput', { id: o.id, version: 1, city: 'Linz' }, 'CONFLICT');
    expect(res.currentVersion).toBe(2);
    const back = await h.gql(compliance, `query($id: ID!) { office(id: $id) { city version } }`, { id: o.id });
    expect(back.body.data.office).toEqual({ city: 'Graz', version: 2 });
  });
  test('making a second office the headquarters is a CONFLICT', async () => {
    const o = await createOffice(h, compliance, { name: 'Madrid office', country: 'ES', city: 'Madrid' });
    const [hq] = await h.database.db.select().from(offices).where(eq(offices.isHeadquarters, true));
    expect(hq).toBeDefined();
    await fail('updateOffice', 'UpdateOfficeInput', { id: o.id, version: o.version, isHeadquarters: true }, 'CONFLICT');
  });
});

describe('registerContractor', () => {
  const input = { legalName: 'Ship It Ltd', country: 'IN', services: ['DISTRIBUTION'], role: 'PROCESSOR' };
  test.each(['XX', 'de', 'DEU'])('country %j is refused', async (country) => {
    await invalid('registerContractor', 'RegisterContractorInput', { ...input, country }, 'input.country');
  });
  test.each([
    ['legalName', ''],
    ['legalName', long(201)],
    ['contactName', ''],
    ['contactName', long(201)],
    ['contractReference', ' '],
    ['contactEmail', 'not-an-email'],
    ['services', []],
    ['dpaSignedOn', '2099-01-01'],
  ])('%s %j is refused', async (key, value) => {
    await invalid('registerContractor', 'RegisterContractorInput', { ...input, [key]: value }, `input.${key}`);
  });
  test('a SUBPROCESSOR must name its parent; no one else may', async () => {
    await invalid(
      'registerContractor',
      'RegisterContractorInput',
      { ...input, role: 'SUBPROCESSOR' },
      'input.parentContractorId',
    );
    await invalid(
      'registerContractor',
      'RegisterContractorInput',
      { ...input, parentContractorId: active.id },
      'input.parentContractorId',
    );
  });
  test('the parent must be a contractor that exists and is not TERMINATED', async () => {
    await invalid(
      'registerContractor',
      'RegisterContractorInput',
      { ...input, role: 'SUBPROCESSOR', parentContractorId: office.id },
      'input.parentContractorId',
    );
    await fail(
      'registerContractor',
      'RegisterContractorInput',
      { ...input, role: 'SUBPROCESSOR', parentContractorId: gid('Contractor', 999999) },
      'NOT_FOUND',
    );
    const gone = await registerContractor(h, compliance, { legalName: 'Gone Ltd' });
    await setStatus(h, compliance, gone.id, 'TERMINATED');
    await fail(
      'registerContractor',
      'RegisterContractorInput',
      { ...input, role: 'SUBPROCESSOR', parentContractorId: gone.id },
      'INVALID_STATE',
    );
  });
});

describe('updateContractor', () => {
  test('validation failures name the field and change nothing', async () => {
    const c = await registerContractor(h, compliance, { legalName: 'Update Me Ltd' });
    for (const country of ['XX', 'de', 'DEU'])
      await invalid(
        'updateContractor',
        'UpdateContractorInput',
        { id: c.id, version: c.version, country },
        'input.country',
      );
    await invalid(
      'updateContractor',
      'UpdateContractorInput',
      { id: c.id, version: c.version, legalName: '' },
      'input.legalName',
    );
    await invalid(
      'updateContractor',
      'UpdateContractorInput',
      { id: c.id, version: c.version, legalName: long(201) },
      'input.legalName',
    );
    await invalid(
      'updateContractor',
      'UpdateContractorInput',
      { id: c.id, version: c.version, services: [] },
      'input.services',
    );
    await invalid(
      'updateContractor',
      'UpdateContractorInput',
      { id: c.id, version: c.version, role: 'SUBPROCESSOR' },
      'input.parentContractorId',
    );
    await invalid(
      'updateContractor',
      'UpdateContractorInput',
      { id: office.id, version: c.version, legalName: 'x' },
      'input.id',
    );
    expect(await readContractor(c.id)).toMatchObject({
      legalName: 'Update Me Ltd',
      country: 'IN',
      version: 1,
      role: 'PROCESSOR',
    });
  });
  test('an unknown contractor is NOT_FOUND', async () => {
    await fail(
      'updateContractor',
      'UpdateContractorInput',
      { id: gid('Contractor', 999999), version: 1, legalName: 'x' },
      'NOT_FOUND',
    );
  });
  test('a stale version is a CONFLICT and changes nothing', async () => {
    const c = await registerContractor(h, compliance, { legalName: 'Stale Ltd' });
    await ok(
      h,
      compliance,
      'updateContractor',
      'UpdateContractorInput',
      { id: c.id, version: 1, legalName: 'Fresh Ltd' },
      'contractor',
      'version',
    );
    const res = await fail(
      'updateContractor',
      'UpdateContractorInput',
      { id: c.id, version: 1, legalName: 'Lost Update Ltd', country: 'US' },
      'CONFLICT',
    );
    expect(res.currentVersion).toBe(2);
    expect(await readContractor(c.id)).toMatchObject({ legalName: 'Fresh Ltd', country: 'IN', version: 2 });
  });
  test('a TERMINATED contractor cannot be changed', async () => {
    const c = await registerContractor(h, compliance, { legalName: 'Closed Ltd' });
    const t = await setStatus(h, compliance, c.id, 'TERMINATED', 'contract ended');
    await fail(
      'updateContractor',
      'UpdateContractorInput',
      { id: c.id, version: t.version, legalName: 'Reopened Ltd' },
      'INVALID_STATE',
    );
  });
  test('a sub-processor cannot be its own parent', async () => {
    const sub = await registerContractor(h, compliance, {
      legalName: 'Sub Ltd',
      role: 'SUBPROCESSOR',
      parentContractorId: active.id,
    });
    await invalid(
      'updateContractor',
      'UpdateContractorInput',
      { id: sub.id, version: sub.version, parentContractorId: sub.id },
      'input.parentContractorId',
    );
  });
  test('parents cannot loop: A engages B, B engages C; neither B nor C may engage A', async () => {
    const a = await registerContractor(h, compliance, { legalName: 'Loop A Ltd' });
    const b = await registerContractor(h, compliance, {
      legalName: 'Loop B Ltd',
      role: 'SUBPROCESSOR',
      parentContractorId: a.id,
    });
    await registerContractor(h, compliance, {
      legalName: 'Loop C Ltd',
      role: 'SUBPROCESSOR',
      parentContractorId: b.id,
    });
    const c = (
      await h.gql(auditor, `{ contractors(first: 100) { nodes { id legalName } } }`)
    ).body.data.contractors.nodes.find((n: any) => n.legalName === 'Loop C Ltd');
    for (const parent of [b.id, c.id]) {
      await invalid(
        'updateContractor',
        'UpdateContractorInput',
        { id: a.id, version: a.version, role: 'SUBPROCESSOR', parentContractorId: parent },
        'input.parentContractorId',
      );
    }
  });
  test('a sub-processor keeps its parent when its role is restated', async () => {
    const sub = await registerContractor(h, compliance, {
      legalName: 'Restated Sub Ltd',
      role: 'SUBPROCESSOR',
      parentContractorId: active.id,
    });
    const after = await ok(
      h,
      compliance,
      'updateContractor',
      'UpdateContractorInput',
      { id: sub.id, version: sub.version, role: 'SUBPROCESSOR', legalName: 'Restated Sub GmbH' },
      'contractor',
      'legalName role parent { id }',
    );
    expect(after).toEqual({ legalName: 'Restated Sub GmbH', role: 'SUBPROCESSOR', parent: { id: active.id } });
  });
});

describe('changes that move the routes of live grants', () => {
  test("a contractor cannot move to a country its grants' mechanism does not cover", async () => {
    const c = await registerContractor(h, compliance, { legalName: 'Moving SAS', country: 'FR' });
    await setStatus(h, compliance, c.id, 'ACTIVE');
    const g = await grant(h, compliance, { contractorId: c.id, officeId: office.id });
    expect(g.mechanism).toBe('NOT_REQUIRED');
    const res = await fail(
      'updateContractor',
      'UpdateContractorInput',
      { id: c.id, version: 2, country: 'IN' },
      'POLICY_VIOLATION',
    );
    expect(res).toMatchObject({ exporterCountry: 'DE', importerCountry: 'IN' });
    expect(res.reason).toContain(g.id);
    expect(res.reason).toMatch(/NOT_REQUIRED.*leaves European Union .* mechanism is required/);
    expect(await readContractor(c.id)).toMatchObject({ country: 'FR', version: 2 });
    // Inside the same jurisdiction the grant stays valid; once it is revoked, anywhere goes.
    await ok(
      h,
      compliance,
      'updateContractor',
      'UpdateContractorInput',
      { id: c.id, version: 2, country: 'AT' },
      'contractor',
    );
    await ok(h, compliance, 'revokeGrant', 'RevokeGrantInput', { id: g.id, reason: 'moving to India' }, 'grant');
    await ok(
      h,
      compliance,
      'updateContractor',
      'UpdateContractorInput',
      { id: c.id, version: 3, country: 'IN' },
      'contractor',
    );
  });
  test('a US contractor cannot drop the certification its adequacy grant relies on', async () => {
    const c = await registerContractor(h, compliance, {
      legalName: 'Certified Inc',
      country: 'US',
      certifications: ['EU_US_DPF'],
    });
    const g = await grant(h, compliance, { contractorId: c.id, officeId: office.id });
    expect(g.mechanism).toBe('ADEQUACY');
    const res = await fail(
      'updateContractor',
      'UpdateContractorInput',
      { id: c.id, version: 1, certifications: [] },
      'POLICY_VIOLATION',
    );
    expect(res.reason).toMatch(/EU_US_DPF/);
  });
  test('a role change that needs another SCC module is refused', async () => {
    const c = await registerContractor(h, compliance, { legalName: 'Role Change Pvt Ltd', country: 'IN' });
    await grant(h, compliance, { contractorId: c.id, officeId: office.id, mechanism: 'SCC', sccModule: 2 });
    const res = await fail(
      'updateContractor',
      'UpdateContractorInput',
      { id: c.id, version: 1, role: 'INDEPENDENT_CONTROLLER' },
      'POLICY_VIOLATION',
    );
    expect(res.reason).toMatch(/module 1/);
  });
  test("an office cannot move to a country its grants' mechanism does not cover", async () => {
    // A US office (no transfer regime recorded for its country) shares with an Indian contractor: nothing needed.
    const o = await createOffice(h, compliance, { name: 'Austin office', country: 'US', city: 'Austin' });
    const india = await registerContractor(h, compliance, { legalName: 'Office Move Pvt Ltd', country: 'IN' });
    const g = await grant(h, compliance, { contractorId: india.id, officeId: o.id });
    expect(g.mechanism).toBe('NOT_REQUIRED');
    // Recorded as moving to Germany, the same grant would be a GDPR transfer without a mechanism.
    const res = await fail(
      'updateOffice',
      'UpdateOfficeInput',
      { id: o.id, version: o.version, country: 'DE', city: 'Berlin' },
      'POLICY_VIOLATION',
    );
    expect(res).toMatchObject({ exporterCountry: 'DE', importerCountry: 'IN' });
    expect(res.reason).toContain(g.id);
    const back = await h.gql(compliance, `query($id: ID!) { office(id: $id) { country city version } }`, { id: o.id });
    expect(back.body.data.office).toEqual({ country: 'US', city: 'Austin', version: 1 });
    await ok(
      h,
      compliance,
      'updateOffice',
      'UpdateOfficeInput',
      { id: o.id, version: o.version, country: 'CA', city: 'Toronto' },
      'office',
    );
  });
  test('an ACTIVE processor keeps its signed DPA', async () => {
    const c = await readContractor(active.id);
    const res = await fail(
      'updateContractor',
      'UpdateContractorInput',
      { id: active.id, version: c.version, dpaSignedOn: null },
      'INVALID_STATE',
    );
    expect(res.message).toMatch(/dpaSignedOn/);
    const ic = await registerContractor(h, compliance, {
      legalName: 'Own Purposes SA',
      country: 'FR',
      role: 'INDEPENDENT_CONTROLLER',
      dpaSignedOn: null,
    });
    const on = await setStatus(h, compliance, ic.id, 'ACTIVE');
    await fail(
      'updateContractor',
      'UpdateContractorInput',
      { id: ic.id, version: on.version, role: 'PROCESSOR' },
      'INVALID_STATE',
    );
  });
});

describe('setContractorStatus', () => {
  test('illegal moves are INVALID_STATE and change nothing', async () => {
    const c = await registerContractor(h, compliance, { legalName: 'Moves Ltd' });
    const res = await fail(
      'setContractorStatus',
      'SetContractorStatusInput',
      { id: c.id, status: 'SUSPENDED', reason: 'x' },
      'INVALID_STATE',
    );
    expect(res.currentState).toBe('ONBOARDING');
    await fail(
      'setContractorStatus',
      'SetContractorStatusInput',
      { id: c.id, status: 'ONBOARDING', reason: 'x' },
      'INVALID_STATE',
    );
    await setStatus(h, compliance, c.id, 'TERMINATED', 'never started');
    for (const status of ['ACTIVE', 'SUSPENDED', 'ONBOARDING', 'TERMINATED']) {
      const r = await fail(
        'setContractorStatus',
        'SetContractorStatusInput',
        { id: c.id, status, reason: 'try again' },
        'INVALID_STATE',
      );
      expect(r.currentState).toBe('TERMINATED');
    }
    expect(await readContractor(c.id)).toMatchObject({ status: 'TERMINATED', statusReason: 'never started' });
  });
  test('a processor without a signed DPA cannot be made ACTIVE', async () => {
    const c = await registerContractor(h, compliance, { legalName: 'No DPA Ltd', dpaSignedOn: null });
    const res = await fail(
      'setContractorStatus',
      'SetContractorStatusInput',
      { id: c.id, status: 'ACTIVE', reason: 'go' },
      'INVALID_STATE',
    );
    expect(res.message).toMatch(/dpaSignedOn/);
    expect(await readContractor(c.id)).toMatchObject({ status: 'ONBOARDING', version: 1 });
  });
  test('bad input and unknown IDs', async () => {
    await invalid(
      'setContractorStatus',
      'SetContractorStatusInput',
      { id: active.id, status: 'SUSPENDED', reason: '' },
      'input.reason',
    );
    await invalid(
      'setContractorStatus',
      'SetContractorStatusInput',
      { id: active.id, status: 'SUSPENDED', reason: long(1001) },
      'input.reason',
    );
    await invalid(
      'setContractorStatus',
      'SetContractorStatusInput',
      { id: office.id, status: 'SUSPENDED', reason: 'x' },
      'input.id',
    );
    await fail(
      'setContractorStatus',
      'SetContractorStatusInput',
      { id: gid('Contractor', 999999), status: 'SUSPENDED', reason: 'x' },
      'NOT_FOUND',
    );
  });
  test('terminating revokes its active grants, with the reason, and audits each', async () => {
    const c = await registerContractor(h, compliance, { legalName: 'Ending SAS', country: 'FR' });
    await setStatus(h, compliance, c.id, 'ACTIVE');
    const g1 = await grant(h, compliance, { contractorId: c.id, officeId: office.id });
    const g2 = await grant(h, compliance, {
      contractorId: c.id,
      officeId: office.id,
      purpose: 'ORDER_FULFILMENT',
      categories: ['contact.name'],
    });
    const g3 = await grant(h, compliance, { contractorId: c.id, officeId: office.id, purpose: 'PRODUCT_DISTRIBUTION' });
    await ok(h, compliance, 'revokeGrant', 'RevokeGrantInput', { id: g3.id, reason: 'no longer needed' }, 'grant');
    const other = await grant(h, compliance, { contractorId: active.id, officeId: office.id });
    const events = await auditCount();
    await setStatus(h, compliance, c.id, 'TERMINATED', 'contract ended');
    expect(await auditCount()).toBe(events + 3);
    for (const g of [g1, g2])
      expect(await readGrant(g.id)).toMatchObject({
        status: 'REVOKED',
        revocationReason: 'Contractor terminated: contract ended',
      });
    expect(await readGrant(g3.id)).toMatchObject({ status: 'REVOKED', revocationReason: 'no longer needed' });
    expect(await readGrant(other.id)).toMatchObject({ status: 'ACTIVE' });
    // And a TERMINATED contractor gets no new grant.
    await fail(
      'grantDataAccess',
      'GrantDataAccessInput',
      { contractorId: c.id, officeId: office.id, categories: ['contact.email'], purpose: 'TECHNICAL_SUPPORT' },
      'INVALID_STATE',
    );
  });
});

describe('processing locations', () => {
  test('addProcessingLocation failures', async () => {
    const base = { contractorId: active.id, country: 'FR', operations: ['STORAGE'] };
    for (const country of ['XX', 'de', 'DEU'])
      await invalid('addProcessingLocation', 'AddProcessingLocationInput', { ...base, country }, 'input.country');
    await invalid(
      'addProcessingLocation',
      'AddProcessingLocationInput',
      { ...base, operations: [] },
      'input.operations',
    );
    await invalid(
      'addProcessingLocation',
      'AddProcessingLocationInput',
      { ...base, contractorId: office.id },
      'input.contractorId',
    );
    await fail(
      'addProcessingLocation',
      'AddProcessingLocationInput',
      { ...base, contractorId: gid('Contractor', 999999) },
      'NOT_FOUND',
    );
    await ok(h, compliance, 'addProcessingLocation', 'AddProcessingLocationInput', base, 'processingLocation');
    const dup = await fail(
      'addProcessingLocation',
      'AddProcessingLocationInput',
      { ...base, operations: ['PROCESSING'] },
      'CONFLICT',
    );
    expect(dup.message).toMatch(/FR/);
    const gone = await registerContractor(h, compliance, { legalName: 'Terminated Storage Ltd' });
    await setStatus(h, compliance, gone.id, 'TERMINATED');
    await fail(
      'addProcessingLocation',
      'AddProcessingLocationInput',
      { ...base, contractorId: gone.id },
      'INVALID_STATE',
    );
  });
  test('removeProcessingLocation failures', async () => {
    await invalid('removeProcessingLocation', 'RemoveProcessingLocationInput', { id: 'abc' }, 'input.id');
    await invalid('removeProcessingLocation', 'RemoveProcessingLocationInput', { id: '0' }, 'input.id');
    await invalid('removeProcessingLocation', 'RemoveProcessingLocationInput', { id: '-3' }, 'input.id');
    for (const id of ['1e0', ' 1', '1.0', '0x1', '99999999999'])
      await invalid('removeProcessingLocation', 'RemoveProcessingLocationInput', { id }, 'input.id');
    await fail('removeProcessingLocation', 'RemoveProcessingLocationInput', { id: '999999' }, 'NOT_FOUND');
    const loc = await ok(
      h,
      compliance,
      'addProcessingLocation',
      'AddProcessingLocationInput',
      { contractorId: active.id, country: 'BE', operations: ['PROCESSING'] },
      'processingLocation',
    );
    await ok(
      h,
      compliance,
      'removeProcessingLocation',
      'RemoveProcessingLocationInput',
      { id: loc.id },
      'processingLocation',
    );
    await fail('removeProcessingLocation', 'RemoveProcessingLocationInput', { id: loc.id }, 'NOT_FOUND');
  });
  test("a TERMINATED contractor's locations are history: they cannot be removed", async () => {
    const c = await registerContractor(h, compliance, { legalName: 'Archived Locations Ltd' });
    const loc = await ok(
      h,
      compliance,
      'addProcessingLocation',
      'AddProcessingLocationInput',
      { contractorId: c.id, country: 'IN', operations: ['STORAGE'] },
      'processingLocation',
    );
    await setStatus(h, compliance, c.id, 'TERMINATED');
    await fail('removeProcessingLocation', 'RemoveProcessingLocationInput', { id: loc.id }, 'INVALID_STATE');
  });
});

describe('defineDataCategory', () => {
  const input = { key: 'contact.fax', name: 'Fax number', description: 'A fax number.', sensitivity: 'PERSONAL' };
  test('key format, unknown parent, strings', async () => {
    for (const key of ['Contact.Fax', 'contact..fax', '.fax', 'contact.fax-number', '', `contact.${long(100)}`]) {
      await invalid('defineDataCategory', 'DefineDataCategoryInput', { ...input, key }, 'input.key');
    }
    await invalid('defineDataCategory', 'DefineDataCategoryInput', { ...input, key: 'nosuch.thing' }, 'input.key');
    await invalid('defineDataCategory', 'DefineDataCategoryInput', { ...input, name: '' }, 'input.name');
    await invalid(
      'defineDataCategory',
      'DefineDataCategoryInput',
      { ...input, description: long(2001) },
      'input.description',
    );
  });
  test('a duplicate key is a CONFLICT', async () => {
    await fail('defineDataCategory', 'DefineDataCategoryInput', { ...input, key: 'contact.email' }, 'CONFLICT');
    await fail('defineDataCategory', 'DefineDataCategoryInput', { ...input, key: 'contact' }, 'CONFLICT');
  });
  test('a child is never less sensitive than its parent', async () => {
    const res = await invalid(
      'defineDataCategory',
      'DefineDataCategoryInput',
      { ...input, key: 'financial.iban', sensitivity: 'PERSONAL' },
      'input.sensitivity',
    );
    expect(res.issues[0].message).toMatch(/RESTRICTED/);
    const c = await ok(
      h,
      compliance,
      'defineDataCategory',
      'DefineDataCategoryInput',
      { ...input, key: 'financial.iban', sensitivity: 'RESTRICTED' },
      'dataCategory',
      'key parent { key }',
    );
    expect(c).toEqual({ key: 'financial.iban', parent: { key: 'financial' } });
  });
});

describe('grantDataAccess', () => {
  let india: { id: string };
  const base = () => ({
    contractorId: active.id,
    officeId: office.id,
    categories: ['contact.email'],
    purpose: 'TECHNICAL_SUPPORT',
  });
  beforeAll(async () => {
    india = await registerContractor(h, compliance, { legalName: 'Grant Target Pvt Ltd', country: 'IN' });
  });

  test('unknown category keys are named by their position', async () => {
    const res = await invalid(
      'grantDataAccess',
      'GrantDataAccessInput',
      { ...base(), categories: ['contact.email', 'contact.fax_machine', 'contact.name', 'nosuch'] },
      'input.categories.1',
    );
    expect(res.issues.map((i: { field: string }) => i.field)).toEqual(['input.categories.1', 'input.categories.3']);
    await invalid(
      'grantDataAccess',
      'GrantDataAccessInput',
      { ...base(), categories: ['Contact Email'] },
      'input.categories.0',
    );
    await invalid('grantDataAccess', 'GrantDataAccessInput', { ...base(), categories: [] }, 'input.categories');
    await invalid(
      'grantDataAccess',
      'GrantDataAccessInput',
      { ...base(), tiaReference: 'TIA-1', tiaDate: '2099-05-05' },
      'input.tiaDate',
    );
  });
  test('date order', async () => {
    const from = new Date(Date.now() + 86_400_000);
    await invalid(
      'grantDataAccess',
      'GrantDataAccessInput',
      { ...base(), validFrom: from.toISOString(), validUntil: new Date(from.getTime() - 1000).toISOString() },
      'input.validUntil',
    );
    await invalid(
      'grantDataAccess',
      'GrantDataAccessInput',
      { ...base(), validFrom: from.toISOString(), validUntil: from.toISOString() },
      'input.validUntil',
    );
    await invalid(
      'grantDataAccess',
      'GrantDataAccessInput',
      { ...base(), validUntil: '2020-01-01T00:00:00Z' },
      'input.validUntil',
    );
  });
  test('wrong-type and unknown IDs', async () => {
    await invalid(
      'grantDataAccess',
      'GrantDataAccessInput',
      { ...base(), contractorId: office.id },
      'input.contractorId',
    );
    await invalid('grantDataAccess', 'GrantDataAccessInput', { ...base(), officeId: active.id }, 'input.officeId');
    expect(
      await fail(
        'grantDataAccess',
        'GrantDataAccessInput',
        { ...base(), contractorId: gid('Contractor', 999999) },
        'NOT_FOUND',
      ),
    ).toMatchObject({ entity: 'Contractor' });
    expect(
      await fail(
        'grantDataAccess',
        'GrantDataAccessInput',
        { ...base(), officeId: gid('Office', 999999) },
        'NOT_FOUND',
      ),
    ).toMatchObject({ entity: 'Office' });
  });
  test('mechanism details and strings', async () => {
    await invalid('grantDataAccess', 'GrantDataAccessInput', { ...base(), sccModule: 2 }, 'input.sccModule');
    await invalid(
      'grantDataAccess',
      'GrantDataAccessInput',
      { ...base(), mechanism: 'SCC', sccModule: 5 },
      'input.sccModule',
    );
    await invalid('grantDataAccess', 'GrantDataAccessInput', { ...base(), tiaReference: '' }, 'input.tiaReference');
  });
  test('a route without a valid mechanism is a POLICY_VIOLATION and writes no grant', async () => {
    const res = await fail(
      'grantDataAccess',
      'GrantDataAccessInput',
      { ...base(), contractorId: india.id },
      'POLICY_VIOLATION',
    );
    expect(res).toMatchObject({ exporterCountry: 'DE', importerCountry: 'IN' });
    expect(res.reason).toMatch(/IN has no adequacy decision/);
    const derogation = await fail(
      'grantDataAccess',
      'GrantDataAccessInput',
      { ...base(), contractorId: india.id, mechanism: 'EXPLICIT_CONSENT' },
      'POLICY_VIOLATION',
    );
    expect(derogation.reason).toMatch(/standing grant/);
  });
  test('a SUSPENDED contractor gets no new grant', async () => {
    const c = await registerContractor(h, compliance, { legalName: 'Paused SAS', country: 'FR' });
    await setStatus(h, compliance, c.id, 'ACTIVE');
    await setStatus(h, compliance, c.id, 'SUSPENDED', 'audit finding');
    expect(
      await fail('grantDataAccess', 'GrantDataAccessInput', { ...base(), contractorId: c.id }, 'INVALID_STATE'),
    ).toMatchObject({ currentState: 'SUSPENDED' });
  });
});

describe('revokeGrant', () => {
  test('revoking twice, bad reason, wrong and unknown IDs', async () => {
    const g = await grant(h, compliance, {
      contractorId: active.id,
      officeId: office.id,
      purpose: 'PRODUCT_IMPROVEMENT',
    });
    await invalid('revokeGrant', 'RevokeGrantInput', { id: g.id, reason: '' }, 'input.reason');
    await invalid('revokeGrant', 'RevokeGrantInput', { id: g.id, reason: long(1001) }, 'input.reason');
    await invalid('revokeGrant', 'RevokeGrantInput', { id: active.id, reason: 'x' }, 'input.id');
    await fail('revokeGrant', 'RevokeGrantInput', { id: gid('Grant', 999999), reason: 'x' }, 'NOT_FOUND');
    expect(await readGrant(g.id)).toMatchObject({ status: 'ACTIVE', revokedAt: null });
    await ok(h, compliance, 'revokeGrant', 'RevokeGrantInput', { id: g.id, reason: 'first' }, 'grant');
    const again = await fail('revokeGrant', 'RevokeGrantInput', { id: g.id, reason: 'second' }, 'INVALID_STATE');
    expect(again.currentState).toBe('REVOKED');
    expect(await readGrant(g.id)).toMatchObject({ status: 'REVOKED', revocationReason: 'first' });
  });
});

describe('addObligation', () => {
  const base = () => ({
    contractorId: active.id,
    kind: 'CONFIDENTIALITY',
    text: 'Keep it confidential.',
    sourceDocument: 'DPA v1',
    effectiveFrom: '2026-01-01',
  });
  test('BREACH_NOTIFICATION needs hours, and only it has them', async () => {
    await invalid(
      'addObligation',
      'AddObligationInput',
      { ...base(), kind: 'BREACH_NOTIFICATION' },
      'input.breachNotificationHours',
    );
    await invalid(
      'addObligation',
      'AddObligationInput',
      { ...base(), breachNotificationHours: 48 },
      'input.breachNotificationHours',
    );
    await invalid(
      'addObligation',
      'AddObligationInput',
      { ...base(), kind: 'BREACH_NOTIFICATION', breachNotificationHours: 0 },
      'input.breachNotificationHours',
    );
    await invalid(
      'addObligation',
      'AddObligationInput',
      { ...base(), kind: 'BREACH_NOTIFICATION', breachNotificationHours: 721 },
      'input.breachNotificationHours',
    );
  });
  test('date order', async () => {
    await invalid('addObligation', 'AddObligationInput', { ...base(), expiresOn: '2025-12-31' }, 'input.expiresOn');
    await invalid('addObligation', 'AddObligationInput', { ...base(), expiresOn: '2026-01-01' }, 'input.expiresOn');
    await invalid('addObligation', 'AddObligationInput', { ...base(), reviewDueOn: '2025-06-30' }, 'input.reviewDueOn');
  });
  test('strings', async () => {
    await invalid('addObligation', 'AddObligationInput', { ...base(), text: '  ' }, 'input.text');
    await invalid('addObligation', 'AddObligationInput', { ...base(), text: long(5001) }, 'input.text');
    await invalid(
      'addObligation',
      'AddObligationInput',
      { ...base(), sourceDocument: long(301) },
      'input.sourceDocument',
    );
    await invalid('addObligation', 'AddObligationInput', { ...base(), clause: '' }, 'input.clause');
  });
  test('wrong-type, unknown and TERMINATED contractors', async () => {
    await invalid('addObligation', 'AddObligationInput', { ...base(), contractorId: office.id }, 'input.contractorId');
    await fail(
      'addObligation',
      'AddObligationInput',
      { ...base(), contractorId: gid('Contractor', 999999) },
      'NOT_FOUND',
    );
    const c = await registerContractor(h, compliance, { legalName: 'Finished Ltd' });
    await setStatus(h, compliance, c.id, 'TERMINATED');
    await fail('addObligation', 'AddObligationInput', { ...base(), contractorId: c.id }, 'INVALID_STATE');
  });
});

describe('an auditor changes nothing', () => {
  const cases: [string, string, () => Record<string, unknown>][] = [
    [
      'createOffice',
      'CreateOfficeInput',
      () => ({ name: 'Audit office', legalEntity: 'X', country: 'DE', city: 'Bonn' }),
    ],
    [
      'updateOffice',
      'UpdateOfficeInput',
      () => ({ id: office.id, version: office.version, name: 'Renamed by auditor' }),
    ],
    [
      'registerContractor',
      'RegisterContractorInput',
      () => ({ legalName: 'Audit Co', country: 'FR', services: ['OTHER'], role: 'PROCESSOR' }),
    ],
    [
      'updateContractor',
      'UpdateContractorInput',
      () => ({ id: active.id, version: 2, legalName: 'Renamed by auditor' }),
    ],
    [
      'setContractorStatus',
      'SetContractorStatusInput',
      () => ({ id: active.id, status: 'SUSPENDED', reason: 'auditor' }),
    ],
    [
      'addProcessingLocation',
      'AddProcessingLocationInput',
      () => ({ contractorId: active.id, country: 'NL', operations: ['STORAGE'] }),
    ],
    ['removeProcessingLocation', 'RemoveProcessingLocationInput', () => ({ id: '1' })],
    [
      'defineDataCategory',
      'DefineDataCategoryInput',
      () => ({ key: 'contact.pager', name: 'Pager', description: 'A pager number.', sensitivity: 'PERSONAL' }),
    ],
    [
      'grantDataAccess',
      'GrantDataAccessInput',
      () => ({
        contractorId: active.id,
        officeId: office.id,
        categories: ['contact.email'],
        purpose: 'SPECIAL_OFFERS',
      }),
    ],
    ['revokeGrant', 'RevokeGrantInput', () => ({ id: gid('Grant', 1), reason: 'auditor' })],
    [
      'addObligation',
      'AddObligationInput',
      () => ({
        contractorId: active.id,
        kind: 'CONFIDENTIALITY',
        text: 'x',
        sourceDocument: 'y',
        effectiveFrom: '2026-01-01',
      }),
    ],
    [
      'importSharedRecords',
      'ImportSharedRecordsInput',
      () => ({
        officeId: office.id,
        records: [{ subjectRef: 'audited-1', values: { 'contact.email': 'a@example.org' } }],
      }),
    ],
    ['recordOptOut', 'RecordOptOutInput', () => ({ subjectRef: 'audited-1', purpose: 'ALERTS_AND_NEWSLETTERS' })],
    [
      'recordTransfer',
      'RecordTransferInput',
      () => ({
        officeId: office.id,
        contractorId: active.id,
        categories: ['contact.email'],
        purpose: 'TECHNICAL_SUPPORT',
        recordCount: 1,
      }),
    ],
    [
      'issueAccessToken',
      'IssueAccessTokenInput',
      () => ({
        contractorId: active.id,
        scopes: ['REGISTRY_READ'],
        categories: ['contact.email'],
        purposes: ['TECHNICAL_SUPPORT'],
        lifetimeSeconds: 60,
      }),
    ],
    ['rotateSigningKey', 'RotateSigningKeyInput', () => ({ reason: 'auditor' })],
  ];
  test.each(cases)('%s: FORBIDDEN, data null, nothing written', async (field, inputType, input) => {
    const before = await dump();
    const r = await h.gql(auditor, `mutation($input: ${inputType}!) { ${field}(input: $input) { __typename } }`, {
      input: input(),
    });
    expect(r.status).toBe(200);
    expect(r.body.data).toBeNull();
    expect(r.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(await dump()).toEqual(before);
  });
});

describe('reads', () => {
  test('dataCategories: every seeded root with its children', async () => {
    const r = await h.gql(
      auditor,
      '{ dataCategories { key sensitivity parent { key } children { key sensitivity parent { key } } } }',
    );
    expect(r.body.errors).toBeUndefined();
    const roots = r.body.data.dataCategories;
    expect(roots.map((c: { key: string }) => c.key)).toEqual([
      'commerce',
      'community',
      'contact',
      'device',
      'financial',
      'marketing',
      'support',
      'usage',
    ]);
    for (const root of roots) {
      expect(root.parent).toBeNull();
      expect(root.children.length, root.key).toBeGreaterThan(0);
      for (const child of root.children) {
        expect(child.key.startsWith(`${root.key}.`)).toBe(true);
        expect(child.parent).toEqual({ key: root.key });
      }
    }
    const contact = roots.find((c: { key: string }) => c.key === 'contact');
    expect(contact.children.map((c: { key: string }) => c.key)).toEqual([
      'contact.correspondence',
      'contact.email',
      'contact.name',
      'contact.phone',
      'contact.postal_address',
    ]);
    const one = await h.gql(auditor, '{ dataCategories(parentKey: "financial") { key } }');
    expect(one.body.data.dataCategories.map((c: { key: string }) => c.key)).toContain('financial.payment_card');
  });

  test('contractors filters: country, status, service', async () => {
    await registerContractor(h, compliance, {
      legalName: 'Filter A',
      country: 'BR',
      services: ['HOSTING', 'DISTRIBUTION'],
    });
    const b = await registerContractor(h, compliance, {
      legalName: 'Filter B',
      country: 'BR',
      services: ['MARKETING_EMAIL'],
    });
    await setStatus(h, compliance, b.id, 'ACTIVE');
    const names = async (args: string) => {
      const r = await h.gql(auditor, `{ contractors(${args}, first: 100) { nodes { legalName } } }`);
      expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
      return r.body.data.contractors.nodes.map((n: { legalName: string }) => n.legalName);
    };
    expect(await names('country: "BR"')).toEqual(['Filter A', 'Filter B']);
    expect(await names('country: "br"')).toEqual(['Filter A', 'Filter B']);
    expect(await names('country: "BR", status: ACTIVE')).toEqual(['Filter B']);
    expect(await names('country: "BR", service: HOSTING')).toEqual(['Filter A']);
    expect(await names('country: "BR", service: DISTRIBUTION, status: ONBOARDING')).toEqual(['Filter A']);
    expect(await names('country: "BR", service: PAYMENT_PROCESSING')).toEqual([]);
    await setStatus(h, compliance, b.id, 'TERMINATED', 'contract ended');
    const terminated = await h.gql(
      auditor,
      '{ contractors(status: TERMINATED, first: 100) { nodes { legalName status } } }',
    );
    const nodes = terminated.body.data.contractors.nodes as { legalName: string; status: string }[];
    expect(nodes.map((n) => n.legalName)).toContain('Filter B');
    expect(nodes.map((n) => n.legalName)).not.toContain('Filter A');
    expect(new Set(nodes.map((n) => n.status))).toEqual(new Set(['TERMINATED']));
  });

  test('contractors(name:): every word begins a word of the legal name, case-insensitive, with the other filters', async () => {
    await registerContractor(h, compliance, { legalName: 'Nordlicht Softworks GmbH', country: 'CL' });
    await registerContractor(h, compliance, { legalName: 'Softworks Nordic AB', country: 'CL' });
    await registerContractor(h, compliance, { legalName: 'Cloudsoft S.A.', country: 'CL' });
    const names = async (args: string) => {
      const r = await h.gql(auditor, `{ contractors(${args}, first: 100) { nodes { legalName } } }`);
      expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
      return r.body.data.contractors.nodes.map((n: { legalName: string }) => n.legalName);
    };
    expect(await names('name: "soft", country: "CL"')).toEqual(['Nordlicht Softworks GmbH', 'Softworks Nordic AB']);
    expect(await names('name: "NORD soft", country: "CL"')).toEqual([
      'Nordlicht Softworks GmbH',
      'Softworks Nordic AB',
    ]);
    expect(await names('name: "nordi softw"')).toEqual(['Softworks Nordic AB']);
    expect(await names('name: "cloudsoft s.a."')).toEqual(['Cloudsoft S.A.']);
    // Punctuation and operators of the search syntax are no words: they match nothing extra, and break nothing.
    expect(await names('name: "soft & !nord | (x:*"')).toEqual([]);
    expect(await names('name: "works"')).toEqual([]);
    for (const [name, message] of [
      ['  ', 'name: must hold a letter or a digit'],
      ['x'.repeat(201), 'name: at most 200 characters'],
    ]) {
      const r = await h.gql(auditor, `query($name: String) { contractors(name: $name, first: 5) { nodes { id } } }`, {
        name,
      });
      expect(r.body.errors?.[0]?.message).toBe(`Invalid input: ${message}`);
    }
  });

  test('obligations(dueWithinDays:) lists those expiring or due for review within N days', async () => {
    const c = await registerContractor(h, compliance, { legalName: 'Obligated Ltd', country: 'FR' });
    const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
    const add = (text: string, extra: Record<string, unknown>) =>
      ok(
        h,
        compliance,
        'addObligation',
        'AddObligationInput',
        {
          contractorId: c.id,
          kind: 'SECURITY_MEASURES',
          text,
          sourceDocument: 'DPA v2',
          effectiveFrom: day(-30),
          ...extra,
        },
        'obligation',
        'id',
      );
    await add('expires soon', { expiresOn: day(10) });
    await add('review soon', { reviewDueOn: day(20) });
    await add('far away', { expiresOn: day(200), reviewDueOn: day(100) });
    await add('open-ended', {});
    const texts = async (n: number) => {
      const r = await h.gql(
        auditor,
        `query($c: ID!, $n: Int!) { obligations(contractorId: $c, dueWithinDays: $n) { nodes { text } } }`,
        { c: c.id, n },
      );
      expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
      return r.body.data.obligations.nodes.map((o: { text: string }) => o.text);
    };
    expect(await texts(5)).toEqual([]);
    expect(await texts(15)).toEqual(['expires soon']);
    expect(await texts(30)).toEqual(['expires soon', 'review soon']);
    expect(await texts(365)).toEqual(['expires soon', 'review soon', 'far away']);
    const all = await h.gql(auditor, `query($c: ID!) { obligations(contractorId: $c) { nodes { text } } }`, {
      c: c.id,
    });
    expect(all.body.data.obligations.nodes).toHaveLength(4);
    const bad = await h.gql(auditor, '{ obligations(dueWithinDays: -1) { nodes { id } } }');
    expect(bad.body.errors[0].extensions.code).toBe('VALIDATION_FAILED');
    const tooFar = await h.gql(auditor, '{ obligations(dueWithinDays: 3651) { nodes { id } } }');
    expect(tooFar.body.data ?? null).toBeNull();
    expect(tooFar.body.errors[0].extensions.code).toBe('VALIDATION_FAILED');
    expect(tooFar.body.errors[0].message).toMatch(/dueWithinDays: must be between 0 and 3650/);
  });

  test("obligations as the registry's clock reads: isCurrent and dueWithinDays move with it", async () => {
    const c = await registerContractor(h, compliance, { legalName: 'Clocked Ltd', country: 'FR' });
    const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
    const add = (text: string, extra: Record<string, unknown>) =>
      ok(
        h,
        compliance,
        'addObligation',
        'AddObligationInput',
        { contractorId: c.id, kind: 'CONFIDENTIALITY', text, sourceDocument: 'DPA v3', ...extra },
        'obligation',
        'id isCurrent',
      );
    const starts = await add('starts tomorrow', { effectiveFrom: day(1), expiresOn: day(20) });
    const ends = await add('ends tomorrow', { effectiveFrom: day(-30), expiresOn: day(1) });
    const read = async () => {
      const r = await h.gql(
        auditor,
        `query($c: ID!, $s: ID!, $e: ID!) { s: node(id: $s) { ... on Obligation { isCurrent } } e: node(id: $e) { ... on Obligation { isCurrent } }
        obligations(contractorId: $c, dueWithinDays: 18) { nodes { text } } }`,
        { c: c.id, s: starts.id, e: ends.id },
      );
      expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
      return {
        starts: r.body.data.s.isCurrent,
        ends: r.body.data.e.isCurrent,
        due: r.body.data.obligations.nodes.map((o: { text: string }) => o.text),
      };
    };
    expect([starts.isCurrent, ends.isCurrent]).toEqual([false, true]);
    expect(await read()).toEqual({ starts: false, ends: true, due: ['ends tomorrow'] });
    h.clock.advance(2 * 86_400_000);
    try {
      expect(await read()).toEqual({ starts: true, ends: false, due: ['starts tomorrow', 'ends tomorrow'] });
    } finally {
      h.clock.reset();
    }
  });

  test('"current on a day": the SQL predicate and the function agree on every obligation, edges included', async () => {
    const rows = await h.database.db.select().from(obligations);
    expect(rows.length).toBeGreaterThan(3);
    const days = [
      ...new Set(
        rows.flatMap((o) =>
          [o.effectiveFrom, o.expiresOn]
            .filter((d): d is string => d !== null)
            .flatMap((d) =>
              [-1, 0, 1].map((n) => new Date(Date.parse(`${d}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10)),
            ),
        ),
      ),
    ];
    let current = 0;
    for (const d of days) {
      const bySql = (await h.database.db.select({ id: obligations.id }).from(obligations).where(currentOn(d)))
        .map((o) => o.id)
        .sort((x, y) => x - y);
      const byFunction = rows
        .filter((o) => isCurrentOn(o, d))
        .map((o) => o.id)
        .sort((x, y) => x - y);
      expect(bySql, d).toEqual(byFunction);
      current += byFunction.length;
    }
    expect(current).toBeGreaterThan(0);
    expect(current).toBeLessThan(days.length * rows.length);
  });

  test('grants(status: EXPIRED): a grant past its validUntil reads as EXPIRED and cannot be revoked', async () => {
    const c = await registerContractor(h, compliance, { legalName: 'Expiring SAS', country: 'FR' });
    const live = await grant(h, compliance, {
      contractorId: c.id,
      officeId: office.id,
      validUntil: new Date(Date.now() + 86_400_000).toISOString(),
    });
    const old = await grant(h, compliance, {
      contractorId: c.id,
      officeId: office.id,
      purpose: 'ORDER_FULFILMENT',
      validUntil: new Date(Date.now() + 86_400_000).toISOString(),
    });
    // Time passes for one of them.
    const [, oldId] = Buffer.from(old.id, 'base64').toString().split(':');
    await h.database.db
      .update(grants)
      .set({ validFrom: sql`now() - interval '2 days'`, validUntil: sql`now() - interval '1 hour'` })
      .where(eq(grants.id, Number(oldId)));
    const ids = async (status: string) => {
      const r = await h.gql(
        auditor,
        `query($c: ID!) { grants(contractorId: $c, status: ${status}) { nodes { id status } } }`,
        { c: c.id },
      );
      expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
      return r.body.data.grants.nodes;
    };
    expect(await ids('EXPIRED')).toEqual([{ id: old.id, status: 'EXPIRED' }]);
    expect(await ids('ACTIVE')).toEqual([{ id: live.id, status: 'ACTIVE' }]);
    expect(await ids('REVOKED')).toEqual([]);
    const res = await fail('revokeGrant', 'RevokeGrantInput', { id: old.id, reason: 'too late' }, 'INVALID_STATE');
    expect(res.currentState).toBe('EXPIRED');
  });

  describe('page size and pagination', () => {
    let all: number[];
    beforeAll(async () => {
      await h.database.db.insert(contractors).values(
        Array.from({ length: 120 }, (_, i) => ({
          legalName: `Bulk ${String(i).padStart(3, '0')}`,
          country: 'CA',
          services: ['OTHER' as const],
          role: 'PROCESSOR' as const,
        })),
      );
      all = (await h.database.db.select({ id: contractors.id }).from(contractors).orderBy(contractors.id)).map(
        (r) => r.id,
      );
      expect(all.length).toBeGreaterThan(120);
    });

    test('more than 100 per page is refused outright (VALIDATION_FAILED naming first), never silently clamped', async () => {
      for (const first of [101, 500]) {
        const r = await h.gql(auditor, `{ contractors(first: ${first}) { nodes { id } } }`);
        expect(r.body.data?.contractors ?? null).toBeNull();
        expect(r.body.errors).toHaveLength(1);
        expect(r.body.errors[0].extensions).toMatchObject({ code: 'VALIDATION_FAILED', field: 'first', max: 100 });
        expect(r.body.errors[0].message).toMatch(/at most 100/);
      }
      // Nested connections have the same bound.
      const nested = await h.gql(
        auditor,
        `{ contractors(first: 1) { nodes { grants(first: 101) { nodes { id } } } } }`,
      );
      expect(nested.body.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
      const exact = await h.gql(auditor, '{ contractors(first: 100) { nodes { id } } }');
      expect(exact.body.errors).toBeUndefined();
      expect(exact.body.data.contractors.nodes).toHaveLength(100);
      const dflt = await h.gql(auditor, '{ contractors { nodes { id } } }');
      expect(dflt.body.data.contractors.nodes).toHaveLength(20);
    });

    test('after walks every row exactly once, in order', async () => {
      const seen: number[] = [];
      let after: string | null = null;
      for (let page = 0; page < 100; page++) {
        const r: Awaited<ReturnType<Harness['gql']>> = await h.gql(
          auditor,
          'query($after: String) { contractors(first: 17, after: $after) { pageInfo { hasNextPage endCursor } edges { cursor node { id } } } }',
          { after },
        );
        expect(r.body.errors).toBeUndefined();
        const conn = r.body.data.contractors;
        for (const e of conn.edges) seen.push(Number(Buffer.from(e.node.id, 'base64').toString().split(':')[1]));
        if (conn.edges.length) expect(conn.pageInfo.endCursor).toBe(conn.edges.at(-1).cursor);
        if (!conn.pageInfo.hasNextPage) break;
        after = conn.pageInfo.endCursor;
      }
      expect(seen).toEqual(all);
    });
  });
});

describe('values the database cannot hold are a VALIDATION_FAILED, never an unexpected error', () => {
  const big = (type: string) => Buffer.from(`${type}:99999999999`).toString('base64');
  test.each([
    ['an ID beyond integer range', () => `{ contractor(id: "${big('Contractor')}") { id } }`],
    [
      'an ID beyond integer range in a filter',
      () => `{ grants(first: 1, contractorId: "${big('Contractor')}") { nodes { id } } }`,
    ],
    ['year 0 in a filter', () => '{ transfers(first: 1, from: "0000-01-01T00:00:00Z") { nodes { id } } }'],
    ['a NUL character in a filter', () => '{ auditLog(first: 1, actor: "a\\u0000b") { nodes { id } } }'],
    [
      'a forged cursor',
      () =>
        `{ contractors(first: 1, after: "${Buffer.from('DC:N:99999999999').toString('base64')}") { nodes { id } } }`,
    ],
  ])('%s', async (_name, query) => {
    const r = await h.gql(auditor, query());
    expect(r.body.errors?.[0]?.extensions?.code, JSON.stringify(r.body)).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(r.body)).not.toMatch(/invalid byte|integer|postgres|select |drizzle|99999999999/i);
  });

  test('writes: an out-of-range ID, year 0, a NUL character — refused, nothing written', async () => {
    const before = await dump();
    const cases = [
      `mutation { setContractorStatus(input: { id: "${big('Contractor')}", status: SUSPENDED, reason: "x" }) { __typename } }`,
      'mutation { createOffice(input: { name: "Nul\\u0000office", legalEntity: "E", country: "DE", city: "Bonn" }) { __typename } }',
      `mutation { addObligation(input: { contractorId: "${active.id}", kind: CONFIDENTIALITY, text: "x", sourceDocument: "y", effectiveFrom: "0000-01-01" }) { __typename } }`,
    ];
    for (const m of cases) {
      const r = await h.gql(compliance, m);
      const payload = r.body.data ? (Object.values(r.body.data)[0] as { __typename?: string } | null) : null;
      const code = r.body.errors?.[0]?.extensions?.code ?? payload?.__typename;
      expect(
        ['VALIDATION_FAILED', 'ValidationError', 'NOT_FOUND', 'NotFoundError'],
        `${m}: ${JSON.stringify(r.body)}`,
      ).toContain(code);
    }
    expect(await dump()).toEqual(before);
  });
});

describe('a bad Date or DateTime names its field', () => {
  const messagesOf = (r: { body: any }) =>
    (r.body.errors ?? []).map((e: any) => ({
      message: e.message,
      code: e.extensions?.code,
      field: e.extensions?.field,
    }));

  test('written in the document: VALIDATION_FAILED with the path, nothing written', async () => {
    const before = await dump();
    const add = (
      effectiveFrom: string,
    ) => `mutation { addObligation(input: { contractorId: "${active.id}", kind: CONFIDENTIALITY, text: "Keep it.",
      sourceDocument: "DPA", effectiveFrom: ${effectiveFrom} }) { __typename } }`;
    const cases: [string, string, string][] = [
      [add('"2026-13-01"'), 'input.effectiveFrom', '"2026-13-01" is no calendar date (YYYY-MM-DD)'],
      [add('"1 March 2026"'), 'input.effectiveFrom', 'must be a calendar date YYYY-MM-DD, not "1 March 2026"'],
      [add('20260301'), 'input.effectiveFrom', 'must be a calendar date YYYY-MM-DD in quotes, not 20260301'],
      [
        '{ transfers(from: "yesterday") { nodes { id } } }',
        'from',
        'must be an ISO 8601 date-time such as 2026-01-31T12:00:00Z, not "yesterday"',
      ],
      [
        '{ auditLog(to: "2026-02-30T00:00:00Z") { nodes { id } } }',
        'to',
        '"2026-02-30T00:00:00Z" is no valid instant (an ISO 8601 date-time such as 2026-01-31T12:00:00Z)',
      ],
      [
        'query($since: DateTime = "soon") { transfers(from: $since) { nodes { id } } }',
        '$since',
        'must be an ISO 8601 date-time such as 2026-01-31T12:00:00Z, not "soon"',
      ],
    ];
    for (const [query, field, message] of cases) {
      // Twice: the second answer comes through the validation cache and must say the same.
      for (let i = 0; i < 2; i++) {
        const r = await h.gql(compliance, query);
        expect(r.body.data ?? undefined, query).toBeUndefined();
        expect(messagesOf(r), query).toEqual([
          { message: `Invalid input: ${field}: ${message}`, code: 'VALIDATION_FAILED', field },
        ]);
      }
    }
    expect(await dump()).toEqual(before);
  });

  test('in variables: graphql-js names the variable and the path inside it', async () => {
    const r = await h.gql(
      compliance,
      'mutation($input: AddObligationInput!) { addObligation(input: $input) { __typename } }',
      {
        input: {
          contractorId: active.id,
          kind: 'CONFIDENTIALITY',
          text: 'Keep it.',
          sourceDocument: 'DPA',
          effectiveFrom: '2026-02-30',
        },
      },
    );
    expect(r.body.errors[0].message).toBe(
      'Variable "$input" got invalid value "2026-02-30" at "input.effectiveFrom"; "2026-02-30" is no calendar date (YYYY-MM-DD)',
    );
    expect(r.body.errors[0].extensions.code).toBe('VALIDATION_FAILED');
  });
});
