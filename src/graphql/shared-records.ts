// Shared records: what a contractor may actually fetch. Grants × token × purpose × opt-outs decide, field by
// field; one SQL statement fetches and filters a page; each page is logged as a CONTRACTOR_ACCESS transfer.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { sql } from 'drizzle-orm';
import { GraphQLError } from 'graphql';
import { z } from 'zod';
import { writeWithAudit } from '../audit/write.js';
import { OWN_READ_SCOPES, type ContractorPrincipal } from '../auth/principal.js';
import { rowsOf, type Queryable } from '../db/client.js';
import { PURPOSES, type Purpose } from '../db/enums.js';
import { alias } from 'drizzle-orm/pg-core';
import { grants, subjectOptOuts } from '../db/tables.js';
import { knownCategories } from '../registry/categories.js';
import { grantInEffect } from '../registry/grants.js';
import { ForbiddenError, ValidationError } from '../errors.js';
import { recordContractorAccess } from '../records/access-log.js';
import { importRecords, MAX_IMPORT_BATCH, recordValuesSchema, subjectRefSchema } from '../records/import.js';
import { builder, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './builder.js';
import { PurposeEnum } from './grants.js';
import { TRANSFER_ORDER } from './transfers.js';
import { decodeId, parseInput } from './input.js';

interface SharedValue { category: string; value: string }
interface SharedRecordRow { id: number; subjectRef: string; officeId: number; exporterCountry: string; values: Record<string, string> }

const SharedValueRef = builder.objectRef<SharedValue>('SharedValue').implement({
  fields: (t) => ({ category: t.exposeString('category'), value: t.exposeString('value') }),
});

const SharedRecord = builder.objectRef<SharedRecordRow>('SharedRecord').implement({
  description: 'One subject\'s record, holding only the values this token may read.',
  fields: (t) => ({
    subjectRef: t.exposeString('subjectRef', { description: 'Pseudonymous subject reference.' }),
    exporterCountry: t.exposeString('exporterCountry', { description: 'Country of the office the data comes from.' }),
    values: t.field({
      type: [SharedValueRef],
      resolve: (r) => Object.entries(r.values).sort(([a], [b]) => a.localeCompare(b)).map(([category, value]) => ({ category, value })),
    }),
  }),
});

const SharedRecordEdge = builder.objectRef<{ cursor: string; node: SharedRecordRow }>('SharedRecordEdge').implement({
  fields: (t) => ({ cursor: t.exposeString('cursor'), node: t.field({ type: SharedRecord, resolve: (e) => e.node }) }),
});
const SharedRecordPageInfo = builder.objectRef<{ hasNextPage: boolean; endCursor: string | null }>('SharedRecordPageInfo').implement({
  fields: (t) => ({ hasNextPage: t.exposeBoolean('hasNextPage'), endCursor: t.exposeString('endCursor', { nullable: true }) }),
});
const SharedRecordConnection = builder.objectRef<{ edges: { cursor: string; node: SharedRecordRow }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }>('SharedRecordConnection').implement({
  fields: (t) => ({
    edges: t.field({ type: [SharedRecordEdge], resolve: (c) => c.edges }),
    nodes: t.field({ type: [SharedRecord], resolve: (c) => c.edges.map((e) => e.node) }),
    pageInfo: t.field({ type: SharedRecordPageInfo, resolve: (c) => c.pageInfo }),
  }),
});

const cursorOf = (id: number) => Buffer.from(`SharedRecord:${id}`).toString('base64url');
function parseCursor(after: string | null | undefined): number {
  if (!after) return 0;
  const m = /^SharedRecord:(\d+)$/.exec(Buffer.from(after, 'base64url').toString());
  if (!m) throw ValidationError.field('after', 'not a cursor of this connection');
  return Number(m[1]);
}

interface PageResult {
  status: string | null;
  blockers: { id: number; kind: string }[];
  rows: SharedRecordRow[];
  /** Per office in the page: the grant mechanism and the categories granted there. */
  routes: { officeId: number; exporterCountry: string; importerCountry: string; grantId: number; mechanism: string }[];
}

/**
 * One statement: the contractor's gates (status, unacknowledged current obligations), the categories each
 * office's active grants for this purpose allow within the token's categories, and one page of records
 * with only those values, excluding subjects who opted out of the purpose.
 */
/** The grants table as `gr` in fetchPage's statement. */
const gr = alias(grants, 'gr');

async function fetchPage(db: Queryable, p: ContractorPrincipal, purpose: Purpose, at: Date, afterId: number, limit: number): Promise<PageResult> {
  const tokenCategories = `{${p.categories.map((c) => `"${c}"`).join(',')}}`;
  const result = await db.execute(sql`
    with g as (
      select gr.id as grant_id, gr.office_id, gr.mechanism, gc.category_key as granted
      from grants gr join grant_categories gc on gc.grant_id = gr.id
      where gr.contractor_id = ${p.contractorId} and gr.purpose = ${purpose} and ${grantInEffect(at, gr)}
    ),
    allowed as (
      select distinct g.office_id, dc.key
      from g join data_categories dc
        on dc.key = g.granted or (dc.sensitivity <> 'RESTRICTED' and starts_with(dc.key, g.granted || '.'))
      where exists (select 1 from unnest(${tokenCategories}::text[]) t(k)
        where dc.key = t.k or (dc.sensitivity <> 'RESTRICTED' and starts_with(dc.key, t.k || '.')))
    ),
    blockers as (
      select o.id, o.kind from obligations o
      where o.contractor_id = ${p.contractorId} and o.acknowledged_at is null
        and o.effective_from <= current_date and (o.expires_on is null or o.expires_on > current_date)
    ),
    page as (
      select r.id, r.subject_ref, r.office_id, f.vals
      from shared_records r
      cross join lateral (
        select jsonb_object_agg(e.key, e.value) as vals from jsonb_each_text(r.values) e
        where exists (select 1 from allowed a where a.office_id = r.office_id and a.key = e.key)
      ) f
      where r.office_id in (select office_id from allowed) and r.id > ${afterId} and f.vals is not null
        and not exists (select 1 from subject_opt_outs so where so.subject_ref = r.subject_ref and so.purpose = ${purpose})
        and not exists (select 1 from blockers)
        and (select status from contractors where id = ${p.contractorId}) = 'ACTIVE'
      order by r.id
      limit ${limit}
    )
    select
      (select status from contractors where id = ${p.contractorId}) as status,
      (select coalesce(json_agg(json_build_object('id', b.id, 'kind', b.kind) order by b.id), '[]') from blockers b) as blockers,
      (select coalesce(json_agg(json_build_object('id', pg.id, 'subjectRef', pg.subject_ref, 'officeId', pg.office_id, 'exporterCountry', o.country, 'values', pg.vals) order by pg.id), '[]')
         from page pg join offices o on o.id = pg.office_id) as rows,
      (select coalesce(json_agg(json_build_object('officeId', x.office_id, 'exporterCountry', x.country, 'importerCountry', x.importer, 'grantId', x.grant_id, 'mechanism', x.mechanism)), '[]')
         from (select distinct on (g.office_id) g.office_id, o.country, c.country as importer, g.grant_id, g.mechanism
               from g join offices o on o.id = g.office_id join contractors c on c.id = ${p.contractorId}
               order by g.office_id, g.grant_id) x) as routes
  `);
  const row = rowsOf<Record<string, unknown>>(result)[0]!;
  const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;
  return { status: row.status as string | null, blockers: json(row.blockers), rows: json(row.rows), routes: json(row.routes) };
}

builder.queryField('sharedRecords', (t) => t.field({
  type: SharedRecordConnection,
  description: 'Contractor tokens: the records your active grants for `purpose` cover, with only the values you may read. Every page is logged as a transfer.',
  authScopes: { scope: 'records:read' },
  args: {
    purpose: t.arg({ type: PurposeEnum, required: true }),
    first: t.arg.int({ required: false }),
    after: t.arg.string({ required: false }),
  },
  resolve: async (_root, args, ctx) => {
    const p = ctx.principal;
    if (p.kind !== 'contractor') throw new ForbiddenError('Shared records are fetched with a contractor token');
    if (!p.purposes.includes(args.purpose)) {
      throw new GraphQLError(`This token does not cover the purpose ${args.purpose}`, { extensions: { code: 'FORBIDDEN', reason: 'insufficient_scope' } });
    }
    const first = args.first ?? DEFAULT_PAGE_SIZE;
    if (first < 1 || first > MAX_PAGE_SIZE) throw ValidationError.field('first', `must be between 1 and ${MAX_PAGE_SIZE}`);
    const afterId = parseCursor(args.after);
    return writeWithAudit(ctx.db, p, async (tx) => {
      const page = await fetchPage(tx, p, args.purpose, ctx.clock.now(), afterId, first + 1);
      if (page.status !== 'ACTIVE') throw new GraphQLError(`The contractor is ${page.status}`, { extensions: { code: 'FORBIDDEN', reason: 'contractor_not_active' } });
      if (page.blockers.length) {
        throw new GraphQLError(`Acknowledge your current obligations first: ${page.blockers.map((b) => `${b.kind} (${encodeObligationId(b.id)})`).join(', ')}`, {
          extensions: { code: 'FORBIDDEN', reason: 'obligations_unacknowledged', obligations: page.blockers.map((b) => encodeObligationId(b.id)) },
        });
      }
      const rows = page.rows.slice(0, first);
      const logged = await recordContractorAccess(tx, { principal: p, purpose: args.purpose, rows, routes: page.routes });
      return {
        result: { edges: rows.map((r) => ({ cursor: cursorOf(r.id), node: r })), pageInfo: { hasNextPage: page.rows.length > first, endCursor: rows.length ? cursorOf(rows.at(-1)!.id) : null } },
        audit: { action: 'fetchSharedRecords', entityType: 'Contractor', entityId: p.contractorId, after: { purpose: args.purpose, records: rows.length, transfers: logged, tokenId: p.tokenId } },
      };
    });
  },
}));

const encodeObligationId = (id: number) => encodeGlobalID('Obligation', id);

builder.queryField('accessHistory', (t) => t.drizzleConnection({
  type: 'transfers',
  description: 'Contractor tokens with registry:read or records:read: your own record fetches (CONTRACTOR_ACCESS transfers), newest first.',
  authScopes: { $all: { contractor: true, scope: OWN_READ_SCOPES.accessHistory } },
  args: { purpose: t.arg({ type: PurposeEnum, required: false }) },
  resolve: (query, _root, args, ctx) => {
    const p = ctx.principal;
    if (p.kind !== 'contractor') throw new ForbiddenError('accessHistory is read with a contractor token');
    return ctx.db.query.transfers.findMany(query({
      where: { importerContractorId: p.contractorId, kind: 'CONTRACTOR_ACCESS', ...(args.purpose ? { purpose: args.purpose } : {}) },
      orderBy: TRANSFER_ORDER,
    }));
  },
}, { name: 'AccessHistoryConnection' }, { name: 'AccessHistoryEdge' }));

const SharedRecordInput = builder.inputType('SharedRecordInput', {
  fields: (t) => ({
    subjectRef: t.string({ required: true, description: 'Pseudonymous subject reference (no names or e-mails).' }),
    values: t.field({ type: 'JSON', required: true, description: 'Values keyed by data-category key, e.g. {"contact.email": "…"}.' }),
  }),
});

const ImportSharedRecordsInput = builder.inputType('ImportSharedRecordsInput', {
  fields: (t) => ({
    officeId: t.id({ required: true, description: 'The office holding these records (the exporter).' }),
    records: t.field({ type: [SharedRecordInput], required: true, description: `At most ${MAX_IMPORT_BATCH} per call; all or nothing.` }),
  }),
});

const ImportSharedRecordsPayload = builder.objectRef<{ imported: number; created: number; updated: number }>('ImportSharedRecordsPayload').implement({
  fields: (t) => ({
    imported: t.exposeInt('imported'),
    created: t.exposeInt('created'),
    updated: t.exposeInt('updated', { description: 'Existing subjects of this office whose values were merged.' }),
  }),
});

const RecordOptOutInput = builder.inputType('RecordOptOutInput', {
  fields: (t) => ({ subjectRef: t.string({ required: true }), purpose: t.field({ type: PurposeEnum, required: true }) }),
});
const RecordOptOutPayload = builder.objectRef<{ subjectRef: string; purpose: Purpose; recordedAt: Date }>('RecordOptOutPayload').implement({
  fields: (t) => ({
    subjectRef: t.exposeString('subjectRef'),
    purpose: t.expose('purpose', { type: PurposeEnum }),
    recordedAt: t.expose('recordedAt', { type: 'DateTime' }),
  }),
});


builder.mutationFields((t) => ({
  importSharedRecords: t.field({
    type: ImportSharedRecordsPayload,
    authScopes: { compliance: true },
    errors: { directResult: true },
    args: { input: t.arg({ type: ImportSharedRecordsInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const data = parseInput(z.object({
        officeId: z.string(),
        records: z.array(z.object({ subjectRef: z.string(), values: recordValuesSchema })).min(1, 'at least one record').max(MAX_IMPORT_BATCH, `at most ${MAX_IMPORT_BATCH} records per call`),
      }), input);
      const officeId = decodeId('Office', data.officeId, 'input.officeId');
      const keys = [...new Set(data.records.flatMap((r) => Object.keys(r.values)))];
      // Values go under leaf categories only: a card number filed under `financial` would skip its check digit
      // and reach anyone granted `financial`, though payment cards must be granted by name. An unknown key is
      // reported by importRecords, under the record and key it was given with.
      const found = [...(await knownCategories(ctx.db, keys, 'input.records', [])).values()];
      const known = new Set(found.filter((c) => !c.isGroup).map((c) => c.key));
      const groups = new Set(found.filter((c) => c.isGroup).map((c) => c.key));
      return writeWithAudit(ctx.db, ctx.principal, async (tx) => {
        const result = await importRecords(tx, officeId, data.officeId, data.records, known, groups);
        // The audit log records what was imported, never the personal data itself.
        return { result, audit: { action: 'importSharedRecords', entityType: 'Office', entityId: officeId, after: { ...result, categories: keys.sort() } } };
      });
    },
  }),
  recordOptOut: t.field({
    type: RecordOptOutPayload,
    authScopes: { compliance: true },
    errors: { directResult: true },
    args: { input: t.arg({ type: RecordOptOutInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const data = parseInput(z.object({ subjectRef: subjectRefSchema, purpose: z.enum(PURPOSES) }), input);
      return writeWithAudit(ctx.db, ctx.principal, async (tx) => {
        const [row] = await tx.insert(subjectOptOuts).values({ ...data, recordedBy: ctx.principal.subject })
          .onConflictDoUpdate({ target: [subjectOptOuts.subjectRef, subjectOptOuts.purpose], set: { subjectRef: sql`excluded.subject_ref` } })
          .returning();
        return { result: row!, audit: { action: 'recordOptOut', entityType: 'Subject', entityId: data.subjectRef, after: { purpose: data.purpose } } };
      });
    },
  }),
}));
