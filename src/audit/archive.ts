// Archiving old months of history: each month's partitions of `transfers` and `audit_events` are exported to
// files (JSON lines, every row with its hash) and detached from their tables. What the log needs stays: the
// events' seals (leaf hashes, chain links) and the Merkle subtrees, so every checkpoint still verifies and an
// archived event's inclusion is still provable from its stored leaf; `audit_archives` records which event numbers
// and transfer ids went, and which evidence-row hashes the archived events vouched for still hold, so
// verification counts the archived rather than failing on them (verify.ts, rows.ts).
//
// Run as the tables' owner (detaching is DDL): `npm run archive -- --before 2025-01` (src/cli/archive.ts).
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { sql } from 'drizzle-orm';
import type { Db, Queryable, Tx } from '../db/client.js';
import { monthOf, monthPartitions, type MonthPartition } from '../db/partitions.js';
import { rowsOf } from '../db/rows.js';
import { auditArchives, transfers } from '../db/tables.js';
import { InvalidStateError, ValidationError } from '../errors.js';
import { EVENT_COLUMNS, eventFields, logEntry, type EventRow } from './chain.js';
import { leafHash } from './merkle.js';
import { rowHash, type RowHash } from './row-check.js';
import { evidenceTable } from './rows.js';

export interface ArchiveOptions {
  /** Archive every month before this one, `YYYY-MM`; it must not be after the current month. */
  before: string;
  /** Directory the files go to (a folder per month). */
  out: string;
  /** The current instant (the app's clock). */
  now: Date;
  /** Drop the detached partitions once exported; else they are kept, detached, in schema `archive`. */
  drop?: boolean;
  /** Rows per statement while exporting. */
  batch?: number;
}

export interface ArchivedFile {
  name: string;
  rows: number;
  sha256: string;
}

export interface ArchivedMonth {
  month: string;
  events: number;
  transfers: number;
  files: ArchivedFile[];
}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/** A JSON-lines file written as it goes, hashed on the way. */
class LinesFile {
  private readonly stream;
  private readonly hash = createHash('sha256');
  rows = 0;

  constructor(
    readonly dir: string,
    readonly name: string,
  ) {
    this.stream = createWriteStream(join(dir, name));
  }

  async write(value: unknown) {
    const line = `${JSON.stringify(value)}\n`;
    this.hash.update(line);
    this.rows += 1;
    if (!this.stream.write(line)) await once(this.stream, 'drain');
  }

  async close(): Promise<ArchivedFile> {
    this.stream.end();
    await once(this.stream, 'finish');
    return { name: this.name, rows: this.rows, sha256: this.hash.digest('hex') };
  }
}

const ident = (name: string) => sql.identifier(name);

/**
 * The events of one month's partition, with their places in the log: each re-hashed against its sealed leaf
 * (an altered event is refused, not archived), written out, and the evidence-row hashes they vouch for collected,
 * the latest per row.
 */
async function exportEvents(db: Queryable, partition: string, file: LinesFile, batch: number) {
  const vouched = new Map<string, RowHash & { seq: number }>();
  for (let after = 0; ;) {
    const rows = rowsOf<EventRow & { position: string | number | null; leaf_hash: string | null; hash: string | null }>(
      await db.execute(sql`select s.position, s.leaf_hash, s.hash, ${sql.raw(EVENT_COLUMNS)}
        from ${ident(partition)} e left join audit_seals s on s.event_seq = e.seq
        where e.seq > ${after} order by e.seq limit ${batch}`),
    );
    for (const r of rows) {
      if (r.position == null)
        throw new InvalidStateError(
          `event ${r.seq} of ${partition} is not sealed yet: archive this month later`,
          'UNSEALED',
        );
      const position = Number(r.position);
      const fields = eventFields(position, r);
      const entry = logEntry(fields);
      if (leafHash(entry) !== r.leaf_hash)
        throw new InvalidStateError(
          `event ${r.seq} (position ${position}) no longer hashes to its sealed leaf: verify the audit log before archiving`,
          'ALTERED',
        );
      await file.write({ position, seq: fields.seq, entry, leafHash: r.leaf_hash, hash: r.hash });
      for (const h of fields.rowHashes ?? []) vouched.set(`${h.table}\u0000${h.key}`, { ...h, seq: fields.seq });
      after = fields.seq;
    }
    if (rows.length < batch) break;
  }
  return vouched;
}

/** The transfers of one month's partition, each in its canonical form with its content hash. */
async function exportTransfers(db: Queryable, partition: string, file: LinesFile, batch: number) {
  const t = evidenceTable(transfers);
  const ids = new Set<string>();
  for (let after = 0; ;) {
    const rows = rowsOf<{ id: string | number; r: unknown }>(
      await db.execute(sql`select id, ${t.canonical} as r from ${ident(partition)}
        where id > ${after} order by id limit ${batch}`),
    );
    for (const { id, r } of rows) {
      const row = (typeof r === 'string' ? JSON.parse(r) : r) as Record<string, unknown>;
      await file.write({ key: String(id), hash: rowHash(t.name, row), row });
      ids.add(String(id));
      after = Number(id);
    }
    if (rows.length < batch) break;
  }
  return ids;
}

/** Rows in a partition now: compared, under lock, with what was exported. */
async function countRows(tx: Tx, partition: string | undefined): Promise<number> {
  if (!partition) return 0;
  const [r] = rowsOf<{ n: string | number }>(await tx.execute(sql`select count(*) as n from ${ident(partition)}`));
  return Number(r?.n ?? 0);
}

/** The int8multirange of a partition's keys ('{}' for none). */
async function keyRanges(tx: Tx, partition: string | undefined, column: string): Promise<string> {
  if (!partition) return '{}';
  const [r] = rowsOf<{ ranges: string | null }>(
    await tx.execute(sql`select range_agg(int8range(${ident(column)}, ${ident(column)}, '[]'))::text as ranges
      from ${ident(partition)}`),
  );
  return r?.ranges ?? '{}';
}

async function archiveMonth(db: Db, month: string, parts: MonthPartition[], o: ArchiveOptions, batch: number) {
  const events = parts.find((p) => p.table === 'audit_events')?.name;
  const moved = parts.find((p) => p.table === 'transfers')?.name;
  const dir = join(o.out, month);
  mkdirSync(dir, { recursive: true });
  const eventsFile = new LinesFile(dir, 'audit-events.jsonl');
  const transfersFile = new LinesFile(dir, 'transfers.jsonl');
  let vouched = new Map<string, RowHash & { seq: number }>();
  let ids = new Set<string>();
  try {
    if (events) vouched = await exportEvents(db, events, eventsFile, batch);
    if (moved) ids = await exportTransfers(db, moved, transfersFile, batch);
  } catch (e) {
    await Promise.all([eventsFile.close(), transfersFile.close()]);
    throw e;
  }
  const files = [await eventsFile.close(), await transfersFile.close()];
  // Hashes still in force: those of rows not leaving with this month.
  const carried = [...vouched.values()].filter((h) => !(h.table === 'transfers' && ids.has(h.key)));
  const manifest = { month, files, events: eventsFile.rows, transfers: transfersFile.rows };
  const manifestFile = new LinesFile(dir, 'manifest.json');
  await manifestFile.write(manifest);
  files.push(await manifestFile.close());

  await db.transaction(async (tx) => {
    // Nothing may be written to these partitions between the export and the detach: lock, then compare.
    for (const p of [events, moved]) if (p) await tx.execute(sql`lock table ${ident(p)} in share mode`);
    if ((await countRows(tx, events)) !== eventsFile.rows || (await countRows(tx, moved)) !== transfersFile.rows)
      throw new InvalidStateError(
        `rows were written to ${month} while it was exported: run the archive again`,
        'CHANGED',
      );
    await tx.insert(auditArchives).values({
      month,
      events: eventsFile.rows,
      transfers: transfersFile.rows,
      eventSeqs: await keyRanges(tx, events, 'seq'),
      transferIds: await keyRanges(tx, moved, 'id'),
      rowHashes: carried,
      files,
    });
    if (!o.drop) await tx.execute(sql`create schema if not exists archive`);
    for (const p of parts) {
      await tx.execute(sql`alter table ${ident(p.table)} detach partition ${ident(p.name)}`);
      await tx.execute(
        o.drop ? sql`drop table ${ident(p.name)}` : sql`alter table ${ident(p.name)} set schema archive`,
      );
    }
  });
  return { month, events: eventsFile.rows, transfers: transfersFile.rows, files };
}

/**
 * Exports and detaches every month partition before `o.before`, oldest first, one month per transaction. Rows
 * in the default partition (months that never had a partition) stay where they are.
 */
export async function archiveMonths(db: Db, o: ArchiveOptions): Promise<ArchivedMonth[]> {
  if (!MONTH.test(o.before)) throw ValidationError.field('before', 'must be a month, YYYY-MM');
  if (o.before > monthOf(o.now))
    throw ValidationError.field('before', `must not be after the current month (${monthOf(o.now)})`);
  const byMonth = new Map<string, MonthPartition[]>();
  for (const p of await monthPartitions(db))
    if (p.month < o.before) byMonth.set(p.month, [...(byMonth.get(p.month) ?? []), p]);
  // Every month's events sealed, before any month is touched.
  for (const p of [...byMonth.values()].flat().filter((x) => x.table === 'audit_events')) {
    const [r] = rowsOf<{ seq: string | number | null; n: string | number }>(
      await db.execute(sql`select min(e.seq) as seq, count(*) as n from ${ident(p.name)} e
        where not exists (select 1 from audit_seals s where s.event_seq = e.seq)`),
    );
    if (Number(r?.n ?? 0) > 0)
      throw new InvalidStateError(
        `${r!.n} event(s) of ${p.month} (the first: ${r!.seq}) are not sealed yet: archive this month later`,
        'UNSEALED',
      );
  }
  const done: ArchivedMonth[] = [];
  for (const [month, parts] of [...byMonth].sort(([a], [b]) => (a < b ? -1 : 1)))
    done.push(await archiveMonth(db, month, parts, o, o.batch ?? 5000));
  return done;
}
