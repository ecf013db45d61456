// Legal-disclosure requests: RECEIVED → UNDER_REVIEW → DISCLOSED | PARTIALLY_DISCLOSED | REJECTED, or WITHDRAWN
// before a decision; no other move. A request from outside the exporter's jurisdiction is flagged (GDPR Art. 48),
// and a disclosure writes its LEGAL_DISCLOSURE transfer in the same transaction.
import { and, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import type { Queryable, Tx } from '../db/client.js';
import {
  AUTHORITY_TYPES,
  DISCLOSURE_DECISIONS,
  LEGAL_INSTRUMENTS,
  MECHANISMS,
  type AuthorityType,
  type DisclosureStatus,
} from '../db/enums.js';
import { disclosureRequests } from '../db/tables.js';
import { InvalidStateError, NotFoundError, PolicyViolationError, ValidationError } from '../errors.js';
import { judgeAuthority, judgeRoute } from '../policy/load.js';
import { knownCategories } from './categories.js';
import { publicId } from './ids.js';
import { findOffice } from './office-lookup.js';
import { appendTransfers, policyColumns } from './transfers.js';
import { write, type RegistryDeps } from './tx.js';
import {
  assertNotInFuture,
  assertPeriod,
  categoryKey,
  country,
  dayOf,
  optionalText,
  parseInput,
  rowId,
  text,
} from './validation.js';

export type DisclosureRequestRow = typeof disclosureRequests.$inferSelect;

// --- open and overdue, once ---

/** Not yet decided nor withdrawn. */
const OPEN_STATUSES = ['RECEIVED', 'UNDER_REVIEW'] as const satisfies readonly DisclosureStatus[];
const isOpen = (status: DisclosureStatus) => (OPEN_STATUSES as readonly DisclosureStatus[]).includes(status);

/** Open and past its due date at `at`. */
export const isOverdue = (r: Pick<DisclosureRequestRow, 'status' | 'dueAt'>, at: Date): boolean =>
  isOpen(r.status) && r.dueAt < at;

/** SQL: the request is open. The statuses are written out, so the planner matches the partial index on open requests. */
const openSql = (r: typeof disclosureRequests) =>
  sql`${r.status} in (${sql.raw(OPEN_STATUSES.map((s) => `'${s}'`).join(', '))})`;

/** SQL: the request is overdue at `at`, exactly when isOverdue says so. */
const overdueSql = (at: Date, r: typeof disclosureRequests = disclosureRequests): SQL =>
  and(openSql(r), lt(r.dueAt, at))!;

/** The relational-query `where` of the `disclosureRequests` list, overdue as of `at`. */
export function disclosureFilters(
  f: { status?: DisclosureStatus | null; foreignOnly?: boolean | null; overdueOnly?: boolean | null },
  at: Date,
) {
  return {
    ...(f.status ? { status: f.status } : {}),
    ...(f.foreignOnly ? { foreignAuthority: true } : {}),
    ...(f.overdueOnly ? overdueFilter(at) : {}),
  };
}

/** The relational-query `where` of overdue requests at `at`. */
export const overdueFilter = (at: Date) => ({ RAW: (r: typeof disclosureRequests) => overdueSql(at, r) });

// --- transparency report ---

export interface TransparencyRow {
  country: string;
  authorityType: AuthorityType;
  received: number;
  disclosed: number;
  partiallyDisclosed: number;
  rejected: number;
  withdrawn: number;
  pending: number;
  subjectsAffected: number;
}

export const TRANSPARENCY_COLUMNS = [
  'country',
  'authorityType',
  'received',
  'disclosed',
  'partiallyDisclosed',
  'rejected',
  'withdrawn',
  'pending',
  'subjectsAffected',
] as const;

/** Requests received in [from, to), per authority country and type. At most countries × types rows. */
export async function transparencyReport(db: Queryable, from: Date, to: Date): Promise<TransparencyRow[]> {
  assertPeriod(from, to);
  const r = disclosureRequests;
  const n = (cond: SQL) => sql<number>`(count(*) filter (where ${cond}))::int`;
  const is = (status: DisclosureStatus) => sql`${r.status} = ${status}`;
  const rows = await db
    .select({
      country: r.authorityCountry,
      authorityType: r.authorityType,
      received: sql<number>`count(*)::int`,
      disclosed: n(is('DISCLOSED')),
      partiallyDisclosed: n(is('PARTIALLY_DISCLOSED')),
      rejected: n(is('REJECTED')),
      withdrawn: n(is('WITHDRAWN')),
      pending: n(openSql(r)),
      subjectsAffected: sql<number>`coalesce(sum(${r.subjectsDisclosed}) filter (where ${r.status} in ('DISCLOSED', 'PARTIALLY_DISCLOSED')), 0)::int`,
    })
    .from(r)
    .where(and(gte(r.receivedAt, from), lt(r.receivedAt, to)))
    .groupBy(r.authorityCountry, r.authorityType)
    .orderBy(r.authorityCountry, r.authorityType);
  return rows.map(
    (x) =>
      ({ ...x, ...Object.fromEntries(TRANSPARENCY_COLUMNS.slice(2).map((k) => [k, Number(x[k])])) }) as TransparencyRow,
  );
}

// --- the moves ---

/** The request, locked for its move, or NOT_FOUND. */
async function lockRequest(tx: Tx, id: number): Promise<DisclosureRequestRow> {
  const [row] = await tx.select().from(disclosureRequests).where(eq(disclosureRequests.id, id)).for('update');
  if (!row) throw new NotFoundError('DisclosureRequest', publicId('DisclosureRequest', id));
  return row;
}

function requireStatus(row: { status: DisclosureStatus }, allowed: readonly DisclosureStatus[], move: string): void {
  if (!allowed.includes(row.status)) {
    throw new InvalidStateError(
      `Cannot ${move} a request that is ${row.status}; allowed from ${allowed.join(' or ')}`,
      row.status,
    );
  }
}

const receiveDisclosureRequestSchema = z
  .object({
    officeId: rowId,
    authorityName: text(300),
    authorityType: z.enum(AUTHORITY_TYPES),
    authorityCountry: country,
    instrument: z.enum(LEGAL_INSTRUMENTS),
    reference: text(200),
    receivedAt: z.date().nullish(),
    dueAt: z.date(),
    requestedCategories: z.array(categoryKey).min(1).max(50),
    subjectsRequested: z.number().int().min(1, 'at least one subject').max(1_000_000_000),
    legalBasis: optionalText(1000),
    gagUntil: z.string().nullish(),
  })
  .strict();

/** Logs a request as received; flagged under Art. 48 when the authority is foreign to the office asked. */
export async function receiveDisclosureRequest(
  deps: RegistryDeps,
  principal: Principal,
  input: unknown,
): Promise<DisclosureRequestRow> {
  const d = parseInput(receiveDisclosureRequestSchema, input);
  const keys = [...new Set(d.requestedCategories)];
  return write(deps, principal, async ({ tx, now, wrote }) => {
    const receivedAt = d.receivedAt ?? now;
    assertNotInFuture(receivedAt, 'input.receivedAt', now);
    if (d.dueAt < receivedAt) throw ValidationError.field('input.dueAt', 'must not be before receivedAt');
    if (d.gagUntil && d.gagUntil < dayOf(receivedAt))
      throw ValidationError.field('input.gagUntil', 'must not be before receivedAt');
    const office = await findOffice(tx, d.officeId);
    await knownCategories(tx, keys, 'input.requestedCategories');
    const flag = await judgeAuthority(tx, office.country, d.authorityCountry, receivedAt);
    const [row] = await tx
      .insert(disclosureRequests)
      .values({
        officeId: office.id,
        authorityName: d.authorityName,
        authorityType: d.authorityType,
        authorityCountry: d.authorityCountry,
        instrument: d.instrument,
        reference: d.reference,
        receivedAt,
        dueAt: d.dueAt,
        requestedCategories: keys,
        subjectsRequested: d.subjectsRequested,
        foreignAuthority: flag !== null,
        foreignAuthorityReason: flag,
        legalBasis: d.legalBasis ?? null,
        gagUntil: d.gagUntil ?? null,
        createdBy: principal.subject,
      })
      .returning();
    wrote(disclosureRequests, [row!]);
    return {
      result: row!,
      audit: { action: 'receiveDisclosureRequest', entityType: 'DisclosureRequest', entityId: row!.id, after: row },
    };
  });
}

const startDisclosureReviewSchema = z.object({ id: rowId }).strict();

export async function startDisclosureReview(
  deps: RegistryDeps,
  principal: Principal,
  input: unknown,
): Promise<DisclosureRequestRow> {
  const { id } = parseInput(startDisclosureReviewSchema, input);
  return write(deps, principal, async ({ tx, now, wrote }) => {
    const before = await lockRequest(tx, id);
    requireStatus(before, ['RECEIVED'], 'start the review of');
    const [after] = await tx
      .update(disclosureRequests)
      .set({ status: 'UNDER_REVIEW', updatedAt: now })
      .where(eq(disclosureRequests.id, id))
      .returning();
    wrote(disclosureRequests, [after!]);
    return {
      result: after!,
      audit: { action: 'startDisclosureReview', entityType: 'DisclosureRequest', entityId: id, before, after },
    };
  });
}

const withdrawDisclosureRequestSchema = z.object({ id: rowId, reason: text(2000) }).strict();

/** The authority withdrew its request before a decision. */
export async function withdrawDisclosureRequest(
  deps: RegistryDeps,
  principal: Principal,
  input: unknown,
): Promise<DisclosureRequestRow> {
  const { id, reason } = parseInput(withdrawDisclosureRequestSchema, input);
  return write(deps, principal, async ({ tx, now, wrote }) => {
    const before = await lockRequest(tx, id);
    requireStatus(before, OPEN_STATUSES, 'withdraw');
    const [after] = await tx
      .update(disclosureRequests)
      .set({ status: 'WITHDRAWN', rationale: reason, decidedBy: principal.subject, decidedAt: now, updatedAt: now })
      .where(eq(disclosureRequests.id, id))
      .returning();
    wrote(disclosureRequests, [after!]);
    return {
      result: after!,
      audit: { action: 'withdrawDisclosureRequest', entityType: 'DisclosureRequest', entityId: id, before, after },
    };
  });
}

const decideDisclosureRequestSchema = z
  .object({
    id: rowId,
    decision: z.enum(DISCLOSURE_DECISIONS),
    disclosedCategories: z.array(categoryKey).max(50).nullish(),
    subjectsDisclosed: z.number().int().min(1, 'a disclosure discloses at least one subject').nullish(),
    rationale: optionalText(4000),
    legalBasis: optionalText(1000),
    mechanism: z.enum(MECHANISMS).nullish(),
    derogationJustification: optionalText(2000),
    exporterNotified: z.boolean().nullish(),
    subjectsNotified: z.boolean().nullish(),
    challenged: z.boolean().nullish(),
  })
  .strict();

/**
 * Decides a request under review. A rejection needs its rationale; a disclosure names what was disclosed (within
 * what was requested), needs a legal basis on a request flagged under Art. 48 and a route the transfer policy
 * allows, and writes its LEGAL_DISCLOSURE transfer in the same transaction.
 */
export async function decideDisclosureRequest(
  deps: RegistryDeps,
  principal: Principal,
  input: unknown,
): Promise<DisclosureRequestRow> {
  const d = parseInput(decideDisclosureRequestSchema, input);
  return write(deps, principal, async ({ tx, now, wrote }) => {
    const before = await lockRequest(tx, d.id);
    requireStatus(before, ['UNDER_REVIEW'], `decide (${d.decision})`);
    const common = {
      status: d.decision,
      decidedBy: principal.subject,
      decidedAt: now,
      updatedAt: now,
      exporterNotified: d.exporterNotified ?? before.exporterNotified,
      subjectsNotified: d.subjectsNotified ?? before.subjectsNotified,
      challenged: d.challenged ?? before.challenged,
      legalBasis: d.legalBasis ?? before.legalBasis,
    };
    const audit = (after: unknown) => ({
      action: 'decideDisclosureRequest',
      entityType: 'DisclosureRequest',
      entityId: before.id,
      before,
      after,
    });

    if (d.decision === 'REJECTED') {
      if (!d.rationale) throw ValidationError.field('input.rationale', 'a rejection needs its rationale');
      const [after] = await tx
        .update(disclosureRequests)
        .set({ ...common, rationale: d.rationale, disclosedCategories: [], subjectsDisclosed: 0 })
        .where(eq(disclosureRequests.id, before.id))
        .returning();
      wrote(disclosureRequests, [after!]);
      return { result: after!, audit: audit(after) };
    }

    const partial = d.decision === 'PARTIALLY_DISCLOSED';
    const keys = [...new Set(d.disclosedCategories ?? (partial ? [] : before.requestedCategories))];
    if (!keys.length)
      throw ValidationError.field('input.disclosedCategories', 'name the categories actually disclosed');
    const outside = keys.filter((k) => !before.requestedCategories.includes(k));
    if (outside.length)
      throw ValidationError.field('input.disclosedCategories', `not requested: ${outside.join(', ')}`);
    if (partial && !d.rationale)
      throw ValidationError.field('input.rationale', 'a partial disclosure needs its rationale');
    if (partial && d.subjectsDisclosed == null)
      throw ValidationError.field('input.subjectsDisclosed', 'say how many subjects were disclosed');
    const subjects = d.subjectsDisclosed ?? before.subjectsRequested;
    if (subjects > before.subjectsRequested)
      throw ValidationError.field('input.subjectsDisclosed', `more than the ${before.subjectsRequested} requested`);
    const office = await findOffice(tx, before.officeId);
    // Art. 48: a foreign authority's order alone is no basis for disclosure.
    if (before.foreignAuthority && !common.legalBasis) {
      throw new PolicyViolationError(
        office.country,
        before.authorityCountry,
        `the request is flagged under GDPR Art. 48 (${before.foreignAuthorityReason}); record the international agreement relied on (legalBasis) before disclosing`,
      );
    }
    const justification = d.derogationJustification ?? common.legalBasis;
    const decision = await judgeRoute(
      tx,
      {
        exporterCountry: office.country,
        importerCountry: before.authorityCountry,
        exporterRole: 'CONTROLLER',
        importer: { kind: 'AUTHORITY' },
        context: 'TRANSFER',
        at: now,
      },
      { mechanism: d.mechanism, derogationJustification: justification },
    );
    if (!decision.allowed) throw new PolicyViolationError(office.country, before.authorityCountry, decision.reason);

    const [after] = await tx
      .update(disclosureRequests)
      .set({ ...common, rationale: d.rationale ?? null, disclosedCategories: keys, subjectsDisclosed: subjects })
      .where(eq(disclosureRequests.id, before.id))
      .returning();
    wrote(disclosureRequests, [after!]);
    const [transfer] = await appendTransfers({ tx, wrote }, [
      {
        occurredAt: now,
        kind: 'LEGAL_DISCLOSURE',
        exporterOfficeId: office.id,
        exporterCountry: office.country,
        importerKind: 'AUTHORITY',
        importerAuthority: before.authorityName,
        importerCountry: before.authorityCountry,
        categories: keys,
        purpose: 'LEGAL_OBLIGATION',
        recordCount: subjects,
        ...policyColumns(decision, justification),
        disclosureRequestId: before.id,
        recordedBy: principal.subject,
      },
    ]);
    return {
      result: after!,
      audit: [
        audit(after),
        { action: 'recordTransfer', entityType: 'Transfer', entityId: transfer!.id, after: transfer },
      ],
    };
  });
}
