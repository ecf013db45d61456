// Legal-disclosure requests: the exact state machine, the Art. 48 flag and its legal-basis rule, the LEGAL_DISCLOSURE
// transfer written with the decision, overdue requests and the transparency report (GraphQL and CSV).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startHarness, type Harness } from './harness.js';
import { contractorWithToken, createOffice, mutate } from './fixtures.js';
import { count, csv, parseCsv } from './transfer-fixtures.js';

let h: Harness;
let compliance: string;
let auditor: string;
let office: { id: string };

const FIELDS = `id status foreignAuthority foreignAuthorityReason legalBasis disclosedCategories subjectsDisclosed rationale overdue
  authorityCountry authorityType decidedBy transfers { id kind categories recordCount importerAuthority importerCountry mechanism thirdCountry derogationJustification }`;

async function call(field: string, inputType: string, input: Record<string, unknown>, token = compliance) {
  const payload = `${field[0]!.toUpperCase()}${field.slice(1)}Payload`;
  return mutate(
    h,
    token,
    field,
    inputType,
    input,
    `... on InvalidStateError { currentState } ... on ${payload} { disclosureRequest { ${FIELDS} } }`,
  );
}

const DAY = 86_400_000;
async function receive(input: Record<string, unknown> = {}) {
  const r = await call('receiveDisclosureRequest', 'ReceiveDisclosureRequestInput', {
    officeId: office.id,
    authorityName: 'Landeskriminalamt Berlin',
    authorityType: 'LAW_ENFORCEMENT',
    authorityCountry: 'DE',
    instrument: 'COURT_ORDER',
    reference: 'LKA-2026-17',
    dueAt: new Date(Date.now() + 30 * DAY).toISOString(),
    requestedCategories: ['contact.email', 'contact.name'],
    subjectsRequested: 3,
    ...input,
  });
  expect(r.__typename, JSON.stringify(r)).toBe('ReceiveDisclosureRequestPayload');
  return r.disclosureRequest;
}
const review = (id: string) => call('startDisclosureReview', 'DisclosureRequestIdInput', { id });
const withdraw = (id: string) =>
  call('withdrawDisclosureRequest', 'WithdrawDisclosureRequestInput', { id, reason: 'authority withdrew' });
const decide = (id: string, input: Record<string, unknown> = {}) =>
  call('decideDisclosureRequest', 'DecideDisclosureRequestInput', { id, decision: 'DISCLOSED', ...input });

/** Brings a new request to `status` through legal moves. */
async function requestIn(status: string) {
  const r = await receive();
  if (status === 'RECEIVED') return r.id;
  expect((await review(r.id)).__typename).toBe('StartDisclosureReviewPayload');
  if (status === 'UNDER_REVIEW') return r.id;
  const done =
    status === 'WITHDRAWN'
      ? await withdraw(r.id)
      : await decide(r.id, {
          decision: status,
          rationale: 'decided',
          ...(status === 'PARTIALLY_DISCLOSED' ? { disclosedCategories: ['contact.email'], subjectsDisclosed: 1 } : {}),
        });
  expect(done.disclosureRequest?.status, JSON.stringify(done)).toBe(status);
  return r.id;
}

beforeAll(async () => {
  h = await startHarness();
  compliance = await h.staffToken('COMPLIANCE');
  auditor = await h.staffToken('AUDITOR');
  office = await createOffice(h, compliance, { name: 'Berlin HQ', country: 'DE' });
});
afterAll(async () => {
  await h?.stop();
});

describe('state machine', () => {
  const moves: Record<string, (id: string) => Promise<any>> = {
    startReview: review,
    withdraw,
    decideDisclosed: (id) => decide(id),
    decidePartial: (id) =>
      decide(id, {
        decision: 'PARTIALLY_DISCLOSED',
        disclosedCategories: ['contact.email'],
        subjectsDisclosed: 1,
        rationale: 'only e-mail',
      }),
    decideRejected: (id) => decide(id, { decision: 'REJECTED', rationale: 'overbroad' }),
  };
  const legal: Record<string, string[]> = {
    RECEIVED: ['startReview', 'withdraw'],
    UNDER_REVIEW: ['withdraw', 'decideDisclosed', 'decidePartial', 'decideRejected'],
    DISCLOSED: [],
    PARTIALLY_DISCLOSED: [],
    REJECTED: [],
    WITHDRAWN: [],
  };
  const illegal = Object.entries(legal).flatMap(([from, ok]) =>
    Object.keys(moves)
      .filter((m) => !ok.includes(m))
      .map((m) => [from, m] as const),
  );

  test.each(illegal)('from %s, %s is INVALID_STATE and changes nothing', async (from, move) => {
    const id = await requestIn(from);
    const [events, transfers] = [await count(h, 'audit_events'), await count(h, 'transfers')];
    const r = await moves[move]!(id);
    expect(r.__typename, JSON.stringify(r)).toBe('InvalidStateError');
    expect(r).toMatchObject({ code: 'INVALID_STATE', currentState: from });
    expect(await count(h, 'audit_events')).toBe(events);
    expect(await count(h, 'transfers')).toBe(transfers);
  });

  test.each(Object.entries(legal).flatMap(([from, ok]) => ok.map((m) => [from, m] as const)))(
    'from %s, %s is allowed',
    async (from, move) => {
      const r = await moves[move]!(await requestIn(from));
      expect(r.__typename, JSON.stringify(r)).toMatch(/Payload$/);
    },
  );

  test('decisions need their parts: rationale, disclosed categories within those requested', async () => {
    const id = await requestIn('UNDER_REVIEW');
    const fieldsOf = (r: any) => {
      expect(r.__typename, JSON.stringify(r)).toBe('ValidationError');
      return r.issues.map((i: { field: string }) => i.field);
    };
    expect(fieldsOf(await decide(id, { decision: 'REJECTED' }))).toEqual(['input.rationale']);
    expect(
      fieldsOf(await decide(id, { decision: 'PARTIALLY_DISCLOSED', rationale: 'x', subjectsDisclosed: 1 })),
    ).toEqual(['input.disclosedCategories']);
    expect(fieldsOf(await decide(id, { disclosedCategories: ['financial.payment_card'] }))).toEqual([
      'input.disclosedCategories',
    ]);
    expect(fieldsOf(await decide(id, { subjectsDisclosed: 99 }))).toEqual(['input.subjectsDisclosed']);
    expect((await review(id)).__typename).toBe('InvalidStateError'); // still UNDER_REVIEW: nothing was decided
  });
});

describe('moves on a request that is not there, or badly asked', () => {
  test('an unknown or wrong-type ID, an empty withdrawal reason, a partial disclosure without its rationale or count: typed errors, nothing written', async () => {
    const id = await requestIn('UNDER_REVIEW');
    const missing = Buffer.from('DisclosureRequest:999999').toString('base64');
    const [requests, events, transfers] = [
      await count(h, 'disclosure_requests'),
      await count(h, 'audit_events'),
      await count(h, 'transfers'),
    ];
    for (const r of [await review(missing), await withdraw(missing), await decide(missing)]) {
      expect(r, JSON.stringify(r)).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    }
    for (const r of [await review(office.id), await withdraw(office.id), await decide(office.id)]) {
      expect(r.__typename, JSON.stringify(r)).toBe('ValidationError');
      expect(r.issues.map((i: { field: string }) => i.field)).toEqual(['input.id']);
    }
    const fieldsOf = (r: any) => {
      expect(r.__typename, JSON.stringify(r)).toBe('ValidationError');
      return r.issues.map((i: { field: string }) => i.field);
    };
    expect(
      fieldsOf(await call('withdrawDisclosureRequest', 'WithdrawDisclosureRequestInput', { id, reason: '   ' })),
    ).toEqual(['input.reason']);
    expect(
      fieldsOf(
        await decide(id, {
          decision: 'PARTIALLY_DISCLOSED',
          disclosedCategories: ['contact.email'],
          subjectsDisclosed: 1,
        }),
      ),
    ).toEqual(['input.rationale']);
    expect(
      fieldsOf(
        await decide(id, {
          decision: 'PARTIALLY_DISCLOSED',
          disclosedCategories: ['contact.email'],
          rationale: 'only e-mail',
        }),
      ),
    ).toEqual(['input.subjectsDisclosed']);
    expect(await count(h, 'disclosure_requests')).toBe(requests);
    expect(await count(h, 'audit_events')).toBe(events);
    expect(await count(h, 'transfers')).toBe(transfers);
    expect((await review(id)).currentState).toBe('UNDER_REVIEW'); // nothing was decided
  });
});

describe('receiving: bad input', () => {
  test('a bad country, a due date before receipt, unknown categories, an unknown or wrong-type office: typed errors naming the field, nothing written', async () => {
    const base = {
      officeId: office.id,
      authorityName: 'Some authority',
      authorityType: 'LAW_ENFORCEMENT',
      authorityCountry: 'DE',
      instrument: 'COURT_ORDER',
      reference: 'R-1',
      dueAt: new Date(Date.now() + 30 * DAY).toISOString(),
      requestedCategories: ['contact.email'],
      subjectsRequested: 1,
    };
    const [requests, events] = [await count(h, 'disclosure_requests'), await count(h, 'audit_events')];
    const cases: [Record<string, unknown>, string, string?][] = [
      [{ authorityCountry: 'XX' }, 'ValidationError', 'input.authorityCountry'],
      [{ authorityCountry: 'de' }, 'ValidationError', 'input.authorityCountry'],
      [{ authorityCountry: 'DEU' }, 'ValidationError', 'input.authorityCountry'],
      [
        { receivedAt: new Date().toISOString(), dueAt: new Date(Date.now() - DAY).toISOString() },
        'ValidationError',
        'input.dueAt',
      ],
      [{ requestedCategories: ['no.such.category'] }, 'ValidationError'],
      [{ requestedCategories: [] }, 'ValidationError', 'input.requestedCategories'],
      [{ authorityName: '' }, 'ValidationError', 'input.authorityName'],
      [{ officeId: Buffer.from('Office:999999').toString('base64') }, 'NotFoundError'],
      [{ officeId: Buffer.from('Contractor:1').toString('base64') }, 'ValidationError', 'input.officeId'],
    ];
    for (const [change, type, field] of cases) {
      const r = await call('receiveDisclosureRequest', 'ReceiveDisclosureRequestInput', { ...base, ...change });
      expect(r.__typename, JSON.stringify({ change, r })).toBe(type);
      if (field)
        expect(
          r.issues.map((i: { field: string }) => i.field),
          JSON.stringify(r),
        ).toContain(field);
    }
    expect(await count(h, 'disclosure_requests')).toBe(requests);
    expect(await count(h, 'audit_events')).toBe(events);
  });
});

describe('disclosure writes its transfer; Art. 48', () => {
  test('a domestic request is not flagged; DISCLOSED writes a LEGAL_DISCLOSURE transfer in the same transaction', async () => {
    const id = await requestIn('UNDER_REVIEW');
    const r = (await decide(id)).disclosureRequest;
    expect(r).toMatchObject({
      status: 'DISCLOSED',
      foreignAuthority: false,
      disclosedCategories: ['contact.email', 'contact.name'],
      subjectsDisclosed: 3,
    });
    expect(r.transfers).toEqual([
      expect.objectContaining({
        kind: 'LEGAL_DISCLOSURE',
        categories: ['contact.email', 'contact.name'],
        recordCount: 3,
        importerAuthority: 'Landeskriminalamt Berlin',
        importerCountry: 'DE',
        mechanism: 'NOT_REQUIRED',
        thirdCountry: false,
      }),
    ]);
    const rejected = (
      await decide(await requestIn('UNDER_REVIEW'), { decision: 'REJECTED', rationale: 'no legal basis' })
    ).disclosureRequest;
    expect(rejected.transfers).toEqual([]);
  });

  test("a request from outside the exporter's jurisdiction is flagged and cannot be disclosed without a legal basis", async () => {
    const r = await receive({
      authorityName: 'US Department of Justice',
      authorityType: 'GOVERNMENT_AGENCY',
      authorityCountry: 'US',
      instrument: 'SUBPOENA',
      reference: 'DOJ-1',
    });
    expect(r.foreignAuthority).toBe(true);
    expect(r.foreignAuthorityReason).toMatch(/Art\. 48/);
    await review(r.id);
    const transfers = await count(h, 'transfers');
    const refused = await decide(r.id);
    expect(refused.__typename).toBe('PolicyViolationError');
    expect(refused.reason).toMatch(/Art\. 48/);
    // A legal basis alone is not a transfer mechanism for a route to the US authority.
    const noMechanism = await decide(r.id, { legalBasis: 'MLAT US-DE 2003, request 2026/44' });
    expect(noMechanism.__typename).toBe('PolicyViolationError');
    expect(await count(h, 'transfers')).toBe(transfers);
    const still = await h.gql(
      auditor,
      `query($id: ID!) { node(id: $id) { ... on DisclosureRequest { status legalBasis } } }`,
      { id: r.id },
    );
    expect(still.body.data.node).toEqual({ status: 'UNDER_REVIEW', legalBasis: null });

    const ok = (
      await decide(r.id, {
        legalBasis: 'MLAT US-DE 2003, request 2026/44',
        mechanism: 'LEGAL_CLAIMS',
        decision: 'PARTIALLY_DISCLOSED',
        disclosedCategories: ['contact.email'],
        subjectsDisclosed: 2,
        rationale: 'names withheld',
      })
    ).disclosureRequest;
    expect(ok).toMatchObject({ status: 'PARTIALLY_DISCLOSED', legalBasis: 'MLAT US-DE 2003, request 2026/44' });
    expect(ok.transfers).toEqual([
      expect.objectContaining({
        kind: 'LEGAL_DISCLOSURE',
        importerCountry: 'US',
        mechanism: 'LEGAL_CLAIMS',
        thirdCountry: true,
        categories: ['contact.email'],
        recordCount: 2,
        derogationJustification: 'MLAT US-DE 2003, request 2026/44',
      }),
    ]);

    // The auditor's question: which requests came from foreign authorities, and what was disclosed.
    const foreign = await h.gql(
      auditor,
      `{ disclosureRequests(foreignOnly: true) { nodes { authorityCountry status legalBasis disclosedCategories } } }`,
    );
    expect(foreign.body.data.disclosureRequests.nodes).toEqual([
      {
        authorityCountry: 'US',
        status: 'PARTIALLY_DISCLOSED',
        legalBasis: 'MLAT US-DE 2003, request 2026/44',
        disclosedCategories: ['contact.email'],
      },
    ]);
  });
});

describe('overdue and transparency', () => {
  test('overdue: undecided and past due only', async () => {
    const past = (d: number) => new Date(Date.now() - d * DAY).toISOString();
    const late = await receive({ reference: 'LATE-1', receivedAt: past(40), dueAt: past(10) });
    const lateDecided = await receive({ reference: 'LATE-2', receivedAt: past(40), dueAt: past(5) });
    await review(lateDecided.id);
    await decide(lateDecided.id, { decision: 'REJECTED', rationale: 'x' });
    const q = await h.gql(
      auditor,
      `{ overdueDisclosureRequests(first: 50) { nodes { id overdue } } disclosureRequests(overdueOnly: true) { nodes { id } } }`,
    );
    expect(q.body.errors).toBeUndefined();
    expect(q.body.data.overdueDisclosureRequests.nodes).toEqual([{ id: late.id, overdue: true }]);
    expect(q.body.data.disclosureRequests.nodes).toEqual([{ id: late.id }]);
  });

  test("overdue as the registry's clock reads: due in two days, overdue once the clock is three days on", async () => {
    const soon = await receive({ reference: 'SOON-1', dueAt: new Date(Date.now() + 2 * DAY).toISOString() });
    expect(soon.overdue).toBe(false);
    const OVERDUE = `query($id: ID!) { node(id: $id) { ... on DisclosureRequest { overdue } }
      overdueDisclosureRequests(first: 50) { nodes { id } } disclosureRequests(overdueOnly: true, first: 50) { nodes { id } } }`;
    const read = async () => {
      const q = await h.gql(auditor, OVERDUE, { id: soon.id });
      expect(q.body.errors).toBeUndefined();
      const ids = (c: { nodes: { id: string }[] }) => c.nodes.map((n) => n.id);
      return {
        overdue: q.body.data.node.overdue,
        listed: ids(q.body.data.overdueDisclosureRequests),
        filtered: ids(q.body.data.disclosureRequests),
      };
    };
    expect(await read()).toMatchObject({
      overdue: false,
      listed: expect.not.arrayContaining([soon.id]),
      filtered: expect.not.arrayContaining([soon.id]),
    });
    h.clock.advance(3 * DAY);
    try {
      expect(await read()).toMatchObject({
        overdue: true,
        listed: expect.arrayContaining([soon.id]),
        filtered: expect.arrayContaining([soon.id]),
      });
    } finally {
      h.clock.reset();
    }
    // Decided, it is no longer overdue however late.
    await review(soon.id);
    await decide(soon.id, { decision: 'REJECTED', rationale: 'overbroad' });
    h.clock.advance(3 * DAY);
    try {
      expect(await read()).toMatchObject({
        overdue: false,
        listed: expect.not.arrayContaining([soon.id]),
        filtered: expect.not.arrayContaining([soon.id]),
      });
    } finally {
      h.clock.reset();
    }
  });

  test('a report period must end after it starts: GraphQL and CSV refuse it, naming `to`', async () => {
    const at = new Date(Date.now() - 30 * DAY).toISOString();
    const r = await h.gql(
      auditor,
      `query($from: DateTime!, $to: DateTime!) { transparencyReport(from: $from, to: $to) { country } }`,
      { from: at, to: at },
    );
    expect(r.body.data ?? null).toBeNull();
    expect(r.body.errors[0].extensions.code).toBe('VALIDATION_FAILED');
    expect(r.body.errors[0].message).toMatch(/args\.to: must be after from/);
    const file = await csv(h, auditor, `/export/transparency-report.csv?${new URLSearchParams({ from: at, to: at })}`);
    expect(file.status).toBe(400);
    expect(file.text).toMatch(/must be after from/);
  });

  test('transparency report per country and authority type; CSV equals GraphQL', async () => {
    const from = new Date(Date.now() - 365 * DAY).toISOString();
    const to = new Date(Date.now() + DAY).toISOString();
    const r = await h.gql(
      auditor,
      `query($from: DateTime!, $to: DateTime!) { transparencyReport(from: $from, to: $to) {
      country authorityType received disclosed partiallyDisclosed rejected withdrawn pending subjectsAffected } }`,
      { from, to },
    );
    expect(r.body.errors).toBeUndefined();
    const rows = r.body.data.transparencyReport;
    const us = rows.find((x: any) => x.country === 'US');
    expect(us).toEqual({
      country: 'US',
      authorityType: 'GOVERNMENT_AGENCY',
      received: 1,
      disclosed: 0,
      partiallyDisclosed: 1,
      rejected: 0,
      withdrawn: 0,
      pending: 0,
      subjectsAffected: 2,
    });
    const de = rows.find((x: any) => x.country === 'DE');
    expect(de.received).toBe((await count(h, 'disclosure_requests')) - 1);
    expect(de.received).toBe(de.disclosed + de.partiallyDisclosed + de.rejected + de.withdrawn + de.pending);

    const file = await csv(h, auditor, `/export/transparency-report.csv?${new URLSearchParams({ from, to })}`);
    expect(file.status).toBe(200);
    const [header, ...lines] = parseCsv(file.text);
    expect(
      lines.map((l) => Object.fromEntries(header!.map((k, i) => [k, /^\d+$/.test(l[i]!) ? Number(l[i]) : l[i]]))),
    ).toEqual(rows);
    expect((await csv(h, auditor, '/export/transparency-report.csv')).status).toBe(400);
  });

  test('auditors read but cannot change requests; contractors can do neither', async () => {
    const id = await requestIn('RECEIVED');
    const { token: contractor } = await contractorWithToken(h, compliance, { name: 'Curious contractor' });
    const writes = [
      `mutation { receiveDisclosureRequest(input: { officeId: "${office.id}", authorityName: "x", authorityType: COURT, authorityCountry: "DE", instrument: WARRANT, reference: "r", dueAt: "${new Date(Date.now() + DAY).toISOString()}", requestedCategories: ["contact.email"], subjectsRequested: 1 }) { __typename } }`,
      `mutation { startDisclosureReview(input: { id: "${id}" }) { __typename } }`,
      `mutation { withdrawDisclosureRequest(input: { id: "${id}", reason: "no" }) { __typename } }`,
      `mutation { decideDisclosureRequest(input: { id: "${id}", decision: REJECTED, rationale: "no" }) { __typename } }`,
    ];
    const [requests, events] = [await count(h, 'disclosure_requests'), await count(h, 'audit_events')];
    for (const token of [auditor, contractor]) {
      for (const write of writes) {
        const r = await h.gql(token, write);
        expect(r.body.errors?.[0]?.extensions?.code, JSON.stringify(r.body)).toBe('FORBIDDEN');
        expect(r.body.data).toBeNull();
      }
    }
    expect(await count(h, 'disclosure_requests')).toBe(requests);
    expect(await count(h, 'audit_events')).toBe(events);
    const stillReceived = await h.gql(auditor, `{ node(id: "${id}") { ... on DisclosureRequest { status } } }`);
    expect(stillReceived.body.data.node.status).toBe('RECEIVED');

    const year = { from: new Date(Date.now() - 365 * DAY).toISOString(), to: new Date(Date.now() + DAY).toISOString() };
    const reads = [
      '{ disclosureRequests(first: 5) { nodes { id } } }',
      `{ transparencyReport(from: "${year.from}", to: "${year.to}") { country } }`,
    ];
    for (const read of reads) {
      expect((await h.gql(auditor, read)).body.errors).toBeUndefined();
      const refused = await h.gql(contractor, read);
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(refused.body.data).toBeNull();
    }
  });
});

describe('numbers and dates that make no sense', () => {
  test('no subjects requested or disclosed, a request received in the future, a gag order ending before receipt: refused', async () => {
    const base = {
      officeId: office.id,
      authorityName: 'Some authority',
      authorityType: 'LAW_ENFORCEMENT',
      authorityCountry: 'DE',
      instrument: 'COURT_ORDER',
      reference: 'R-2',
      dueAt: new Date(Date.now() + 30 * DAY).toISOString(),
      requestedCategories: ['contact.email'],
      subjectsRequested: 1,
    };
    const fieldOf = async (change: Record<string, unknown>) => {
      const r = await call('receiveDisclosureRequest', 'ReceiveDisclosureRequestInput', { ...base, ...change });
      expect(r.__typename, JSON.stringify(r)).toBe('ValidationError');
      return r.issues.map((i: { field: string }) => i.field);
    };
    expect(await fieldOf({ subjectsRequested: 0 })).toEqual(['input.subjectsRequested']);
    expect(
      await fieldOf({
        receivedAt: new Date(Date.now() + 365 * DAY).toISOString(),
        dueAt: new Date(Date.now() + 400 * DAY).toISOString(),
      }),
    ).toEqual(['input.receivedAt']);
    expect(await fieldOf({ gagUntil: '1999-01-01' })).toEqual(['input.gagUntil']);
    const id = await requestIn('UNDER_REVIEW');
    const partial = await decide(id, {
      decision: 'PARTIALLY_DISCLOSED',
      disclosedCategories: ['contact.email'],
      subjectsDisclosed: 0,
      rationale: 'none',
    });
    expect(partial.issues.map((i: { field: string }) => i.field)).toEqual(['input.subjectsDisclosed']);
    expect((await review(id)).__typename).toBe('InvalidStateError'); // still under review
  });
});
