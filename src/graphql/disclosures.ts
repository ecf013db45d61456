// Legal-disclosure requests: RECEIVED → UNDER_REVIEW → DISCLOSED | PARTIALLY_DISCLOSED | REJECTED, or WITHDRAWN
// before a decision; no other move. A request from outside the exporter's jurisdiction is flagged (GDPR Art. 48),
// and a disclosure writes its LEGAL_DISCLOSURE transfer in the same transaction.
import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { writeWithAudit } from '../audit/write.js';
import type { Queryable, Tx } from '../db/client.js';
import {
  AUTHORITY_TYPES, DISCLOSURE_DECISIONS, DISCLOSURE_STATUSES, LEGAL_INSTRUMENTS, MECHANISMS, type AuthorityType, type DisclosureStatus,
} from '../db/enums.js';
import { judgeRoute, loadPolicyTables } from '../policy/load.js';
import { knownCategories } from '../registry/categories.js';
import { disclosureRequests, offices } from '../db/tables.js';
import { InvalidStateError, NotFoundError, PolicyViolationError, ValidationError } from '../errors.js';
import type { PolicyTables } from '../policy/transfer-rules.js';
import { builder } from './builder.js';
import { MechanismEnum } from './grants.js';
import { categoryKey, country, decodeId, optionalText, parseInput, text } from './input.js';
import { insertTransfers, leftJurisdiction } from './transfers.js';

export const AuthorityTypeEnum = builder.enumType('AuthorityType', { values: AUTHORITY_TYPES });
export const LegalInstrumentEnum = builder.enumType('LegalInstrument', { values: LEGAL_INSTRUMENTS });
export const DisclosureStatusEnum = builder.enumType('DisclosureStatus', { values: DISCLOSURE_STATUSES });
const DisclosureDecisionEnum = builder.enumType('DisclosureDecision', { values: DISCLOSURE_DECISIONS });

const OPEN: readonly DisclosureStatus[] = ['RECEIVED', 'UNDER_REVIEW'];

export const DisclosureRequest = builder.drizzleNode('disclosureRequests', {
  name: 'DisclosureRequest',
  id: { column: (r) => r.id },
  authScopes: { staff: true },
  fields: (t) => ({
    office: t.relation('office', { description: 'The exporting office whose data is asked for.' }),
    authorityName: t.exposeString('authorityName'),
    authorityType: t.expose('authorityType', { type: AuthorityTypeEnum }),
    authorityCountry: t.exposeString('authorityCountry'),
    instrument: t.expose('instrument', { type: LegalInstrumentEnum }),
    reference: t.exposeString('reference'),
    receivedAt: t.expose('receivedAt', { type: 'DateTime' }),
    dueAt: t.expose('dueAt', { type: 'DateTime' }),
    overdue: t.boolean({ resolve: (r) => OPEN.includes(r.status) && r.dueAt < new Date() }),
    requestedCategories: t.exposeStringList('requestedCategories'),
    subjectsRequested: t.exposeInt('subjectsRequested'),
    status: t.expose('status', { type: DisclosureStatusEnum }),
    foreignAuthority: t.exposeBoolean('foreignAuthority', { description: 'GDPR Art. 48: the authority is outside the exporting office\'s jurisdiction.' }),
    foreignAuthorityReason: t.exposeString('foreignAuthorityReason', { nullable: true }),
    legalBasis: t.exposeString('legalBasis', { nullable: true, description: 'The international agreement (e.g. MLAT reference) relied on.' }),
    disclosedCategories: t.exposeStringList('disclosedCategories', { nullable: true }),
    subjectsDisclosed: t.exposeInt('subjectsDisclosed', { nullable: true }),
    rationale: t.exposeString('rationale', { nullable: true }),
    gagUntil: t.expose('gagUntil', { type: 'Date', nullable: true, description: 'Non-disclosure order until this date.' }),
    exporterNotified: t.exposeBoolean('exporterNotified'),
    subjectsNotified: t.exposeBoolean('subjectsNotified'),
    challenged: t.exposeBoolean('challenged', { description: 'SCC clause 15.1/15.2: the request was challenged.' }),
    decidedBy: t.exposeString('decidedBy', { nullable: true }),
    decidedAt: t.expose('decidedAt', { type: 'DateTime', nullable: true }),
    transfers: t.relation('transfers', { description: 'The LEGAL_DISCLOSURE transfer a disclosure wrote.', query: { orderBy: { id: 'asc' } } }),
    createdBy: t.exposeString('createdBy'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.drizzleObjectField('transfers', 'disclosureRequest', (t) => t.relation('disclosureRequest', { nullable: true }));

const openAndOverdue = { RAW: (r: typeof disclosureRequests) => sql`${r.status} in ('RECEIVED', 'UNDER_REVIEW') and ${r.dueAt} < now()` };

builder.queryFields((t) => ({
  disclosureRequests: t.drizzleConnection({
    type: 'disclosureRequests',
    authScopes: { staff: true },
    description: 'Newest first.',
    args: {
      status: t.arg({ type: DisclosureStatusEnum, required: false }),
      foreignOnly: t.arg.boolean({ required: false, description: 'Only requests flagged under GDPR Art. 48.' }),
      overdueOnly: t.arg.boolean({ required: false, description: 'Only undecided requests past their due date.' }),
    },
    resolve: (query, _root, args, ctx) => ctx.db.query.disclosureRequests.findMany(query({
      where: {
        ...(args.status ? { status: args.status } : {}),
        ...(args.foreignOnly ? { foreignAuthority: true } : {}),
        ...(args.overdueOnly ? openAndOverdue : {}),
      },
      orderBy: { id: 'desc' },
    })),
  }, { name: 'DisclosureRequestConnection' }, { name: 'DisclosureRequestEdge' }),
  overdueDisclosureRequests: t.drizzleConnection({
    type: 'disclosureRequests',
    authScopes: { staff: true },
    description: 'Undecided requests past their due date, most overdue first.',
    resolve: (query, _root, _args, ctx) =>
      ctx.db.query.disclosureRequests.findMany(query({ where: openAndOverdue, orderBy: { dueAt: 'asc', id: 'asc' } })),
  }, { name: 'OverdueDisclosureRequestConnection' }, { name: 'OverdueDisclosureRequestEdge' }),
}));

// --- transparency report ---

export interface TransparencyRow {
  country: string; authorityType: AuthorityType; received: number; disclosed: number; partiallyDisclosed: number;
  rejected: number; withdrawn: number; pending: number; subjectsAffected: number;
}

export const TRANSPARENCY_COLUMNS = ['country', 'authorityType', 'received', 'disclosed', 'partiallyDisclosed', 'rejected', 'withdrawn', 'pending', 'subjectsAffected'] as const;

/** Requests received in [from, to), per authority country and type. At most countries × types rows. */
export async function transparencyReport(db: Queryable, from: Date, to: Date): Promise<TransparencyRow[]> {
  if (to <= from) throw ValidationError.field('args.to', 'must be after from');
  const r = disclosureRequests;
  const n = (cond: ReturnType<typeof sql>) => sql<number>`(count(*) filter (where ${cond}))::int`;
  const rows = await db.select({
    country: r.authorityCountry,
    authorityType: r.authorityType,
    received: sql<number>`count(*)::int`,
    disclosed: n(sql`${r.status} = 'DISCLOSED'`),
    partiallyDisclosed: n(sql`${r.status} = 'PARTIALLY_DISCLOSED'`),
    rejected: n(sql`${r.status} = 'REJECTED'`),
    withdrawn: n(sql`${r.status} = 'WITHDRAWN'`),
    pending: n(sql`${r.status} in ('RECEIVED', 'UNDER_REVIEW')`),
    subjectsAffected: sql<number>`coalesce(sum(${r.subjectsDisclosed}) filter (where ${r.status} in ('DISCLOSED', 'PARTIALLY_DISCLOSED')), 0)::int`,
  }).from(r).where(sql`${r.receivedAt} >= ${from.toISOString()} and ${r.receivedAt} < ${to.toISOString()}`)
    .groupBy(r.authorityCountry, r.authorityType).orderBy(r.authorityCountry, r.authorityType);
  return rows.map((x) => ({ ...x, ...Object.fromEntries(TRANSPARENCY_COLUMNS.slice(2).map((k) => [k, Number(x[k])])) }) as TransparencyRow);
}

const TransparencyReportRow = builder.objectRef<TransparencyRow>('TransparencyReportRow').implement({
  fields: (t) => ({
    country: t.exposeString('country', { description: 'The requesting authority\'s country.' }),
    authorityType: t.expose('authorityType', { type: AuthorityTypeEnum }),
    received: t.exposeInt('received'),
    disclosed: t.exposeInt('disclosed'),
    partiallyDisclosed: t.exposeInt('partiallyDisclosed'),
    rejected: t.exposeInt('rejected'),
    withdrawn: t.exposeInt('withdrawn'),
    pending: t.exposeInt('pending'),
    subjectsAffected: t.exposeInt('subjectsAffected', { description: 'Subjects whose data was disclosed, fully or partially.' }),
  }),
});

builder.queryField('transparencyReport', (t) => t.field({
  type: [TransparencyReportRow],
  authScopes: { staff: true },
  description: 'Requests received in [from, to) per country and authority type. Also as CSV: GET /export/transparency-report.csv?from=…&to=….',
  args: { from: t.arg({ type: 'DateTime', required: true }), to: t.arg({ type: 'DateTime', required: true }) },
  resolve: (_root, args, ctx) => transparencyReport(ctx.db, args.from, args.to),
}));

// --- mutations ---

/** Art. 48: outside the exporting office's jurisdiction (or, with no regime recorded, its country). */
export function art48Flag(tables: PolicyTables, exporterCountry: string, authorityCountry: string): string | null {
  const regime = tables.membership.get(exporterCountry);
  if (regime) {
    if (tables.membership.get(authorityCountry) === regime) return null;
    return `${authorityCountry} is outside ${tables.jurisdictionNames.get(regime) ?? regime}, the jurisdiction of the exporting office (${exporterCountry}): GDPR Art. 48 needs an international agreement such as an MLAT`;
  }
  return authorityCountry === exporterCountry ? null : `${authorityCountry} is a foreign authority for the exporting office (${exporterCountry})`;
}

const ReceiveInput = builder.inputType('ReceiveDisclosureRequestInput', {
  fields: (t) => ({
    officeId: t.id({ required: true, description: 'The exporting office whose data is asked for.' }),
    authorityName: t.string({ required: true }),
    authorityType: t.field({ type: AuthorityTypeEnum, required: true }),
    authorityCountry: t.string({ required: true }),
    instrument: t.field({ type: LegalInstrumentEnum, required: true }),
    reference: t.string({ required: true }),
    receivedAt: t.field({ type: 'DateTime', description: 'Defaults to now.' }),
    dueAt: t.field({ type: 'DateTime', required: true }),
    requestedCategories: t.stringList({ required: true }),
    subjectsRequested: t.int({ required: true }),
    legalBasis: t.string({ description: 'An international agreement (e.g. MLAT reference), if already known.' }),
    gagUntil: t.field({ type: 'Date' }),
  }),
});
const receiveSchema = z.object({
  officeId: z.string(), authorityName: text(300), authorityType: z.enum(AUTHORITY_TYPES), authorityCountry: country,
  instrument: z.enum(LEGAL_INSTRUMENTS), reference: text(200), receivedAt: z.date().nullish(), dueAt: z.date(),
  requestedCategories: z.array(categoryKey).min(1).max(50), subjectsRequested: z.number().int().min(1, 'at least one subject').max(1_000_000_000),
  legalBasis: optionalText(1000), gagUntil: z.string().nullish(),
}).strict();

const IdInput = builder.inputType('DisclosureRequestIdInput', { fields: (t) => ({ id: t.id({ required: true }) }) });
const WithdrawInput = builder.inputType('WithdrawDisclosureRequestInput', {
  fields: (t) => ({ id: t.id({ required: true }), reason: t.string({ required: true }) }),
});
const DecideInput = builder.inputType('DecideDisclosureRequestInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    decision: t.field({ type: DisclosureDecisionEnum, required: true }),
    disclosedCategories: t.stringList({ description: 'PARTIALLY_DISCLOSED: required, a subset of those requested. DISCLOSED: defaults to all requested.' }),
    subjectsDisclosed: t.int({ description: 'Defaults to the number requested for DISCLOSED; required for PARTIALLY_DISCLOSED.' }),
    rationale: t.string({ description: 'Required for PARTIALLY_DISCLOSED and REJECTED.' }),
    legalBasis: t.string({ description: 'Required to disclose on a request flagged under Art. 48, unless recorded at receipt.' }),
    mechanism: t.field({ type: MechanismEnum, description: 'Where the route to the authority needs one: an Art. 49 derogation (e.g. LEGAL_CLAIMS, PUBLIC_INTEREST).' }),
    derogationJustification: t.string({ description: 'Defaults to the legal basis.' }),
    exporterNotified: t.boolean(),
    subjectsNotified: t.boolean(),
    challenged: t.boolean(),
  }),
});
const decideSchema = z.object({
  id: z.string(), decision: z.enum(DISCLOSURE_DECISIONS), disclosedCategories: z.array(categoryKey).max(50).nullish(),
  subjectsDisclosed: z.number().int().min(1, 'a disclosure discloses at least one subject').nullish(), rationale: optionalText(4000), legalBasis: optionalText(1000),
  mechanism: z.enum(MECHANISMS).nullish(), derogationJustification: optionalText(2000),
  exporterNotified: z.boolean().nullish(), subjectsNotified: z.boolean().nullish(), challenged: z.boolean().nullish(),
}).strict();

async function lockRequest(tx: Tx, globalId: string) {
  const [row] = await tx.select().from(disclosureRequests).where(eq(disclosureRequests.id, decodeId('DisclosureRequest', globalId, 'input.id'))).for('update');
  if (!row) throw new NotFoundError('DisclosureRequest', globalId);
  return row;
}

function requireStatus(row: { status: DisclosureStatus }, allowed: readonly DisclosureStatus[], move: string) {
  if (!allowed.includes(row.status)) {
    throw new InvalidStateError(`Cannot ${move} a request that is ${row.status}; allowed from ${allowed.join(' or ')}`, row.status);
  }
}

builder.mutationFields((t) => ({
  receiveDisclosureRequest: t.field({
    type: DisclosureRequest,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'disclosureRequest' } },
    args: { input: t.arg({ type: ReceiveInput, required: true }) },
    resolve: (_root, { input }, ctx) => writeWithAudit(ctx.db, ctx.principal, async (tx) => {
      const d = parseInput(receiveSchema, input);
      const receivedAt = d.receivedAt ?? new Date();
      if (receivedAt.getTime() > Date.now() + 60_000) throw ValidationError.field('input.receivedAt', 'must not be in the future');
      if (d.dueAt < receivedAt) throw ValidationError.field('input.dueAt', 'must not be before receivedAt');
      if (d.gagUntil && d.gagUntil < receivedAt.toISOString().slice(0, 10)) throw ValidationError.field('input.gagUntil', 'must not be before receivedAt');
      const officeId = decodeId('Office', d.officeId, 'input.officeId');
      const [office] = await tx.select().from(offices).where(eq(offices.id, officeId));
      if (!office) throw new NotFoundError('Office', d.officeId);
      const keys = [...new Set(d.requestedCategories)];
      await knownCategories(tx, keys, 'input.requestedCategories');
      const flag = art48Flag(await loadPolicyTables(tx, { exporter: office.country, importer: d.authorityCountry }), office.country, d.authorityCountry);
      const [row] = await tx.insert(disclosureRequests).values({
        officeId, authorityName: d.authorityName, authorityType: d.authorityType, authorityCountry: d.authorityCountry,
        instrument: d.instrument, reference: d.reference, receivedAt, dueAt: d.dueAt, requestedCategories: keys,
        subjectsRequested: d.subjectsRequested, foreignAuthority: flag !== null, foreignAuthorityReason: flag,
        legalBasis: d.legalBasis ?? null, gagUntil: d.gagUntil ?? null, createdBy: ctx.principal.subject,
      }).returning();
      return { result: row!, audit: { action: 'receiveDisclosureRequest', entityType: 'DisclosureRequest', entityId: row!.id, after: row } };
    }),
  }),
  startDisclosureReview: t.field({
    type: DisclosureRequest,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'disclosureRequest' } },
    args: { input: t.arg({ type: IdInput, required: true }) },
    resolve: (_root, { input }, ctx) => writeWithAudit(ctx.db, ctx.principal, async (tx) => {
      const before = await lockRequest(tx, String(input.id));
      requireStatus(before, ['RECEIVED'], 'start the review of');
      const [after] = await tx.update(disclosureRequests).set({ status: 'UNDER_REVIEW', updatedAt: new Date() }).where(eq(disclosureRequests.id, before.id)).returning();
      return { result: after!, audit: { action: 'startDisclosureReview', entityType: 'DisclosureRequest', entityId: before.id, before, after } };
    }),
  }),
  withdrawDisclosureRequest: t.field({
    type: DisclosureRequest,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'disclosureRequest' } },
    description: 'The authority withdrew its request before a decision.',
    args: { input: t.arg({ type: WithdrawInput, required: true }) },
    resolve: (_root, { input }, ctx) => writeWithAudit(ctx.db, ctx.principal, async (tx) => {
      const { id, reason } = parseInput(z.object({ id: z.string(), reason: text(2000) }), input);
      const before = await lockRequest(tx, id);
      requireStatus(before, OPEN, 'withdraw');
      const [after] = await tx.update(disclosureRequests).set({ status: 'WITHDRAWN', rationale: reason, decidedBy: ctx.principal.subject, decidedAt: new Date(), updatedAt: new Date() })
        .where(eq(disclosureRequests.id, before.id)).returning();
      return { result: after!, audit: { action: 'withdrawDisclosureRequest', entityType: 'DisclosureRequest', entityId: before.id, before, after } };
    }),
  }),
  decideDisclosureRequest: t.field({
    type: DisclosureRequest,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'disclosureRequest' } },
    description: 'Decides a request under review. A disclosure writes its LEGAL_DISCLOSURE transfer in the same transaction.',
    args: { input: t.arg({ type: DecideInput, required: true }) },
    resolve: (_root, { input }, ctx) => writeWithAudit(ctx.db, ctx.principal, async (tx) => {
      const d = parseInput(decideSchema, input);
      const before = await lockRequest(tx, d.id);
      requireStatus(before, ['UNDER_REVIEW'], `decide (${d.decision})`);
      const now = new Date();
      const common = {
        status: d.decision, decidedBy: ctx.principal.subject, decidedAt: now, updatedAt: now,
        exporterNotified: d.exporterNotified ?? before.exporterNotified, subjectsNotified: d.subjectsNotified ?? before.subjectsNotified,
        challenged: d.challenged ?? before.challenged, legalBasis: d.legalBasis ?? before.legalBasis,
      };
      const audit = (after: unknown, extra: object = {}) => ({ action: 'decideDisclosureRequest', entityType: 'DisclosureRequest', entityId: before.id, before, after: { ...(after as object), ...extra } });

      if (d.decision === 'REJECTED') {
        if (!d.rationale) throw ValidationError.field('input.rationale', 'a rejection needs its rationale');
        const [after] = await tx.update(disclosureRequests).set({ ...common, rationale: d.rationale, disclosedCategories: [], subjectsDisclosed: 0 })
          .where(eq(disclosureRequests.id, before.id)).returning();
        return { result: after!, audit: audit(after) };
      }

      const partial = d.decision === 'PARTIALLY_DISCLOSED';
      const keys = [...new Set(d.disclosedCategories ?? (partial ? [] : before.requestedCategories))];
      if (!keys.length) throw ValidationError.field('input.disclosedCategories', 'name the categories actually disclosed');
      const outside = keys.filter((k) => !before.requestedCategories.includes(k));
      if (outside.length) throw ValidationError.field('input.disclosedCategories', `not requested: ${outside.join(', ')}`);
      if (partial && !d.rationale) throw ValidationError.field('input.rationale', 'a partial disclosure needs its rationale');
      if (partial && d.subjectsDisclosed == null) throw ValidationError.field('input.subjectsDisclosed', 'say how many subjects were disclosed');
      const subjects = d.subjectsDisclosed ?? before.subjectsRequested;
      if (subjects > before.subjectsRequested) throw ValidationError.field('input.subjectsDisclosed', `more than the ${before.subjectsRequested} requested`);
      const [office] = await tx.select().from(offices).where(eq(offices.id, before.officeId));
      // Art. 48: a foreign authority's order alone is no basis for disclosure.
      if (before.foreignAuthority && !common.legalBasis) {
        throw new PolicyViolationError(office!.country, before.authorityCountry, `the request is flagged under GDPR Art. 48 (${before.foreignAuthorityReason}); record the international agreement relied on (legalBasis) before disclosing`);
      }
      const decision = await judgeRoute(tx, {
        exporterCountry: office!.country, importerCountry: before.authorityCountry, exporterRole: 'CONTROLLER', importer: { kind: 'AUTHORITY' }, context: 'TRANSFER', at: now,
      }, { mechanism: d.mechanism, derogationJustification: d.derogationJustification ?? common.legalBasis });
      if (!decision.allowed) throw new PolicyViolationError(office!.country, before.authorityCountry, decision.reason);

      const [after] = await tx.update(disclosureRequests).set({ ...common, rationale: d.rationale ?? null, disclosedCategories: keys, subjectsDisclosed: subjects })
        .where(eq(disclosureRequests.id, before.id)).returning();
      const [transfer] = await insertTransfers(tx, [{
        occurredAt: now, kind: 'LEGAL_DISCLOSURE', exporterOfficeId: office!.id, exporterCountry: office!.country,
        importerKind: 'AUTHORITY', importerAuthority: before.authorityName, importerCountry: before.authorityCountry,
        categories: keys, purpose: 'LEGAL_OBLIGATION', mechanism: decision.mechanism, sccModule: decision.sccModule,
        derogationJustification: decision.basis === 'DEROGATION' ? (d.derogationJustification ?? common.legalBasis) : null,
        policyExplanation: decision.explanation, recordCount: subjects, crossBorder: decision.crossBorder, thirdCountry: leftJurisdiction(decision),
        disclosureRequestId: before.id, recordedBy: ctx.principal.subject,
      }]);
      return {
        result: after!,
        audit: [audit(after), { action: 'recordTransfer', entityType: 'Transfer', entityId: transfer!.id, after: transfer }],
      };
    }),
  }),
}));
