// Recomputes the audit log's hash chain from the stored rows, in keyset batches, and names the first broken event.
import { sql } from 'drizzle-orm';
import type { Queryable } from '../db/client.js';
import { rowsOf } from '../db/rows.js';
import { GENESIS_HASH, eventHash } from './chain.js';

export interface ChainVerification {
  ok: boolean;
  checked: number;
  headSeq: number;
  headHash: string;
  firstBroken: { seq: number; reason: string } | null;
}

interface Row {
  seq: string | number;
  occurred_at: string;
  actor: string;
  actor_role: string;
  action: string;
  entity_type: string;
  entity_id: string;
  before: unknown;
  after: unknown;
  row_hashes: unknown;
  prev_hash: string;
  hash: string;
}

const BATCH = 1000;

export async function verifyAuditChain(db: Queryable, batch = BATCH): Promise<ChainVerification> {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  for (;;) {
    // occurred_at is rendered exactly as it was hashed (ISO 8601, milliseconds, Z).
    const result =
      await db.execute(sql`select seq, to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as occurred_at,
      actor, actor_role, action, entity_type, entity_id, before, after, row_hashes, prev_hash, hash
      from audit_events where seq >= ${expectedSeq} order by seq limit ${batch}`);
    const rows = rowsOf<Row>(result);
    for (const r of rows) {
      const seq = Number(r.seq);
      const broken = (reason: string) => ({
        ok: false,
        checked,
        headSeq: seq,
        headHash: r.hash,
        firstBroken: { seq, reason },
      });
      if (seq !== expectedSeq)
        return {
          ...broken(`gap: event ${expectedSeq} is missing`),
          firstBroken: { seq: expectedSeq, reason: `event ${expectedSeq} is missing (next is ${seq})` },
        };
      if (r.prev_hash !== prevHash) return broken(`prev_hash does not match the hash of event ${seq - 1}`);
      const recomputed = eventHash(prevHash, {
        seq,
        occurredAt: r.occurred_at,
        actor: r.actor,
        actorRole: r.actor_role,
        action: r.action,
        entityType: r.entity_type,
        entityId: r.entity_id,
        before: r.before ?? null,
        after: r.after ?? null,
        rowHashes: (typeof r.row_hashes === 'string' ? JSON.parse(r.row_hashes) : r.row_hashes) ?? [],
      });
      if (recomputed !== r.hash) return broken('content altered: the recomputed hash differs from the stored one');
      checked += 1;
      expectedSeq += 1;
      prevHash = r.hash;
    }
    if (rows.length < batch) break;
  }
  return { ok: true, checked, headSeq: expectedSeq - 1, headHash: prevHash, firstBroken: null };
}
