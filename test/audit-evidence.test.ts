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
import { mutate } from './fixtures.js';

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
  await more(n);
  return { h, auditor, more };
}

async function savedCheckpoint(h: Harness): Promise<Checkpoint> {
  const res = await h.app.fetch(`${BASE}/.well-known/audit-checkpoint`);
  expect(res.status).toBe(200);
  return (await res.json()) as Checkpoint;
}

const verify = (h: Harness, token: string, saved: Checkpoint, extra: { events?: number[]; full?: boolean } = {}) =>
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

describe('npm run verify', () => {
  test('exit code 0 and a report for an intact log; 1 naming the failure once events were deleted', async () => {
    const { h, auditor } = await registry(4);
    const server = createServer(h.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const dir = mkdtempSync(join(tmpdir(), 'verify-cli-'));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const file = join(dir, 'saved.json');
      writeFileSync(file, JSON.stringify(await savedCheckpoint(h)));
      const run = () =>
        promisify(execFile)('node', ['--import', 'tsx', 'src/cli/verify.ts', '--url', url, '--checkpoint', file], {
          env: { ...process.env, REGISTRY_TOKEN: auditor },
        }).then(
          (r) => ({ code: 0, out: r.stdout }),
          (e) => ({ code: e.code as number, out: `${e.stdout}${e.stderr}` }),
        );
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
    } finally {
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
