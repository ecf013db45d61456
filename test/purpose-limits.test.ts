// Purpose limitation: a grant gives only the data categories its purpose may use, by the seeded
// purpose_categories policy table; anything outside is POLICY_VIOLATION naming the purpose and the categories.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startHarness, type Harness } from './harness.js';
import { createOffice, mutate, registerContractor, setStatus } from './fixtures.js';
import { rowsOf } from '../src/db/rows.js';

let h: Harness;
let compliance: string;
let office: { id: string };
let contractor: { id: string };
beforeAll(async () => {
  h = await startHarness();
  compliance = await h.staffToken('COMPLIANCE');
  office = await createOffice(h, compliance, { name: 'Dublin', country: 'IE', city: 'Dublin' });
  contractor = await registerContractor(h, compliance, { legalName: 'Paris Analytics SAS', country: 'FR' });
  await setStatus(h, compliance, contractor.id, 'ACTIVE');
});
afterAll(async () => {
  await h?.stop();
});

async function counts() {
  const r: any = await h.database.db.execute(
    sql`select (select count(*) from audit_events)::int as e, (select count(*) from grants)::int as g, (select count(*) from grant_categories)::int as c`,
  );
  return rowsOf<any>(r)[0];
}

const grant = (purpose: string, categories: string[]) =>
  mutate(
    h,
    compliance,
    'grantDataAccess',
    'GrantDataAccessInput',
    { contractorId: contractor.id, officeId: office.id, categories, purpose },
    '... on GrantDataAccessPayload { grant { purpose categories { key } } }',
  );

describe('purpose limitation: a grant only within the categories its purpose may use', () => {
  test('a payment card for alerts and newsletters is refused, naming the purpose and the category; nothing written', async () => {
    const before = await counts();
    const g = await grant('ALERTS_AND_NEWSLETTERS', ['contact.email', 'financial.payment_card']);
    expect(g).toMatchObject({ __typename: 'PolicyViolationError', exporterCountry: 'IE', importerCountry: 'FR' });
    expect(g.reason).toMatch(/^purpose ALERTS_AND_NEWSLETTERS may not use financial\.payment_card:/);
    expect(await counts()).toEqual(before);
  });

  test('traffic statistics with a name is refused with the policy reason: never correlated with personal information', async () => {
    const before = await counts();
    const g = await grant('TRAFFIC_STATISTICS', ['usage.ip_address', 'contact.name']);
    expect(g.__typename).toBe('PolicyViolationError');
    expect(g.reason).toMatch(/^purpose TRAFFIC_STATISTICS may not use contact\.name:/);
    expect(g.reason).toMatch(/never correlated with any personal information/);
    expect(await counts()).toEqual(before);
  });

  test('a group key is only as wide as the purpose: all of usage is refused for traffic statistics', async () => {
    const g = await grant('TRAFFIC_STATISTICS', ['usage']);
    expect(g.reason).toMatch(/may not use usage:/);
  });

  test('within the purpose, the grant is written; a group the purpose allows covers its children', async () => {
    const before = await counts();
    const stats = await grant('TRAFFIC_STATISTICS', ['usage.ip_address', 'usage.domain_name', 'usage.browser_type']);
    expect(stats.grant).toMatchObject({ purpose: 'TRAFFIC_STATISTICS' });
    expect(stats.grant.categories.map((c: { key: string }) => c.key).sort()).toEqual([
      'usage.browser_type',
      'usage.domain_name',
      'usage.ip_address',
    ]);
    const support = await grant('TECHNICAL_SUPPORT', ['commerce.licence_number', 'device.hardware', 'support']);
    expect(support.grant).toMatchObject({ purpose: 'TECHNICAL_SUPPORT' });
    expect((await counts()).g).toBe(before.g + 2);
  });

  test('rule: the data the seed names is usable for the uses it names it for, and refused for others', async () => {
    // Cookies tailor the site (browsing preferences, visits) and interests inferred feed the special offers.
    for (const [purpose, categories] of [
      ['PERSONALISATION', ['usage.browsing_preferences', 'usage.visit_history', 'marketing.inferred_interests']],
      ['SPECIAL_OFFERS', ['marketing.inferred_interests']],
      ['TECHNICAL_SUPPORT', ['contact.correspondence']],
      ['TRAFFIC_STATISTICS', ['usage.visit_history']],
    ] as const) {
      const g = await grant(purpose, [...categories]);
      expect(g.__typename, `${purpose} ${JSON.stringify(g)}`).toBe('GrantDataAccessPayload');
    }
    // Statistics are never correlated with a person: not with interests inferred about one, nor with their letters.
    const before = await counts();
    for (const [purpose, category] of [
      ['TRAFFIC_STATISTICS', 'marketing.inferred_interests'],
      ['ALERTS_AND_NEWSLETTERS', 'usage.visit_history'],
      ['TRAFFIC_STATISTICS', 'contact.correspondence'],
    ] as const) {
      const g = await grant(purpose, [category]);
      expect(g.__typename).toBe('PolicyViolationError');
      expect(g.reason).toMatch(new RegExp(`^purpose ${purpose} may not use ${category.replace('.', '\\.')}`));
    }
    expect(await counts()).toEqual(before);
  });

  test('the table is policy data, read-only in transferPolicy', async () => {
    const r = await h.gql(compliance, '{ transferPolicy { purposeLimits { purpose reason categoryKeys } } }');
    expect(r.body.errors).toBeUndefined();
    const limits = r.body.data.transferPolicy.purposeLimits;
    expect(limits.find((l: { purpose: string }) => l.purpose === 'TRAFFIC_STATISTICS')).toMatchObject({
      categoryKeys: ['usage.browser_type', 'usage.domain_name', 'usage.ip_address', 'usage.visit_history'],
      reason: expect.stringMatching(/never correlated/),
    });
    expect(limits.find((l: { purpose: string }) => l.purpose === 'ORDER_FULFILMENT').categoryKeys).toContain(
      'financial.payment_card',
    );
  });
});
