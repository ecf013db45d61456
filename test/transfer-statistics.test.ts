// The auditor's aggregates of the transfer history — flows, monthly volume, top contractors — over GraphQL and
// as CSV: counted in SQL over [from, to), third-country flows marked, months in UTC, the same numbers both ways;
// a bad period or limit is refused naming the argument, and contractor tokens get none of it.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { contractorWithToken } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';
import { csv, parseCsv, recordOk, smallRegistry } from './transfer-fixtures.js';

let h: Harness;
let compliance: string;
let auditor: string;
let reg: Awaited<ReturnType<typeof smallRegistry>>;

const FROM = '2025-01-01T00:00:00Z';
const TO = '2025-04-01T00:00:00Z';

beforeAll(async () => {
  h = await startHarness();
  compliance = await h.staffToken('COMPLIANCE');
  auditor = await h.staffToken('AUDITOR');
  reg = await smallRegistry(h, compliance);
  const at = (occurredAt: string, contractorId: string, recordCount: number) =>
    recordOk(h, compliance, { officeId: reg.office.id, contractorId, recordCount, occurredAt });
  // India (SCC, third country): January twice, March once. France (same jurisdiction): February.
  await at('2025-01-05T10:00:00Z', reg.india.id, 100);
  await at('2025-01-31T23:59:59Z', reg.india.id, 50);
  await at('2025-03-10T00:00:00Z', reg.india.id, 7);
  await at('2025-02-01T00:00:00Z', reg.fr.id, 300);
  // Outside the period on both sides: the end is exclusive.
  await at('2024-12-31T23:59:59Z', reg.india.id, 1000);
  await at(TO, reg.fr.id, 1000);
});
afterAll(async () => {
  await h?.stop();
});

const STATS = `query($from: DateTime!, $to: DateTime!, $limit: Int) {
  transferFlows(from: $from, to: $to) { exporterCountry importerCountry mechanism thirdCountry transfers records }
  monthlyTransferVolume(from: $from, to: $to) { month transfers records thirdCountryRecords }
  topContractors(from: $from, to: $to, limit: $limit) { contractorId legalName country transfers records }
}`;

describe('over GraphQL', () => {
  test('flows, months and contractors add up over [from, to)', async () => {
    const r = await h.gql(auditor, STATS, { from: FROM, to: TO });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.transferFlows).toEqual([
      {
        exporterCountry: 'DE',
        importerCountry: 'FR',
        mechanism: 'NOT_REQUIRED',
        thirdCountry: false,
        transfers: 1,
        records: 300,
      },
      {
        exporterCountry: 'DE',
        importerCountry: 'IN',
        mechanism: 'SCC',
        thirdCountry: true,
        transfers: 3,
        records: 157,
      },
    ]);
    expect(r.body.data.monthlyTransferVolume).toEqual([
      { month: '2025-01', transfers: 2, records: 150, thirdCountryRecords: 150 },
      { month: '2025-02', transfers: 1, records: 300, thirdCountryRecords: 0 },
      { month: '2025-03', transfers: 1, records: 7, thirdCountryRecords: 7 },
    ]);
    expect(r.body.data.topContractors).toEqual([
      { contractorId: reg.fr.id, legalName: 'Support FR', country: 'FR', transfers: 1, records: 300 },
      { contractorId: reg.india.id, legalName: 'Helpdesk IN', country: 'IN', transfers: 3, records: 157 },
    ]);
    const one = await h.gql(auditor, STATS, { from: FROM, to: TO, limit: 1 });
    expect(one.body.data.topContractors.map((c: { legalName: string }) => c.legalName)).toEqual(['Support FR']);
  });

  test('an empty period is empty lists', async () => {
    const r = await h.gql(auditor, STATS, { from: '2019-01-01T00:00:00Z', to: '2019-02-01T00:00:00Z' });
    expect(r.body.data).toEqual({ transferFlows: [], monthlyTransferVolume: [], topContractors: [] });
  });

  test('a period that ends before it starts, or a limit out of range, is refused naming the argument', async () => {
    const backwards = await h.gql(auditor, STATS, { from: TO, to: FROM });
    expect(backwards.body.data ?? null).toBeNull();
    expect(backwards.body.errors[0].message).toMatch(/args\.to/);
    for (const limit of [0, 101]) {
      const r = await h.gql(auditor, STATS, { from: FROM, to: TO, limit });
      expect(r.body.errors[0].message, String(limit)).toMatch(/args\.limit/);
    }
  });

  test('contractor tokens are refused', async () => {
    const { token } = await contractorWithToken(h, compliance, { name: 'Curious Co' });
    for (const field of ['transferFlows', 'monthlyTransferVolume']) {
      const r = await h.gql(token, `{ ${field}(from: "${FROM}", to: "${TO}") { transfers } }`);
      expect(r.body.errors?.[0]?.extensions?.code, field).toBe('FORBIDDEN');
    }
  });
});

describe('as CSV', () => {
  const period = new URLSearchParams({ from: FROM, to: TO });

  test('each export writes the rows GraphQL answers', async () => {
    const flows = await csv(h, auditor, `/export/transfer-flows.csv?${period}`);
    expect(flows.status).toBe(200);
    expect(flows.headers.get('content-disposition')).toBe('attachment; filename="transfer-flows.csv"');
    expect(parseCsv(flows.text)).toEqual([
      ['exporterCountry', 'importerCountry', 'mechanism', 'thirdCountry', 'transfers', 'records'],
      ['DE', 'FR', 'NOT_REQUIRED', 'false', '1', '300'],
      ['DE', 'IN', 'SCC', 'true', '3', '157'],
    ]);
    const months = await csv(h, auditor, `/export/monthly-volume.csv?${period}`);
    expect(parseCsv(months.text)).toEqual([
      ['month', 'transfers', 'records', 'thirdCountryRecords'],
      ['2025-01', '2', '150', '150'],
      ['2025-02', '1', '300', '0'],
      ['2025-03', '1', '7', '7'],
    ]);
    const top = await csv(h, compliance, `/export/top-contractors.csv?${period}`);
    expect(parseCsv(top.text)).toEqual([
      ['contractor', 'legalName', 'country', 'transfers', 'records'],
      [reg.fr.id, 'Support FR', 'FR', '1', '300'],
      [reg.india.id, 'Helpdesk IN', 'IN', '3', '157'],
    ]);
  });

  test('a missing or bad period is a 400 naming it; a contractor token a 403; no token a 401', async () => {
    const missing = await csv(h, auditor, `/export/transfer-flows.csv?from=${FROM}`);
    expect(missing.status).toBe(400);
    expect(missing.text).toMatch(/to/);
    const bad = await csv(h, auditor, `/export/monthly-volume.csv?from=yesterday&to=${TO}`);
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/from/);
    const { token } = await contractorWithToken(h, compliance, { name: 'Curious CSV Co' });
    expect((await csv(h, token, `/export/top-contractors.csv?${period}`)).status).toBe(403);
    expect((await csv(h, undefined, `/export/top-contractors.csv?${period}`)).status).toBe(401);
  });
});

test('the planner knows how many months a period holds (statistics on the month expression), so it hashes them', async () => {
  // 3,000 transfers over three months; without the statistics the planner guesses 200 groups (at 1,000,000
  // transfers: one per row, and it sorts the whole period on disk instead of hashing 36 months).
  await h.asOwner(`
    insert into transfers (occurred_at, kind, exporter_office_id, exporter_country, importer_kind, importer_contractor_id,
      importer_country, categories, purpose, mechanism, policy_explanation, record_count, cross_border, third_country, recorded_by)
    select timestamptz '2023-01-01' + (i % 90) * interval '1 day', 'CONTRACTOR_SHARE', o.id, o.country, 'CONTRACTOR', c.id,
      c.country, array['contact.email'], 'TECHNICAL_SUPPORT', 'NOT_REQUIRED', 'test', 1, false, false, 'test'
    from generate_series(1, 3000) i, (select id, country from offices limit 1) o, (select id, country from contractors limit 1) c`);
  await h.asOwner('analyze transfers');
  const sent: { sql: string; params: unknown[] }[] = [];
  const capture = (sql: string, params: unknown[]) => sent.push({ sql, params });
  h.database.onQuery.add(capture);
  const r = await h.gql(auditor, STATS, { from: '2023-01-01T00:00:00Z', to: '2023-04-01T00:00:00Z' });
  h.database.onQuery.delete(capture);
  expect(r.body.data.monthlyTransferVolume.map((m: { month: string }) => m.month)).toEqual([
    '2023-01',
    '2023-02',
    '2023-03',
  ]);
  const statement = sent.find((s) => s.sql.includes('date_trunc'))!;
  const inline = statement.sql.replace(/\$(\d+)/g, (_, n) => `'${String(statement.params[Number(n) - 1])}'`);
  const [row] = (await h.asOwner(`explain (format json) ${inline}`)) as Record<string, any>[];
  const plan = row!['QUERY PLAN'];
  const root = (typeof plan === 'string' ? JSON.parse(plan) : plan)[0].Plan;
  const aggregate = root['Node Type'] === 'Aggregate' ? root : root.Plans[0];
  expect(aggregate['Node Type']).toBe('Aggregate');
  expect(aggregate['Plan Rows']).toBeLessThanOrEqual(10);
});
