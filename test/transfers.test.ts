// Transfers: recorded only under a grant and a valid mechanism (derived), append-only in the database,
// filtered and paged by keyset, exported as CSV equal to the GraphQL answer, and never visible to contractors.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { monthStart } from '../src/db/partitions.js';
import { csvBatch } from '../src/http/csv.js';
import { startHarness, type Harness } from './harness.js';
import { contractorWithToken, createOffice, grant, ok, registerContractor, setStatus } from './fixtures.js';
import {
  PAST,
  TRANSFER_FIELDS,
  count,
  csv,
  expectRefused,
  lastQuarter,
  parseCsv,
  recordOk,
  recordTransfer,
  smallRegistry,
} from './transfer-fixtures.js';

let h: Harness;
let compliance: string;
let auditor: string;
let reg: Awaited<ReturnType<typeof smallRegistry>>;

beforeAll(async () => {
  h = await startHarness();
  compliance = await h.staffToken('COMPLIANCE');
  auditor = await h.staffToken('AUDITOR');
  reg = await smallRegistry(h, compliance);
});
afterAll(async () => {
  await h?.stop();
});

const PAGE = `query($first: Int, $after: String, $from: DateTime, $to: DateTime, $contractorId: ID, $importerCountry: String, $category: String,
  $purpose: Purpose, $kind: TransferKind, $mechanism: TransferMechanism, $crossBorderOnly: Boolean, $thirdCountryOnly: Boolean) {
  transfers(first: $first, after: $after, from: $from, to: $to, contractorId: $contractorId, importerCountry: $importerCountry, category: $category,
    purpose: $purpose, kind: $kind, mechanism: $mechanism, crossBorderOnly: $crossBorderOnly, thirdCountryOnly: $thirdCountryOnly) {
    pageInfo { hasNextPage endCursor } edges { cursor node { ${TRANSFER_FIELDS} } } } }`;

async function allPages(token: string, vars: Record<string, unknown>, first = 2) {
  const nodes: any[] = [];
  let after: string | null = null;
  for (;;) {
    const r = await h.gql(token, PAGE, { ...vars, first, after });
    expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
    nodes.push(...r.body.data.transfers.edges.map((e: any) => e.node));
    if (!r.body.data.transfers.pageInfo.hasNextPage) return nodes;
    after = r.body.data.transfers.pageInfo.endCursor;
  }
}

describe('recordTransfer', () => {
  test('inside the EEA: NOT_REQUIRED, cross-border but not a third country, tied to the grant', async () => {
    const t = await recordOk(h, compliance, {
      officeId: reg.office.id,
      contractorId: reg.fr.id,
      categories: ['contact.email'],
    });
    expect(t).toMatchObject({
      kind: 'CONTRACTOR_SHARE',
      exporterCountry: 'DE',
      importerCountry: 'FR',
      importerKind: 'CONTRACTOR',
      mechanism: 'NOT_REQUIRED',
      crossBorder: true,
      thirdCountry: false,
      grant: { id: reg.frGrant.id },
    });
  });

  test("to India: the grant's SCC module 2 is derived, never typed in", async () => {
    const t = await recordOk(h, compliance, {
      officeId: reg.office.id,
      contractorId: reg.india.id,
      categories: ['contact.name', 'contact.email'],
      recordCount: 250,
    });
    expect(t).toMatchObject({
      mechanism: 'SCC',
      sccModule: 2,
      crossBorder: true,
      thirdCountry: true,
      recordCount: 250,
      categories: ['contact.name', 'contact.email'],
    });
    expect(t.policyExplanation).toMatch(/module 2/);
  });

  test('refused without a grant covering the categories and purpose: typed error, nothing written', async () => {
    const [transfers, events] = [await count(h, 'transfers'), await count(h, 'audit_events')];
    for (const input of [
      { officeId: reg.office.id, contractorId: reg.india.id, categories: ['financial.payment_card'] },
      { officeId: reg.office.id, contractorId: reg.india.id, purpose: 'SPECIAL_OFFERS' },
      { officeId: reg.office.id, contractorId: reg.india.id, occurredAt: '2019-06-01T00:00:00Z' },
    ]) {
      const r = await recordTransfer(h, compliance, input);
      expect(r.__typename, JSON.stringify(r)).toBe('PolicyViolationError');
      expect(r.reason).toMatch(/no ACTIVE grant/);
    }
    expect(await count(h, 'transfers')).toBe(transfers);
    expect(await count(h, 'audit_events')).toBe(events);
  });

  test('bad input is a typed error naming the field, and writes nothing', async () => {
    const [transfers, events] = [await count(h, 'transfers'), await count(h, 'audit_events')];
    const unknownContractor = encodeGlobalID('Contractor', '999999');
    const cases: [Record<string, unknown>, string, string?][] = [
      [{ officeId: reg.office.id, contractorId: reg.fr.id, recordCount: 0 }, 'ValidationError', 'input.recordCount'],
      [{ officeId: reg.office.id, contractorId: reg.fr.id, recordCount: -5 }, 'ValidationError', 'input.recordCount'],
      [{ officeId: reg.office.id, contractorId: reg.fr.id, categories: [] }, 'ValidationError', 'input.categories'],
      [
        { officeId: reg.office.id, contractorId: reg.fr.id, categories: ['no.such.category'] },
        'ValidationError',
        'input.categories.0',
      ],
      [
        {
          officeId: reg.office.id,
          contractorId: reg.fr.id,
          occurredAt: new Date(Date.now() + 86_400_000).toISOString(),
        },
        'ValidationError',
        'input.occurredAt',
      ],
      [{ officeId: reg.fr.id, contractorId: reg.fr.id }, 'ValidationError', 'input.officeId'], // a contractor's ID where an office's belongs
      [{ officeId: reg.office.id, contractorId: unknownContractor }, 'NotFoundError'],
    ];
    for (const [input, type, field] of cases) {
      const r = await recordTransfer(h, compliance, input);
      expect(r.__typename, JSON.stringify({ input, r })).toBe(type);
      if (field)
        expect(
          r.issues.map((i: { field: string }) => i.field),
          JSON.stringify(r),
        ).toContain(field);
    }
    expect(await count(h, 'transfers')).toBe(transfers);
    expect(await count(h, 'audit_events')).toBe(events);
  });

  test('a SUSPENDED importer receives nothing: refused, nothing written', async () => {
    const reg2 = await smallRegistry(h, compliance, ' 2');
    await setStatus(h, compliance, reg2.fr.id, 'SUSPENDED', 'security review');
    const [transfers, events] = [await count(h, 'transfers'), await count(h, 'audit_events')];
    const r = await recordTransfer(h, compliance, { officeId: reg2.office.id, contractorId: reg2.fr.id });
    expect(r.__typename, JSON.stringify(r)).toMatch(/PolicyViolationError|InvalidStateError/);
    expect(await count(h, 'transfers')).toBe(transfers);
    expect(await count(h, 'audit_events')).toBe(events);
  });

  test('refused without a valid mechanism for the route: typed error, nothing written', async () => {
    const mumbai = await createOffice(h, compliance, { name: 'Mumbai office', country: 'IN', city: 'Mumbai' });
    const before = await count(h, 'transfers');
    const none = await recordTransfer(h, compliance, { officeId: reg.office.id, importerOfficeId: mumbai.id });
    expect(none.__typename).toBe('PolicyViolationError');
    expect(none.reason).toMatch(/mechanism is required/);
    const derogationWithoutReason = await recordTransfer(h, compliance, {
      officeId: reg.office.id,
      importerOfficeId: mumbai.id,
      mechanism: 'EXPLICIT_CONSENT',
    });
    expect(derogationWithoutReason.reason).toMatch(/justification/);
    const scc = await recordTransfer(h, compliance, {
      officeId: reg.office.id,
      importerOfficeId: mumbai.id,
      mechanism: 'SCC',
      sccModule: 2,
    });
    expect(scc.__typename).toBe('PolicyViolationError');
    expect(await count(h, 'transfers')).toBe(before);

    const t = await recordOk(h, compliance, {
      officeId: reg.office.id,
      importerOfficeId: mumbai.id,
      mechanism: 'INTRA_GROUP_AGREEMENT',
      purpose: 'ORDER_FULFILMENT',
    });
    expect(t).toMatchObject({
      kind: 'INTRA_GROUP',
      importerKind: 'OFFICE',
      importerOffice: { name: 'Mumbai office' },
      mechanism: 'INTRA_GROUP_AGREEMENT',
      thirdCountry: true,
      grant: null,
    });
    const d = await recordOk(h, compliance, {
      officeId: reg.office.id,
      importerOfficeId: mumbai.id,
      mechanism: 'EXPLICIT_CONSENT',
      derogationJustification: 'Customer asked in writing for support from Mumbai',
    });
    expect(d).toMatchObject({
      mechanism: 'EXPLICIT_CONSENT',
      derogationJustification: 'Customer asked in writing for support from Mumbai',
    });
  });

  test('onward transfer from a processor to its sub-processor: under an onward grant, SCC module 3, the origin recorded', async () => {
    const sub = await registerContractor(h, compliance, {
      legalName: 'Sub IN',
      country: 'IN',
      role: 'SUBPROCESSOR',
      parentContractorId: reg.fr.id,
    });
    await setStatus(h, compliance, sub.id, 'ACTIVE');
    const noGrant = await recordTransfer(h, compliance, {
      officeId: reg.office.id,
      contractorId: sub.id,
      viaContractorId: reg.fr.id,
    });
    expect(noGrant.reason).toMatch(/no ACTIVE grant/);
    // FR → IN under the DE office's EU regime: processor to processor, module 3.
    await grant(h, compliance, {
      contractorId: sub.id,
      parentGrantId: reg.frGrant.id,
      categories: ['contact.email'],
      validFrom: PAST,
      mechanism: 'SCC',
      sccModule: 3,
    });
    const wrongModule = await recordTransfer(h, compliance, {
      officeId: reg.office.id,
      contractorId: sub.id,
      viaContractorId: reg.fr.id,
      mechanism: 'SCC',
      sccModule: 2,
    });
    expect(wrongModule.__typename).toBe('PolicyViolationError');
    expect(wrongModule.reason).toMatch(/onward FR → IN of data exported from DE: .*module 3/);
    const r = await recordTransfer(h, compliance, {
      officeId: reg.office.id,
      contractorId: sub.id,
      viaContractorId: reg.fr.id,
    });
    expect(r.__typename, JSON.stringify(r)).toBe('RecordTransferPayload');
    expect(r.transfer).toMatchObject({
      kind: 'ONWARD_TRANSFER',
      exporterCountry: 'FR',
      importerCountry: 'IN',
      mechanism: 'SCC',
      sccModule: 3,
      thirdCountry: true,
      originCountry: 'DE',
    });
    const notItsSub = await recordTransfer(h, compliance, {
      officeId: reg.office.id,
      contractorId: sub.id,
      viaContractorId: reg.india.id,
    });
    expect(notItsSub.__typename).toBe('ValidationError');
  });

  test('auditors and contractors cannot record', async () => {
    const { token: contractor } = await contractorWithToken(h, compliance, { name: 'Would-be recorder' });
    const [transfers, events] = [await count(h, 'transfers'), await count(h, 'audit_events')];
    for (const token of [auditor, contractor]) {
      const r = await h.gql(
        token,
        `mutation { recordTransfer(input: { officeId: "${reg.office.id}", contractorId: "${reg.fr.id}", categories: ["contact.email"], purpose: TECHNICAL_SUPPORT, recordCount: 1 }) { __typename } }`,
      );
      expect(r.body.errors[0].extensions.code).toBe('FORBIDDEN');
      expect(r.body.data).toBeNull();
    }
    expect(await count(h, 'transfers')).toBe(transfers);
    expect(await count(h, 'audit_events')).toBe(events);
  });

  test('one importer, named once: typed errors naming the field, nothing written', async () => {
    const paris = await createOffice(h, compliance, { name: 'Paris office', country: 'FR', city: 'Paris' });
    const unknownOffice = encodeGlobalID('Office', '999999');
    const [transfers, events] = [await count(h, 'transfers'), await count(h, 'audit_events')];
    const cases: [Record<string, unknown>, string, string?][] = [
      [{ officeId: reg.office.id }, 'ValidationError', 'input.contractorId'], // no importer
      [
        { officeId: reg.office.id, contractorId: reg.fr.id, importerOfficeId: paris.id },
        'ValidationError',
        'input.contractorId',
      ], // two
      [
        { officeId: reg.office.id, importerOfficeId: paris.id, viaContractorId: reg.fr.id },
        'ValidationError',
        'input.viaContractorId',
      ],
      [
        { officeId: reg.office.id, importerOfficeId: reg.office.id, mechanism: 'NOT_REQUIRED' },
        'ValidationError',
        'input.importerOfficeId',
      ],
      [{ officeId: reg.office.id, importerOfficeId: reg.fr.id }, 'ValidationError', 'input.importerOfficeId'], // a contractor's ID
      [
        { officeId: reg.office.id, contractorId: reg.india.id, mechanism: 'SCC', sccModule: 5 },
        'ValidationError',
        'input.sccModule',
      ],
      [{ officeId: reg.office.id, importerOfficeId: unknownOffice }, 'NotFoundError'],
      [{ officeId: unknownOffice, contractorId: reg.fr.id }, 'NotFoundError'],
    ];
    for (const [input, type, field] of cases) {
      const r = await recordTransfer(h, compliance, input);
      expect(r.__typename, JSON.stringify({ input, r })).toBe(type);
      if (field)
        expect(
          r.issues.map((i: { field: string }) => i.field),
          JSON.stringify(r),
        ).toEqual([field]);
    }
    expect(await count(h, 'transfers')).toBe(transfers);
    expect(await count(h, 'audit_events')).toBe(events);
  });

  test('a TERMINATED importer, or a SUSPENDED processor passing data on: INVALID_STATE, nothing written', async () => {
    const reg3 = await smallRegistry(h, compliance, ' 3');
    const sub = await registerContractor(h, compliance, {
      legalName: 'Sub IN 3',
      country: 'IN',
      role: 'SUBPROCESSOR',
      parentContractorId: reg3.fr.id,
    });
    await setStatus(h, compliance, sub.id, 'ACTIVE');
    await grant(h, compliance, {
      contractorId: sub.id,
      parentGrantId: reg3.frGrant.id,
      validFrom: PAST,
      mechanism: 'SCC',
      sccModule: 3,
    });
    await setStatus(h, compliance, reg3.fr.id, 'SUSPENDED', 'security review');
    await setStatus(h, compliance, reg3.india.id, 'TERMINATED', 'contract ended');
    const [transfers, events] = [await count(h, 'transfers'), await count(h, 'audit_events')];
    const onward = await recordTransfer(h, compliance, {
      officeId: reg3.office.id,
      contractorId: sub.id,
      viaContractorId: reg3.fr.id,
      mechanism: 'SCC',
      sccModule: 3,
    });
    expect(onward, JSON.stringify(onward)).toMatchObject({ __typename: 'InvalidStateError', code: 'INVALID_STATE' });
    expect(onward.message).toMatch(/SUSPENDED/);
    const terminated = await recordTransfer(h, compliance, { officeId: reg3.office.id, contractorId: reg3.india.id });
    expect(terminated, JSON.stringify(terminated)).toMatchObject({
      __typename: 'InvalidStateError',
      code: 'INVALID_STATE',
    });
    expect(terminated.message).toMatch(/TERMINATED/);
    expect(await count(h, 'transfers')).toBe(transfers);
    expect(await count(h, 'audit_events')).toBe(events);
  });

  test('a transfer straight from the office to a sub-processor is refused, naming the processor: nothing written', async () => {
    const sub = await registerContractor(h, compliance, {
      legalName: 'Sub of IN',
      country: 'IN',
      role: 'SUBPROCESSOR',
      parentContractorId: reg.india.id,
    });
    await setStatus(h, compliance, sub.id, 'ACTIVE');
    // IN → IN, but outside the EU regime the data came from: still module 3 (SCC clause 8.7).
    await grant(h, compliance, {
      contractorId: sub.id,
      parentGrantId: reg.inGrant.id,
      validFrom: PAST,
      mechanism: 'SCC',
      sccModule: 3,
    });
    const [transfers, events] = [await count(h, 'transfers'), await count(h, 'audit_events')];
    const r = await recordTransfer(h, compliance, { officeId: reg.office.id, contractorId: sub.id });
    expect(r.__typename, JSON.stringify(r)).toBe('PolicyViolationError');
    expect(r.reason).toMatch(/Sub of IN is a sub-processor: data reaches it only onward.*viaContractorId/);
    expect(r.reason).toContain(reg.india.id);
    expect(await count(h, 'transfers')).toBe(transfers);
    expect(await count(h, 'audit_events')).toBe(events);
  });
});

describe('the database refuses changes to the history', () => {
  test.each(['update transfers set record_count = 0', 'delete from transfers', 'truncate transfers'])(
    '%s',
    async (statement) => {
      const before = await count(h, 'transfers');
      expect(before).toBeGreaterThan(0);
      await expectRefused(h, statement);
      expect(await count(h, 'transfers')).toBe(before);
    },
  );
});

describe('queries', () => {
  let quarter: { from: Date; to: Date };
  beforeAll(async () => {
    quarter = lastQuarter();
    const mid = new Date((quarter.from.getTime() + quarter.to.getTime()) / 2);
    // Same instant twice: the keyset's id tie-breaker must keep pages exact.
    for (const [i, c] of [
      [0, reg.india],
      [1, reg.fr],
      [2, reg.india],
      [2, reg.india],
      [3, reg.fr],
    ] as const) {
      await recordOk(h, compliance, {
        officeId: reg.office.id,
        contractorId: c.id,
        occurredAt: new Date(mid.getTime() + i * 3600_000).toISOString(),
        recordCount: 100 + i,
      });
    }
  });

  test('every filter, paged by keyset newest first, equals the unpaged answer', async () => {
    const everything = await allPages(auditor, {}, 20);
    const times = everything.map((t) => Date.parse(t.occurredAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const filters: Record<string, unknown>[] = [
      {},
      { contractorId: reg.india.id },
      { importerCountry: 'IN' },
      { category: 'contact.name' },
      { purpose: 'ORDER_FULFILMENT' },
      { kind: 'INTRA_GROUP' },
      { mechanism: 'SCC' },
      { crossBorderOnly: true },
      { thirdCountryOnly: true },
      { from: quarter.from.toISOString(), to: quarter.to.toISOString() },
      {
        from: quarter.from.toISOString(),
        to: quarter.to.toISOString(),
        thirdCountryOnly: true,
        category: 'contact.email',
      },
    ];
    for (const f of filters) {
      const paged = await allPages(auditor, f, 2);
      const expected = everything.filter(
        (t) =>
          (!f.contractorId || t.importerContractor?.id === f.contractorId) &&
          (!f.importerCountry || t.importerCountry === f.importerCountry) &&
          (!f.category || t.categories.includes(f.category)) &&
          (!f.purpose || t.purpose === f.purpose) &&
          (!f.kind || t.kind === f.kind) &&
          (!f.mechanism || t.mechanism === f.mechanism) &&
          (!f.crossBorderOnly || t.crossBorder) &&
          (!f.thirdCountryOnly || t.thirdCountry) &&
          (!f.from || Date.parse(t.occurredAt) >= Date.parse(f.from as string)) &&
          (!f.to || Date.parse(t.occurredAt) < Date.parse(f.to as string)),
      );
      expect(
        paged.map((t) => t.id),
        JSON.stringify(f),
      ).toEqual(expected.map((t) => t.id));
      expect(expected.length, JSON.stringify(f)).toBeGreaterThan(0);
    }
  });

  test('invalid filters are refused with the argument named', async () => {
    const r = await h.gql(auditor, PAGE, { importerCountry: 'XX' });
    expect(r.body.errors[0].extensions.code).toBe('VALIDATION_FAILED');
    expect(r.body.errors[0].message).toMatch(/importerCountry/);
    const big = await h.gql(auditor, PAGE, { first: 1000 });
    expect(big.body.data ?? null).toBeNull();
    expect(big.body.errors[0].extensions.code).toBe('VALIDATION_FAILED');
    expect(big.body.errors[0].message).toMatch(/first.*100|100.*first/);
  });

  test('an auditor answers: which personal data left the EEA last quarter, to whom, under which mechanism', async () => {
    const left = await allPages(auditor, {
      from: quarter.from.toISOString(),
      to: quarter.to.toISOString(),
      thirdCountryOnly: true,
    });
    expect(left).toHaveLength(3);
    for (const t of left) {
      expect(t).toMatchObject({
        exporterCountry: 'DE',
        importerCountry: 'IN',
        importerContractor: { legalName: 'Helpdesk IN' },
        mechanism: 'SCC',
        sccModule: 2,
        categories: ['contact.email'],
      });
    }
    const summary = await h.gql(
      auditor,
      `query($from: DateTime!, $to: DateTime!) { transferSummary(from: $from, to: $to) { importerCountry mechanism transfers records } }`,
      { from: quarter.from.toISOString(), to: quarter.to.toISOString() },
    );
    expect(summary.body.data.transferSummary).toEqual([
      { importerCountry: 'FR', mechanism: 'NOT_REQUIRED', transfers: 2, records: 101 + 103 },
      { importerCountry: 'IN', mechanism: 'SCC', transfers: 3, records: 100 + 102 + 102 },
    ]);
  });

  test('transferSummary counts what the list shows for the same period and flags', async () => {
    const SUMMARY = `query($from: DateTime!, $to: DateTime!, $crossBorderOnly: Boolean, $thirdCountryOnly: Boolean) {
      transferSummary(from: $from, to: $to, crossBorderOnly: $crossBorderOnly, thirdCountryOnly: $thirdCountryOnly) { importerCountry mechanism transfers records } }`;
    const period = { from: quarter.from.toISOString(), to: quarter.to.toISOString() };
    const sizes: number[] = [];
    for (const flags of [{}, { crossBorderOnly: true }, { thirdCountryOnly: true }]) {
      const listed = await allPages(auditor, { ...period, ...flags }, 20);
      const expected = new Map<
        string,
        { importerCountry: string; mechanism: string; transfers: number; records: number }
      >();
      for (const t of listed) {
        const key = `${t.importerCountry} ${t.mechanism}`;
        const row = expected.get(key) ?? {
          importerCountry: t.importerCountry,
          mechanism: t.mechanism,
          transfers: 0,
          records: 0,
        };
        row.transfers += 1;
        row.records += t.recordCount;
        expected.set(key, row);
      }
      const r = await h.gql(auditor, SUMMARY, { ...period, ...flags });
      expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
      expect(r.body.data.transferSummary, JSON.stringify(flags)).toEqual(
        [...expected.keys()].sort().map((k) => expected.get(k)),
      );
      sizes.push(listed.length);
    }
    expect(sizes[2]).toBeGreaterThan(0);
    expect(sizes[2]).toBeLessThan(sizes[0]!); // the flag left something out
  });

  test('a period must end after it starts: the list, the summary and the CSV refuse it, naming `to`', async () => {
    const at = quarter.from.toISOString();
    const earlier = new Date(quarter.from.getTime() - 1000).toISOString();
    for (const to of [at, earlier]) {
      const list = await h.gql(auditor, PAGE, { from: at, to });
      expect(list.body.data ?? null).toBeNull();
      expect(list.body.errors[0].extensions.code).toBe('VALIDATION_FAILED');
      expect(list.body.errors[0].message).toMatch(/args\.to: must be after from/);
      const summary = await h.gql(
        auditor,
        `query($from: DateTime!, $to: DateTime!) { transferSummary(from: $from, to: $to) { transfers } }`,
        { from: at, to },
      );
      expect(summary.body.errors[0].extensions.code).toBe('VALIDATION_FAILED');
      expect(summary.body.errors[0].message).toMatch(/args\.to: must be after from/);
      const file = await csv(h, auditor, `/export/transfers.csv?${new URLSearchParams({ from: at, to })}`);
      expect(file.status).toBe(400);
      expect(file.text).toMatch(/must be after from/);
    }
  });

  test('a page costs the same number of SQL statements for 1 transfer as for 20', async () => {
    // The five transfers of this block lie within hours of the quarter's middle: one month holds them all.
    const mid = new Date((quarter.from.getTime() + quarter.to.getTime()) / 2);
    const month = { from: monthStart(mid).toISOString(), to: monthStart(mid, 1).toISOString() };
    const counts: number[] = [];
    for (const first of [1, 20]) {
      h.statements.length = 0;
      const r = await h.gql(auditor, PAGE, { first, ...month });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data.transfers.edges.length).toBe(first === 1 ? 1 : 5);
      counts.push(h.statements.length);
    }
    expect(counts[0]).toBe(counts[1]);
    expect(counts[0]).toBeLessThanOrEqual(2);
    // Over the whole history a page asks the newest month first and, that month being short, the rest of the
    // history in a second statement, however many rows (the nested fields add none).
    const stored = await count(h, 'transfers');
    h.statements.length = 0;
    const all = await h.gql(auditor, PAGE, { first: 50 });
    expect(all.body.data.transfers.edges.length).toBe(Math.min(50, stored));
    const reads = h.statements.filter((s) => s.includes('from "transfers"')).length;
    expect(reads).toBe(2);
    expect(h.statements.length - reads).toBeLessThanOrEqual(1);
  });

  test('CSV equals the GraphQL answer for the same filter, across keyset batches', async () => {
    const { from, to } = quarter;
    csvBatch.size = 2; // several keyset batches, including the tied timestamps
    for (const params of [
      new URLSearchParams(),
      new URLSearchParams({ thirdCountryOnly: 'true', from: from.toISOString(), to: to.toISOString() }),
      new URLSearchParams({ importerCountry: 'FR', category: 'contact.email' }),
      new URLSearchParams({ contractorId: reg.india.id }),
    ]) {
      const vars = Object.fromEntries([...params].map(([k, v]) => [k, v === 'true' ? true : v]));
      const gql = await allPages(auditor, vars, 20);
      const res = await csv(h, auditor, `/export/transfers.csv?${params}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/csv/);
      const [header, ...rows] = parseCsv(res.text);
      expect(header![0]).toBe('id');
      const col = (name: string) => header!.indexOf(name);
      expect(rows.map((r) => r[col('id')])).toEqual(gql.map((t) => t.id));
      expect(
        rows.map((r) => [
          r[col('occurredAt')],
          r[col('importer')],
          r[col('importerCountry')],
          r[col('mechanism')],
          r[col('categories')],
          r[col('recordCount')],
          r[col('thirdCountry')],
        ]),
      ).toEqual(
        gql.map((t) => [
          t.occurredAt,
          t.importerContractor?.legalName ?? t.importerOffice?.name ?? t.importerAuthority,
          t.importerCountry,
          t.mechanism,
          t.categories.join(';'),
          String(t.recordCount),
          String(t.thirdCountry),
        ]),
      );
    }
    const bad = await csv(h, auditor, '/export/transfers.csv?importerCountry=XX');
    expect(bad.status).toBe(400);
    const unknownParam = await csv(h, auditor, '/export/transfers.csv?colour=red');
    expect(unknownParam.status).toBe(400);
    // A contractor filter needs a Contractor ID: an office's is refused, naming the parameter, before any byte of CSV.
    const wrongType = await csv(
      h,
      auditor,
      `/export/transfers.csv?${new URLSearchParams({ contractorId: reg.office.id })}`,
    );
    expect(wrongType.status).toBe(400);
    expect(JSON.parse(wrongType.text).errors[0]).toMatchObject({
      extensions: { code: 'VALIDATION_FAILED' },
      message: expect.stringContaining('args.contractorId'),
    });
  });

  test('records of processing: purposes, categories, recipients, third-country safeguards; gaps reported as missing', async () => {
    await ok(
      h,
      compliance,
      'addObligation',
      'AddObligationInput',
      {
        contractorId: reg.india.id,
        kind: 'SECURITY_MEASURES',
        text: 'Encrypt at rest and in transit; MFA for support staff',
        sourceDocument: 'DPA 2026',
        effectiveFrom: '2026-01-01',
      },
      'obligation',
    );
    const r = await h.gql(
      auditor,
      `{ recordsOfProcessing { controllerName controllerMissing activities { purpose dataCategories recipients { legalName country role }
      thirdCountryTransfers { recipient importerCountry mechanism sccModule } securityMeasures { contractor text } missing } } }`,
    );
    expect(r.body.errors).toBeUndefined();
    const rop = r.body.data.recordsOfProcessing;
    expect(rop.controllerMissing.join(' ')).toMatch(/not held by the registry/);
    const support = rop.activities.find((a: any) => a.purpose === 'TECHNICAL_SUPPORT');
    expect(support.dataCategories).toEqual(expect.arrayContaining(['contact.email', 'contact.name']));
    expect(support.recipients.map((x: any) => x.legalName)).toEqual(
      expect.arrayContaining(['Support FR', 'Helpdesk IN']),
    );
    expect(support.thirdCountryTransfers).toContainEqual({
      recipient: 'Helpdesk IN',
      importerCountry: 'IN',
      mechanism: 'SCC',
      sccModule: 2,
    });
    expect(support.thirdCountryTransfers.map((x: any) => x.recipient)).not.toContain('Support FR');
    expect(support.missing.join(' ')).toMatch(/categories of data subjects/);
    expect(support.missing.join(' ')).toMatch(/Support FR/); // no security-measures obligation recorded for it
    expect(support.missing.join(' ')).not.toMatch(/Helpdesk IN(,|$)/);
    expect(support.securityMeasures).toContainEqual({
      contractor: 'Helpdesk IN',
      text: expect.stringMatching(/^Encrypt at rest/),
    });

    const file = await csv(h, auditor, '/export/records-of-processing.csv');
    expect(file.status).toBe(200);
    const [header, ...rows] = parseCsv(file.text);
    expect(header).toContain('mechanism');
    expect(rows.filter((x) => x[0] === 'TECHNICAL_SUPPORT').map((x) => x[header!.indexOf('recipient')])).toEqual(
      expect.arrayContaining(['Support FR', 'Helpdesk IN']),
    );
  });
});

describe('access', () => {
  test('CSV needs a valid bearer token (401) and a staff one (403)', async () => {
    const none = await csv(h, undefined, '/export/transfers.csv');
    expect(none.status).toBe(401);
    const bad = await csv(h, 'not-a-token', '/export/transfers.csv');
    expect(bad.status).toBe(401);
    const c = await contractorWithToken(h, compliance, { name: 'Curious contractor' });
    for (const path of [
      '/export/transfers.csv',
      '/export/transparency-report.csv?from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z',
      '/export/records-of-processing.csv',
    ]) {
      const r = await csv(h, c.token, path);
      expect(r.status, path).toBe(403);
      expect(r.text).not.toMatch(/Helpdesk/);
    }
    for (const q of [
      '{ transfers { edges { node { id } } } }',
      '{ transferSummary(from: "2020-01-01T00:00:00Z", to: "2030-01-01T00:00:00Z") { transfers } }',
      '{ recordsOfProcessing { controllerName } }',
    ]) {
      const r = await h.gql(c.token, q);
      expect(r.body.errors?.[0]?.extensions?.code, q).toBe('FORBIDDEN');
      expect(r.body.data, q).toBeNull();
    }
    const node = await h.gql(c.token, `{ node(id: "${encodeGlobalID('Transfer', 1)}") { id } }`);
    expect(node.body.data?.node ?? null).toBeNull();
  });
});

test('a route from a country with no transfer regime leaves the jurisdiction: the transfer and the records of processing agree', async () => {
  // US → IN: no regime is recorded for the US, so no mechanism is needed, yet the data leaves the exporter's jurisdiction.
  const austin = await createOffice(h, compliance, { name: 'Austin office', country: 'US', city: 'Austin' });
  await grant(h, compliance, {
    contractorId: reg.india.id,
    officeId: austin.id,
    purpose: 'ORDER_FULFILMENT',
    categories: ['contact.email'],
    validFrom: PAST,
  });
  const t = await recordOk(h, compliance, {
    officeId: austin.id,
    contractorId: reg.india.id,
    purpose: 'ORDER_FULFILMENT',
  });
  expect(t).toMatchObject({
    exporterCountry: 'US',
    importerCountry: 'IN',
    mechanism: 'NOT_REQUIRED',
    crossBorder: true,
    thirdCountry: true,
  });
  const r = await h.gql(
    auditor,
    '{ recordsOfProcessing { activities { purpose thirdCountryTransfers { recipient exporterCountry importerCountry mechanism } } } }',
  );
  expect(r.body.errors).toBeUndefined();
  const orders = r.body.data.recordsOfProcessing.activities.find((a: any) => a.purpose === 'ORDER_FULFILMENT');
  expect(orders.thirdCountryTransfers).toContainEqual({
    recipient: 'Helpdesk IN',
    exporterCountry: 'US',
    importerCountry: 'IN',
    mechanism: 'NOT_REQUIRED',
  });
  const [header, ...rows] = parseCsv((await csv(h, auditor, '/export/records-of-processing.csv')).text);
  const line = rows.find((x) => x[0] === 'ORDER_FULFILMENT' && x[header!.indexOf('exporterCountry')] === 'US')!;
  expect(line[header!.indexOf('thirdCountry')]).toBe('true');
});
