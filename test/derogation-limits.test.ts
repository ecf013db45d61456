// "Occasional" means occasional: Art. 49 derogations per route and derogation are limited (transfers and records
// per rolling 12 months) by policy data; beyond it a transfer is POLICY_VIOLATION naming the safeguard to use.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { onPostgres, startHarness, type Harness } from './harness.js';
import { createOffice, mutate, registerContractor, setStatus, grant } from './fixtures.js';
import { recordTransfer, smallRegistry, PAST } from './transfer-fixtures.js';
import { until } from './until.js';
import { rowsOf } from '../src/db/rows.js';

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
    sql`select (select count(*) from audit_events)::int as e, (select count(*) from transfers)::int as t,
      (select count(*) from policy_changes)::int as c,
      (select json_agg(l order by l.id)::text from derogation_limits l) as limits`,
  );
  return rowsOf<any>(r)[0];
}

const DAY = 86_400_000;
const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString();

const USE =
  'occasionalUse { derogation exporterCountry importerCountry transfers records maxTransfers maxRecords exhausted }';

/** A transfer under `derogation` from the registry's DE office to its IN contractor, at an instant (ms). */
const toIndia =
  (reg: Awaited<ReturnType<typeof smallRegistry>>, derogation: string, justification: string, recordCount: number) =>
  (at: number) =>
    recordTransfer(h, compliance, {
      officeId: reg.office.id,
      contractorId: reg.india.id,
      mechanism: derogation,
      derogationJustification: justification,
      recordCount,
      occurredAt: new Date(at).toISOString(),
    });

/** A derogation limit is a policy change like any other: one path, applyPolicyChange. */
const setLimit = (input: Record<string, unknown>, effectiveAt?: string, token = compliance) =>
  mutate(
    h,
    token,
    'applyPolicyChange',
    'PolicyChangeInput',
    { reason: 'DPO review of occasional transfers', effectiveAt, setDerogationLimit: input },
    `... on PolicyChangeApplied { change { id kind effectiveAt appliedAt } impact { grants { reason } ${USE} } }`,
  );

async function previewLimit(input: Record<string, unknown>, effectiveAt?: string) {
  const r = await h.gql(
    compliance,
    `query($input: PolicyChangeInput!) { previewPolicyChange(input: $input) { __typename
      ... on Error { code message } ... on ValidationError { issues { field message } }
      ... on PolicyImpact { effectiveAt grants { reason } ${USE} } } }`,
    { input: { reason: 'what would it do', effectiveAt, setDerogationLimit: input } },
  );
  expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
  return r.body.data.previewPolicyChange;
}

/** checkRoute for one occasional transfer under a derogation at `at`: the verdict and the limit in force then. */
async function checkOccasional(from: string, to: string, derogation: string, at: string) {
  const r = await h.gql(
    compliance,
    `query($at: DateTime!) { transferPolicy(asOf: $at) {
      checkRoute(from: "${from}", to: "${to}", context: TRANSFER, mechanism: ${derogation},
        derogationJustification: "asked") { allowed occasionalLimit { derogation maxTransfers maxRecords effectiveFrom endsAt } }
      derogationLimits { derogation exporterCountry importerCountry maxTransfers maxRecords effectiveFrom endsAt } } }`,
    { at },
  );
  expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
  return r.body.data.transferPolicy;
}

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

  test('rule: staff set a limit per route and derogation by a policy change (audited); the most specific row applies', async () => {
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
    expect(set.__typename, JSON.stringify(set)).toBe('PolicyChangeApplied');
    expect(set.change.kind).toBe('setDerogationLimit');
    // A limit judges occasional transfers, never a standing grant: it suspends none.
    expect(set.impact.grants).toEqual([]);
    expect((await send()).__typename).toBe('RecordTransferPayload');
    const second = await send();
    expect(second.reason).toMatch(/limit of 1 transfer\(s\) and 5 record\(s\)/);
    // Raising it (the next version of the same key) lets the next one through; both changes are audited.
    h.clock.advance(1000);
    await setLimit({
      derogation: 'CONTRACT_WITH_SUBJECT',
      exporterCountry: 'DE',
      importerCountry: 'BR',
      maxTransfers: 2,
      maxRecords: 5,
    });
    expect((await send()).__typename).toBe('RecordTransferPayload');
    const r: any = await h.database.db.execute(
      sql`select count(*)::int as n,
        (select count(*)::int from derogation_limits where importer_country = 'BR') as versions,
        (select count(*)::int from derogation_limits where importer_country = 'BR' and valid_until is null) as open
        from audit_events where action = 'applyPolicyChange' and after->>'kind' = 'setDerogationLimit'
          and after->'details'->>'importerCountry' = 'BR'`,
    );
    expect(rowsOf<any>(r)[0]).toMatchObject({ n: 2, versions: 2, open: 1 });
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
      [{ exporterCountry: 'XX', maxTransfers: 1, maxRecords: 1 }, 'input.setDerogationLimit.exporterCountry'],
      [{ maxTransfers: -1, maxRecords: 1 }, 'input.setDerogationLimit.maxTransfers'],
      [{ maxTransfers: 1, maxRecords: -5 }, 'input.setDerogationLimit.maxRecords'],
      // The default in force is 4 transfers and 10,000 records: a change to the same is no change.
      [{ maxTransfers: 4, maxRecords: 10_000 }, 'input.setDerogationLimit'],
    ] as const) {
      for (const r of [await setLimit(input), await previewLimit(input)]) {
        expect(r.__typename, JSON.stringify(r)).toBe('ValidationError');
        expect(r.issues.map((i: { field: string }) => i.field)).toEqual([field]);
      }
    }
    // Effective in the past: the registry already judged transfers under the limit in force then.
    const past = await setLimit(
      { maxTransfers: 9, maxRecords: 9 },
      new Date(h.clock.now().getTime() - DAY).toISOString(),
    );
    expect(past.__typename).toBe('ValidationError');
    expect(past.issues[0].field).toBe('input.effectiveAt');
    // Not a derogation (SCC is a safeguard) or no such mechanism: refused by the schema before anything runs.
    for (const derogation of ['SCC', 'GOOD_INTENTIONS']) {
      const r = await h.gql(
        compliance,
        `mutation { applyPolicyChange(input: { reason: "x", setDerogationLimit: { derogation: ${derogation}, maxTransfers: 1, maxRecords: 1 } }) { __typename } }`,
      );
      expect(r.body.errors[0].message).toMatch(/Derogation/);
      expect(r.body.data ?? null).toBeNull();
    }
    const auditor = await h.gql(
      await h.staffToken('AUDITOR'),
      'mutation { applyPolicyChange(input: { reason: "x", setDerogationLimit: { maxTransfers: 100, maxRecords: 100 } }) { __typename } }',
    );
    expect(auditor.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(await counts()).toEqual(before);
  });

  test('rule: a limit effective later does not apply before it; a transfer is judged under the limit in force at its instant', async () => {
    const reg = await smallRegistry(h, compliance, ' scheduled');
    const now = h.clock.now().getTime();
    const consent = toIndia(reg, 'PUBLIC_INTEREST', 'public health reporting', 10);
    expect((await consent(now - 3 * DAY)).__typename).toBe('RecordTransferPayload');
    expect((await consent(now - 2 * DAY)).__typename).toBe('RecordTransferPayload');
    const effective = new Date(now + DAY).toISOString();
    const limit = {
      derogation: 'PUBLIC_INTEREST',
      exporterCountry: 'DE',
      importerCountry: 'IN',
      maxTransfers: 2,
      maxRecords: 1000,
    };

    // Preview: the route's use in the 12 months up to the change, under the new limit: exhausted. Nothing written.
    const before = await counts();
    const preview = await previewLimit(limit, effective);
    expect(preview.__typename, JSON.stringify(preview)).toBe('PolicyImpact');
    expect(preview).toMatchObject({ effectiveAt: effective, grants: [] });
    expect(preview.occasionalUse).toEqual([
      {
        derogation: 'PUBLIC_INTEREST',
        exporterCountry: 'DE',
        importerCountry: 'IN',
        transfers: 2,
        records: 20,
        maxTransfers: 2,
        maxRecords: 1000,
        exhausted: true,
      },
    ]);
    expect(await counts()).toEqual(before);

    // Applied effective tomorrow: the same impact, recorded, pending.
    const applied = await setLimit(limit, effective);
    expect(applied.__typename, JSON.stringify(applied)).toBe('PolicyChangeApplied');
    expect(applied.change).toMatchObject({ kind: 'setDerogationLimit', effectiveAt: effective, appliedAt: null });
    expect(applied.impact.occasionalUse).toEqual(preview.occasionalUse);
    // A second change of the same key before the one scheduled would be overtaken by it: refused.
    const overtaken = await setLimit({ ...limit, maxTransfers: 3 });
    expect(overtaken.__typename).toBe('ConflictError');
    expect(overtaken.message).toMatch(/a later change to the limit of PUBLIC_INTEREST on DE → IN takes effect/);

    // Before the instant: the default (4) applies, and the policy says so; after it, the new limit.
    const today = await checkOccasional('DE', 'IN', 'PUBLIC_INTEREST', new Date(now).toISOString());
    expect(today.checkRoute).toMatchObject({ allowed: true, occasionalLimit: { derogation: null, maxTransfers: 4 } });
    expect(today.derogationLimits.filter((l: any) => l.importerCountry === 'IN')).toEqual([]);
    const later = await checkOccasional('DE', 'IN', 'PUBLIC_INTEREST', new Date(now + 2 * DAY).toISOString());
    expect(later.checkRoute.occasionalLimit).toEqual({
      derogation: 'PUBLIC_INTEREST',
      maxTransfers: 2,
      maxRecords: 1000,
      effectiveFrom: effective,
      endsAt: null,
    });
    expect(later.derogationLimits).toContainEqual({ ...limit, effectiveFrom: effective, endsAt: null });
    expect((await consent(now - DAY)).__typename).toBe('RecordTransferPayload');

    h.clock.advance(DAY + 1000);
    // The scheduler applies the change at its instant, on its own (and before the next test counts rows).
    await until(
      async () =>
        (await h.gql(compliance, '{ policyChanges(first: 1) { nodes { appliedAt } } }')).body.data.policyChanges
          .nodes[0].appliedAt !== null,
      'the scheduled limit to be applied',
    );
    // Now in force: a fourth transfer in 12 months is refused under the new limit of 2…
    const refused = await consent(now + DAY + 500);
    expect(refused.__typename, JSON.stringify(refused)).toBe('PolicyViolationError');
    expect(refused.reason).toMatch(/4 transfer\(s\) and 40 record\(s\).*limit of 2 transfer\(s\) and 1000 record\(s\)/);
    // …while one backdated before the change is judged under the limit of its day (4): three before it, so allowed.
    const backdated = await consent(now - 4 * DAY);
    expect(backdated.__typename, JSON.stringify(backdated)).toBe('RecordTransferPayload');
    // The next backdated one would be a fifth in the 12 months of its day: refused under the old limit too.
    const fifth = await consent(now - 5 * DAY);
    expect(fifth.reason).toMatch(/limit of 4 transfer\(s\)/);
  });

  test('rule: the preview counts use as a transfer is judged: the busiest 12 months around the change, not only before', async () => {
    const reg = await smallRegistry(h, compliance, ' window');
    const now = h.clock.now().getTime();
    const contract = toIndia(reg, 'CONTRACT_IN_SUBJECT_INTEREST', 'booking for the subject', 3);
    // One a day ago, one half a minute ahead (a caller's clock may run that far ahead of the registry's).
    for (const at of [now - DAY, now + 30_000]) expect((await contract(at)).__typename).toBe('RecordTransferPayload');
    const limit = {
      derogation: 'CONTRACT_IN_SUBJECT_INTEREST',
      exporterCountry: 'DE',
      importerCountry: 'IN',
      maxTransfers: 2,
      maxRecords: 1000,
    };
    const expected = { ...limit, transfers: 2, records: 6, exhausted: true };
    expect((await previewLimit(limit)).occasionalUse).toEqual([expected]);
    const applied = await setLimit(limit);
    expect(applied.impact.occasionalUse).toEqual([expected]);
    // And indeed: the next transfer now is refused, counting the one ahead of it.
    const next = await contract(h.clock.now().getTime());
    expect(next.__typename, JSON.stringify(next)).toBe('PolicyViolationError');
    expect(next.reason).toMatch(/3 transfer\(s\) and 9 record\(s\).*limit of 2 transfer\(s\)/);
  });

  test('the deprecated setDerogationLimit mutation is a policy change effective now, versioned and refused alike', async () => {
    const OLD = `mutation($input: SetDerogationLimitInput!) { setDerogationLimit(input: $input) { __typename
      ... on Error { code message } ... on ValidationError { issues { field } }
      ... on SetDerogationLimitPayload { derogationLimit {
        derogation exporterCountry importerCountry maxTransfers maxRecords effectiveFrom endsAt } } } }`;
    const old = async (input: Record<string, unknown>, token = compliance) => {
      const r = await h.gql(token, OLD, { input });
      expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
      return r.body.data.setDerogationLimit;
    };
    const key = { derogation: 'CONTRACT_IN_SUBJECT_INTEREST', exporterCountry: 'DE', importerCountry: 'MA' };
    const first = await old({ ...key, maxTransfers: 5, maxRecords: 50 });
    expect(first.__typename, JSON.stringify(first)).toBe('SetDerogationLimitPayload');
    const from = first.derogationLimit.effectiveFrom;
    expect(first.derogationLimit).toEqual({
      ...key,
      maxTransfers: 5,
      maxRecords: 50,
      effectiveFrom: from,
      endsAt: null,
    });
    // Recorded as a policy change of that kind, applied at once.
    const changes = await h.gql(
      compliance,
      '{ policyChanges(first: 1) { nodes { kind reason effectiveAt appliedAt } } }',
    );
    expect(changes.body.data.policyChanges.nodes[0]).toEqual({
      kind: 'setDerogationLimit',
      reason: 'set with the deprecated setDerogationLimit mutation',
      effectiveAt: from,
      appliedAt: from,
    });
    // Setting it again versions the row: the first version ends where the next begins.
    h.clock.advance(1000);
    const second = await old({ ...key, maxTransfers: 6, maxRecords: 50 });
    expect(second.derogationLimit).toMatchObject({ maxTransfers: 6, endsAt: null });
    const rows: any = await h.database.db.execute(
      sql`select max_transfers, valid_from, valid_until, change_id is not null as by_change from derogation_limits
        where derogation = 'CONTRACT_IN_SUBJECT_INTEREST' and exporter_country = 'DE' and importer_country = 'MA'
        order by valid_from`,
    );
    const versions = rowsOf<any>(rows).map((r: any) => ({
      max: Number(r.max_transfers),
      from: new Date(r.valid_from).toISOString(),
      until: r.valid_until && new Date(r.valid_until).toISOString(),
      byChange: r.by_change,
    }));
    expect(versions).toEqual([
      { max: 5, from, until: second.derogationLimit.effectiveFrom, byChange: true },
      { max: 6, from: second.derogationLimit.effectiveFrom, until: null, byChange: true },
    ]);
    // The policy change's rules apply: the same limit again is nothing to change; auditors may not.
    const before = await counts();
    const same = await old({ ...key, maxTransfers: 6, maxRecords: 50 });
    expect(same.__typename).toBe('ValidationError');
    expect(same.message).toMatch(/nothing to change/);
    const auditor = await h.gql(await h.staffToken('AUDITOR'), OLD, {
      input: { ...key, maxTransfers: 7, maxRecords: 7 },
    });
    expect(auditor.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(await counts()).toEqual(before);
  });

  test('rule: ending a route’s limit lets its routes fall to the next most specific one; the default never ends', async () => {
    const reg = await smallRegistry(h, compliance, ' end');
    const register = () =>
      recordTransfer(h, compliance, {
        officeId: reg.office.id,
        contractorId: reg.india.id,
        mechanism: 'PUBLIC_REGISTER',
        derogationJustification: 'an extract of the public register',
        recordCount: 1,
      });
    const key = { derogation: 'PUBLIC_REGISTER', exporterCountry: 'DE', importerCountry: 'IN' };
    expect((await setLimit({ ...key, maxTransfers: 1, maxRecords: 100 })).__typename).toBe('PolicyChangeApplied');
    expect((await register()).__typename).toBe('RecordTransferPayload');
    expect((await register()).reason).toMatch(/limit of 1 transfer\(s\)/);
    h.clock.advance(1000);

    const end = (input: Record<string, unknown>) =>
      mutate(
        h,
        compliance,
        'applyPolicyChange',
        'PolicyChangeInput',
        { reason: 'route-specific limit withdrawn', endDerogationLimit: input },
        `... on PolicyChangeApplied { change { kind } impact { ${USE} } }`,
      );
    const before = await counts();
    // Refused, changing nothing: the default, a key with no limit in force.
    const refusals = [
      [{}, 'ValidationError'],
      [{ ...key, importerCountry: 'BR' }, 'NotFoundError'],
    ] as const;
    for (const [input, typename] of refusals) expect((await end(input)).__typename).toBe(typename);
    expect((await end({})).issues).toEqual([
      { field: 'input.endDerogationLimit', message: expect.stringMatching(/default limit .* never ends/) },
    ]);
    // Preview: the route it governed, under the default that governs it once it ends. Nothing written.
    const r = await h.gql(
      compliance,
      `query($input: PolicyChangeInput!) { previewPolicyChange(input: $input) { ... on PolicyImpact { ${USE} } } }`,
      { input: { reason: 'what if', endDerogationLimit: key } },
    );
    const fallBack = [{ ...key, transfers: 1, records: 1, maxTransfers: 4, maxRecords: 10000, exhausted: false }];
    expect(r.body.data.previewPolicyChange.occasionalUse).toEqual(fallBack);
    expect(await counts()).toEqual(before);

    const ended = await end(key);
    expect(ended).toMatchObject({ change: { kind: 'endDerogationLimit' }, impact: { occasionalUse: fallBack } });
    expect((await register()).__typename).toBe('RecordTransferPayload');
    expect((await end(key)).__typename).toBe('NotFoundError');
  });

  test('a limit change is in the audit log with its rows attested, and the log verifies', async () => {
    const auditor = await h.staffToken('AUDITOR');
    const set = await setLimit({ derogation: 'LEGAL_CLAIMS', maxTransfers: 7, maxRecords: 700 });
    expect(set.__typename, JSON.stringify(set)).toBe('PolicyChangeApplied');
    h.clock.advance(1000);
    const next = await setLimit({ derogation: 'LEGAL_CLAIMS', maxTransfers: 6, maxRecords: 600 });
    expect(next.__typename).toBe('PolicyChangeApplied');
    const r: any = await h.database.db.execute(
      sql`select e.seq::int as seq, l.id, x->>'hash' as hash, l.valid_until is null as open
        from audit_events e, jsonb_array_elements(e.row_hashes) x, derogation_limits l
        where e.action = 'applyPolicyChange' and x->>'table' = 'derogation_limits' and l.id::text = x->>'key'
          and l.derogation = 'LEGAL_CLAIMS'
        order by e.seq, l.id`,
    );
    const named = rowsOf<{ seq: number; id: number; hash: string; open: boolean }>(r);
    // The first change wrote its version; the second closed it and wrote the next: each row hashed by its event.
    const [first, closed, opened] = named;
    expect(named).toHaveLength(3);
    expect(closed!.seq).toBe(opened!.seq);
    expect(first!.seq).toBeLessThan(closed!.seq);
    expect([first!.id, closed!.id, opened!.id]).toEqual([first!.id, first!.id, opened!.id]);
    expect([closed!.open, opened!.open]).toEqual([false, true]);
    // Closing changed the row: its hash in the second event differs from the first's.
    expect(closed!.hash).not.toBe(first!.hash);
    expect(named.every((n) => /^[0-9a-f]{64}$/.test(n.hash))).toBe(true);
    await h.sealer.sealNow();
    const v = (await h.gql(auditor, '{ verifyAuditLog { ok rows { ok problemCount problems { table key reason } } } }'))
      .body.data.verifyAuditLog;
    expect(v).toMatchObject({ ok: true, rows: { ok: true, problemCount: 0 } });
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
    expect(rowsOf<any>(r)[0].n).toBe(3);
  });
});
