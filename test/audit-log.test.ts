// The audit log: one event per change in the change's transaction, sealed a moment later into a gapless log
// (Merkle leaves and a SHA-256 chain) under concurrency, append-only in the database, tampering found by
// verifyAuditLog at the exact position; contractors never see it.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chainHash, logEntry } from '../src/audit/chain.js';
import { leafHash } from '../src/audit/merkle.js';
import postgres from 'postgres';
import { onPostgres, startHarness, type Harness } from './harness.js';
import { contractorWithToken, createOffice, mutate } from './fixtures.js';
import { count, expectRefused, rawSql, recordOk, recordTransfer, smallRegistry } from './transfer-fixtures.js';
import { rowsOf } from '../src/db/rows.js';

let h: Harness;
let compliance: string;
let auditor: string;

const VERIFY = '{ verifyAuditLog { ok checked headSeq headHash pending firstBroken { seq reason } } }';
const LOG = `query($actor: String, $entityType: String, $entityId: String, $from: DateTime, $to: DateTime, $first: Int, $after: String) {
  auditLog(actor: $actor, entityType: $entityType, entityId: $entityId, from: $from, to: $to, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor } nodes { seq occurredAt actor actorRole action entityType entityId before after seal { position leafHash prevHash hash } } } }`;

async function log(vars: Record<string, unknown>, token = auditor) {
  const r = await h.gql(token, LOG, vars);
  expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
  return r.body.data.auditLog;
}

async function seqs(): Promise<number[]> {
  const r: any = await rawSql(h, 'select seq from audit_events order by seq');
  return rowsOf<any>(r).map((x: any) => Number(x.seq));
}

async function positions(on: Harness = h): Promise<number[]> {
  const r: any = await rawSql(on, 'select position from audit_seals order by position');
  return rowsOf<any>(r).map((x: any) => Number(x.position));
}

beforeAll(async () => {
  // 50 requests in flight at once must all reach the database: no load shedding in this test.
  h = await startHarness({ DB_POOL_QUEUE_LIMIT: '100' });
  compliance = await h.staffToken('COMPLIANCE', 'alice@example.com');
  auditor = await h.staffToken('AUDITOR');
});
afterAll(async () => {
  await h?.stop();
});

describe('events', () => {
  test('a mutation writes one event with actor, role, action, entity, before/after', async () => {
    const reg = await smallRegistry(h, compliance);
    const t = await recordOk(h, compliance, { officeId: reg.office.id, contractorId: reg.india.id });
    const { nodes } = await log({ entityType: 'Transfer' });
    expect(nodes).toHaveLength(1);
    expect(nodes[0]).toMatchObject({
      actor: 'alice@example.com',
      actorRole: 'COMPLIANCE',
      action: 'recordTransfer',
      entityType: 'Transfer',
      before: null,
    });
    expect(nodes[0].after).toMatchObject({ importerCountry: 'IN', mechanism: 'SCC' });
    expect(t.id).toBeTruthy();
  });

  test('a mutation that fails leaves no event (and no change)', async () => {
    const office = await createOffice(h, compliance, { name: 'Lisbon office', country: 'PT', city: 'Lisbon' });
    const [events, transfers] = [await count(h, 'audit_events'), await count(h, 'transfers')];
    expect((await recordTransfer(h, compliance, { officeId: office.id, importerOfficeId: office.id })).__typename).toBe(
      'ValidationError',
    );
    const reg = await smallRegistry(h, compliance, ' 2');
    const afterSetup = await count(h, 'audit_events');
    expect(afterSetup).toBeGreaterThan(events);
    expect(
      (
        await recordTransfer(h, compliance, {
          officeId: reg.office.id,
          contractorId: reg.india.id,
          purpose: 'SPECIAL_OFFERS',
        })
      ).__typename,
    ).toBe('PolicyViolationError');
    expect(await count(h, 'audit_events')).toBe(afterSetup);
    expect(await count(h, 'transfers')).toBe(transfers);
  });

  test('filters by actor, entity and time; keyset pages newest first', async () => {
    const bob = await h.staffToken('COMPLIANCE', 'bob@example.com');
    const start = new Date();
    const office = await createOffice(h, bob, { name: 'Bob office', country: 'AT', city: 'Vienna' });
    const byBob = await log({ actor: 'bob@example.com' });
    expect(byBob.nodes.map((e: any) => e.action)).toEqual(['createOffice']);
    const entity = await log({ entityType: 'Office', entityId: byBob.nodes[0].entityId });
    expect(entity.nodes).toHaveLength(1);
    expect(office.id).toBeTruthy();
    const recent = await log({ from: start.toISOString() });
    expect(recent.nodes.map((e: any) => e.actor)).toEqual(['bob@example.com']);
    expect(
      (await log({ to: start.toISOString() })).nodes.every((e: any) => Date.parse(e.occurredAt) < start.getTime()),
    ).toBe(true);

    const all: number[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await log({ first: 7, after });
      all.push(...page.nodes.map((e: any) => e.seq));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    const stored = await seqs();
    expect(all).toEqual([...stored].reverse());
  });

  test('an over-long filter is refused naming its argument, never an unexpected error', async () => {
    for (const [arg, length] of [
      ['actor', 301],
      ['entityType', 101],
      ['entityId', 201],
    ] as const) {
      const r = await h.gql(auditor, LOG, { [arg]: 'x'.repeat(length) });
      expect(r.body.data).toBeNull();
      expect(r.body.errors[0].extensions.code, JSON.stringify(r.body.errors)).toBe('VALIDATION_FAILED');
      expect(r.body.errors[0].message).toContain(`args.${arg}`);
    }
  });

  test('contractors never see the audit log', async () => {
    const c = await contractorWithToken(h, compliance, { name: 'Nosy contractor' });
    for (const q of [LOG, VERIFY, '{ auditLog { edges { node { seq } } } }']) {
      const r = await h.gql(c.token, q);
      expect(r.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(r.body.data).toBeNull();
    }
  });
});

describe('log', () => {
  test('50 concurrent mutations: each event sealed once, positions gapless, the log verifies', async () => {
    const before = await count(h, 'audit_events');
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        h.gql(compliance, `mutation($input: CreateOfficeInput!) { createOffice(input: $input) { __typename } }`, {
          input: { name: `Concurrent ${i}`, legalEntity: 'Example Software GmbH', country: 'DE', city: 'Hamburg' },
        }),
      ),
    );
    for (const r of results)
      expect(r.body.data?.createOffice?.__typename, `${r.status} ${JSON.stringify(r.body)}`).toBe(
        'CreateOfficePayload',
      );
    expect(await count(h, 'audit_events')).toBe(before + 50);
    // Written, not yet sealed: verification says how many wait and covers none of them.
    const waiting = (await h.gql(auditor, VERIFY)).body.data.verifyAuditLog;
    expect(waiting).toMatchObject({ ok: true, pending: before + 50 - (await positions()).length });
    expect(waiting.pending).toBeGreaterThanOrEqual(50);

    await h.sealer.sealNow();
    const sealed = await positions();
    expect(sealed).toEqual(Array.from({ length: before + 50 }, (_, i) => i + 1));
    const v = await h.gql(auditor, VERIFY);
    expect(v.body.data.verifyAuditLog).toMatchObject({
      ok: true,
      checked: sealed.length,
      headSeq: sealed.length,
      pending: 0,
      firstBroken: null,
    });
    const { nodes } = await log({ first: 1 });
    // The newest event by number is sealed among the 50; its place follows its transaction's id, not its number.
    expect(nodes[0].seal.position).toBeGreaterThan(before);
    expect(nodes[0].seal.position).toBeLessThanOrEqual(sealed.length);
  });

  test('UPDATE, DELETE and TRUNCATE on the log tables are refused by the database', async () => {
    await h.sealer.sealNow();
    await expectRefused(h, `update audit_events set actor = 'mallory' where seq = 1`);
    await expectRefused(h, 'delete from audit_events where seq = (select max(seq) from audit_events)');
    // Cascading to the log, which refuses truncation: a plain TRUNCATE stops at the log's foreign key already.
    await expectRefused(h, 'truncate audit_events cascade');
    for (const table of ['audit_seals', 'audit_merkle_nodes', 'audit_checkpoints']) {
      await expectRefused(h, `delete from ${table}`);
      await expectRefused(h, `truncate ${table}`);
    }
    await expectRefused(h, `update audit_seals set hash = prev_hash`);
    expect((await h.gql(auditor, VERIFY)).body.data.verifyAuditLog.ok).toBe(true);
  });

  test('an event altered in SQL with the guard lifted is found at its exact position', async () => {
    await h.sealer.sealNow();
    const half = Math.floor((await count(h, 'audit_events')) / 2);
    const picked: any = await rawSql(
      h,
      `select min(s.position)::int as position from audit_seals s join audit_events e on e.seq = s.event_seq
       where e.action = 'createOffice' and s.position >= ${half}`,
    );
    const target = Number(rowsOf<any>(picked)[0].position);
    // Kept to undo the forgery at the end: later tests share this log.
    const kept: any = await rawSql(
      h,
      `select e.after::text as after, s.leaf_hash, s.hash from audit_seals s join audit_events e on e.seq = s.event_seq
       where s.position = ${target}`,
    );
    const original = rowsOf<any>(kept)[0];
    await h.asOwner('alter table audit_events disable trigger audit_events_append_only');
    await h.asOwner(
      `update audit_events set after = jsonb_set(after, '{name}', '"Forged office"')
       where seq = (select event_seq from audit_seals where position = ${target})`,
    );
    await h.asOwner('alter table audit_events enable trigger audit_events_append_only');
    const v = (await h.gql(auditor, VERIFY)).body.data.verifyAuditLog;
    expect(v).toMatchObject({ ok: false, checked: target - 1, firstBroken: { seq: target } });
    expect(v.firstBroken.reason).toMatch(/altered/);

    // An attacker who also recomputes that position's leaf and chain hash (the algorithm is public) breaks the link
    // to the next event instead: its prev_hash still holds the original hash.
    const row: any = await rawSql(
      h,
      `select e.seq, to_char(e.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as occurred_at,
      e.actor, e.actor_role, e.action, e.entity_type, e.entity_id, e.before, e.after, e.row_hashes, s.prev_hash
      from audit_seals s join audit_events e on e.seq = s.event_seq where s.position = ${target}`,
    );
    const forged = rowsOf<any>(row)[0];
    const entry = logEntry({
      position: target,
      seq: Number(forged.seq),
      occurredAt: forged.occurred_at,
      actor: forged.actor,
      actorRole: forged.actor_role,
      action: forged.action,
      entityType: forged.entity_type,
      entityId: forged.entity_id,
      before: forged.before,
      after: forged.after,
      // The event's evidence-row hashes are part of its entry when it has some.
      ...(forged.row_hashes?.length ? { rowHashes: forged.row_hashes } : {}),
    });
    await h.asOwner('alter table audit_seals disable trigger audit_seals_append_only');
    await h.asOwner(
      `update audit_seals set leaf_hash = '${leafHash(entry)}', hash = '${chainHash(forged.prev_hash, entry)}' where position = ${target}`,
    );
    await h.asOwner('alter table audit_seals enable trigger audit_seals_append_only');
    const again = (await h.gql(auditor, VERIFY)).body.data.verifyAuditLog;
    expect(again).toMatchObject({ ok: false, checked: target, firstBroken: { seq: target + 1 } });
    expect(again.firstBroken.reason).toMatch(/prev_hash does not match/);

    // Undone, the log verifies again.
    const quote = (v: string) => `'${v.replace(/'/g, "''")}'`;
    await h.asOwner('alter table audit_events disable trigger audit_events_append_only');
    await h.asOwner(
      `update audit_events set after = ${quote(original.after)}::jsonb
       where seq = (select event_seq from audit_seals where position = ${target})`,
    );
    await h.asOwner('alter table audit_events enable trigger audit_events_append_only');
    await h.asOwner('alter table audit_seals disable trigger audit_seals_append_only');
    await h.asOwner(
      `update audit_seals set leaf_hash = '${original.leaf_hash}', hash = '${original.hash}' where position = ${target}`,
    );
    await h.asOwner('alter table audit_seals enable trigger audit_seals_append_only');
    expect((await h.gql(auditor, VERIFY)).body.data.verifyAuditLog).toMatchObject({ ok: true, firstBroken: null });
  });
});

describe('the record since', () => {
  test('a deleted event is reported as missing at its position', async () => {
    const h2 = await startHarness();
    try {
      const c = await h2.staffToken('COMPLIANCE');
      const a = await h2.staffToken('AUDITOR');
      for (let i = 0; i < 4; i++)
        await mutate(
          h2,
          c,
          'createOffice',
          'CreateOfficeInput',
          { name: `O${i}`, legalEntity: 'E', country: 'DE', city: 'Bonn' },
          '__typename',
        );
      await h2.sealer.sealNow();
      await h2.asOwner('alter table audit_seals disable trigger audit_seals_append_only');
      await h2.asOwner('delete from audit_seals where position = 2');
      const v = (await h2.gql(a, VERIFY)).body.data.verifyAuditLog;
      expect(v).toMatchObject({ ok: false, checked: 1, firstBroken: { seq: 2 } });
      expect(v.firstBroken.reason).toMatch(/missing/);
    } finally {
      await h2.stop();
    }
  });
});

describe('sealing order', () => {
  // Two connections at once: PostgreSQL only (PGlite has one).
  test.runIf(onPostgres)(
    'an event of a transaction that commits late is sealed after it commits, never before an older one in flight',
    async () => {
      // A registry of its own: the tests above leave forged events in the shared one, and this one verifies.
      const hs = await startHarness();
      const compliance = await hs.staffToken('COMPLIANCE', 'alice@example.com');
      const auditor = await hs.staffToken('AUDITOR');
      await hs.sealer.sealNow();
      // As the service's role: the one writer of events, whose sessions the sealer sees.
      const owner = postgres(hs.config.databaseUrl!, { max: 1, onnotice: () => {} });
      let release: () => void = () => {};
      try {
        const held = new Promise<void>((r) => (release = r));
        let slowSeq = 0;
        const inserted = new Promise<void>((ready, fail) => {
          owner
            .begin(async (tx) => {
              const [row] =
                await tx`insert into audit_events (occurred_at, actor, actor_role, action, entity_type, entity_id)
              values (now(), 'slow@example.com', 'COMPLIANCE', 'slowChange', 'Office', '1') returning seq`;
              slowSeq = Number(row!.seq);
              ready();
              await held;
            })
            .catch(fail);
        });
        await inserted;
        // A later transaction commits first; its event waits behind the one still in flight.
        const office = await createOffice(hs, compliance, { name: 'Quick office', country: 'DE', city: 'Kiel' });
        expect(office.id).toBeTruthy();
        const before = (await positions(hs)).length;
        await hs.sealer.sealNow();
        expect((await positions(hs)).length).toBe(before);
        const waiting = (await hs.gql(auditor, VERIFY)).body.data.verifyAuditLog;
        expect(waiting).toMatchObject({ ok: true, pending: 1 }); // the slow one is not visible yet

        release();
        await new Promise((r) => setTimeout(r, 50));
        await hs.sealer.sealNow();
        const r: any = await rawSql(
          hs,
          `select s.position, e.actor from audit_seals s join audit_events e on e.seq = s.event_seq where s.position > ${before} order by s.position`,
        );
        const rows = rowsOf<any>(r).map((x: any) => x.actor);
        expect(rows).toEqual(['slow@example.com', 'alice@example.com']);
        expect(slowSeq).toBeGreaterThan(0);
        expect((await hs.gql(auditor, VERIFY)).body.data.verifyAuditLog).toMatchObject({ ok: true, pending: 0 });
      } finally {
        // A failed expectation must not leave the slow transaction open: ending its client would wait for it.
        release();
        await owner.end();
        await hs.stop();
      }
    },
  );

  test('the sealer runs on its own a moment after a write', async () => {
    const h3 = await startHarness({ AUDIT_SEAL_INTERVAL_MS: '50' });
    try {
      const c = await h3.staffToken('COMPLIANCE');
      const a = await h3.staffToken('AUDITOR');
      await createOffice(h3, c, { name: 'Timed office', country: 'DE', city: 'Ulm' });
      let v: any;
      for (let i = 0; i < 100; i++) {
        v = (await h3.gql(a, VERIFY)).body.data.verifyAuditLog;
        if (v.pending === 0 && v.checked > 1) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      // The start's attestation of the seeded rows, then the office.
      expect(v).toMatchObject({ ok: true, pending: 0, checked: 2 });
      // The first checkpoint is signed at the first run: before the office's event was written, or after.
      const cp = (await h3.gql(a, '{ auditCheckpoint { treeSize } }')).body.data.auditCheckpoint;
      expect([1, 2]).toContain(cp.treeSize);
    } finally {
      await h3.stop();
    }
  });
});
