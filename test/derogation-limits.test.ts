// "Occasional" means occasional: Art. 49 derogations per route and derogation are limited (transfers and records
// per rolling 12 months) by policy data; beyond it a transfer is POLICY_VIOLATION naming the safeguard to use.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { onPostgres, startHarness, type Harness } from './harness.js';
import { createOffice, mutate, registerContractor, setStatus, grant } from './fixtures.js';
import { recordTransfer, smallRegistry, PAST } from './transfer-fixtures.js';

let h: Harness;
let compliance: string;
beforeAll(async () => {
  h = await startHarness();
  compliance = await h.staffToken('COMPLIANCE');
});
afterAll(async () => {
  await h?.stop();
});

async function counts() {
  const r: any = await h.database.db.execute(
    sql`select (select count(*) from audit_events)::int as e, (select count(*) from transfers)::int as t`,
  );
  return (r.rows ?? r)[0];
}

const DAY = 86_400_000;
const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString();

const setLimit = (input: Record<string, unknown>, token = compliance) =>
  mutate(
    h,
    token,
    'setDerogationLimit',
    'SetDerogationLimitInput',
    input,
    '... on SetDerogationLimitPayload { derogationLimit { derogation exporterCountry importerCountry maxTransfers maxRecords } }',
  );

describe('occasional derogations', () => {
  test('rule: four 50,000-record transfers under explicit consent are not occasional (the seeded default)', async () => {
    const reg = await smallRegistry(h, compliance, ' consent');
    const consent = (recordCount: number, at = daysAgo(1)) =>
      recordTransfer(h, compliance, {
        officeId: reg.office.id,
        contractorId: reg.india.id,
        mechanism: 'EXPLICIT_CONSENT',
        derogationJustification: 'each customer consented in writing',
        recordCount,
        occurredAt: at,
      });
    const before = await counts();
    const big = await consent(50_000);
    expect(big).toMatchObject({ __typename: 'PolicyViolationError', exporterCountry: 'DE', importerCountry: 'IN' });
    expect(big.reason).toMatch(
      /EXPLICIT_CONSENT is an Art\. 49 derogation for occasional transfers only: .*1 transfer\(s\) and 50000 record\(s\).*limit of 4 transfer\(s\) and 10000 record\(s\).*standing grant with a safeguard instead \(valid here: SCC module 2/,
    );
    expect(await counts()).toEqual(before);
    // Four small ones pass; the fifth in 12 months does not.
    for (let i = 0; i < 4; i++)
      expect((await consent(10, daysAgo(300 - i * 50))).__typename).toBe('RecordTransferPayload');
    const fifth = await consent(10);
    expect(fifth.__typename, JSON.stringify(fifth)).toBe('PolicyViolationError');
    expect(fifth.reason).toMatch(/5 transfer\(s\) and 50 record\(s\)/);
    // Rolling 12 months: one more than a year before all of them is occasional again.
    const old = await consent(10, daysAgo(700));
    expect(old.__typename, JSON.stringify(old)).toBe('RecordTransferPayload');
    // Backdated: the 12 months up to it hold 3, but the 12 months up to a later one (150 days ago) would hold 5.
    const backdated = await consent(10, daysAgo(220));
    expect(backdated.__typename).toBe('PolicyViolationError');
    expect(backdated.reason).toMatch(/5 transfer\(s\)/);
    // Per route and derogation: another derogation on the route has its own count.
    const claims = await recordTransfer(h, compliance, {
      officeId: reg.office.id,
      contractorId: reg.india.id,
      mechanism: 'LEGAL_CLAIMS',
      derogationJustification: 'defence in case 7/2026',
    });
    expect(claims.__typename, JSON.stringify(claims)).toBe('RecordTransferPayload');
  });

  test('rule: compelling legitimate interests: once, for a limited number of subjects (its own seeded row)', async () => {
    const reg = await smallRegistry(h, compliance, ' cli');
    const cli = (recordCount: number) =>
      recordTransfer(h, compliance, {
        officeId: reg.office.id,
        contractorId: reg.india.id,
        mechanism: 'COMPELLING_LEGITIMATE_INTERESTS',
        derogationJustification: 'one fraud case, subjects informed',
        recordCount,
      });
    expect((await cli(101)).reason).toMatch(/limit of 1 transfer\(s\) and 100 record\(s\)/);
    expect((await cli(3)).__typename).toBe('RecordTransferPayload');
    expect((await cli(1)).__typename).toBe('PolicyViolationError');
  });

  test('rule: staff set a limit per route and derogation (audited); the most specific row applies', async () => {
    const office = await createOffice(h, compliance, { name: 'Limits office', country: 'DE' });
    const c = await registerContractor(h, compliance, { legalName: 'Limits BR', country: 'BR' });
    await setStatus(h, compliance, c.id, 'ACTIVE');
    await grant(h, compliance, {
      contractorId: c.id,
      officeId: office.id,
      validFrom: PAST,
      mechanism: 'SCC',
      sccModule: 2,
    });
    const send = () =>
      recordTransfer(h, compliance, {
        officeId: office.id,
        contractorId: c.id,
        mechanism: 'CONTRACT_WITH_SUBJECT',
        derogationJustification: 'the customer’s own order',
        recordCount: 1,
      });
    const set = await setLimit({
      derogation: 'CONTRACT_WITH_SUBJECT',
      exporterCountry: 'DE',
      importerCountry: 'BR',
      maxTransfers: 1,
      maxRecords: 5,
    });
    expect(set.__typename, JSON.stringify(set)).toBe('SetDerogationLimitPayload');
    expect((await send()).__typename).toBe('RecordTransferPayload');
    const second = await send();
    expect(second.reason).toMatch(/limit of 1 transfer\(s\) and 5 record\(s\)/);
    // Raising it (the same key: replaced, not added) lets the next one through; both changes are audited.
    await setLimit({
      derogation: 'CONTRACT_WITH_SUBJECT',
      exporterCountry: 'DE',
      importerCountry: 'BR',
      maxTransfers: 2,
      maxRecords: 5,
    });
    expect((await send()).__typename).toBe('RecordTransferPayload');
    const r: any = await h.database.db.execute(
      sql`select count(*)::int as n, max(after->>'maxTransfers') as latest,
        (select count(*)::int from derogation_limits where importer_country = 'BR') as rows
        from audit_events where action = 'setDerogationLimit'`,
    );
    expect((r.rows ?? r)[0]).toMatchObject({ n: 2, latest: '2', rows: 1 });
    const listed = await h.gql(
      await h.staffToken('AUDITOR'),
      '{ transferPolicy { derogationLimits { derogation exporterCountry importerCountry maxTransfers maxRecords } } }',
    );
    expect(listed.body.data.transferPolicy.derogationLimits).toEqual(
      expect.arrayContaining([
        { derogation: null, exporterCountry: null, importerCountry: null, maxTransfers: 4, maxRecords: 10000 },
        {
          derogation: 'CONTRACT_WITH_SUBJECT',
          exporterCountry: 'DE',
          importerCountry: 'BR',
          maxTransfers: 2,
          maxRecords: 5,
        },
      ]),
    );
  });

  test('bad limits are typed errors naming the field and change nothing; auditors cannot set one', async () => {
    const before = await counts();
    for (const [input, field] of [
      [{ exporterCountry: 'XX', maxTransfers: 1, maxRecords: 1 }, 'input.exporterCountry'],
      [{ maxTransfers: -1, maxRecords: 1 }, 'input.maxTransfers'],
      [{ maxTransfers: 1, maxRecords: -5 }, 'input.maxRecords'],
    ] as const) {
      const r = await setLimit(input);
      expect(r.__typename, JSON.stringify(r)).toBe('ValidationError');
      expect(r.issues.map((i: { field: string }) => i.field)).toEqual([field]);
    }
    const r = await h.gql(
      await h.staffToken('AUDITOR'),
      'mutation { setDerogationLimit(input: { maxTransfers: 100, maxRecords: 100 }) { __typename } }',
    );
    expect(r.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(await counts()).toEqual(before);
  });

  test(`rule: two transfers at once cannot both take the last slot${onPostgres ? '' : ' (PGlite: one connection; the race runs on PostgreSQL)'}`, async () => {
    const reg = await smallRegistry(h, compliance, ' race');
    await setLimit({
      derogation: 'VITAL_INTERESTS',
      exporterCountry: 'DE',
      importerCountry: 'IN',
      maxTransfers: 3,
      maxRecords: 1000,
    });
    const vital = () =>
      recordTransfer(h, compliance, {
        officeId: reg.office.id,
        contractorId: reg.india.id,
        mechanism: 'VITAL_INTERESTS',
        derogationJustification: 'medical emergency of the subject',
        recordCount: 1,
      });
    // Two at once take two of the three slots; two more race for the last one; then none is left.
    for (const expected of [2, 1, 0]) {
      const results = await Promise.all([vital(), vital()]);
      const passed = results.filter((r) => r.__typename === 'RecordTransferPayload').length;
      expect(passed, JSON.stringify(results)).toBe(expected);
    }
    const r: any = await h.database.db.execute(
      sql`select count(*)::int as n from transfers where mechanism = 'VITAL_INTERESTS' and exporter_country = 'DE' and importer_country = 'IN'`,
    );
    expect((r.rows ?? r)[0].n).toBe(3);
  });
});
