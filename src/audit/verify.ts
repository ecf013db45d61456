// Verification inside the service: re-reads the sealed log in position order, in keyset batches, recomputes every
// entry's leaf hash and chain link and the tree's root at every stored checkpoint, and names the first broken
// position. Events written but not yet sealed are counted, not verified; so are events archived with their month
// (src/audit/archive.ts): their rows are in the archive's files, their stored leaves still count in the tree and
// their chain links still join, but their content cannot be re-hashed here. The offline verifier (offline.ts) is the
// one an outside auditor runs: it trusts only a checkpoint it saved and what it can fetch.
import { asc, sql } from 'drizzle-orm';
import type { Queryable } from '../db/client.js';
import { rowsOf } from '../db/rows.js';
import { auditCheckpoints } from '../db/tables.js';
import { EVENT_COLUMNS, GENESIS_HASH, chainHash, eventFields, logEntry, type EventRow } from './chain.js';
import { appendLeaf, frontierRoot, leafHash, type Frontier } from './merkle.js';
import { ARCHIVED_SEQ, pendingEvents } from './tree.js';

export interface ChainVerification {
  ok: boolean;
  /** Sealed events whose hashes were recomputed and matched. */
  checked: number;
  /** Position of the last event checked. */
  headSeq: number;
  headHash: string;
  /** Events written but not sealed yet: not covered. */
  pending: number;
  /** Sealed events whose rows were archived (src/audit/archive.ts): their stored leaves were used, not re-hashed. */
  archived: number;
  firstBroken: { seq: number; reason: string } | null;
}

type Row = Partial<EventRow> & {
  position: string | number;
  leaf_hash: string;
  prev_hash: string;
  hash: string;
  archived: boolean | null;
};

const BATCH = 1000;

export async function verifyAuditChain(db: Queryable, batch = BATCH): Promise<ChainVerification> {
  const checkpoints = await db
    .select({ treeSize: auditCheckpoints.treeSize, rootHash: auditCheckpoints.rootHash })
    .from(auditCheckpoints)
    .orderBy(asc(auditCheckpoints.treeSize));
  let nextCheckpoint = 0;
  const pending = await pendingEvents(db);
  const tree: Frontier = { size: 0, edge: [] };
  let prevHash = GENESIS_HASH;
  let archived = 0;
  const result = (firstBroken: ChainVerification['firstBroken']): ChainVerification => ({
    ok: firstBroken === null,
    checked: tree.size,
    headSeq: tree.size,
    headHash: prevHash,
    pending,
    archived,
    firstBroken,
  });
  let brokenRoot: ChainVerification['firstBroken'] = null;
  /** The tree's root against every checkpoint of its size; false (and `brokenRoot`) on a mismatch. */
  const checkRoots = (position: number): boolean => {
    for (
      ;
      nextCheckpoint < checkpoints.length && checkpoints[nextCheckpoint]!.treeSize <= tree.size;
      nextCheckpoint++
    ) {
      const c = checkpoints[nextCheckpoint]!;
      if (c.treeSize === tree.size && c.rootHash !== frontierRoot(tree)) {
        brokenRoot = {
          seq: position,
          reason: `the root of the first ${c.treeSize} events differs from checkpoint ${c.treeSize}`,
        };
        return false;
      }
    }
    return true;
  };
  for (;;) {
    const rows = rowsOf<Row>(
      await db.execute(sql`select s.position, s.leaf_hash, s.prev_hash, s.hash, ${sql.raw(EVENT_COLUMNS)},
          e.seq is null and ${ARCHIVED_SEQ} as archived
        from audit_seals s left join audit_events e on e.seq = s.event_seq
        where s.position > ${tree.size} order by s.position limit ${batch}`),
    );
    for (const r of rows) {
      const position = Number(r.position);
      const expected = tree.size + 1;
      if (position !== expected)
        return result({ seq: expected, reason: `event ${expected} is missing (next is ${position})` });
      if (r.seq == null && !r.archived)
        return result({ seq: position, reason: 'the event sealed at this position is missing' });
      if (r.seq == null) {
        // Archived: the stored leaf stands for the event and the checkpoints' roots check it; the stored chain hash
        // is only checked to join its neighbours (recomputing it needs the entry, which is in the archive files).
        if (r.prev_hash !== prevHash)
          return result({ seq: position, reason: `prev_hash does not match the hash of event ${position - 1}` });
        archived += 1;
        appendLeaf(tree, r.leaf_hash, () => {});
        prevHash = r.hash;
        if (!checkRoots(position)) return result(brokenRoot!);
        continue;
      }
      const entry = logEntry(eventFields(position, r as EventRow));
      const leaf = leafHash(entry);
      if (leaf !== r.leaf_hash)
        return result({
          seq: position,
          reason: 'content altered: the recomputed leaf hash differs from the sealed one',
        });
      if (r.prev_hash !== prevHash)
        return result({ seq: position, reason: `prev_hash does not match the hash of event ${position - 1}` });
      if (chainHash(prevHash, entry) !== r.hash)
        return result({ seq: position, reason: 'chain hash altered: it differs from the recomputed one' });
      appendLeaf(tree, leaf, () => {});
      prevHash = r.hash;
      if (!checkRoots(position)) return result(brokenRoot!);
    }
    if (rows.length < batch) break;
  }
  if (nextCheckpoint < checkpoints.length)
    return result({
      seq: tree.size + 1,
      reason: `checkpoint ${checkpoints[nextCheckpoint]!.treeSize} covers events the log no longer holds`,
    });
  return result(null);
}
