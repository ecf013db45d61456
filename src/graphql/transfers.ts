// Transfer history: append-only events, each checked against the grants and the transfer policy when recorded.
// The `transfers` filters and the CSV export share one filter definition, so both answer the same question.
import { and, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import { writeWithAudit } from '../audit/write.js';
import type { Principal } from '../auth/principal.js';
import type { Queryable, Tx } from '../db/client.js';
import { IMPORTER_KINDS, MECHANISMS, PURPOSES, TRANSFER_KINDS, type Mechanism, type Purpose, type TransferKind } from '../db/enums.js';
import { judgeRoutes } from '../policy/load.js';
import { knownCategories } from '../registry/categories.js';
import { assertMayReceive, lockContractor } from '../registry/contractor-status.js';
import { grantInEffect } from '../registry/grants.js';
import { grantCategories, grants, offices, transfers } from '../db/tables.js';
import { NotFoundError, PolicyViolationError, ValidationError } from '../errors.js';
import type { Decision, Importer, MechanismChoice } from '../policy/transfer-rules.js';
import { builder } from './builder.js';
import { MechanismEnum, PurposeEnum } from './grants.js';
import { categoryKey, country, decodeId, optionalText, parseInput } from './input.js';

export const TransferKindEnum = builder.enumType('TransferKind', { values: TRANSFER_KINDS });
export const ImporterKindEnum = builder.enumType('ImporterKind', { values: IMPORTER_KINDS });

export const Transfer = builder.drizzleNode('transfers', {
  name: 'Transfer',
  id: { column: (t) => t.id },
  // Staff read the whole history; a contractor only the record of its own fetches (`accessHistory`).
  authScopes: (t, ctx) => ctx.principal.kind === 'staff'
    || (t.kind === 'CONTRACTOR_ACCESS' && t.importerContractorId === ctx.principal.contractorId),
  description: 'One event of the transfer history. Never updated, never deleted.',
  fields: (t) => ({
    occurredAt: t.expose('occurredAt', { type: 'DateTime' }),
    kind: t.expose('kind', { type: TransferKindEnum }),
    exporterOffice: t.relation('exporterOffice', { description: 'The office the data comes from.' }),
    exporterContractor: t.relation('exporterContractor', { nullable: true, description: 'ONWARD_TRANSFER: the processor passing the data on.' }),
    exporterCountry: t.exposeString('exporterCountry'),
    importerKind: t.expose('importerKind', { type: ImporterKindEnum }),
    importerContractor: t.relation('importerContractor', { nullable: true }),
    importerOffice: t.relation('importerOffice', { nullable: true }),
    importerAuthority: t.exposeString('importerAuthority', { nullable: true }),
    importerCountry: t.exposeString('importerCountry'),
    categories: t.exposeStringList('categories', { description: 'Data-category keys.' }),
    purpose: t.expose('purpose', { type: PurposeEnum }),
    mechanism: t.expose('mechanism', { type: MechanismEnum }),
    sccModule: t.exposeInt('sccModule', { nullable: true }),
    derogationJustification: t.exposeString('derogationJustification', { nullable: true }),
    policyExplanation: t.exposeString('policyExplanation', { description: 'Why the transfer policy allowed this route.' }),
    recordCount: t.exposeInt('recordCount'),
    crossBorder: t.exposeBoolean('crossBorder', { description: 'Exporter and importer are in different countries.' }),
    thirdCountry: t.exposeBoolean('thirdCountry', { description: 'The data left the exporter\'s jurisdiction (e.g. the EU/EEA).' }),
    grant: t.relation('grant', { nullable: true }),
    accessToken: t.relation('accessToken', { nullable: true }),
    recordedBy: t.exposeString('recordedBy'),
  }),
});

// --- filters, shared by GraphQL and CSV ---

export const transferFilterSchema = z.object({
  from: z.date().nullish(),
  to: z.date().nullish(),
  contractorId: z.string().nullish(),
  importerCountry: country.nullish(),
  category: categoryKey.nullish(),
  purpose: z.enum(PURPOSES).nullish(),
  kind: z.enum(TRANSFER_KINDS).nullish(),
  mechanism: z.enum(MECHANISMS).nullish(),
  crossBorderOnly: z.boolean().nullish(),
  thirdCountryOnly: z.boolean().nullish(),
}).strict();
export type TransferFilter = z.infer<typeof transferFilterSchema>;

/** The relational-query `where` for a filter; validates it first (ValidationError names the argument). */
export function transferWhere(raw: object) {
  const keys = Object.keys(transferFilterSchema.shape);
  const f = parseInput(transferFilterSchema, Object.fromEntries(Object.entries(raw).filter(([k, v]) => v != null && keys.includes(k))), 'args');
  if (f.from && f.to && f.to <= f.from) throw ValidationError.field('args.to', 'must be after from');
  return {
    ...(f.from || f.to ? { occurredAt: { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lt: f.to } : {}) } } : {}),
    ...(f.contractorId ? { importerContractorId: decodeId('Contractor', f.contractorId, 'args.contractorId') } : {}),
    ...(f.importerCountry ? { importerCountry: f.importerCountry } : {}),
    ...(f.category ? { categories: { arrayContains: [f.category] } } : {}),
    ...(f.purpose ? { purpose: f.purpose } : {}),
    ...(f.kind ? { kind: f.kind } : {}),
    ...(f.mechanism ? { mechanism: f.mechanism } : {}),
    ...(f.crossBorderOnly ? { crossBorder: true } : {}),
    ...(f.thirdCountryOnly ? { thirdCountry: true } : {}),
  };
}

export const TRANSFER_ORDER = { occurredAt: 'desc', id: 'desc' } as const;

/**
 * The connection's keyset filter reads `occurredAt < c OR (occurredAt = c AND id < i)`, which PostgreSQL cannot
 * use as an index bound: a page deep in the history scanned (and fetched) every row above its cursor. The same
 * bound stated plainly as well (`occurredAt <= c`, or `>=` paging backwards) is one, so every page costs the same.
 */
function withTimeBound<Q extends { where?: unknown }>(q: Q): Q {
  if (!q.where) return q;
  const and = (q.where as { AND?: unknown[] }).AND;
  const parts = Array.isArray(and) ? and : [q.where];
  for (const part of parts) {
    const first = (part as { OR?: { occurredAt?: { lt?: unknown; gt?: unknown } }[] }).OR?.[0]?.occurredAt;
    if (first?.lt !== undefined) return { ...q, where: { AND: [...parts, { occurredAt: { lte: first.lt } }] } };
    if (first?.gt !== undefined) return { ...q, where: { AND: [...parts, { occurredAt: { gte: first.gt } }] } };
  }
  return q;
}

/** Keyset continuation after (occurredAt, id) in the page order. */
export const afterTransfer = (at: Date, id: number) => ({ OR: [{ occurredAt: { lt: at } }, { occurredAt: { eq: at }, id: { lt: id } }] });

const filterArgs = (t: any) => ({
  from: t.arg({ type: 'DateTime', required: false, description: 'Inclusive.' }),
  to: t.arg({ type: 'DateTime', required: false, description: 'Exclusive.' }),
  contractorId: t.arg.id({ required: false, description: 'The importing contractor.' }),
  importerCountry: t.arg.string({ required: false }),
  category: t.arg.string({ required: false, description: 'Transfers that included this data-category key.' }),
  purpose: t.arg({ type: PurposeEnum, required: false }),
  kind: t.arg({ type: TransferKindEnum, required: false }),
  mechanism: t.arg({ type: MechanismEnum, required: false }),
  crossBorderOnly: t.arg.boolean({ required: false, description: 'Only transfers between two countries.' }),
  thirdCountryOnly: t.arg.boolean({ required: false, description: 'Only transfers that left the exporter\'s jurisdiction (e.g. left the EU/EEA).' }),
});

interface SummaryRow { importerCountry: string; mechanism: Mechanism; transfers: number; records: number }

const TransferSummaryRow = builder.objectRef<SummaryRow>('TransferSummaryRow').implement({
  fields: (t) => ({
    importerCountry: t.exposeString('importerCountry'),
    mechanism: t.expose('mechanism', { type: MechanismEnum }),
    transfers: t.exposeInt('transfers'),
    records: t.exposeInt('records', { description: 'Sum of the transfers\' record counts.' }),
  }),
});

builder.queryFields((t) => ({
  transfers: t.drizzleConnection({
    type: 'transfers',
    authScopes: { staff: true },
    description: 'The transfer history, newest first. Also as CSV: GET /export/transfers.csv with the same arguments.',
    args: filterArgs(t),
    resolve: (query, _root, args, ctx) =>
      ctx.db.query.transfers.findMany(withTimeBound(query({ where: transferWhere(args) as never, orderBy: TRANSFER_ORDER }))),
  }, { name: 'TransferConnection' }, { name: 'TransferEdge' }),
  transferSummary: t.field({
    type: [TransferSummaryRow],
    authScopes: { staff: true },
    description: 'Transfers counted by destination country and mechanism over [from, to).',
    args: {
      from: t.arg({ type: 'DateTime', required: true }),
      to: t.arg({ type: 'DateTime', required: true }),
      crossBorderOnly: t.arg.boolean({ required: false }),
      thirdCountryOnly: t.arg.boolean({ required: false }),
    },
    resolve: async (_root, args, ctx) => {
      if (args.to <= args.from) throw ValidationError.field('args.to', 'must be after from');
      const rows = await ctx.db.select({
        importerCountry: transfers.importerCountry,
        mechanism: transfers.mechanism,
        transfers: sql<number>`count(*)::int`,
        records: sql<number>`coalesce(sum(${transfers.recordCount}), 0)::int`,
      }).from(transfers).where(and(
        sql`${transfers.occurredAt} >= ${args.from.toISOString()} and ${transfers.occurredAt} < ${args.to.toISOString()}`,
        args.crossBorderOnly ? eq(transfers.crossBorder, true) : undefined,
        args.thirdCountryOnly ? eq(transfers.thirdCountry, true) : undefined,
      )).groupBy(transfers.importerCountry, transfers.mechanism).orderBy(transfers.importerCountry, transfers.mechanism);
      return rows.map((r) => ({ ...r, transfers: Number(r.transfers), records: Number(r.records) }));
    },
  }),
}));

// --- writing ---

export type NewTransfer = typeof transfers.$inferInsert;

/** Derived from the policy's decision: left the exporter's jurisdiction, not merely its country. */
export const leftJurisdiction = (d: Extract<Decision, { allowed: true }>) => d.crossBorder && d.basis !== 'SAME_COUNTRY' && d.basis !== 'SAME_JURISDICTION';

/** Appends transfer rows inside the caller's transaction (the caller writes the audit event). */
export async function insertTransfers(tx: Tx, rows: NewTransfer[]) {
  if (!rows.length) return [];
  return tx.insert(transfers).values(rows).returning();
}

/** The ACTIVE grant (at `at`) of contractor × office × purpose that covers every one of `keys`, if any. */
export async function coveringGrant(db: Queryable, contractorId: number, officeId: number, purpose: Purpose, keys: string[], at: Date) {
  const covered = db.select({ n: sql`count(*)` }).from(grantCategories)
    .where(and(eq(grantCategories.grantId, grants.id), inArray(grantCategories.categoryKey, keys)));
  const [g] = await db.select().from(grants).where(and(
    eq(grants.contractorId, contractorId), eq(grants.officeId, officeId), eq(grants.purpose, purpose), grantInEffect(at),
    sql`(${covered}) = ${keys.length}`,
  )).orderBy(grants.id).limit(1);
  return g;
}

const RecordTransferInput = builder.inputType('RecordTransferInput', {
  fields: (t) => ({
    officeId: t.id({ required: true, description: 'The exporting office (where the data comes from).' }),
    contractorId: t.id({ description: 'Importer: a contractor (CONTRACTOR_SHARE), or with viaContractorId a sub-processor (ONWARD_TRANSFER).' }),
    importerOfficeId: t.id({ description: 'Importer: another office (INTRA_GROUP).' }),
    viaContractorId: t.id({ description: 'ONWARD_TRANSFER: the processor that passes the data to its sub-processor contractorId.' }),
    categories: t.stringList({ required: true }),
    purpose: t.field({ type: PurposeEnum, required: true }),
    recordCount: t.int({ required: true, description: 'How many subjects\' records moved: at least 1.' }),
    occurredAt: t.field({ type: 'DateTime', description: 'Defaults to now; never in the future.' }),
    mechanism: t.field({ type: MechanismEnum, description: 'Only where the route needs one that no grant supplies: BCR/INTRA_GROUP_AGREEMENT between offices, SCC with its module, or an Art. 49 derogation with a justification.' }),
    sccModule: t.int(),
    derogationJustification: t.string(),
  }),
});

const recordSchema = z.object({
  officeId: z.string(),
  contractorId: z.string().nullish(),
  importerOfficeId: z.string().nullish(),
  viaContractorId: z.string().nullish(),
  categories: z.array(categoryKey).min(1, 'at least one category').max(50),
  purpose: z.enum(PURPOSES),
  recordCount: z.number().int().min(1, 'a transfer moves at least one record').max(1_000_000_000),
  occurredAt: z.date().nullish(),
  mechanism: z.enum(MECHANISMS).nullish(),
  sccModule: z.number().int().min(1).max(4).nullish(),
  derogationJustification: optionalText(2000),
}).strict();

async function recordTransfer(tx: Tx, principal: Principal, input: unknown, now: Date) {
  const data = parseInput(recordSchema, input);
  if (Boolean(data.contractorId) === Boolean(data.importerOfficeId)) {
    throw ValidationError.field('input.contractorId', 'give exactly one importer: contractorId or importerOfficeId');
  }
  if (data.viaContractorId && !data.contractorId) throw ValidationError.field('input.viaContractorId', 'an onward transfer goes to a contractor');
  const at = data.occurredAt ?? now;
  if (at.getTime() > now.getTime() + 60_000) throw ValidationError.field('input.occurredAt', 'must not be in the future');
  const keys = [...new Set(data.categories)];
  const officeId = decodeId('Office', data.officeId, 'input.officeId');

  const [office] = await tx.select().from(offices).where(eq(offices.id, officeId));
  if (!office) throw new NotFoundError('Office', data.officeId);
  await knownCategories(tx, data.categories, 'input.categories');

  const loadContractor = async (globalId: string, field: string) => {
    const c = await lockContractor(tx, decodeId('Contractor', globalId, field), 'share');
    assertMayReceive(c, 'data');
    return c;
  };
  const noGrant = (to: string, who: string) =>
    new PolicyViolationError(office.country, to, `no ACTIVE grant from office ${office.name} gives ${who} ${keys.join(', ')} for ${data.purpose} at ${at.toISOString()}`);

  let kind: TransferKind;
  let exporterCountry = office.country;
  let exporterRole: 'CONTROLLER' | 'PROCESSOR' = 'CONTROLLER';
  let importer: Importer;
  let importerCountry: string;
  let grantRow: typeof grants.$inferSelect | undefined;
  const row: Partial<NewTransfer> = {};

  if (data.importerOfficeId) {
    const id = decodeId('Office', data.importerOfficeId, 'input.importerOfficeId');
    if (id === officeId) throw ValidationError.field('input.importerOfficeId', 'must differ from the exporting office');
    const [to] = await tx.select().from(offices).where(eq(offices.id, id));
    if (!to) throw new NotFoundError('Office', data.importerOfficeId);
    kind = 'INTRA_GROUP';
    importer = { kind: 'OFFICE' };
    importerCountry = to.country;
    Object.assign(row, { importerKind: 'OFFICE', importerOfficeId: id });
  } else {
    const target = await loadContractor(data.contractorId!, 'input.contractorId');
    importer = { kind: 'CONTRACTOR', role: target.role, certifications: target.certifications };
    importerCountry = target.country;
    grantRow = await coveringGrant(tx, target.id, officeId, data.purpose, keys, at);
    if (!grantRow) throw noGrant(target.country, target.legalName);
    Object.assign(row, { importerKind: 'CONTRACTOR', importerContractorId: target.id, grantId: grantRow.id });
    kind = 'CONTRACTOR_SHARE';
    if (data.viaContractorId) {
      const via = await loadContractor(data.viaContractorId, 'input.viaContractorId');
      if (target.parentContractorId !== via.id) {
        throw ValidationError.field('input.contractorId', `${target.legalName} is not a sub-processor engaged by ${via.legalName}`);
      }
      // The processor may pass on only what it holds under its own grant.
      if (!(await coveringGrant(tx, via.id, officeId, data.purpose, keys, at))) throw noGrant(via.country, via.legalName);
      kind = 'ONWARD_TRANSFER';
      exporterCountry = via.country;
      exporterRole = 'PROCESSOR';
      row.exporterContractorId = via.id;
    }
  }

  // The caller's mechanism only where a route needs one; otherwise the grant's (or none, where none is needed).
  const choice: MechanismChoice = data.mechanism
    ? { mechanism: data.mechanism, sccModule: data.sccModule, derogationJustification: data.derogationJustification }
    : grantRow ? { mechanism: grantRow.mechanism, sccModule: grantRow.sccModule } : {};
  const route = { exporterCountry, importerCountry, exporterRole, importer, context: 'TRANSFER' as const, at };
  // The grant's mechanism may not fit this route (e.g. an onward one): then the policy derives what does, or says what is needed.
  const [chosen, derived] = await judgeRoutes(tx, [{ route, choice }, { route, choice: {} }]);
  const decision = !chosen!.allowed && !data.mechanism && grantRow ? derived! : chosen!;
  if (!decision.allowed) throw new PolicyViolationError(exporterCountry, importerCountry, decision.reason);

  const [created] = await insertTransfers(tx, [{
    ...row, occurredAt: at, kind, exporterOfficeId: officeId, exporterCountry, importerCountry: importerCountry!,
    importerKind: row.importerKind!, categories: keys, purpose: data.purpose, mechanism: decision.mechanism, sccModule: decision.sccModule,
    derogationJustification: decision.basis === 'DEROGATION' ? data.derogationJustification ?? null : null,
    policyExplanation: decision.explanation, recordCount: data.recordCount, crossBorder: decision.crossBorder,
    thirdCountry: leftJurisdiction(decision), recordedBy: principal.subject,
  }]);
  return created!;
}

builder.mutationFields((t) => ({
  recordTransfer: t.field({
    type: Transfer,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'transfer' } },
    description: 'Records one transfer after checking it against the grants and the transfer policy; mechanism and cross-border flags are derived.',
    args: { input: t.arg({ type: RecordTransferInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      writeWithAudit(ctx.db, ctx.principal, async (tx) => {
        const row = await recordTransfer(tx, ctx.principal, input, ctx.clock.now());
        return { result: row, audit: { action: 'recordTransfer', entityType: 'Transfer', entityId: row.id, after: row } };
      }),
  }),
}));
