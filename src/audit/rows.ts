// The rows evidence rests on, in the chain: every change's audit event carries the content hash of each evidence
// row it wrote (or deleted), and verification re-hashes the tables against the latest event naming each row. One
// canonical serialisation serves both: the same SQL projection of a row (column names as keys, times as ISO UTC
// with microseconds, numbers and dates as strings, arrays as JSON arrays of text) hashed by the same function.
import { createHash } from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import { getTableConfig, type PgColumn, type PgTable } from 'drizzle-orm/pg-core';
import type { Queryable } from '../db/client.js';
import { rowsOf } from '../db/rows.js';
import * as tables from '../db/tables.js';
import { canonicalJson } from './chain.js';

/** One row an event vouches for: its table, its primary key (text), and its hash (null: the change deleted it). */
export interface RowHash {
  table: string;
  key: string;
  hash: string | null;
}

interface EvidenceSpec {
  /** Migrations put rows in it: a row no event names is reported as unattested, not as tampering. */
  seeded?: boolean;
  /** Columns that change outside any change of the registry, and so are left out of the row's hash. */
  unhashed?: string[];
  /**
   * The row's identity, when it is not the primary key: a partitioned table's key holds its partition key too
   * (transfers: (id, occurred_at)), yet its id alone names the row, as the events have always named it.
   */
  key?: PgColumn[];
}

/**
 * The tables whose rows matter as evidence. Every table of src/db/tables.ts is either here or in NOT_EVIDENCE with
 * the reason (a test holds the two lists to the schema), so a new table cannot be forgotten.
 */
const EVIDENCE = new Map<PgTable, EvidenceSpec>([
  [tables.offices, {}],
  [tables.contractors, {}],
  [tables.processingLocations, {}],
  [tables.dataCategories, { seeded: true }],
  [tables.purposes, { seeded: true }],
  [tables.purposeCategories, { seeded: true }],
  [tables.grants, {}],
  [tables.grantCategories, {}],
  [tables.obligations, {}],
  [tables.jurisdictions, { seeded: true }],
  [tables.jurisdictionMembers, { seeded: true }],
  [tables.adequacyDecisions, { seeded: true }],
  [tables.routeRestrictions, { seeded: true }],
  [tables.policyChanges, {}],
  // last_used_at is stamped when a token is used (src/auth/last-use.ts), which is no change to the registry.
  [tables.accessTokens, { unhashed: ['last_used_at'] }],
  [tables.subjectOptOuts, {}],
  [tables.disclosureRequests, {}],
  [tables.transfers, { key: [tables.transfers.id] }],
  [tables.derogationLimits, { seeded: true }],
  [tables.disclosureVersions, {}],
]);

/** The tables that hold no evidence, and why. */
export const NOT_EVIDENCE: Record<string, string> = {
  audit_events: 'the log itself',
  audit_seals: "the log's positions and hashes, written by the sealer and verified by recomputing them",
  audit_merkle_nodes: "the log's Merkle subtrees, derived from the sealed entries and verified against checkpoints",
  audit_checkpoints: 'signed tree heads, verified by their signatures and by recomputing the roots',
  audit_archives:
    'what was archived: its files carry the rows and events, whose leaves stay in the tree; verification counts them',
  signing_keys: 'key material; the first key is stored at start-up, outside any change, and rotation has its event',
  shared_records: 'the personal data itself: the audit log records what was imported, never values or their digests',
  idempotency_keys: 'request bookkeeping of the HTTP layer, not a change to the registry',
  // Past versions, copied by triggers from the evidence tables (src/db/history.ts): each version's content was
  // hashed by the event that wrote it, but the versions themselves are not re-hashed yet.
  offices_history: 'versions kept by triggers, not re-hashed yet',
  contractors_history: 'versions kept by triggers, not re-hashed yet',
  processing_locations_history: 'versions kept by triggers, not re-hashed yet',
  grants_history: 'versions kept by triggers, not re-hashed yet',
  obligations_history: 'versions kept by triggers, not re-hashed yet',
};

/** A table of EVIDENCE, as write() and verification address it. */
export interface EvidenceTable {
  name: string;
  seeded: boolean;
  /** Primary-key columns: SQL name, the row object's property name, and the SQL type to cast a key back to. */
  key: { name: string; property: string; type: string }[];
  /** jsonb_build_object(...) of the hashed columns: the canonical row. */
  canonical: SQL;
}

/** The canonical JSON value of one column, as SQL. */
function canonicalValue(c: PgColumn): SQL {
  const col = sql.identifier(c.name);
  const type = c.getSQLType();
  if ((c as { dimensions?: number }).dimensions) return sql`to_jsonb(${col}::text[])`;
  if (type.startsWith('timestamp')) return sql`to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
  if (type === 'date') return sql`to_char(${col}, 'YYYY-MM-DD')`;
  if (type === 'boolean' || type === 'jsonb') return sql`${col}`;
  return sql`${col}::text`;
}

function describe(table: PgTable, spec: EvidenceSpec): EvidenceTable {
  const config = getTableConfig(table);
  // By SQL name: the columns of a composite primary key are copies, not the table's column objects.
  const properties = new Map(Object.entries(table as unknown as Record<string, PgColumn>).map(([p, c]) => [c.name, p]));
  const pk = spec.key ?? config.primaryKeys[0]?.columns ?? config.columns.filter((c) => c.primary);
  const hashed = config.columns.filter((c) => !spec.unhashed?.includes(c.name));
  // jsonb_build_object takes at most 100 arguments: 50 columns per call, joined with ||.
  const parts: SQL[] = [];
  for (let i = 0; i < hashed.length; i += 50) {
    const pairs = hashed.slice(i, i + 50).map((c) => sql`${c.name}::text, ${canonicalValue(c)}`);
    parts.push(sql`jsonb_build_object(${sql.join(pairs, sql`, `)})`);
  }
  return {
    name: config.name,
    seeded: spec.seeded ?? false,
    key: pk.map((c) => ({ name: c.name, property: properties.get(c.name)!, type: c.getSQLType() })),
    canonical: sql.join(parts, sql` || `),
  };
}

export const EVIDENCE_TABLES: readonly EvidenceTable[] = [...EVIDENCE].map(([t, s]) => describe(t, s));
const byTable = new Map([...EVIDENCE.keys()].map((t, i) => [t, EVIDENCE_TABLES[i]!]));
const byName = new Map(EVIDENCE_TABLES.map((t) => [t.name, t]));

/** The evidence table of a drizzle table; throws for a table that holds no evidence (a programming error). */
export function evidenceTable(table: PgTable): EvidenceTable {
  const t = byTable.get(table);
  if (!t) throw new Error(`${getTableConfig(table).name} is not an evidence table`);
  return t;
}

/** A primary key as text: the value of a one-column key, else the JSON array of the values as text. */
function keyText(values: unknown[]): string {
  // A Date (a version's valid_from) as the canonical projection writes it: ISO UTC with microseconds.
  const text = values.map((v) => (v instanceof Date ? v.toISOString().replace(/Z$/, '000Z') : String(v)));
  return text.length === 1 ? text[0]! : JSON.stringify(text);
}

/** The key of a row object as written (property names) — what a change hands to write(). */
export function keyOfWritten(t: EvidenceTable, row: Record<string, unknown>): string {
  return keyText(
    t.key.map((k) => {
      const v = row[k.property] ?? row[k.name];
      if (v === undefined || v === null) throw new Error(`a written ${t.name} row lacks its key ${k.property}`);
      return v;
    }),
  );
}

/** The key of a canonical row (column names, values as text). */
function keyOfCanonical(t: EvidenceTable, row: Record<string, unknown>): string {
  return keyText(t.key.map((k) => row[k.name]));
}

/** The content hash of a canonical row: SHA-256 over the table's name and the row's canonical JSON. */
export function rowHash(table: string, canonicalRow: unknown): string {
  return createHash('sha256').update(table).update('\n').update(canonicalJson(canonicalRow)).digest('hex');
}

const parseJson = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>;

/** The SQL values of a key, cast back to its columns' types (for `(pk) in (…)` and keyset bounds). */
function keyValues(t: EvidenceTable, key: string): SQL[] {
  const parts: string[] = t.key.length === 1 ? [key] : JSON.parse(key);
  return t.key.map((k, i) => sql`${parts[i]}::${sql.raw(k.type)}`);
}

const pkColumns = (t: EvidenceTable) =>
  sql.join(
    t.key.map((k) => sql.identifier(k.name)),
    sql`, `,
  );

/**
 * The hashes of the rows a change wrote, read back as stored, in one statement for all tables: a key that no longer
 * exists (the change deleted it) gets hash null.
 */
export async function hashWrittenRows(
  db: Queryable,
  written: ReadonlyMap<EvidenceTable, Set<string>>,
): Promise<RowHash[]> {
  const nonEmpty = [...written].filter(([, keys]) => keys.size > 0);
  if (!nonEmpty.length) return [];
  const selects = nonEmpty.map(([t, keys]) => {
    const keySet = sql.join(
      [...keys].map((k) => sql`(${sql.join(keyValues(t, k), sql`, `)})`),
      sql`, `,
    );
    return sql`select ${t.name}::text as t, ${t.canonical} as r from ${sql.identifier(t.name)} where (${pkColumns(t)}) in (${keySet})`;
  });
  const rows = rowsOf<{ t: string; r: unknown }>(await db.execute(sql.join(selects, sql` union all `)));
  const found = new Map<string, string>();
  for (const { t, r } of rows) {
    const row = parseJson(r);
    found.set(`${t}\u0000${keyOfCanonical(byName.get(t)!, row)}`, rowHash(t, row));
  }
  const hashes: RowHash[] = [];
  for (const [t, keys] of nonEmpty)
    for (const key of [...keys].sort())
      hashes.push({ table: t.name, key, hash: found.get(`${t.name}\u0000${key}`) ?? null });
  return hashes;
}

export interface RowProblem {
  table: string;
  key: string;
  /** The latest event naming the row; null when no event names it. */
  seq: number | null;
  reason: string;
}

export interface RowVerification {
  ok: boolean;
  /** Evidence rows re-hashed. */
  checked: number;
  /** Rows of seeded tables (as the migrations left them) that no event names. */
  unattested: number;
  /** Transfers named by an event that were archived with their month (in the archive's files, not here). */
  archived: number;
  /** The first problems found, in table order (at most `limit`), and how many there were in all. */
  problems: RowProblem[];
  problemCount: number;
}

const BATCH = 1000;

/**
 * Re-hashes every evidence row against the latest event naming it, set-based and paged: the events' row hashes
 * are read in seq order (latest wins), then each table in primary-key order. Names each row that was altered
 * after its event, deleted though its event says it exists, or exists though no event wrote it.
 */
export async function verifyEvidenceRows(
  db: Queryable,
  opts: { batch?: number; limit?: number } = {},
): Promise<RowVerification> {
  const batch = opts.batch ?? BATCH;
  const limit = opts.limit ?? 100;
  const expected = new Map<string, { seq: number; hash: string | null }>();
  // Archived months first (src/audit/archive.ts): the hashes their events vouched for that still hold. Their
  // events are gone from audit_events; the seq of each is its last event's, as the archive recorded it.
  const archives = rowsOf<{ row_hashes: unknown }>(
    await db.execute(sql`select row_hashes from audit_archives order by month`),
  );
  for (const a of archives)
    for (const h of parseJson(a.row_hashes) as unknown as (RowHash & { seq: number })[])
      expected.set(`${h.table}\u0000${h.key}`, { seq: h.seq, hash: h.hash });
  for (let after = 0; ;) {
    const rows = rowsOf<{ seq: string | number; row_hashes: unknown }>(
      await db.execute(sql`select seq, row_hashes from audit_events
        where seq > ${after} and jsonb_array_length(row_hashes) > 0 order by seq limit ${batch}`),
    );
    for (const r of rows) {
      const seq = Number(r.seq);
      for (const h of parseJson(r.row_hashes) as unknown as RowHash[])
        expected.set(`${h.table}\u0000${h.key}`, { seq, hash: h.hash });
      after = seq;
    }
    if (rows.length < batch) break;
  }

  const problems: RowProblem[] = [];
  let problemCount = 0;
  const problem = (p: RowProblem) => {
    problemCount += 1;
    if (problems.length < limit) problems.push(p);
  };
  let checked = 0;
  let unattested = 0;
  for (const t of EVIDENCE_TABLES) {
    let after: string | undefined;
    for (;;) {
      const bound =
        after === undefined ? sql`true` : sql`(${pkColumns(t)}) > (${sql.join(keyValues(t, after), sql`, `)})`;
      const rows = rowsOf<{ r: unknown }>(
        await db.execute(sql`select ${t.canonical} as r from ${sql.identifier(t.name)} where ${bound}
          order by ${pkColumns(t)} limit ${batch}`),
      );
      for (const { r } of rows) {
        const row = parseJson(r);
        const key = keyOfCanonical(t, row);
        const id = `${t.name}\u0000${key}`;
        const want = expected.get(id);
        expected.delete(id);
        checked += 1;
        if (!want) {
          if (t.seeded) unattested += 1;
          else problem({ table: t.name, key, seq: null, reason: 'no event wrote this row' });
        } else if (want.hash === null)
          problem({ table: t.name, key, seq: want.seq, reason: `event ${want.seq} deleted this row, yet it exists` });
        else if (rowHash(t.name, row) !== want.hash)
          problem({ table: t.name, key, seq: want.seq, reason: `altered since event ${want.seq}: its hash differs` });
        after = key;
      }
      if (rows.length < batch) break;
    }
  }
  // What is left was named by an event and is no longer in its table.
  let gone = [...expected].filter(([, v]) => v.hash !== null).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // Transfers archived with their month are gone from the table on purpose (a backdated transfer's event may be
  // in a month still here).
  const archived = await archivedTransfers(
    db,
    gone
      .map(([id]) => id.split('\u0000'))
      .filter(([table]) => table === 'transfers')
      .map(([, key]) => key!),
  );
  gone = gone.filter(([id]) => !archived.has(id));
  for (const [id, { seq }] of gone) {
    const [table, key] = id.split('\u0000') as [string, string];
    problem({ table, key, seq, reason: `deleted: event ${seq} recorded this row, it is gone` });
  }
  return { ok: problemCount === 0, checked, unattested, archived: archived.size, problems, problemCount };
}

/** Of these transfer ids, those in an archived month (as `transfers\u0000id`). */
async function archivedTransfers(db: Queryable, ids: string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const rows = rowsOf<{ id: string | number }>(
    await db.execute(sql`select k.id from unnest(${`{${ids.join(',')}}`}::bigint[]) as k(id)
      where exists (select 1 from audit_archives a where a.transfer_ids @> k.id)`),
  );
  return new Set(rows.map((r) => `transfers\u0000${r.id}`));
}
