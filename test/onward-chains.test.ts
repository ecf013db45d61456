// Onward chains (GDPR Art. 44: EU data stays under the EU regime along the chain). A sub-processor receives data
// only through an onward grant under the grant of the processor that engaged it, judged from that processor's
// country to the sub-processor's under the office's regime; revoking the processor's grant ends the chain.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startHarness, type Harness } from './harness.js';
import { addLocation, createOffice, grant, issueToken, mutate, ok, registerContractor, setStatus } from './fixtures.js';
import { recordTransfer } from './transfer-fixtures.js';
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
    sql`select (select count(*) from audit_events)::int as e, (select count(*) from grants)::int as g, (select count(*) from transfers)::int as t`,
  );
  return rowsOf<any>(r)[0];
}

const tryGrant = (input: Record<string, unknown>) =>
  mutate(
    h,
    compliance,
    'grantDataAccess',
    'GrantDataAccessInput',
    { purpose: 'TECHNICAL_SUPPORT', categories: ['contact.email'], ...input },
    '... on GrantDataAccessPayload { grant { id mechanism sccModule policyExplanation validUntil parentGrant { id } } }',
  );

/** A DE (or `officeCountry`) office, an ACTIVE IN processor granted e-mail and name under SCC, and its ACTIVE sub-processor in `subCountry`. */
async function chain(tag: string, subCountry = 'PH', officeCountry = 'DE') {
  const office = await createOffice(h, compliance, { name: `Office ${tag}`, country: officeCountry });
  const processor = await registerContractor(h, compliance, { legalName: `Helpdesk ${tag}`, country: 'IN' });
  const sub = await registerContractor(h, compliance, {
    legalName: `Sub ${tag}`,
    country: subCountry,
    role: 'SUBPROCESSOR',
    parentContractorId: processor.id,
  });
  for (const c of [processor, sub]) await setStatus(h, compliance, c.id, 'ACTIVE');
  const uk = officeCountry === 'GB';
  const parent = await grant(h, compliance, {
    contractorId: processor.id,
    officeId: office.id,
    categories: ['contact.email', 'contact.name'],
    validUntil: '2030-01-01T00:00:00Z',
    ...(uk ? { mechanism: 'IDTA' } : { mechanism: 'SCC', sccModule: 2 }),
  });
  return { office, processor, sub, parent };
}

describe('onward grants', () => {
  test('rule: an IN processor passing a DE office’s data to its PH sub-processor is judged IN → PH under the EU regime', async () => {
    const c = await chain('EU');
    // Bare: the EU regime applies, PH has no EU adequacy, processor to processor is module 3.
    const bare = await tryGrant({ contractorId: c.sub.id, parentGrantId: c.parent.id });
    expect(bare).toMatchObject({ __typename: 'PolicyViolationError', exporterCountry: 'IN', importerCountry: 'PH' });
    expect(bare.reason).toMatch(
      /onward IN → PH of data exported from DE: PH has no adequacy decision under European Union.*SCC module 3/,
    );
    // Not "NOT_REQUIRED", as if IN → PH were outside any regime.
    const none = await tryGrant({ contractorId: c.sub.id, parentGrantId: c.parent.id, mechanism: 'NOT_REQUIRED' });
    expect(none.reason).toMatch(/PH is outside European Union.*, so a mechanism is required/);
    const module2 = await tryGrant({
      contractorId: c.sub.id,
      parentGrantId: c.parent.id,
      mechanism: 'SCC',
      sccModule: 2,
    });
    expect(module2.reason).toMatch(/module 3 \(processor to processor\) is required/);
    const g = await tryGrant({ contractorId: c.sub.id, parentGrantId: c.parent.id, mechanism: 'SCC', sccModule: 3 });
    expect(g.__typename, JSON.stringify(g)).toBe('GrantDataAccessPayload');
    expect(g.grant).toMatchObject({
      mechanism: 'SCC',
      sccModule: 3,
      parentGrant: { id: c.parent.id },
      // Ends with its parent at the latest.
      validUntil: '2030-01-01T00:00:00.000Z',
    });
    expect(g.grant.policyExplanation).toMatch(/onward IN → PH of data exported from DE/);

    // The onward transfer records the original exporter's country and is judged the same way.
    const t = await recordTransfer(h, compliance, {
      officeId: c.office.id,
      contractorId: c.sub.id,
      viaContractorId: c.processor.id,
    });
    expect(t.__typename, JSON.stringify(t)).toBe('RecordTransferPayload');
    expect(t.transfer).toMatchObject({
      kind: 'ONWARD_TRANSFER',
      exporterCountry: 'IN',
      originCountry: 'DE',
      importerCountry: 'PH',
      mechanism: 'SCC',
      sccModule: 3,
      thirdCountry: true,
    });
  });

  test('rule: adequacy of the destination under the office’s regime covers an onward hop (IN → JP for an EU office)', async () => {
    const c = await chain('JP', 'JP');
    const g = await tryGrant({ contractorId: c.sub.id, parentGrantId: c.parent.id });
    expect(g.__typename, JSON.stringify(g)).toBe('GrantDataAccessPayload');
    expect(g.grant.mechanism).toBe('ADEQUACY');
    expect(g.grant.policyExplanation).toMatch(/JP is adequate under European Union/);
  });

  test('rule: back inside the regime needs nothing (IN → FR for a DE office)', async () => {
    const c = await chain('FR', 'FR');
    const g = await tryGrant({ contractorId: c.sub.id, parentGrantId: c.parent.id });
    expect(g.grant).toMatchObject({ mechanism: 'NOT_REQUIRED' });
    expect(g.grant.policyExplanation).toMatch(/FR is in European Union.*, the regime of DE/);
  });

  test('rule: a UK office’s chain stays under UK GDPR: IDTA or the UK Addendum to module 3, never EU SCCs alone', async () => {
    const c = await chain('UK', 'PH', 'GB');
    const scc = await tryGrant({ contractorId: c.sub.id, parentGrantId: c.parent.id, mechanism: 'SCC', sccModule: 3 });
    expect(scc.reason).toMatch(/under UK GDPR the EU SCCs alone do not safeguard a transfer from GB/);
    const addendum2 = await tryGrant({
      contractorId: c.sub.id,
      parentGrantId: c.parent.id,
      mechanism: 'UK_ADDENDUM',
      sccModule: 2,
    });
    expect(addendum2.reason).toMatch(/module 3 \(processor to processor\) is required/);
    const addendum = await tryGrant({
      contractorId: c.sub.id,
      parentGrantId: c.parent.id,
      mechanism: 'UK_ADDENDUM',
      sccModule: 3,
    });
    expect(addendum.grant).toMatchObject({ mechanism: 'UK_ADDENDUM', sccModule: 3 });
  });

  test('rule: a direct office → sub-processor grant is refused, naming the parent and its grant to go through', async () => {
    const c = await chain('direct');
    const before = await counts();
    const r = await tryGrant({ contractorId: c.sub.id, officeId: c.office.id, mechanism: 'SCC', sccModule: 2 });
    expect(r).toMatchObject({ __typename: 'PolicyViolationError', exporterCountry: 'DE', importerCountry: 'PH' });
    expect(r.reason).toMatch(
      /Sub direct is a sub-processor engaged by Helpdesk direct .*grant through it with parentGrantId/,
    );
    expect(r.reason).toContain(c.processor.id);
    expect(r.reason).toContain(c.parent.id);
    expect(await counts()).toEqual(before);
  });

  test('rule: an onward grant stays within its parent’s office, purpose, categories and validity', async () => {
    const c = await chain('within');
    const other = await chain('other');
    const before = await counts();
    const base = { contractorId: c.sub.id, parentGrantId: c.parent.id, mechanism: 'SCC', sccModule: 3 };
    const purpose = await tryGrant({ ...base, purpose: 'PRODUCT_IMPROVEMENT' });
    expect(purpose.reason).toMatch(
      /within its parent grant's purpose: .* is for TECHNICAL_SUPPORT, not PRODUCT_IMPROVEMENT/,
    );
    const categories = await tryGrant({ ...base, categories: ['contact.email', 'contact.postal_address'] });
    expect(categories.reason).toMatch(/within its parent grant's categories: .* does not give contact.postal_address/);
    const cases: [Record<string, unknown>, string][] = [
      [{ parentGrantId: other.parent.id }, 'input.parentGrantId'], // another processor's grant
      [{ officeId: other.office.id }, 'input.officeId'],
      [{ validUntil: '2031-01-01T00:00:00Z' }, 'input.validUntil'],
      [{ validFrom: '2020-01-01T00:00:00Z' }, 'input.validFrom'],
      [{ contractorId: c.processor.id }, 'input.parentGrantId'], // not a sub-processor
    ];
    for (const [change, field] of cases) {
      const r = await tryGrant({ ...base, ...change });
      expect(r.__typename, JSON.stringify({ change, r })).toBe('ValidationError');
      expect(r.issues.map((i: { field: string }) => i.field)).toEqual([field]);
    }
    const unknown = await tryGrant({ ...base, parentGrantId: Buffer.from('Grant:999999').toString('base64') });
    expect(unknown.__typename).toBe('NotFoundError');
    expect(await counts()).toEqual(before);
  });

  test('rule: revoking the parent grant ends the onward grants, at any depth, and their tokens', async () => {
    const c = await chain('revoke', 'JP');
    const onward = await grant(h, compliance, { contractorId: c.sub.id, parentGrantId: c.parent.id });
    // A sub-sub-processor engaged by the sub-processor, under the onward grant.
    const subsub = await registerContractor(h, compliance, {
      legalName: 'Sub-sub revoke',
      country: 'JP',
      role: 'SUBPROCESSOR',
      parentContractorId: c.sub.id,
    });
    await setStatus(h, compliance, subsub.id, 'ACTIVE');
    const deeper = await grant(h, compliance, { contractorId: subsub.id, parentGrantId: onward.id });
    const token = await issueToken(h, compliance, {
      contractorId: c.sub.id,
      categories: ['contact.email'],
      purposes: ['TECHNICAL_SUPPORT'],
    });
    const VIEWER = '{ viewer { __typename } }';
    expect((await h.gql(token.token, VIEWER)).status).toBe(200);

    await ok(h, compliance, 'revokeGrant', 'RevokeGrantInput', { id: c.parent.id, reason: 'contract ended' }, 'grant');
    const r = await h.gql(
      compliance,
      `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Grant { id status revocationReason } } }`,
      { ids: [onward.id, deeper.id] },
    );
    for (const g of r.body.data.nodes) {
      expect(g.status).toBe('REVOKED');
      expect(g.revocationReason).toMatch(new RegExp(`Parent grant ${c.parent.id} revoked: contract ended`));
    }
    expect((await h.gql(token.token, VIEWER)).status).toBe(401);
    // Each ended grant has its audit event.
    const events: any = await h.database.db.execute(
      sql`select count(*)::int as n from audit_events where action = 'revokeGrant'
        and entity_id in (${sql.join(
          [onward.id, deeper.id].map((id) => sql`${String(Buffer.from(id, 'base64').toString().split(':')[1])}`),
          sql`, `,
        )})`,
    );
    expect(rowsOf<any>(events)[0].n).toBe(2);
    // And nothing new reaches the sub-processor under the revoked chain.
    const again = await tryGrant({ contractorId: c.sub.id, parentGrantId: c.parent.id });
    expect(again).toMatchObject({ __typename: 'InvalidStateError' });
  });

  test('rule: a sub-processor’s new location is judged on the onward route its grant runs on', async () => {
    const c = await chain('location', 'JP');
    await grant(h, compliance, { contractorId: c.sub.id, parentGrantId: c.parent.id });
    const before = await counts();
    const r = await mutate(
      h,
      compliance,
      'addProcessingLocation',
      'AddProcessingLocationInput',
      { contractorId: c.sub.id, country: 'CN', operations: ['STORAGE'] },
      '',
    );
    expect(r).toMatchObject({ __typename: 'PolicyViolationError', exporterCountry: 'IN', importerCountry: 'CN' });
    expect(r.reason).toMatch(/active onward grant .*onward IN → CN of data exported from DE: CN has no adequacy/);
    expect(await counts()).toEqual(before);
    await addLocation(h, compliance, c.sub.id, 'FR'); // back in the EU: fine
  });
});

/** The numeric row id behind a global ID (`base64(Type:id)`), as the audit log's row hashes key it. */
const rowId = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':')[1]!;

describe('ending a parent grant in the audit chain', () => {
  const VERIFY = '{ verifyAuditLog { ok rows { ok problemCount problems { table key seq reason } } } }';

  test('rule: revoking the parent grant attests the onward grants it ended and their revoked tokens; a later edit is named', async () => {
    const auditor = await h.staffToken('AUDITOR');
    const c = await chain('attest', 'JP');
    const onward = await grant(h, compliance, { contractorId: c.sub.id, parentGrantId: c.parent.id });
    const token = await issueToken(h, compliance, {
      contractorId: c.sub.id,
      categories: ['contact.email'],
      purposes: ['TECHNICAL_SUPPORT'],
    });
    await ok(h, compliance, 'revokeGrant', 'RevokeGrantInput', { id: c.parent.id, reason: 'contract ended' }, 'grant');

    // Every event of the revoking transaction, with the rows they vouch for.
    const events = rowsOf<{ action: string; entity_id: string; row_hashes: unknown }>(
      await h.database.db.execute(sql`select action, entity_id, row_hashes from audit_events
        where xid = (select xid from audit_events where action = 'revokeGrant' and entity_id = ${rowId(c.parent.id)})
        order by seq`),
    );
    expect(events.map((e) => [e.action, e.entity_id])).toEqual([
      ['revokeGrant', rowId(c.parent.id)],
      ['revokeGrant', rowId(onward.id)],
    ]);
    const attested = events.flatMap((e) =>
      (typeof e.row_hashes === 'string' ? JSON.parse(e.row_hashes) : e.row_hashes).map(
        (x: { table: string; key: string; hash: string | null }) => `${x.table} ${x.key} ${x.hash ? 'hash' : 'null'}`,
      ),
    );
    expect(attested).toEqual(
      expect.arrayContaining([
        `grants ${rowId(c.parent.id)} hash`,
        `grants ${rowId(onward.id)} hash`,
        `access_tokens ${rowId(token.accessToken.id)} hash`,
      ]),
    );
    await h.sealer.sealNow();
    const v = (await h.gql(auditor, VERIFY)).body.data.verifyAuditLog;
    expect(v).toMatchObject({ ok: true, rows: { ok: true, problemCount: 0 } });

    // Brought back to life in SQL, behind the registry's back: verification names the onward grant's row.
    await h.asOwner(`update grants set status = 'ACTIVE', revoked_at = null, revocation_reason = null
      where id = ${rowId(onward.id)}`);
    const broken = (await h.gql(auditor, VERIFY)).body.data.verifyAuditLog;
    expect(broken.ok).toBe(false);
    expect(broken.rows.problems).toEqual([expect.objectContaining({ table: 'grants', key: rowId(onward.id) })]);
    // Put back as the event says, for the tests after this one.
    await h.asOwner(`update grants set status = 'REVOKED', revoked_at = g.revoked_at, revocation_reason = g.revocation_reason
      from (select revoked_at, revocation_reason from grants_history where id = ${rowId(onward.id)} and status = 'REVOKED'
        order by version_id limit 1) g where grants.id = ${rowId(onward.id)}`);
    expect((await h.gql(auditor, VERIFY)).body.data.verifyAuditLog.ok).toBe(true);
  });
});

describe('policy changes along a chain', () => {
  const IMPACT = 'grants { grant { id } reason validMechanisms { mechanism sccModule } } tokens { id }';
  const change = (input: Record<string, unknown>) =>
    mutate(
      h,
      compliance,
      'applyPolicyChange',
      'PolicyChangeInput',
      { reason: 'localisation law', ...input },
      `... on PolicyChangeApplied { change { id } impact { ${IMPACT} } }`,
    );
  const repaperAdequacy = (id: string) =>
    mutate(
      h,
      compliance,
      'repaperGrant',
      'RepaperGrantInput',
      { id, mechanism: 'ADEQUACY' },
      '... on RepaperGrantPayload { grant { id } }',
    );
  const status = async (id: string) =>
    (await h.gql(compliance, 'query($id: ID!) { node(id: $id) { ... on Grant { status } } }', { id })).body.data.node
      .status;

  test('rule: a policy change judges an onward grant on its onward route, not as a grant from the office', async () => {
    const c = await chain('policy hop', 'PH', 'PL');
    const onward = await grant(h, compliance, {
      contractorId: c.sub.id,
      parentGrantId: c.parent.id,
      mechanism: 'SCC',
      sccModule: 3,
    });
    // Reaches every grant from PL offices; breaks none of this chain (module 3 is right for IN → PH).
    const r = await change({
      addRestriction: { exporterCountry: 'PL', importerCountry: 'CN', legalBasis: 'Act', reason: 'x' },
    });
    expect(r.__typename, JSON.stringify(r)).toBe('PolicyChangeApplied');
    expect(r.impact.grants.map((g: { grant: { id: string } }) => g.grant.id)).not.toContain(onward.id);
    expect(await status(onward.id)).toBe('ACTIVE');
    // A restriction on the processor's country binds the onward hop that leaves it.
    const hop = await change({
      addRestriction: { exporterCountry: 'IN', importerCountry: 'PH', legalBasis: 'IN Act', reason: 'stays in IN' },
    });
    expect(hop.impact.grants).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          grant: { id: onward.id },
          reason: expect.stringMatching(/onward IN → PH.*forbidden by IN Act/),
        }),
      ]),
    );
    expect(await status(onward.id)).toBe('SUSPENDED_BY_POLICY');
  });

  test('rule: a policy change suspending the parent grant suspends its onward grants and their tokens; revoking the parent ends them', async () => {
    const c = await chain('policy parent', 'JP', 'CZ');
    const onward = await grant(h, compliance, { contractorId: c.sub.id, parentGrantId: c.parent.id });
    const token = await issueToken(h, compliance, {
      contractorId: c.sub.id,
      categories: ['contact.email'],
      purposes: ['TECHNICAL_SUPPORT'],
    });
    const r = await change({
      addRestriction: { exporterCountry: 'CZ', importerCountry: 'IN', legalBasis: 'CZ Act', reason: 'stays home' },
    });
    expect(r.__typename, JSON.stringify(r)).toBe('PolicyChangeApplied');
    expect(r.impact.grants).toEqual([
      expect.objectContaining({ grant: { id: c.parent.id }, reason: expect.stringMatching(/forbidden by CZ Act/) }),
      expect.objectContaining({
        grant: { id: onward.id },
        reason: expect.stringMatching(
          new RegExp(`the grant it runs under, ${c.parent.id}, is suspended by this change`),
        ),
      }),
    ]);
    expect(r.impact.tokens).toEqual([{ id: token.accessToken.id }]);
    expect(await status(onward.id)).toBe('SUSPENDED_BY_POLICY');
    expect((await h.gql(token.token, '{ viewer { __typename } }')).status).toBe(401);
    // The onward grant cannot be re-papered while its parent stays suspended.
    const repaper = await repaperAdequacy(onward.id);
    expect(repaper.__typename).toBe('InvalidStateError');
    expect(repaper.message).toMatch(/parent grant .* is SUSPENDED_BY_POLICY: re-paper or revoke it first/);
    // Revoking the suspended parent ends the suspended onward grant too: nothing is left to revive.
    await ok(h, compliance, 'revokeGrant', 'RevokeGrantInput', { id: c.parent.id, reason: 'route closed' }, 'grant');
    expect(await status(onward.id)).toBe('REVOKED');
  });

  test('rule: an onward grant is not re-papered while a change scheduled for later suspends its parent', async () => {
    const c = await chain('policy later', 'JP', 'SK');
    const onward = await grant(h, compliance, { contractorId: c.sub.id, parentGrantId: c.parent.id });
    const from = new Date(h.clock.now().getTime() + 24 * 3600 * 1000).toISOString();
    const r = await change({
      effectiveAt: from,
      addRestriction: { exporterCountry: 'SK', importerCountry: 'IN', legalBasis: 'SK Act', reason: 'stays home' },
    });
    expect(r.__typename, JSON.stringify(r)).toBe('PolicyChangeApplied');
    expect(r.impact.grants.map((g: { grant: { id: string } }) => g.grant.id)).toEqual([c.parent.id, onward.id]);
    const SUSPENSION = 'query($id: ID!) { node(id: $id) { ... on Grant { status suspendedByPolicyFrom } } }';
    const suspension = async (id: string) => (await h.gql(compliance, SUSPENSION, { id })).body.data.node;
    // Both still read ACTIVE today, and both are suspended from the same later instant.
    for (const id of [c.parent.id, onward.id])
      expect(await suspension(id)).toEqual({ status: 'ACTIVE', suspendedByPolicyFrom: new Date(from).toISOString() });
    const before = await counts();
    const repaper = await repaperAdequacy(onward.id);
    expect(repaper.__typename, JSON.stringify(repaper)).toBe('InvalidStateError');
    expect(repaper.message).toContain(`parent grant ${c.parent.id} is suspended by a policy change from ${from}`);
    expect(await counts()).toEqual(before);
    expect(await suspension(onward.id)).toEqual({
      status: 'ACTIVE',
      suspendedByPolicyFrom: new Date(from).toISOString(),
    });
  });
});

describe('checkRoute via a contractor', () => {
  const ASK = `query($from: String!, $to: String, $importer: ID, $via: ID, $m: TransferMechanism, $s: Int) {
    transferPolicy { checkRoute(from: $from, to: $to, importer: $importer, via: $via, mechanism: $m, sccModule: $s) {
      allowed mechanism sccModule importerCountry explanation } } }`;
  const ask = async (vars: Record<string, unknown>) => {
    const r = await h.gql(await h.staffToken('AUDITOR'), ASK, vars);
    return r.body;
  };

  test('rule: checkRoute asks about an onward importer, under the regime of `from`', async () => {
    const c = await chain('check');
    const toCountry = await ask({ from: 'DE', to: 'PH', via: c.processor.id });
    expect(toCountry.data.transferPolicy.checkRoute).toMatchObject({
      allowed: false,
      explanation: expect.stringMatching(/onward IN → PH of data exported from DE.*SCC module 3/),
    });
    const named = await ask({ from: 'DE', importer: c.sub.id, via: c.processor.id, m: 'SCC', s: 3 });
    expect(named.data.transferPolicy.checkRoute).toMatchObject({ allowed: true, mechanism: 'SCC', sccModule: 3 });
    // The importer must be engaged by `via`; an office is no onward importer.
    const other = await chain('check other');
    const wrong = await ask({ from: 'DE', importer: c.sub.id, via: other.processor.id });
    expect(wrong.errors[0].extensions.code).toBe('VALIDATION_FAILED');
    expect(wrong.errors[0].message).toContain('args.via');
    const office = await ask({ from: 'DE', importer: c.office.id, via: c.processor.id });
    expect(office.errors[0].message).toContain('args.via');
    const notContractor = await ask({ from: 'DE', to: 'PH', via: c.office.id });
    expect(notContractor.errors[0].extensions.code).toBe('VALIDATION_FAILED');
  });
});

describe('a processor suspended along a chain', () => {
  const RECORDS = '{ sharedRecords(purpose: TECHNICAL_SUPPORT) { nodes { subjectRef } } }';
  const COVERAGE =
    'query($id: ID!) { contractor(id: $id) { status tokenCoverage { refusal purposes { purpose categories } } } }';
  const subToken = async (contractorId: string) =>
    (await issueToken(h, compliance, { contractorId, categories: ['contact.email'], purposes: ['TECHNICAL_SUPPORT'] }))
      .token as string;
  const tryIssue = (contractorId: string) =>
    mutate(
      h,
      compliance,
      'issueAccessToken',
      'IssueAccessTokenInput',
      {
        contractorId,
        categories: ['contact.email'],
        purposes: ['TECHNICAL_SUPPORT'],
        scopes: ['RECORDS_READ'],
        lifetimeSeconds: 3600,
      },
      '... on IssueAccessTokenPayload { token } ... on InvalidStateError { currentState }',
    );
  const onwardTransfer = (c: Awaited<ReturnType<typeof chain>>) =>
    recordTransfer(h, compliance, { officeId: c.office.id, contractorId: c.sub.id, viaContractorId: c.processor.id });
  const heldBack = async (id: string) =>
    (await h.gql(compliance, 'query($id: ID!) { node(id: $id) { ... on Grant { status heldBackBy { id } } } }', { id }))
      .body.data.node;
  const recipients = async (): Promise<string[]> =>
    (
      await h.gql(compliance, '{ recordsOfProcessing { activities { recipients { legalName } } } }')
    ).body.data.recordsOfProcessing.activities.flatMap((a: { recipients: { legalName: string }[] }) =>
      a.recipients.map((r) => r.legalName),
    );
  /** A chain whose office holds one record, with an onward grant to the sub-processor. */
  async function fedChain(tag: string) {
    const c = await chain(tag, 'JP');
    const imported = await mutate(
      h,
      compliance,
      'importSharedRecords',
      'ImportSharedRecordsInput',
      {
        officeId: c.office.id,
        records: [{ subjectRef: `subj-${tag}`, values: { 'contact.email': 'ada@example.org' } }],
      },
      '... on ImportSharedRecordsPayload { imported }',
    );
    expect(imported).toMatchObject({ imported: 1 });
    const onward = await grant(h, compliance, { contractorId: c.sub.id, parentGrantId: c.parent.id });
    return { ...c, onward };
  }

  test('rule: a SUSPENDED processor’s sub-processor receives nothing, is refused naming it; ACTIVE again, it receives', async () => {
    const c = await fedChain('held');
    const bystander = await fedChain('bystander');
    const token = await subToken(c.sub.id);
    const bystanderToken = await subToken(bystander.sub.id);
    expect((await h.gql(token, RECORDS)).body.data.sharedRecords.nodes).toEqual([{ subjectRef: 'subj-held' }]);

    await setStatus(h, compliance, c.processor.id, 'SUSPENDED', 'audit finding');
    const before = await counts();
    // The sub-processor's own token, still live, fetches nothing: the refusal names the processor.
    const refused = (await h.gql(token, RECORDS)).body;
    expect(refused.data).toBeNull();
    expect(refused.errors[0].extensions).toMatchObject({ code: 'INVALID_STATE', processor: c.processor.id });
    expect(refused.errors[0].message).toMatch(/Its processor Helpdesk held \(.*\) is SUSPENDED/);
    // No token can be issued on the held-back grants, and the coverage says why.
    const issued = await tryIssue(c.sub.id);
    expect(issued).toMatchObject({ __typename: 'InvalidStateError', currentState: 'SUSPENDED' });
    expect(issued.message).toContain(c.processor.id);
    const coverage = (await h.gql(compliance, COVERAGE, { id: c.sub.id })).body.data.contractor;
    expect(coverage.status).toBe('ACTIVE');
    expect(coverage.tokenCoverage.purposes).toEqual([]);
    expect(coverage.tokenCoverage.refusal).toMatch(new RegExp(`Helpdesk held \\(${c.processor.id}\\) is SUSPENDED`));
    // Nothing reaches the sub-processor through it.
    const transfer = await onwardTransfer(c);
    expect(transfer.__typename).toBe('InvalidStateError');
    expect(transfer.message).toContain(c.processor.id);
    expect(await counts()).toEqual(before);
    // The onward grant itself is untouched (nothing to re-paper when the processor comes back); it names who holds it.
    expect(await heldBack(c.onward.id)).toEqual({ status: 'ACTIVE', heldBackBy: { id: c.processor.id } });
    expect(await heldBack(c.parent.id)).toEqual({ status: 'ACTIVE', heldBackBy: null });

    // Another chain is unaffected.
    expect((await h.gql(bystanderToken, RECORDS)).body.data.sharedRecords.nodes).toEqual([
      { subjectRef: 'subj-bystander' },
    ]);
    expect((await onwardTransfer(bystander)).__typename).toBe('RecordTransferPayload');

    await setStatus(h, compliance, c.processor.id, 'ACTIVE', 'finding closed');
    const again = await subToken(c.sub.id);
    expect((await h.gql(again, RECORDS)).body.data.sharedRecords.nodes).toEqual([{ subjectRef: 'subj-held' }]);
    const restored = (await h.gql(compliance, COVERAGE, { id: c.sub.id })).body.data.contractor.tokenCoverage;
    expect(restored).toEqual({
      refusal: null,
      purposes: [{ purpose: 'TECHNICAL_SUPPORT', categories: ['contact.email'] }],
    });
    expect((await onwardTransfer(c)).__typename).toBe('RecordTransferPayload');
    expect(await heldBack(c.onward.id)).toEqual({ status: 'ACTIVE', heldBackBy: null });
  });

  test('rule: a processor suspended two levels up holds back the sub-sub-processor too', async () => {
    const c = await fedChain('deep');
    const subsub = await registerContractor(h, compliance, {
      legalName: 'Sub-sub deep',
      country: 'JP',
      role: 'SUBPROCESSOR',
      parentContractorId: c.sub.id,
    });
    await setStatus(h, compliance, subsub.id, 'ACTIVE');
    await grant(h, compliance, { contractorId: subsub.id, parentGrantId: c.onward.id });
    const token = await subToken(subsub.id);
    expect((await h.gql(token, RECORDS)).body.data.sharedRecords.nodes).toEqual([{ subjectRef: 'subj-deep' }]);
    await setStatus(h, compliance, c.processor.id, 'SUSPENDED', 'audit finding');
    const refused = (await h.gql(token, RECORDS)).body;
    expect(refused.errors[0].extensions).toMatchObject({ code: 'INVALID_STATE', processor: c.processor.id });
    // The records of processing list no recipient held back; the processor's own grant still stands.
    expect(await recipients()).toEqual(expect.arrayContaining(['Helpdesk deep']));
    expect(await recipients()).not.toEqual(expect.arrayContaining(['Sub deep']));
    expect(await recipients()).not.toEqual(expect.arrayContaining(['Sub-sub deep']));
    await setStatus(h, compliance, c.processor.id, 'ACTIVE', 'finding closed');
    expect((await h.gql(token, RECORDS)).body.data.sharedRecords.nodes).toEqual([{ subjectRef: 'subj-deep' }]);
    expect(await recipients()).toEqual(expect.arrayContaining(['Helpdesk deep', 'Sub deep', 'Sub-sub deep']));
  });

  test('rule: a TERMINATED processor ends its grants and the onward ones, and their tokens, as before', async () => {
    const c = await fedChain('terminated');
    const token = await subToken(c.sub.id);
    await setStatus(h, compliance, c.processor.id, 'TERMINATED', 'contract ended');
    expect((await h.gql(token, RECORDS)).status).toBe(401);
    const status = await h.gql(compliance, 'query($id: ID!) { node(id: $id) { ... on Grant { status } } }', {
      id: c.onward.id,
    });
    expect(status.body.data.node.status).toBe('REVOKED');
    const issued = await tryIssue(c.sub.id);
    expect(issued.__typename).toBe('ValidationError');
    const coverage = (await h.gql(compliance, COVERAGE, { id: c.sub.id })).body.data.contractor.tokenCoverage;
    expect(coverage).toEqual({ refusal: null, purposes: [] });
  });
});
