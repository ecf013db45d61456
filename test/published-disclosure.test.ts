// The published policy as a product of the registry: what the sharing section must say, its frozen versions, and
// the drift between the registry and the latest one, both ways.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startHarness, type Harness } from './harness.js';
import {
  addLocation,
  contractorWithToken,
  createOffice,
  grant,
  mutate,
  ok,
  registerContractor,
  setStatus,
} from './fixtures.js';
import { expectRefused, recordOk } from './transfer-fixtures.js';
import { rowsOf } from '../src/db/rows.js';

let h: Harness;
let compliance: string;
let auditor: string;
beforeAll(async () => {
  h = await startHarness();
  compliance = await h.staffToken('COMPLIANCE');
  auditor = await h.staffToken('AUDITOR');
});
afterAll(async () => {
  await h?.stop();
});

const DOCUMENT = `{ publishedDisclosure { asOf contractors { service countries } offices categories { purpose categories }
  mechanisms { country mechanisms } howToObject statements { kind subject object } markdown } }`;
const DRIFT = `{ disclosureDrift { version { version effectiveOn publishedBy statements { kind subject object } markdown }
  items { drift statement { kind subject object } sources } } }`;

const read = async (query: string, token = auditor) => {
  const r = await h.gql(token, query);
  expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
  return r.body.data;
};
const publish = (input: Record<string, unknown> = {}, token = compliance) =>
  mutate(
    h,
    token,
    'publishDisclosure',
    'PublishDisclosureInput',
    input,
    '... on PublishDisclosurePayload { disclosureVersion { version effectiveOn publishedBy markdown statements { kind subject object } } }',
  );

let reg: { berlin: any; india: any; inGrant: any };

describe('the published disclosure', () => {
  beforeAll(async () => {
    const berlin = await createOffice(h, compliance, { name: 'Berlin', country: 'DE' });
    await createOffice(h, compliance, { name: 'London', country: 'GB', city: 'London' });
    const india = await registerContractor(h, compliance, { legalName: 'Helpdesk IN', country: 'IN' });
    await setStatus(h, compliance, india.id, 'ACTIVE');
    await addLocation(h, compliance, india.id, 'CN');
    const inGrant = await grant(h, compliance, {
      contractorId: india.id,
      officeId: berlin.id,
      categories: ['contact.email', 'support.problem_description'],
      mechanism: 'SCC',
      sccModule: 2,
    });
    reg = { berlin, india, inGrant };
  });

  test('rule: it says what the registry makes true — contractor services and countries, offices, categories, mechanisms, how to object', async () => {
    const d = (await read(DOCUMENT)).publishedDisclosure;
    expect(d.contractors).toEqual([{ service: 'TECHNICAL_SUPPORT', countries: ['CN', 'IN'] }]);
    expect(d.offices).toEqual(['DE', 'GB']);
    expect(d.categories).toEqual([
      { purpose: 'TECHNICAL_SUPPORT', categories: ['contact.email', 'support.problem_description'] },
    ]);
    // Every destination outside the exporter's regime, the processing location too.
    expect(d.mechanisms).toEqual([
      { country: 'CN', mechanisms: ['SCC'] },
      { country: 'IN', mechanisms: ['SCC'] },
    ]);
    expect(d.howToObject).toMatch(/unsubscribe/);
    expect(d.markdown).toContain('- **Technical support**: China, India');
    expect(d.markdown).toContain('our offices in Germany, United Kingdom');
    expect(d.markdown).toContain('- **India**: standard contractual clauses');
    expect(d.markdown).toMatch(/### How to object\n\nYou can opt out/);
  });

  test('rule: before anything is published, everything is drift; publishing freezes a dated, audited version', async () => {
    const before = (await read(DRIFT)).disclosureDrift;
    expect(before.version).toBeNull();
    expect(before.items.length).toBeGreaterThan(0);
    expect(before.items.every((i: any) => i.drift === 'UNCOVERED')).toBe(true);
    expect(before.items).toContainEqual({
      drift: 'UNCOVERED',
      statement: { kind: 'CONTRACTOR_COUNTRY', subject: 'TECHNICAL_SUPPORT', object: 'CN' },
      sources: [expect.any(String)],
    });

    const denied = await h.gql(auditor, 'mutation { publishDisclosure { __typename } }');
    expect(denied.body.errors[0].extensions.code).toBe('FORBIDDEN');
    const v = await publish({ effectiveOn: '2026-12-01' });
    expect(v.__typename, JSON.stringify(v)).toBe('PublishDisclosurePayload');
    expect(v.disclosureVersion).toMatchObject({ version: 1, effectiveOn: '2026-12-01' });
    const doc = (await read(DOCUMENT)).publishedDisclosure;
    expect(v.disclosureVersion.statements).toEqual(doc.statements);
    const after = (await read(DRIFT)).disclosureDrift;
    expect(after.version.version).toBe(1);
    expect(after.items).toEqual([]);
    const events: any = await h.database.db.execute(
      sql`select count(*)::int as n from audit_events where action = 'publishDisclosure' and entity_id = '1'`,
    );
    expect(rowsOf<any>(events)[0].n).toBe(1);
    // Frozen: the database refuses to change a published version.
    await expectRefused(h, "update disclosure_versions set markdown = ''");
    await expectRefused(h, 'delete from disclosure_versions');
  });

  test('rule: the drift lists every new grant, location and transfer route not covered, and every statement no longer true', async () => {
    // A new contractor service in a new country, a new processing location, a new office reached by a transfer.
    const fr = await registerContractor(h, compliance, {
      legalName: 'Orders FR',
      country: 'FR',
      services: ['ORDER_PROCESSING'],
    });
    await setStatus(h, compliance, fr.id, 'ACTIVE');
    const frGrant = await grant(h, compliance, {
      contractorId: fr.id,
      officeId: reg.berlin.id,
      purpose: 'ORDER_FULFILMENT',
      categories: ['contact.name'],
    });
    const br = await addLocation(h, compliance, reg.india.id, 'BR', ['STORAGE']);
    const pune = await createOffice(h, compliance, { name: 'Pune', country: 'IN', city: 'Pune' });
    const t = await recordOk(h, compliance, {
      officeId: reg.berlin.id,
      importerOfficeId: pune.id,
      mechanism: 'BCR',
      recordCount: 3,
    });
    // The Indian processor's grant ends: its statements stay true only where a recent transfer keeps them so.
    await ok(h, compliance, 'revokeGrant', 'RevokeGrantInput', { id: reg.inGrant.id, reason: 'moved' }, 'grant');

    const items = (await read(DRIFT)).disclosureDrift.items;
    const find = (drift: string, kind: string, subject: string, object: string) =>
      items.find(
        (i: any) =>
          i.drift === drift &&
          i.statement.kind === kind &&
          i.statement.subject === subject &&
          i.statement.object === object,
      );
    expect(find('UNCOVERED', 'CONTRACTOR_COUNTRY', 'ORDER_PROCESSING', 'FR')?.sources).toEqual([frGrant.id]);
    expect(find('UNCOVERED', 'CATEGORY', 'ORDER_FULFILMENT', 'contact.name')?.sources).toEqual([frGrant.id]);
    expect(find('UNCOVERED', 'OFFICE_COUNTRY', 'OFFICE', 'IN')?.sources.sort()).toEqual([pune.id, t.id].sort());
    expect(find('UNCOVERED', 'MECHANISM', 'IN', 'BCR')?.sources).toEqual([t.id]);
    // The location was added while the grant lived; with the grant revoked it no longer counts, so it is not drift.
    expect(find('UNCOVERED', 'CONTRACTOR_COUNTRY', 'TECHNICAL_SUPPORT', 'BR')).toBeUndefined();
    expect(br.country).toBe('BR');
    for (const [kind, subject, object] of [
      ['CONTRACTOR_COUNTRY', 'TECHNICAL_SUPPORT', 'IN'],
      ['CONTRACTOR_COUNTRY', 'TECHNICAL_SUPPORT', 'CN'],
      ['CATEGORY', 'TECHNICAL_SUPPORT', 'support.problem_description'],
      ['MECHANISM', 'IN', 'SCC'],
      ['MECHANISM', 'CN', 'SCC'],
    ] as const)
      expect(find('NO_LONGER_TRUE', kind, subject, object), `${kind} ${subject} ${object}`).toBeDefined();

    // Publishing again covers the registry as it now stands.
    const second = await publish();
    expect(second.disclosureVersion.version).toBe(2);
    expect((await read(DRIFT)).disclosureDrift.items).toEqual([]);
  });

  test('contractors cannot read it; bad input is a typed error and publishes nothing', async () => {
    const { token } = await contractorWithToken(h, compliance, { name: 'Curious Co' });
    for (const q of [DOCUMENT, DRIFT]) {
      const r = await h.gql(token, q);
      expect(r.body.errors[0].extensions.code).toBe('FORBIDDEN');
    }
    const bad = await h.gql(
      compliance,
      'mutation { publishDisclosure(input: { effectiveOn: "2026-02-30" }) { __typename } }',
    );
    expect(bad.body.errors[0].message).toMatch(/effectiveOn/);
    const r: any = await h.database.db.execute(sql`select count(*)::int as n from disclosure_versions`);
    expect(rowsOf<any>(r)[0].n).toBe(2);
  });
});
