// The rows evidence rests on, in the chain: every change's audit event carries the content hash of each evidence
// row it wrote (or deleted), and verification re-hashes the tables against the latest event naming each row. One
// canonical serialisation serves both: the same SQL projection of a row (column names as keys, times as ISO UTC
// with microseconds, numbers and dates as strings, arrays as JSON arrays of text) hashed by the same function.
import { sql, type SQL } from 'drizzle-orm';
import { getTableConfig, type PgColumn, type PgTable } from 'drizzle-orm/pg-core';
import type { Queryable } from '../db/client.js';
import { rowsOf } from '../db/rows.js';
import * as tables from '../db/tables.js';
import {
  keyOfCanonical,
  keyText,
  rowHash,
  RowChecker,
  type RowHash,
  type RowTable,
  type RowVerification,
} from './row-check.js';

export type { RowHash, RowProblem, RowVerification } from './row-check.js';

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
  table: PgTable;
  name: string;
  seeded: boolean;
  /**
   * Primary-key columns: SQL name, the row object's property name, the SQL type to cast a key back to, and the
   * values that type accepts (a key from outside is checked before it reaches SQL).
   */
  key: { name: string; property: string; type: string; accepts: (text: string) => boolean }[];
  /** The same, as the re-hash (row-check.ts) needs it. */
  rowTable: RowTable;
  /** jsonb_build_object(...) of the hashed columns: the canonical row. */
  canonical: SQL;
}

/** What a key column of this type accepts as text. */
function accepts(c: PgColumn): (text: string) => boolean {
  const type = c.getSQLType();
  const values = (c as { enumValues?: readonly string[] }).enumValues;
  if (type === 'integer' || type === 'bigint') return (v) => /^-?[0-9]{1,18}$/.test(v);
  if (type.startsWith('timestamp'))
    return (v) => /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$/.test(v) && !Number.isNaN(Date.parse(v));
  if (values?.length) return (v) => values.includes(v);
  return () => true;
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
    table,
    name: config.name,
    seeded: spec.seeded ?? false,
    key: pk.map((c) => ({
      name: c.name,
      property: properties.get(c.name)!,
      type: c.getSQLType(),
      accepts: accepts(c),
    })),
    rowTable: { name: config.name, seeded: spec.seeded ?? false, key: pk.map((c) => c.name) },
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
    found.set(`${t}\u0000${keyOfCanonical(byName.get(t)!.rowTable, row)}`, rowHash(t, row));
  }
  const hashes: RowHash[] = [];
  for (const [t, keys] of nonEmpty)
    for (const key of [...keys].sort())
      hashes.push({ table: t.name, key, hash: found.get(`${t.name}\u0000${key}`) ?? null });
  return hashes;
}

const BATCH = 1000;

/** An evidence table by its SQL name, or undefined. */
export const evidenceTableNamed = (name: string): EvidenceTable | undefined => byName.get(name);

/** Whether `key` (as keyText writes it) is a key of table `t`: the right number of parts, each of its column's type. */
export function isKeyOf(t: EvidenceTable, key: string): boolean {
  let parts: unknown = [key];
  if (t.key.length > 1)
    try {
      parts = JSON.parse(key);
    } catch {
      return false;
    }
  return (
    Array.isArray(parts) &&
    parts.length === t.key.length &&
    parts.every((p, i) => typeof p === 'string' && t.key[i]!.accepts(p))
  );
}

/**
 * One page of a table's rows in the canonical form their hashes are taken over, in primary-key order after the key
 * `after` (keyText form; checked by the caller with isKeyOf): one statement.
 */
export async function canonicalRowsPage(
  db: Queryable,
  t: EvidenceTable,
  after: string | null | undefined,
  limit: number,
): Promise<Record<string, unknown>[]> {
  const bound = after == null ? sql`true` : sql`(${pkColumns(t)}) > (${sql.join(keyValues(t, after), sql`, `)})`;
  const rows = rowsOf<{ r: unknown }>(
    await db.execute(sql`select ${t.canonical} as r from ${sql.identifier(t.name)} where ${bound}
      order by ${pkColumns(t)} limit ${limit}`),
  );
  return rows.map(({ r }) => parseJson(r));
}

/**
 * The row hashes of every event numbered above `after`, paged by number, handed to `attest` (or, for events read
 * after the rows, `attestLate`); one statement per page. Returns the highest number read.
 */
async function readAttestations(
  db: Queryable,
  checker: RowChecker,
  batch: number,
  { after = 0, late = false }: { after?: number; late?: boolean } = {},
): Promise<number> {
  if (!late) {
    // Archived months first (src/audit/archive.ts): the hashes their events vouched for that still hold. Their
    // events are gone from audit_events; the seq of each is its last event's, as the archive recorded it.
    const archives = rowsOf<{ row_hashes: unknown }>(
      await db.execute(sql`select row_hashes from audit_archives order by month`),
    );
    for (const a of archives)
      for (const h of parseJson(a.row_hashes) as unknown as (RowHash & { seq: number })[])
        checker.attest({ seq: h.seq }, [h]);
  }
  for (;;) {
    const rows = rowsOf<{ seq: string | number; row_hashes: unknown }>(
      await db.execute(sql`select seq, row_hashes from audit_events
        where seq > ${after} and jsonb_array_length(row_hashes) > 0 order by seq limit ${batch}`),
    );
    for (const r of rows) {
      after = Number(r.seq);
      const hashes = parseJson(r.row_hashes) as unknown as RowHash[];
      if (late) checker.attestLate({ seq: after }, hashes);
      else checker.attest({ seq: after }, hashes);
    }
    if (rows.length < batch) return after;
  }
}

/** Every row of `tables`, paged by primary key, handed to `each` with its table. */
async function forEachRow(
  db: Queryable,
  tables: readonly EvidenceTable[],
  batch: number,
  each: (t: EvidenceTable, row: Record<string, unknown>) => string,
): Promise<void> {
  for (const t of tables) {
    let after: string | undefined;
    for (;;) {
      const rows = await canonicalRowsPage(db, t, after, batch);
      for (const row of rows) after = each(t, row);
      if (rows.length < batch) break;
    }
  }
}

/**
 * Re-hashes every evidence row against the latest event naming it, set-based and paged: the events' row hashes
 * are read in seq order (latest wins), then each table in primary-key order, then the events written meanwhile
 * (row-check.ts judges). Names each row
 * that was altered after its event, deleted though its event says it exists, or exists though no event wrote it.
 */
export async function verifyEvidenceRows(
  db: Queryable,
  opts: { batch?: number; limit?: number } = {},
): Promise<RowVerification> {
  const batch = opts.batch ?? BATCH;
  const checker = new RowChecker(opts.limit ?? 100);
  const last = await readAttestations(db, checker, batch);
  await forEachRow(db, EVIDENCE_TABLES, batch, (t, row) => checker.check(t.rowTable, row));
  // Changes committed while the rows were read: their events may vouch for what was read.
  await readAttestations(db, checker, batch, { after: last, late: true });
  // Transfers archived with their month are gone from the table on purpose (a backdated transfer's event may be
  // in a month still here).
  const gone = checker.gone().filter((r) => r.table === 'transfers');
  return checker.finish(
    await archivedTransfers(
      db,
      gone.map((r) => r.key),
    ),
  );
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

/** A row of a seeded table whose hash differs from the one its latest event carries. */
export interface AlteredSeededRow {
  table: EvidenceTable;
  /** Canonical, as read now. */
  row: Record<string, unknown>;
  /** The latest event naming it, and the hash that event carries. */
  seq: number;
  hash: string;
}

/**
 * The rows of seeded tables that no event names (as the migrations left them), canonical, table by table; and those
 * whose hash differs from their latest event's (a migration may have reshaped them: `attestSeededRows` decides).
 */
export async function seededRowsToAttest(
  db: Queryable,
  batch = BATCH,
): Promise<{ unattested: { table: EvidenceTable; rows: Record<string, unknown>[] }[]; altered: AlteredSeededRow[] }> {
  const checker = new RowChecker(0);
  await readAttestations(db, checker, batch);
  const found = new Map<EvidenceTable, Record<string, unknown>[]>();
  const altered: AlteredSeededRow[] = [];
  await forEachRow(
    db,
    EVIDENCE_TABLES.filter((t) => t.seeded),
    batch,
    (t, row) => {
      const before = checker.unattestedCount;
      const key = checker.check(t.rowTable, row);
      if (checker.unattestedCount > before) (found.get(t) ?? found.set(t, []).get(t)!).push(row);
      const want = checker.attestationOf(t.name, key);
      if (want?.hash && want.hash !== rowHash(t.name, row))
        altered.push({ table: t, row, seq: want.event.seq, hash: want.hash });
      return key;
    },
  );
  return { unattested: [...found].map(([table, rows]) => ({ table, rows })), altered };
}
