// Transfer history: append-only events, each checked against the grants and the transfer policy when recorded.
// The `transfers` list, its CSV export and `transferSummary` share one filter definition, so all answer the same
// question; every transfer row (recorded here or written by a disclosure) takes its policy columns from one place.
import { and, arrayContains, eq, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import type { Queryable } from '../db/client.js';
import { MECHANISMS, PURPOSES, TRANSFER_KINDS, type Mechanism, type Purpose, type TransferKind } from '../db/enums.js';
import { monthStart } from '../db/partitions.js';
import { grantCategories, grants, transfers } from '../db/tables.js';
import { PolicyViolationError, ValidationError } from '../errors.js';
import { judgeRoutes } from '../policy/load.js';
import type { Decision, Importer, MechanismChoice } from '../policy/transfer-rules.js';
import { knownCategories } from './categories.js';
import { assertMayReceive, lockContractor } from './contractor-status.js';
import { assertOccasional } from './derogation-limits.js';
import { assertNotHeldBack, grantGivesData } from './grant-status.js';
import { findOffice } from './office-lookup.js';
import { publicId } from './ids.js';
import { write, type RegistryDeps, type Write } from './tx.js';
import {
  assertNotInFuture,
  assertPeriod,
  categoryKey,
  country,
  optionalText,
  parseInput,
  rowId,
} from './validation.js';

export type TransferRow = typeof transfers.$inferSelect;
export type NewTransfer = typeof transfers.$inferInsert;

// --- reading: filters, page order, summary ---

export const transferFilterSchema = z
  .object({
    from: z.date().nullish(),
    to: z.date().nullish(),
    contractorId: rowId.nullish(),
    importerCountry: country.nullish(),
    category: categoryKey.nullish(),
    purpose: z.enum(PURPOSES).nullish(),
    kind: z.enum(TRANSFER_KINDS).nullish(),
    mechanism: z.enum(MECHANISMS).nullish(),
    crossBorderOnly: z.boolean().nullish(),
    thirdCountryOnly: z.boolean().nullish(),
  })
  .strict();
type TransferFilter = z.infer<typeof transferFilterSchema>;

/** The filter's conditions on `transfers` (or an alias of it), each one an index serves; undefined for none. */
function transferConditions(f: TransferFilter, t: typeof transfers = transfers): SQL | undefined {
  return and(
    f.from ? gte(t.occurredAt, f.from) : undefined,
    f.to ? lt(t.occurredAt, f.to) : undefined,
    f.contractorId ? eq(t.importerContractorId, f.contractorId) : undefined,
    f.importerCountry ? eq(t.importerCountry, f.importerCountry) : undefined,
    f.category ? arrayContains(t.categories, [f.category]) : undefined,
    f.purpose ? eq(t.purpose, f.purpose) : undefined,
    f.kind ? eq(t.kind, f.kind) : undefined,
    f.mechanism ? eq(t.mechanism, f.mechanism) : undefined,
    f.crossBorderOnly ? eq(t.crossBorder, true) : undefined,
    f.thirdCountryOnly ? eq(t.thirdCountry, true) : undefined,
  );
}

/**
 * The relational-query `where` of the `transfers` list and its CSV export, validated first (a ValidationError
 * names the argument). Arguments that are not filters (`first`, `after`) and null ones are left out.
 */
export function transferFilters(args: object) {
  const keys = Object.keys(transferFilterSchema.shape);
  const f = parseInput(
    transferFilterSchema,
    Object.fromEntries(Object.entries(args).filter(([k, v]) => v != null && keys.includes(k))),
    'args',
  );
  if (f.from && f.to) assertPeriod(f.from, f.to);
  return transferConditions(f) ? { RAW: (t: typeof transfers) => transferConditions(f, t)! } : {};
}

/** The original exporter's country of a transfer: stored for an onward transfer, else the exporter's own. */
export const originCountryOf = (t: { originCountry: string | null; exporterCountry: string }) =>
  t.originCountry ?? t.exporterCountry;
/** `originCountryOf` in SQL, over `transfers` or an alias of it. */
export const originCountrySql = (t: typeof transfers = transfers) =>
  sql<string>`coalesce(${t.originCountry}, ${t.exporterCountry})`;

/** The page order of the history: newest first, the ID breaking ties of the same instant. */
export const TRANSFER_ORDER = { occurredAt: 'desc', id: 'desc' } as const;

/** Keyset continuation after (occurredAt, id) in the page order. */
const afterTransfer = (at: Date, id: number) => ({
  OR: [{ occurredAt: { lt: at } }, { occurredAt: { eq: at }, id: { lt: id } }],
});

/**
 * The connection's keyset filter reads `occurredAt < c OR (occurredAt = c AND id < i)`, which PostgreSQL cannot
 * use as an index bound: a page deep in the history scanned (and fetched) every row above its cursor. The same
 * bound stated plainly as well (`occurredAt <= c`, or `>=` paging backwards) is one, so every page costs the same.
 * Returns the query so bounded and the cursor's instant when the page reads newest first from it.
 */
function withTimeBound<Q extends { where?: unknown }>(q: Q): { query: Q; before?: Date } {
  if (!q.where) return { query: q };
  const all = (q.where as { AND?: unknown[] }).AND;
  const parts = Array.isArray(all) ? all : [q.where];
  for (const part of parts) {
    const first = (part as { OR?: { occurredAt?: { lt?: unknown; gt?: unknown } }[] }).OR?.[0]?.occurredAt;
    if (first?.lt !== undefined) {
      const at = new Date(first.lt as Date | string);
      const query = { ...q, where: { AND: [...parts, { occurredAt: { lte: first.lt } }] } };
      return Number.isNaN(at.getTime()) ? { query } : { query, before: at };
    }
    if (first?.gt !== undefined)
      return { query: { ...q, where: { AND: [...parts, { occurredAt: { gte: first.gt } }] } } };
  }
  return { query: q };
}

/**
 * Reads one page (or export batch) of the history, newest first: the newest month of its range first, the rest of
 * the range only if that month falls short.
 *
 * PostgreSQL plans a statement over every month partition its bounds leave in, opening each partition's indexes,
 * even when the rows the page needs all lie in the newest month: a first page over two years planned 25 partitions
 * for 3–27 ms and executed in under 1 ms (BENCHMARKS.md, "Planning the first page over month partitions"). Asked
 * with `occurredAt >=` the newest month's first instant, the page is planned over that month's partition alone.
 * Only a page that month cannot fill (a sparse filter, the last page of a range) takes a second statement, over the
 * rest of the range, planned as the one statement was before. Windows that widen step by step were tried: they
 * spare planning for a moderately sparse filter, but a last page or an empty answer then costs one statement per
 * window. The two parts are disjoint and in page order, so their rows, concatenated, are those one statement over
 * the whole range returns.
 *
 * `range` holds the list's `from`/`to`; the newest month is that of the earliest of `to`, the cursor and `now` (a `to`
 * in the future starts from this month, not from empty months ahead). The first statement has no upper bound of its
 * own, only the page's, so any anchor is correct: a row dated after `now` is still read, and first. A page in the
 * other order (`last`/`before`) or without a limit is one statement, as before.
 */
export async function readNewestFirst<Q extends { where?: unknown; orderBy?: unknown; limit?: number }, R>(
  q: Q,
  range: { from?: unknown; to?: unknown },
  now: Date,
  find: (q: Q) => Promise<R[]>,
): Promise<R[]> {
  const { query, before } = withTimeBound(q);
  const order = query.orderBy as { occurredAt?: string } | undefined;
  if (order?.occurredAt !== 'desc' || query.limit === undefined || query.limit <= 0) return find(query);
  const month = newestMonthToRead(range, before, now);
  if (!month) return find(query);
  const within = (bound: object) => ({ ...query, where: { AND: [...(query.where ? [query.where] : []), bound] } });
  const newest = await find(within({ occurredAt: { gte: month } }));
  if (newest.length >= query.limit) return newest;
  const rest = await find({ ...within({ occurredAt: { lt: month } }), limit: query.limit - newest.length });
  return [...newest, ...rest];
}

/**
 * The first instant of the month a newest-first page reads on its own first (`readNewestFirst`), or undefined when
 * that month already begins at or before the range's `from` (one statement reads it all): the month of the earliest
 * of `to`, the cursor's instant (`before`, the page holds rows at or before it) and `now`.
 */
export function newestMonthToRead(range: { from?: unknown; to?: unknown }, before: Date | undefined, now: Date) {
  const ends = [range.to, before && new Date(before.getTime() + 1)].filter((d): d is Date => d instanceof Date);
  const month = monthStart(new Date(Math.min(now.getTime(), ...ends.map((d) => d.getTime() - 1))));
  return range.from instanceof Date && month <= range.from ? undefined : month;
}

/** A history row with the names an export shows of its exporting office and its importer. */
export type TransferHistoryRow = TransferRow & {
  exporterOffice: { name: string };
  importerContractor: { legalName: string } | null;
  importerOffice: { name: string } | null;
};

/**
 * The filtered history (the list's filters, validated now: a ValidationError is thrown before anything is read),
 * newest first, in keyset batches of `batchSize` rows, so an export of any length reads with flat memory.
 */
export function transferHistory(
  db: Queryable,
  args: { from?: unknown; to?: unknown; [filter: string]: unknown },
  batchSize: number,
  now: Date,
): AsyncGenerator<TransferHistoryRow[]> {
  const where = transferFilters(args);
  return (async function* batches() {
    let cursor: { at: Date; id: number } | undefined;
    for (;;) {
      const q = {
        where: cursor ? { AND: [where, afterTransfer(cursor.at, cursor.id)] } : where,
        orderBy: TRANSFER_ORDER,
        limit: batchSize,
      };
      const page = await readNewestFirst(q, args, now, (w) =>
        db.query.transfers.findMany({
          ...(w as object),
          with: {
            exporterOffice: { columns: { name: true } },
            importerContractor: { columns: { legalName: true } },
            importerOffice: { columns: { name: true } },
          },
        }),
      );
      if (page.length) yield page;
      if (page.length < batchSize) return;
      const last = page.at(-1)!;
      cursor = { at: last.occurredAt, id: last.id };
    }
  })();
}

export interface TransferSummaryRow {
  importerCountry: string;
  mechanism: Mechanism;
  transfers: number;
  records: number;
}

const summarySchema = transferFilterSchema
  .pick({ crossBorderOnly: true, thirdCountryOnly: true })
  .extend({ from: z.date(), to: z.date() })
  .strict();

/** Transfers over [from, to), counted per destination country and mechanism, with the same filters as the list. */
export async function transferSummary(db: Queryable, args: unknown): Promise<TransferSummaryRow[]> {
  const f = parseInput(summarySchema, args, 'args');
  assertPeriod(f.from, f.to);
  const rows = await db
    .select({
      importerCountry: transfers.importerCountry,
      mechanism: transfers.mechanism,
      transfers: sql<number>`count(*)::int`,
      records: sql<number>`coalesce(sum(${transfers.recordCount}), 0)::int`,
    })
    .from(transfers)
    .where(transferConditions(f))
    .groupBy(transfers.importerCountry, transfers.mechanism)
    .orderBy(transfers.importerCountry, transfers.mechanism);
  return rows.map((r) => ({ ...r, transfers: Number(r.transfers), records: Number(r.records) }));
}

// --- writing ---

/**
 * The columns of a transfer row that follow from the policy's decision on its route: the mechanism, why it was
 * allowed, the justification where an Art. 49 derogation was relied on, and whether the data crossed a border or
 * left the exporter's jurisdiction (not merely its country).
 */
export function policyColumns(
  d: Extract<Decision, { allowed: true }>,
  derogationJustification: string | null | undefined,
) {
  return {
    mechanism: d.mechanism,
    sccModule: d.sccModule,
    derogationJustification: d.basis === 'DEROGATION' ? (derogationJustification ?? null) : null,
    policyExplanation: d.explanation,
    crossBorder: d.crossBorder,
    thirdCountry: d.thirdCountry,
  };
}

/** Appends transfer rows in the change's transaction (the change writes the audit event, with their hashes). */
export async function appendTransfers(w: Pick<Write, 'tx' | 'wrote'>, rows: NewTransfer[]): Promise<TransferRow[]> {
  if (!rows.length) return [];
  const written = await w.tx.insert(transfers).values(rows).returning();
  w.wrote(transfers, written);
  return written;
}

/** The grant in effect at `at` of contractor × office × purpose that covers every one of `keys`, if any. */
async function coveringGrant(
  db: Queryable,
  contractorId: number,
  officeId: number,
  purpose: Purpose,
  keys: string[],
  at: Date,
) {
  const covered = db
    .select({ n: sql`count(*)` })
    .from(grantCategories)
    .where(and(eq(grantCategories.grantId, grants.id), inArray(grantCategories.categoryKey, keys)));
  const [g] = await db
    .select()
    .from(grants)
    .where(
      and(
        eq(grants.contractorId, contractorId),
        eq(grants.officeId, officeId),
        eq(grants.purpose, purpose),
        grantGivesData(at),
        sql`(${covered}) = ${keys.length}`,
      ),
    )
    .orderBy(grants.id)
    .limit(1);
  return g;
}

const recordTransferSchema = z
  .object({
    officeId: rowId,
    contractorId: rowId.nullish(),
    importerOfficeId: rowId.nullish(),
    viaContractorId: rowId.nullish(),
    categories: z.array(categoryKey).min(1, 'at least one category').max(50),
    purpose: z.enum(PURPOSES),
    recordCount: z.number().int().min(1, 'a transfer moves at least one record').max(1_000_000_000),
    occurredAt: z.date().nullish(),
    mechanism: z.enum(MECHANISMS).nullish(),
    sccModule: z.number().int().min(1).max(4).nullish(),
    derogationJustification: optionalText(2000),
  })
  .strict();

/**
 * Records one transfer after checking it against the grants and the transfer policy: to a contractor under a grant
 * in effect that covers every category (CONTRACTOR_SHARE), on from a processor to the sub-processor it engaged
 * when both hold such a grant (ONWARD_TRANSFER), or to another office (INTRA_GROUP). Mechanism and flags are derived.
 */
export async function recordTransfer(deps: RegistryDeps, principal: Principal, input: unknown): Promise<TransferRow> {
  const data = parseInput(recordTransferSchema, input);
  if (Boolean(data.contractorId) === Boolean(data.importerOfficeId)) {
    throw ValidationError.field('input.contractorId', 'give exactly one importer: contractorId or importerOfficeId');
  }
  if (data.viaContractorId && !data.contractorId)
    throw ValidationError.field('input.viaContractorId', 'an onward transfer goes to a contractor');
  if (data.importerOfficeId === data.officeId)
    throw ValidationError.field('input.importerOfficeId', 'must differ from the exporting office');
  const keys = [...new Set(data.categories)];

  return write(deps, principal, async ({ tx, now, wrote }) => {
    const at = data.occurredAt ?? now;
    assertNotInFuture(at, 'input.occurredAt', now);
    const office = await findOffice(tx, data.officeId);
    await knownCategories(tx, data.categories, 'input.categories');

    const receiver = async (id: number) => {
      const c = await lockContractor(tx, id, 'share');
      assertMayReceive(c, 'data');
      return c;
    };
    const noGrant = (to: string, who: string) =>
      new PolicyViolationError(
        office.country,
        to,
        `no ACTIVE grant from office ${office.name} gives ${who} ${keys.join(', ')} for ${data.purpose} at ${at.toISOString()}`,
      );

    let kind: TransferKind;
    let exporterCountry = office.country;
    let exporterRole: 'CONTROLLER' | 'PROCESSOR' = 'CONTROLLER';
    let importer: Importer;
    let importerCountry: string;
    let grantRow: typeof grants.$inferSelect | undefined;
    let parties: Pick<
      NewTransfer,
      'importerKind' | 'importerOfficeId' | 'importerContractorId' | 'exporterContractorId' | 'grantId'
    >;

    if (data.importerOfficeId) {
      const to = await findOffice(tx, data.importerOfficeId);
      kind = 'INTRA_GROUP';
      importer = { kind: 'OFFICE' };
      importerCountry = to.country;
      parties = { importerKind: 'OFFICE', importerOfficeId: to.id };
    } else {
      const target = await receiver(data.contractorId!);
      importer = { kind: 'CONTRACTOR', role: target.role, certifications: target.certifications };
      importerCountry = target.country;
      if (target.role === 'SUBPROCESSOR' && !data.viaContractorId)
        throw new PolicyViolationError(
          office.country,
          target.country,
          `${target.legalName} is a sub-processor: data reaches it only onward, through the processor that engaged it (${publicId('Contractor', target.parentContractorId!)}); record it with viaContractorId`,
        );
      // Onward, the data passes through the processors above the sub-processor: each must be ACTIVE.
      if (data.viaContractorId) await assertNotHeldBack(tx, target.id, at);
      grantRow = await coveringGrant(tx, target.id, office.id, data.purpose, keys, at);
      if (!grantRow) throw noGrant(target.country, target.legalName);
      parties = { importerKind: 'CONTRACTOR', importerContractorId: target.id, grantId: grantRow.id };
      kind = 'CONTRACTOR_SHARE';
      if (data.viaContractorId) {
        const via = await receiver(data.viaContractorId);
        if (target.parentContractorId !== via.id) {
          throw ValidationError.field(
            'input.contractorId',
            `${target.legalName} is not a sub-processor engaged by ${via.legalName}`,
          );
        }
        // The processor may pass on only what it holds under its own grant, and the sub-processor receives it
        // under an onward grant hanging on that processor's grant.
        const viaGrant = await coveringGrant(tx, via.id, office.id, data.purpose, keys, at);
        if (!viaGrant) throw noGrant(via.country, via.legalName);
        const [parentOfTarget] = grantRow.parentGrantId
          ? await tx
              .select({ contractorId: grants.contractorId })
              .from(grants)
              .where(eq(grants.id, grantRow.parentGrantId))
          : [];
        if (parentOfTarget?.contractorId !== via.id)
          throw new PolicyViolationError(
            via.country,
            target.country,
            `grant ${publicId('Grant', grantRow.id)} of ${target.legalName} is not an onward grant under a grant of ${via.legalName}`,
          );
        kind = 'ONWARD_TRANSFER';
        exporterCountry = via.country;
        exporterRole = via.role === 'INDEPENDENT_CONTROLLER' ? 'CONTROLLER' : 'PROCESSOR';
        parties.exporterContractorId = via.id;
      }
    }

    // The caller's mechanism only where a route needs one; otherwise the grant's (or none, where none is needed).
    const choice: MechanismChoice = data.mechanism
      ? { mechanism: data.mechanism, sccModule: data.sccModule, derogationJustification: data.derogationJustification }
      : grantRow
        ? { mechanism: grantRow.mechanism, sccModule: grantRow.sccModule }
        : {};
    // Onward, the data stays under the regime of the office it came from (GDPR Art. 44).
    const originCountry = kind === 'ONWARD_TRANSFER' ? office.country : undefined;
    const route = {
      exporterCountry,
      importerCountry,
      ...(originCountry ? { originCountry } : {}),
      exporterRole,
      importer,
      context: 'TRANSFER' as const,
      at,
    };
    // The grant's mechanism may not fit this route (e.g. an onward one): then the policy derives what does, or says what is needed.
    const [chosen, derived] = await judgeRoutes(tx, [
      { route, choice },
      { route, choice: {} },
    ]);
    const decision = !chosen!.allowed && !data.mechanism && grantRow ? derived! : chosen!;
    if (!decision.allowed) throw new PolicyViolationError(exporterCountry, importerCountry, decision.reason);
    if (decision.basis === 'DEROGATION') await assertOccasional(tx, route, decision.mechanism, data.recordCount);

    const [created] = await appendTransfers({ tx, wrote }, [
      {
        ...parties,
        occurredAt: at,
        kind,
        exporterOfficeId: office.id,
        exporterCountry,
        originCountry: originCountry ?? null,
        importerCountry,
        categories: keys,
        purpose: data.purpose,
        recordCount: data.recordCount,
        ...policyColumns(decision, data.derogationJustification),
        recordedBy: principal.subject,
      },
    ]);
    return {
      result: created!,
      audit: { action: 'recordTransfer', entityType: 'Transfer', entityId: created!.id, after: created },
    };
  });
}
