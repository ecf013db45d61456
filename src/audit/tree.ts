// Reading the sealed log: its size, stored subtrees, checkpoints, entries and the proofs computed from them.
// A root or a proof reads the O(log n) complete subtrees it needs in one statement, never the events.
import { and, asc, desc, gte, lte, sql } from 'drizzle-orm';
import type { Queryable } from '../db/client.js';
import { rowsOf } from '../db/rows.js';
import { auditCheckpoints } from '../db/tables.js';
import { EVENT_COLUMNS, eventFields, logEntry, type EventRow } from './chain.js';
import type { Checkpoint } from './checkpoint.js';
import { consistencyPath, inclusionPath, rootHash, withSubtrees } from './merkle.js';

export async function loadSubtrees(
  db: Queryable,
  keys: readonly { level: number; index: number }[],
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  if (!keys.length) return found;
  const wanted = sql.join(
    keys.map((k) => sql`(${k.level}::smallint, ${k.index}::bigint)`),
    sql`, `,
  );
  const rows = rowsOf<{ level: number; index: string | number; hash: string }>(
    await db.execute(sql`select level, index, hash from audit_merkle_nodes where (level, index) in (${wanted})`),
  );
  for (const r of rows) found.set(`${Number(r.level)}:${Number(r.index)}`, r.hash);
  return found;
}

/**
 * SQL over `audit_seals s`: the sealed event's number is in an archived month's (src/audit/archive.ts), so its
 * row is in the archive's files rather than in `audit_events`.
 */
export const ARCHIVED_SEQ = sql`exists (select 1 from audit_archives a where a.event_seqs @> s.event_seq)`;

/** Events sealed so far, and events written but not yet sealed. */
export async function logSize(db: Queryable): Promise<number> {
  const [r] = rowsOf<{ size: string | number }>(
    await db.execute(sql`select coalesce(max(position), 0) as size from audit_seals`),
  );
  return Number(r?.size ?? 0);
}

export async function pendingEvents(db: Queryable): Promise<number> {
  const [r] = rowsOf<{ n: string | number }>(
    await db.execute(
      sql`select count(*) as n from audit_events e where not exists (select 1 from audit_seals s where s.event_seq = e.seq)`,
    ),
  );
  return Number(r?.n ?? 0);
}

const checkpointColumns = {
  origin: auditCheckpoints.origin,
  treeSize: auditCheckpoints.treeSize,
  rootHash: auditCheckpoints.rootHash,
  issuedAt: auditCheckpoints.issuedAt,
  keyId: auditCheckpoints.keyId,
  signature: auditCheckpoints.signature,
};

/** The newest checkpoint, or the one of exactly `treeSize` events. */
export async function findCheckpoint(db: Queryable, treeSize?: number): Promise<Checkpoint | undefined> {
  const q = db.select(checkpointColumns).from(auditCheckpoints);
  const [c] = await (treeSize === undefined
    ? q.orderBy(desc(auditCheckpoints.treeSize)).limit(1)
    : q.where(sql`${auditCheckpoints.treeSize} = ${treeSize}`));
  return c;
}

/** Checkpoints of sizes in [from, to], smallest first, at most `limit`. */
export function listCheckpoints(db: Queryable, from: number, to: number, limit: number): Promise<Checkpoint[]> {
  return db
    .select(checkpointColumns)
    .from(auditCheckpoints)
    .where(and(gte(auditCheckpoints.treeSize, from), lte(auditCheckpoints.treeSize, to)))
    .orderBy(asc(auditCheckpoints.treeSize))
    .limit(limit);
}

const subtrees = (db: Queryable) => (keys: { level: number; index: number }[]) => loadSubtrees(db, keys);

/** Audit path of the event at `position` (from 1) in the tree of the first `treeSize` events. */
export const inclusionProofOf = (db: Queryable, position: number, treeSize: number): Promise<string[]> =>
  withSubtrees((get) => inclusionPath(get, position - 1, treeSize), subtrees(db));

/** The root hash of the tree of the first `size` sealed events, from stored subtrees. */
export const rootOf = (db: Queryable, size: number): Promise<string> =>
  withSubtrees((get) => rootHash(get, size), subtrees(db));

export const consistencyProofOf = (db: Queryable, from: number, to: number): Promise<string[]> =>
  withSubtrees((get) => consistencyPath(get, from, to), subtrees(db));

export interface LogEntry {
  position: number;
  /**
   * The canonical entry (src/audit/chain.ts), as the event's fields read now: what its leaf hashes. Null when the
   * event was archived with its month: the entry is in the archive's file, its leaf still in the tree.
   */
  entry: string | null;
  archived: boolean;
  /** The leaf hash the sealer stored. */
  leafHash: string;
}

/** Sealed entries from `from` on, in log order, at most `limit`. */
export async function logEntries(db: Queryable, from: number, limit: number): Promise<LogEntry[]> {
  const rows = rowsOf<Partial<EventRow> & { position: string | number; leaf_hash: string; archived: boolean }>(
    await db.execute(sql`select s.position, s.leaf_hash, ${sql.raw(EVENT_COLUMNS)},
        e.seq is null and ${ARCHIVED_SEQ} as archived
      from audit_seals s left join audit_events e on e.seq = s.event_seq
      where s.position >= ${from} and (e.seq is not null or ${ARCHIVED_SEQ})
      order by s.position limit ${limit}`),
  );
  return rows.map((r) => ({
    position: Number(r.position),
    entry: r.seq == null ? null : logEntry(eventFields(Number(r.position), r as EventRow)),
    archived: r.seq == null,
    leafHash: r.leaf_hash,
  }));
}

/** Audit paths of many events in the tree of the first `treeSize` events, reading their subtrees in one statement. */
export const inclusionProofsOf = (db: Queryable, positions: readonly number[], treeSize: number): Promise<string[][]> =>
  withSubtrees((get) => positions.map((p) => inclusionPath(get, p - 1, treeSize)), subtrees(db));

/** A period's sealed event, read from audit_events (never an archived one). */
export interface PeriodEntry {
  position: number;
  seq: number;
  occurredAt: string;
  /** Its canonical entry: what its leaf hashes. */
  entry: string;
  leafHash: string;
}

/** Where a page of a period's entries ends: the keyset bound of the next. */
export type PeriodCursor =
  { by: 'time'; occurredAt: string; seq: number } | { by: 'transfer'; at: string; id: number; seq: number };

type PeriodRow = EventRow & { position: string | number; leaf_hash: string; t_at?: string; t_id?: string | number };

/**
 * A page (at most `limit`) of the sealed entries among the first `treeSize` that belong to a period: first the events
 * that occurred in [from, to), in (occurred_at, seq) order over the time index; then the events that recorded a
 * transfer of the period but were written outside it (a transfer recorded later, for an earlier date), in the
 * transfers' time order over their time index and the events' entity index. Each page one statement; `next` is
 * null after the last.
 */
export async function periodEntries(
  db: Queryable,
  period: { from: Date; to: Date },
  treeSize: number,
  cursor: PeriodCursor | null,
  limit: number,
): Promise<{ entries: PeriodEntry[]; next: PeriodCursor | null }> {
  const from = sql`${period.from.toISOString()}::timestamptz`;
  const to = sql`${period.to.toISOString()}::timestamptz`;
  let rows: PeriodRow[] = [];
  if (!cursor || cursor.by === 'time') {
    const bound = cursor ? sql`(e.occurred_at, e.seq) > (${cursor.occurredAt}::timestamptz, ${cursor.seq})` : sql`true`;
    rows = rowsOf<PeriodRow>(
      await db.execute(sql`select s.position, s.leaf_hash, ${sql.raw(EVENT_COLUMNS)}
        from audit_events e join audit_seals s on s.event_seq = e.seq
        where e.occurred_at >= ${from} and e.occurred_at < ${to} and ${bound} and s.position <= ${treeSize}
        order by e.occurred_at, e.seq limit ${limit}`),
    );
    const last = rows[rows.length - 1];
    if (rows.length === limit && last)
      return {
        entries: rows.map(periodEntry),
        next: { by: 'time', occurredAt: last.occurred_at, seq: Number(last.seq) },
      };
    if (rows.length) {
      // The last page by time: the transfers' part starts on the next call.
      return { entries: rows.map(periodEntry), next: { by: 'transfer', at: '-infinity', id: 0, seq: 0 } };
    }
    cursor = { by: 'transfer', at: '-infinity', id: 0, seq: 0 };
  }
  rows = rowsOf<PeriodRow>(
    await db.execute(sql`select s.position, s.leaf_hash, ${sql.raw(EVENT_COLUMNS)},
        to_char(t.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as t_at, t.id as t_id
      from transfers t
      join audit_events e on e.entity_type = 'Transfer' and e.entity_id = t.id::text
      join audit_seals s on s.event_seq = e.seq
      where t.occurred_at >= ${from} and t.occurred_at < ${to}
        and (t.occurred_at, t.id, e.seq) > (${cursor.at}::timestamptz, ${cursor.id}, ${cursor.seq})
        and not (e.occurred_at >= ${from} and e.occurred_at < ${to}) and s.position <= ${treeSize}
      order by t.occurred_at, t.id, e.seq limit ${limit}`),
  );
  const last = rows[rows.length - 1];
  return {
    entries: rows.map(periodEntry),
    next:
      rows.length === limit && last
        ? { by: 'transfer', at: last.t_at!, id: Number(last.t_id), seq: Number(last.seq) }
        : null,
  };
}

function periodEntry(r: PeriodRow): PeriodEntry {
  return {
    position: Number(r.position),
    seq: Number(r.seq),
    occurredAt: r.occurred_at,
    entry: logEntry(eventFields(Number(r.position), r)),
    leafHash: r.leaf_hash,
  };
}
