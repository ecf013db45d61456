// The offline verifier against a live registry, from a checkpoint saved before each attack: the checkpoint is
// signed and served, proofs verify, and every attack on the log is detected and placed: the newest events
// deleted, the log rewritten with every hash recomputed (and fresh checkpoints signed over it), two events
// swapped, an event inserted, an event's content altered. The attacker here is whoever owns the tables: the
// append-only triggers are lifted, and the service's own sealer recomputes the hashes.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, test } from 'vitest';
import type { Checkpoint } from '../src/audit/checkpoint.js';
import { verifyConsistency, verifyInclusion, leafHash } from '../src/audit/merkle.js';
import { formatReport, verifyRemoteLog, type OfflineReport } from '../src/audit/offline.js';
import { startHarness, type Harness } from './harness.js';
import { contractorWithToken, mutate } from './fixtures.js';
import { recordOk, smallRegistry } from './transfer-fixtures.js';

const BASE = 'http://registry.test';
let harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses) await h.stop();
  harnesses = [];
});

/** A registry that signs a checkpoint whenever the sealer sealed anything, with `n` events, each sealed on its own. */
async function registry(n: number) {
  const h = await startHarness({ AUDIT_CHECKPOINT_EVERY_EVENTS: '1' });
  harnesses.push(h);
  const compliance = await h.staffToken('COMPLIANCE');
  const auditor = await h.staffToken('AUDITOR');
  const more = async (k: number) => {
    for (let i = 0; i < k; i++) {
      const r = await mutate(
        h,
        compliance,
        'createOffice',
        'CreateOfficeInput',
        { name: `Office ${Math.random()}`, legalEntity: 'Example GmbH', country: 'DE', city: 'Bonn' },
        '__typename',
      );
      expect(r.__typename).toBe('CreateOfficePayload');
      await h.sealer.sealNow();
    }
  };
  // The first event is the one the service wrote at start, attesting the seeded rows (src/registry/seeded-rows.ts).
  await h.sealer.sealNow();
  await more(n - 1);
  return { h, auditor, more };
}

async function savedCheckpoint(h: Harness): Promise<Checkpoint> {
  const res = await h.app.fetch(`${BASE}/.well-known/audit-checkpoint`);
  expect(res.status).toBe(200);
  return (await res.json()) as Checkpoint;
}

const verify = (
  h: Harness,
  token: string,
  saved: Checkpoint,
  extra: { events?: number[]; full?: boolean; rows?: boolean } = {},
) =>
  verifyRemoteLog({
    url: BASE,
    token,
    saved,
    sample: 4,
    ...extra,
    fetch: ((input: URL, init?: RequestInit) => h.app.fetch(input, init ?? {})) as typeof fetch,
  });

const failed = (r: OfflineReport, check: string) => r.findings.find((f) => f.check === check && !f.ok);

/** Lifts the append-only triggers of the log's tables, runs `attack`, puts them back. */
async function asAttacker(h: Harness, attack: () => Promise<void>) {
  const tables = ['audit_events', 'audit_seals', 'audit_merkle_nodes', 'audit_checkpoints'];
  for (const t of tables) await h.asOwner(`alter table ${t} disable trigger ${t}_append_only`);
  try {
    await attack();
  } finally {
    for (const t of tables) await h.asOwner(`alter table ${t} enable trigger ${t}_append_only`);
  }
}

/** Forgets the log from `position` on (seals, subtrees touching it, checkpoints), so the sealer seals it afresh. */
async function unsealFrom(h: Harness, position: number) {
  await h.asOwner(`delete from audit_seals where position >= ${position}`);
  await h.asOwner(`delete from audit_merkle_nodes where (index + 1) * (2::bigint ^ level)::bigint > ${position - 1}`);
  await h.asOwner(`delete from audit_checkpoints where tree_size >= ${position}`);
}

const eventAt = (position: number) => `(select event_seq from audit_seals where position = ${position})`;

describe('checkpoints and proofs', () => {
  test('a signed checkpoint is served at the well-known path, latest and by size, and its key beside the token keys', async () => {
    const { h, auditor } = await registry(5);
    const latest = await savedCheckpoint(h);
    expect(latest).toMatchObject({ treeSize: 5, origin: h.config.tokenIssuer });
    const third = await h.app.fetch(`${BASE}/.well-known/audit-checkpoint/3`);
    expect(third.status).toBe(200);
    expect(third.headers.get('cache-control')).toContain('immutable');
    expect(((await third.json()) as Checkpoint).treeSize).toBe(3);
    for (const bad of [
      '/.well-known/audit-checkpoint/99',
      '/.well-known/audit-checkpoint/0',
      '/.well-known/audit-checkpoint/x',
    ])
      expect((await h.app.fetch(`${BASE}${bad}`)).status).toBe(404);
    const keys = (await (await h.app.fetch(`${BASE}/.well-known/audit-checkpoint-keys.json`)).json()) as any;
    expect(keys.keys).toEqual([expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', kid: latest.keyId })]);
    // Not a token key: the token verifier never accepts it.
    const jwks = (await (await h.app.fetch(`${BASE}/.well-known/jwks.json`)).json()) as any;
    expect(jwks.keys.map((k: any) => k.kid)).not.toContain(latest.keyId);

    // Through GraphQL, the same checkpoint and proofs that verify with the RFC's algorithms.
    const q = await h.gql(
      auditor,
      `{ auditCheckpoint { treeSize rootHash signature } inclusionProof(position: 2, treeSize: 5) { entry { entry leafHash } path }
         consistencyProof(from: 3, to: 5) { path } auditLogHead { treeSize rootHash pending } }`,
    );
    expect(q.body.errors).toBeUndefined();
    const d = q.body.data;
    expect(d.auditCheckpoint).toMatchObject({ treeSize: 5, rootHash: latest.rootHash, signature: latest.signature });
    expect(d.auditLogHead).toEqual({ treeSize: 5, rootHash: latest.rootHash, pending: 0 });
    const leaf = leafHash(d.inclusionProof.entry.entry);
    expect(leaf).toBe(d.inclusionProof.entry.leafHash);
    expect(verifyInclusion(1, 5, leaf, d.inclusionProof.path, latest.rootHash)).toBe(true);
    const three = (await h.gql(auditor, '{ auditCheckpoint(treeSize: 3) { rootHash } }')).body.data.auditCheckpoint;
    expect(verifyConsistency(3, 5, three.rootHash, latest.rootHash, d.consistencyProof.path)).toBe(true);

    // Sizes beyond the log are refused, naming the argument.
    const refused = await h.gql(auditor, '{ consistencyProof(from: 3, to: 6) { path } }');
    expect(refused.body.errors[0].extensions.code).toBe('VALIDATION_FAILED');
    expect(refused.body.errors[0].message).toContain('args.to');
    const inverted = await h.gql(auditor, '{ inclusionProof(position: 4, treeSize: 3) { path } }');
    expect(inverted.body.errors[0].message).toContain('args.position');
  });

  test('an intact log that grew since the saved checkpoint verifies, also re-hashed in full', async () => {
    const { h, auditor, more } = await registry(6);
    const saved = await savedCheckpoint(h);
    await more(5);
    const r = await verify(h, auditor, saved, { events: [2, 9], full: true });
    expect(r.ok, formatReport(r)).toBe(true);
    expect(r.latest?.treeSize).toBe(11);
    expect(formatReport(r)).toContain('VERIFIED');
  });

  test('a checkpoint whose content or signature was changed after saving is refused', async () => {
    const { h, auditor } = await registry(3);
    const saved = await savedCheckpoint(h);
    const r = await verify(h, auditor, { ...saved, rootHash: leafHash('other') });
    expect(failed(r, 'saved checkpoint signature')?.detail).toMatch(/signature does not match/);
    expect(r.ok).toBe(false);
  });
});

describe('attacks, detected from a checkpoint saved before them', () => {
  test('the newest 3 events deleted (with their seals, subtrees and checkpoints)', async () => {
    const { h, auditor } = await registry(8);
    const saved = await savedCheckpoint(h);
    await asAttacker(h, async () => {
      await unsealFrom(h, 6);
      await h.asOwner(`delete from audit_events where seq not in (select event_seq from audit_seals)`);
    });
    const r = await verify(h, auditor, saved);
    expect(r.ok).toBe(false);
    expect(failed(r, 'truncation')).toMatchObject({ range: [6, 8] });
    expect(formatReport(r)).toContain('events 6..8 are missing');
  });

  test('an event rewritten and the log re-sealed with every hash recomputed, new checkpoints signed', async () => {
    const { h, auditor, more } = await registry(8);
    const saved = await savedCheckpoint(h);
    await more(2);
    await asAttacker(h, async () => {
      await h.asOwner(
        `update audit_events set after = jsonb_set(after, '{name}', '"Forged office"') where seq = ${eventAt(5)}`,
      );
      await unsealFrom(h, 5);
    });
    await h.sealer.sealNow();
    // The service's own view is consistent again: only the saved checkpoint tells.
    expect((await h.gql(auditor, '{ verifyAuditLog { ok } }')).body.data.verifyAuditLog.ok).toBe(true);
    const r = await verify(h, auditor, saved);
    expect(r.ok).toBe(false);
    expect(failed(r, 'latest checkpoint signature')).toBeUndefined();
    expect(failed(r, 'consistency')).toBeDefined();
    // Checkpoints 1..4 were signed before the saved one and still hold; 5..8 were replaced: the change is in 5..8.
    expect(failed(r, 'where')).toMatchObject({ range: [5, 8] });
  });

  test('two events swapped, hashes recomputed', async () => {
    const { h, auditor } = await registry(8);
    const saved = await savedCheckpoint(h);
    await asAttacker(h, async () => {
      // Swap the contents of positions 3 and 6 (their numbers and transactions stay: the order is the sealer's).
      const cols = 'occurred_at, actor, actor_role, action, entity_type, entity_id, before, after';
      await h.asOwner(
        `create temp table swap as select seq, ${cols} from audit_events where seq in (${eventAt(3)}, ${eventAt(6)})`,
      );
      await h.asOwner(
        `update audit_events e set (${cols}) = (select ${cols} from swap s where s.seq <> e.seq) where e.seq in (select seq from swap)`,
      );
      await h.asOwner('drop table swap');
      await unsealFrom(h, 3);
    });
    await h.sealer.sealNow();
    const r = await verify(h, auditor, saved);
    expect(r.ok).toBe(false);
    expect(failed(r, 'consistency')).toBeDefined();
    expect(failed(r, 'where')).toMatchObject({ range: [3, 8] });
  });

  test('an event inserted after position 4, hashes recomputed', async () => {
    const { h, auditor } = await registry(8);
    const saved = await savedCheckpoint(h);
    await asAttacker(h, async () => {
      // Ordered right after the event at 4: its transaction, a later number.
      await h.asOwner(`insert into audit_events (seq, xid, occurred_at, actor, actor_role, action, entity_type, entity_id, after)
        select 100000, xid, occurred_at, 'mallory@example.com', 'COMPLIANCE', 'createOffice', 'Office', '999', '{}'::jsonb
        from audit_events where seq = ${eventAt(4)}`);
      await unsealFrom(h, 5);
    });
    await h.sealer.sealNow();
    const inserted: any = await h.asOwner(`select position from audit_seals where event_seq = 100000`);
    expect(Number(inserted[0].position)).toBe(5);
    const r = await verify(h, auditor, saved);
    expect(r.ok).toBe(false);
    expect(failed(r, 'where')).toMatchObject({ range: [5, 8] });
  });

  test('two events swapped, hashes left alone: named exactly by inclusion and by the full re-hash', async () => {
    const { h, auditor } = await registry(8);
    const saved = await savedCheckpoint(h);
    await asAttacker(h, async () => {
      const cols = 'occurred_at, actor, actor_role, action, entity_type, entity_id, before, after';
      await h.asOwner(
        `create temp table swap as select seq, ${cols} from audit_events where seq in (${eventAt(2)}, ${eventAt(7)})`,
      );
      await h.asOwner(
        `update audit_events e set (${cols}) = (select ${cols} from swap s where s.seq <> e.seq) where e.seq in (select seq from swap)`,
      );
      await h.asOwner('drop table swap');
    });
    const r = await verify(h, auditor, saved, { events: [2, 7], full: true });
    expect(r.ok).toBe(false);
    expect(failed(r, 'consistency')).toBeUndefined(); // the stored tree was left alone
    expect(failed(r, 'inclusion')?.positions).toEqual([2, 7]);
    expect(failed(r, 'full re-hash')?.positions).toEqual([2, 7]);
  });
});

/** A registry with transfers (one of 7 records to India), sealed, a checkpoint signed over all of it. */
async function rowRegistry() {
  const h = await startHarness({ AUDIT_CHECKPOINT_EVERY_EVENTS: '1' });
  harnesses.push(h);
  const compliance = await h.staffToken('COMPLIANCE');
  const auditor = await h.staffToken('AUDITOR');
  const reg = await smallRegistry(h, compliance);
  await recordOk(h, compliance, { officeId: reg.office.id, contractorId: reg.india.id, recordCount: 7 });
  await recordOk(h, compliance, { officeId: reg.office.id, contractorId: reg.fr.id, recordCount: 3 });
  await h.sealer.sealNow();
  const [transfer]: any[] = await h.asOwner(`select id::text as id from transfers where record_count = 7`);
  return { h, auditor, compliance, reg, transfer: transfer.id as string };
}

/** The newest event naming a row: its number and its place in the log. */
async function attesting(h: Harness, table: string, key: string) {
  const [r]: any[] = await h.asOwner(`select e.seq::int as seq, s.position::int as position
    from audit_events e join audit_seals s on s.event_seq = e.seq, jsonb_array_elements(e.row_hashes) x
    where x->>'table' = '${table}' and x->>'key' = '${key}' order by e.seq desc limit 1`);
  return { seq: Number(r.seq), position: Number(r.position) };
}

/** As the owner, with the append-only guard of `table` lifted for one statement. */
async function unguarded(h: Harness, table: string, statement: string) {
  await h.asOwner(`alter table ${table} disable trigger ${table}_append_only`);
  try {
    await h.asOwner(statement);
  } finally {
    await h.asOwner(`alter table ${table} enable trigger ${table}_append_only`);
  }
}

describe('evidence rows, re-hashed by the offline verifier itself', () => {
  test('an intact registry: every row matches the newest event that wrote it', async () => {
    const { h, auditor } = await rowRegistry();
    const saved = await savedCheckpoint(h);
    const r = await verify(h, auditor, saved, { rows: true });
    expect(r.ok, formatReport(r)).toBe(true);
    const rows = r.findings.find((f) => f.check === 'evidence rows')!;
    expect(rows).toMatchObject({ ok: true });
    expect(rows.detail).toMatch(/^\d+ rows of \d+ tables re-hashed/);
    // Without --rows no row is read.
    expect((await verify(h, auditor, saved)).findings.map((f) => f.check)).not.toContain('evidence rows');
  });

  test("a transfer's recordCount changed 7 → 1 with the guard off, its event left intact", async () => {
    const { h, auditor, transfer } = await rowRegistry();
    const saved = await savedCheckpoint(h);
    const { seq, position } = await attesting(h, 'transfers', transfer);
    await unguarded(h, 'transfers', `update transfers set record_count = 1 where id = ${transfer}`);
    const r = await verify(h, auditor, saved, { rows: true });
    expect(r.ok).toBe(false);
    // The log itself is whole: only the row tells.
    expect(r.findings.filter((f) => !f.ok).map((f) => f.check)).toEqual(['evidence rows']);
    expect(failed(r, 'evidence rows')?.rows).toEqual([
      {
        table: 'transfers',
        key: transfer,
        seq,
        position,
        reason: `altered since event at position ${position}: its hash differs`,
      },
    ]);
    expect(formatReport(r)).toContain(`transfers ${transfer}: altered since event at position ${position}`);
  });

  test("an importer's country changed IN → DE", async () => {
    const { h, auditor, reg } = await rowRegistry();
    const saved = await savedCheckpoint(h);
    const id = String(Buffer.from(reg.india.id, 'base64').toString().split(':')[1]);
    const { position } = await attesting(h, 'contractors', id);
    await h.asOwner(`update contractors set country = 'DE' where id = ${id}`);
    const r = await verify(h, auditor, saved, { rows: true });
    expect(failed(r, 'evidence rows')?.rows).toEqual([
      expect.objectContaining({ table: 'contractors', key: id, position, reason: expect.stringMatching(/altered/) }),
    ]);
  });

  test('a transfer deleted: named with the event that recorded it', async () => {
    const { h, auditor, transfer } = await rowRegistry();
    const saved = await savedCheckpoint(h);
    const { position } = await attesting(h, 'transfers', transfer);
    await unguarded(h, 'transfers', `delete from transfers where id = ${transfer}`);
    const r = await verify(h, auditor, saved, { rows: true });
    expect(failed(r, 'evidence rows')?.rows).toEqual([
      expect.objectContaining({
        table: 'transfers',
        key: transfer,
        position,
        reason: `deleted: event at position ${position} recorded this row, it is gone`,
      }),
    ]);
  });

  test('a row no event wrote: a category added to a grant in SQL', async () => {
    const { h, auditor } = await rowRegistry();
    const saved = await savedCheckpoint(h);
    const [g]: any[] = await h.asOwner(`select id::text as id from grants order by id limit 1`);
    await h.asOwner(`insert into grant_categories (grant_id, category_key) values (${g.id}, 'contact.phone')`);
    const r = await verify(h, auditor, saved, { rows: true });
    expect(failed(r, 'evidence rows')?.rows).toEqual([
      {
        table: 'grant_categories',
        key: JSON.stringify([g.id, 'contact.phone']),
        seq: null,
        reason: 'no event wrote this row',
      },
    ]);
  });

  test("the event's row hash rewritten to match the forged row: the event is not believed, and named", async () => {
    const { h, auditor, transfer } = await rowRegistry();
    const saved = await savedCheckpoint(h);
    const { seq, position } = await attesting(h, 'transfers', transfer);
    await unguarded(h, 'transfers', `update transfers set record_count = 1 where id = ${transfer}`);
    // The attacker recomputes the row's hash the way the registry does (the algorithm is public) and writes it in.
    const page = (await h.gql(auditor, `{ evidenceRows(table: "transfers") { rows } }`)).body.data.evidenceRows;
    const row = page.rows.find((x: any) => x.id === transfer);
    const { rowHash } = await import('../src/audit/row-check.js');
    await unguarded(
      h,
      'audit_events',
      `update audit_events set row_hashes = (select jsonb_agg(case when x->>'key' = '${transfer}' and x->>'table' = 'transfers'
        then jsonb_set(x, '{hash}', '"${rowHash('transfers', row)}"') else x end) from jsonb_array_elements(row_hashes) x) where seq = ${seq}`,
    );
    const r = await verify(h, auditor, saved, { rows: true });
    expect(failed(r, 'full re-hash')?.positions).toEqual([position]);
    // Rows that event wrote rest on nothing now: the forged transfer is reported as written by no event.
    expect(failed(r, 'evidence rows')?.rows).toContainEqual(
      expect.objectContaining({ table: 'transfers', key: transfer, seq: null }),
    );
  });

  test('a transfer recorded while the verifier reads the rows is vouched for by its event, sealed meanwhile', async () => {
    const { h, auditor, compliance, reg } = await rowRegistry();
    const saved = await savedCheckpoint(h);
    let written = false;
    const r = await verifyRemoteLog({
      url: BASE,
      token: auditor,
      saved,
      sample: 2,
      rows: true,
      fetch: (async (input: URL, init?: RequestInit) => {
        // Once the first page of rows was asked for (offices; transfers come later), a transfer is recorded and sealed.
        if (!written && String(init?.body ?? '').includes('evidenceRows')) {
          written = true;
          await recordOk(h, compliance, { officeId: reg.office.id, contractorId: reg.india.id, recordCount: 2 });
          await h.sealer.sealNow();
        }
        return h.app.fetch(input, init ?? {});
      }) as typeof fetch,
    });
    expect(written).toBe(true);
    expect(r.ok, formatReport(r)).toBe(true);
    expect(r.findings.find((f) => f.check === 'evidence rows')?.detail).toContain('sealed while the rows were read');
  });

  test('evidenceRows: keyset pages, typed errors for a bad table or key, staff only', async () => {
    const { h, auditor, compliance } = await rowRegistry();
    const Q =
      'query($t: String!, $after: String, $n: Int) { evidenceRows(table: $t, after: $after, first: $n) { rows endKey hasNextPage } }';
    const all = (await h.gql(auditor, Q, { t: 'grant_categories' })).body.data.evidenceRows;
    expect(all.rows.length).toBe(4);
    const first = (await h.gql(auditor, Q, { t: 'grant_categories', n: 3 })).body.data.evidenceRows;
    expect(first).toMatchObject({ hasNextPage: true, rows: all.rows.slice(0, 3) });
    const rest = (await h.gql(auditor, Q, { t: 'grant_categories', after: first.endKey, n: 3 })).body.data.evidenceRows;
    expect(rest).toMatchObject({ hasNextPage: false, rows: all.rows.slice(3) });
    for (const [vars, field] of [
      [{ t: 'shared_records' }, 'args.table'],
      [{ t: 'transfers', after: 'x' }, 'args.after'],
      [{ t: 'grant_categories', after: '["1"]' }, 'args.after'],
      [{ t: 'transfers', n: 0 }, 'args.first'],
    ] as const) {
      const res = await h.gql(auditor, Q, vars);
      expect(res.body.errors?.[0]?.extensions?.code, JSON.stringify(vars)).toBe('VALIDATION_FAILED');
      expect(res.body.errors[0].message).toContain(field);
    }
    const c = await contractorWithToken(h, compliance, { name: 'Nosy Co' });
    const refused = await h.gql(c.token, Q, { t: 'transfers' });
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

/** Serves the app over real HTTP and runs `npm run verify`'s script with `args` (the saved checkpoint as --checkpoint). */
async function cli(
  h: Harness,
  auditor: string,
  saved: Checkpoint,
  use: (run: (...args: string[]) => Promise<{ code: number; out: string }>) => Promise<void>,
) {
  const server = createServer(h.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dir = mkdtempSync(join(tmpdir(), 'verify-cli-'));
  try {
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const file = join(dir, 'saved.json');
    writeFileSync(file, JSON.stringify(saved));
    await use((...args) =>
      promisify(execFile)(
        'node',
        ['--import', 'tsx', 'src/cli/verify.ts', '--url', url, '--checkpoint', file, ...args],
        {
          env: { ...process.env, REGISTRY_TOKEN: auditor },
        },
      ).then(
        (r) => ({ code: 0, out: r.stdout }),
        (e) => ({ code: e.code as number, out: `${e.stdout}${e.stderr}` }),
      ),
    );
  } finally {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('npm run verify', () => {
  test('exit code 0 and a report for an intact log; 1 naming the failure once events were deleted', async () => {
    const { h, auditor } = await registry(4);
    await cli(h, auditor, await savedCheckpoint(h), async (run) => {
      const ok = await run();
      expect(ok, ok.out).toMatchObject({ code: 0 });
      expect(ok.out).toContain('VERIFIED');
      await asAttacker(h, async () => {
        await unsealFrom(h, 4);
        await h.asOwner(`delete from audit_events where seq not in (select event_seq from audit_seals)`);
      });
      const bad = await run();
      expect(bad.code).toBe(1);
      expect(bad.out).toContain('FAIL  truncation');
      expect(bad.out).toContain('events 4..4 are missing');
    });
  }, 60_000);

  test('--rows: exit code 0 for an intact registry; 1 naming the altered transfer and its event', async () => {
    const { h, auditor, transfer } = await rowRegistry();
    const { position } = await attesting(h, 'transfers', transfer);
    await cli(h, auditor, await savedCheckpoint(h), async (run) => {
      const ok = await run('--rows');
      expect(ok, ok.out).toMatchObject({ code: 0 });
      expect(ok.out).toMatch(/ok +evidence rows: \d+ rows of \d+ tables re-hashed/);
      await unguarded(h, 'transfers', `update transfers set record_count = 1 where id = ${transfer}`);
      const bad = await run('--rows');
      expect(bad.code, bad.out).toBe(1);
      expect(bad.out).toContain('FAIL  evidence rows: 1 of the evidence rows differ');
      expect(bad.out).toContain(`transfers ${transfer}: altered since event at position ${position}: its hash differs`);
      expect(bad.out).toContain('NOT VERIFIED');
    });
  }, 60_000);
});
