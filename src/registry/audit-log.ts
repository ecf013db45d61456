// The audit log as staff read it: filtered, newest first; the verification of the sealed log and of the evidence
// rows its events vouch for; and what an outside
// auditor fetches to check it (src/audit/offline.ts): signed checkpoints, entries, inclusion and consistency
// proofs. Events are written only by the one write path (tx.ts → audit/write.ts) and placed in the log by the
// sealer (audit/seal.ts); nothing here changes them.
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Checkpoint } from '../audit/checkpoint.js';
import { keyOfCanonical } from '../audit/row-check.js';
import {
  canonicalRowsPage,
  EVIDENCE_TABLES,
  evidenceTableNamed,
  isKeyOf,
  verifyEvidenceRows,
  type RowVerification,
} from '../audit/rows.js';
import {
  consistencyProofOf,
  findCheckpoint,
  inclusionProofOf,
  inclusionProofsOf,
  listCheckpoints,
  logEntries,
  logSize,
  pendingEvents,
  periodEntries,
  rootOf,
  type LogEntry,
  type PeriodCursor,
} from '../audit/tree.js';
import { verifyAuditChain, type ChainVerification } from '../audit/verify.js';
import type { Queryable } from '../db/client.js';
import { auditEvents } from '../db/tables.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { MAX_PAGE_SIZE } from './paging.js';
import { parseInput } from './validation.js';

export type { ChainVerification, Checkpoint, LogEntry };

/** The sealed log's verification, and the rows': `ok` only when both hold. */
export interface AuditLogVerification extends ChainVerification {
  rows: RowVerification;
}

const auditLogFilterSchema = z
  .object({
    actor: z.string().max(300).nullish(),
    entityType: z.string().max(100).nullish(),
    entityId: z.string().max(200).nullish(),
    from: z.date().nullish(),
    to: z.date().nullish(),
  })
  .strict();

/** The relational-query `where` of the `auditLog` list: actor, entity (type and optionally id), time range [from, to). */
export function auditLogFilters(args: unknown) {
  const f = parseInput(auditLogFilterSchema, args, 'args');
  return {
    ...(f.actor ? { actor: f.actor } : {}),
    ...(f.entityType ? { entityType: f.entityType } : {}),
    ...(f.entityId ? { entityId: f.entityId } : {}),
    ...(f.from || f.to
      ? {
          occurredAt: { ...(f.from ? { gte: f.from.toISOString() } : {}), ...(f.to ? { lt: f.to.toISOString() } : {}) },
        }
      : {}),
  };
}

/** The filters `auditLogFilters` takes, by name: what the audit log's CSV export accepts as query parameters. */
export const AUDIT_LOG_FILTERS = Object.keys(auditLogFilterSchema.shape);

/**
 * The events the `auditLog` filters select, oldest first ((occurredAt, seq): a range of the time index), in keyset
 * batches of `batchSize`, each with its place in the log when sealed: the audit log's CSV export.
 */
export function auditLogHistory(db: Queryable, args: unknown, batchSize: number) {
  const where = auditLogFilters(args);
  return (async function* batches() {
    let cursor: { at: string; seq: number } | undefined;
    for (;;) {
      const after = cursor;
      const page = await db.query.auditEvents.findMany({
        where: (after
          ? {
              AND: [
                where,
                {
                  RAW: (e: typeof auditEvents) =>
                    sql`(${e.occurredAt}, ${e.seq}) > (${after.at}::timestamptz, ${after.seq})`,
                },
              ],
            }
          : where) as never,
        orderBy: { occurredAt: 'asc', seq: 'asc' },
        limit: batchSize,
        with: { seal: { columns: { position: true, leafHash: true } } },
      });
      if (page.length) yield page;
      if (page.length < batchSize) return;
      const last = page.at(-1)!;
      cursor = { at: last.occurredAt, seq: last.seq };
    }
  })();
}

/**
 * Recomputes the sealed log's hashes and roots and names the first broken position (counting what is not sealed
 * yet); then re-hashes every evidence row against the latest event naming it and names each row that differs, is
 * gone, or was written by no event.
 */
export async function verifyAuditLog(db: Queryable): Promise<AuditLogVerification> {
  const chain = await verifyAuditChain(db);
  const rows = await verifyEvidenceRows(db);
  return { ...chain, ok: chain.ok && rows.ok, rows };
}

const position = z.number().int().min(1);
const pageSize = z.number().int().min(1).max(MAX_PAGE_SIZE);

/** The newest signed checkpoint, or the one of exactly `treeSize` events. */
export async function auditCheckpoint(db: Queryable, treeSize?: number | null): Promise<Checkpoint> {
  const size = treeSize == null ? undefined : parseInput(position, treeSize, 'args.treeSize');
  const c = await findCheckpoint(db, size);
  if (!c) throw new NotFoundError('AuditCheckpoint', size === undefined ? 'latest' : String(size));
  return c;
}

/** The newest signed checkpoint, or null before the sealer signed one (the evidence pack commits to it). */
export async function latestCheckpoint(db: Queryable): Promise<Checkpoint | null> {
  return (await findCheckpoint(db)) ?? null;
}

/** Signed checkpoints of sizes in [from, to], smallest first. */
export function auditCheckpoints(db: Queryable, args: { from: number; to: number; first?: number | null }) {
  const f = parseInput(z.object({ from: position, to: position, first: pageSize.nullish() }), args, 'args');
  return listCheckpoints(db, f.from, f.to, f.first ?? MAX_PAGE_SIZE);
}

/** A tree size a proof may be asked about: 1 to the number of events sealed now. */
async function sealedSize(db: Queryable, value: number, field: string): Promise<number> {
  const n = parseInput(position, value, field);
  const size = await logSize(db);
  if (n > size) throw ValidationError.field(field, `the log holds ${size} sealed events`);
  return n;
}

export interface InclusionProof {
  position: number;
  treeSize: number;
  entry: LogEntry;
  /** Sibling hashes from the leaf up (RFC 9162 §2.1.3), hex. */
  path: string[];
}

export async function inclusionProof(db: Queryable, at: number, treeSize: number): Promise<InclusionProof> {
  const size = await sealedSize(db, treeSize, 'args.treeSize');
  const p = parseInput(position, at, 'args.position');
  if (p > size) throw ValidationError.field('args.position', `must be at most treeSize (${size})`);
  const [entry] = await logEntries(db, p, 1);
  if (!entry || entry.position !== p) throw new NotFoundError('AuditEvent', `at position ${p}`);
  return { position: p, treeSize: size, entry, path: await inclusionProofOf(db, p, size) };
}

export async function consistencyProof(db: Queryable, from: number, to: number) {
  const second = await sealedSize(db, to, 'args.to');
  const first = parseInput(position, from, 'args.from');
  if (first > second) throw ValidationError.field('args.from', `must be at most to (${second})`);
  return { from: first, to: second, path: await consistencyProofOf(db, first, second) };
}

/** Sealed entries from position `from` on, as their events read now. */
export function auditEntries(db: Queryable, args: { from: number; first?: number | null }): Promise<LogEntry[]> {
  const f = parseInput(z.object({ from: position, first: pageSize.nullish() }), args, 'args');
  return logEntries(db, f.from, f.first ?? MAX_PAGE_SIZE);
}

/** The log as it stands: events sealed, their tree's root (unsigned: a checkpoint signs one), events waiting. */
export async function auditLogHead(db: Queryable) {
  const treeSize = await logSize(db);
  return { treeSize, rootHash: await rootOf(db, treeSize), pending: await pendingEvents(db) };
}

/** The evidence tables an auditor re-hashes: name, whether migrations seed it, its primary-key columns. */
export const evidenceTables = () => EVIDENCE_TABLES.map((t) => t.rowTable);

export interface EvidenceRowPage {
  table: string;
  /** Canonical rows (what their hashes cover), in primary-key order. */
  rows: Record<string, unknown>[];
  /** The key of the last row: `after` of the next page; null for an empty page. */
  endKey: string | null;
  hasNextPage: boolean;
}

/**
 * One page of an evidence table's rows in canonical form, after the key `after` (keyset, one statement), so an
 * outside verifier can recompute each row's hash itself and compare it with the events' (src/audit/offline.ts).
 */
export async function evidenceRows(
  db: Queryable,
  args: { table: string; after?: string | null; first?: number | null },
): Promise<EvidenceRowPage> {
  const f = parseInput(
    z.object({
      table: z.string().max(100),
      after: z.string().max(2000).nullish(),
      first: pageSize.nullish(),
    }),
    args,
    'args',
  );
  const t = evidenceTableNamed(f.table);
  if (!t)
    throw ValidationError.field(
      'args.table',
      `not an evidence table; known: ${EVIDENCE_TABLES.map((e) => e.name).join(', ')}`,
    );
  if (f.after != null && !isKeyOf(t, f.after))
    throw ValidationError.field('args.after', `not a key of ${t.name} (${t.key.map((k) => k.name).join(', ')})`);
  const limit = f.first ?? MAX_PAGE_SIZE;
  const rows = await canonicalRowsPage(db, t, f.after, limit);
  const last = rows[rows.length - 1];
  return {
    table: t.name,
    rows,
    endKey: last ? keyOfCanonical(t.rowTable, last) : null,
    hasNextPage: rows.length === limit,
  };
}

/** One event of an evidence pack's period and its inclusion proof against the pack's checkpoint. */
export interface PackProof {
  position: number;
  seq: number;
  occurredAt: string;
  /** The event's canonical entry: what `leafHash` hashes (RFC 9162: SHA-256(0x00 || entry)). */
  entry: string;
  leafHash: string;
  /** RFC 9162 §2.1.3 audit path of the leaf in the tree of `treeSize` events, hex. */
  path: string[];
}

/**
 * The sealed events of a period that lie in the tree of `treeSize` events (a signed checkpoint's) — those that
 * occurred in [from, to) and those that recorded a transfer of the period — each with its inclusion proof: pages of
 * 500, two statements a page (entries; every subtree the page's proofs read).
 */
export async function* periodInclusionProofs(
  db: Queryable,
  period: { from: Date; to: Date },
  treeSize: number,
): AsyncGenerator<PackProof> {
  let cursor: PeriodCursor | null = null;
  do {
    const page = await periodEntries(db, period, treeSize, cursor, 500);
    const paths = await inclusionProofsOf(
      db,
      page.entries.map((e) => e.position),
      treeSize,
    );
    for (const [i, e] of page.entries.entries()) yield { ...e, path: paths[i]! };
    cursor = page.next;
  } while (cursor);
}
