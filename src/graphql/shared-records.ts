// Shared records: types, the records fetch, the access history and the import and opt-out mutations. The rules
// (what a contractor may read, the gates, the access log) live in src/registry/shared-records.ts.
import { GraphQLError } from 'graphql';
import { OWN_READ_SCOPES } from '../auth/principal.js';
import type { Purpose } from '../db/enums.js';
import { ForbiddenError, ValidationError } from '../errors.js';
import {
  MAX_IMPORT_BATCH,
  ObligationsUnacknowledgedError,
  accessHistoryFilter,
  fetchSharedRecords,
  importSharedRecords,
  recordOptOut,
  type ImportResult,
  type SharedRecordRow,
} from '../registry/shared-records.js';
import { readNewestFirst, TRANSFER_ORDER } from '../registry/transfers.js';
import { ProcessorNotActiveError } from '../registry/grant-status.js';
import { DEFAULT_PAGE_SIZE } from '../registry/paging.js';
import { builder } from './builder.js';
import { PurposeEnum } from './grants.js';
import { decodeId } from './input.js';

interface SharedValue {
  category: string;
  value: string;
}

const SharedValueRef = builder.objectRef<SharedValue>('SharedValue').implement({
  fields: (t) => ({ category: t.exposeString('category'), value: t.exposeString('value') }),
});

const SharedRecord = builder.objectRef<SharedRecordRow>('SharedRecord').implement({
  description: "One subject's record, holding only the values this token may read.",
  fields: (t) => ({
    subjectRef: t.exposeString('subjectRef', { description: 'Pseudonymous subject reference.' }),
    exporterCountry: t.exposeString('exporterCountry', { description: 'Country of the office the data comes from.' }),
    values: t.field({
      type: [SharedValueRef],
      resolve: (r) =>
        Object.entries(r.values)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([category, value]) => ({ category, value })),
    }),
  }),
});

const SharedRecordEdge = builder.objectRef<{ cursor: string; node: SharedRecordRow }>('SharedRecordEdge').implement({
  fields: (t) => ({ cursor: t.exposeString('cursor'), node: t.field({ type: SharedRecord, resolve: (e) => e.node }) }),
});
const SharedRecordPageInfo = builder
  .objectRef<{ hasNextPage: boolean; endCursor: string | null }>('SharedRecordPageInfo')
  .implement({
    fields: (t) => ({
      hasNextPage: t.exposeBoolean('hasNextPage'),
      endCursor: t.exposeString('endCursor', { nullable: true }),
    }),
  });
const SharedRecordConnection = builder
  .objectRef<{
    edges: { cursor: string; node: SharedRecordRow }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  }>('SharedRecordConnection')
  .implement({
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

/**
 * A refused fetch keeps its reason (and the obligations to acknowledge, or the processor holding its grants back) in
 * the error's extensions.
 */
function refusal(e: unknown): unknown {
  if (e instanceof ProcessorNotActiveError)
    return new GraphQLError(e.message, { extensions: { code: e.code, processor: e.processorId } });
  if (!(e instanceof ForbiddenError)) return e;
  const obligations = e instanceof ObligationsUnacknowledgedError ? { obligations: e.obligations } : {};
  return new GraphQLError(e.message, { extensions: { code: e.code, reason: e.reason, ...obligations } });
}

builder.queryField('sharedRecords', (t) =>
  t.field({
    type: SharedRecordConnection,
    description:
      'Contractor tokens: the records your active grants for `purpose` cover, with only the values you may read. Every page is logged as a transfer.',
    authScopes: { scope: 'records:read' },
    args: {
      purpose: t.arg({ type: PurposeEnum, required: true }),
      first: t.arg.int({ required: false }),
      after: t.arg.string({ required: false }),
    },
    resolve: async (_root, args, ctx) => {
      const first = args.first ?? DEFAULT_PAGE_SIZE;
      const page = await fetchSharedRecords(ctx, ctx.principal, {
        purpose: args.purpose,
        first,
        afterId: parseCursor(args.after),
      }).catch((e) => {
        throw refusal(e);
      });
      const edges = page.rows.map((r) => ({ cursor: cursorOf(r.id), node: r }));
      return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null } };
    },
  }),
);

builder.queryField('accessHistory', (t) =>
  t.drizzleConnection(
    {
      type: 'transfers',
      description:
        'Contractor tokens with registry:read or records:read: your own record fetches (CONTRACTOR_ACCESS transfers), newest first.',
      authScopes: { $all: { contractor: true, scope: OWN_READ_SCOPES.accessHistory } },
      args: { purpose: t.arg({ type: PurposeEnum, required: false }) },
      resolve: (query, _root, args, ctx) =>
        readNewestFirst(
          query({ where: accessHistoryFilter(ctx.principal, args.purpose), orderBy: TRANSFER_ORDER }),
          {},
          ctx.clock.now(),
          (q) => ctx.db.query.transfers.findMany(q),
        ),
    },
    { name: 'AccessHistoryConnection' },
    { name: 'AccessHistoryEdge' },
  ),
);

const SharedRecordInput = builder.inputType('SharedRecordInput', {
  fields: (t) => ({
    subjectRef: t.string({ required: true, description: 'Pseudonymous subject reference (no names or e-mails).' }),
    values: t.field({
      type: 'JSON',
      required: true,
      description: 'Values keyed by data-category key, e.g. {"contact.email": "…"}.',
    }),
  }),
});

const ImportSharedRecordsInput = builder.inputType('ImportSharedRecordsInput', {
  fields: (t) => ({
    officeId: t.id({ required: true, description: 'The office holding these records (the exporter).' }),
    records: t.field({
      type: [SharedRecordInput],
      required: true,
      description: `At most ${MAX_IMPORT_BATCH} per call; all or nothing.`,
    }),
  }),
});

const ImportSharedRecordsPayload = builder.objectRef<ImportResult>('ImportSharedRecordsPayload').implement({
  fields: (t) => ({
    imported: t.exposeInt('imported'),
    created: t.exposeInt('created'),
    updated: t.exposeInt('updated', { description: 'Existing subjects of this office whose values were merged.' }),
  }),
});

const RecordOptOutInput = builder.inputType('RecordOptOutInput', {
  fields: (t) => ({
    subjectRef: t.string({ required: true }),
    purpose: t.field({ type: PurposeEnum, required: true }),
  }),
});
const RecordOptOutPayload = builder
  .objectRef<{ subjectRef: string; purpose: Purpose; recordedAt: Date }>('RecordOptOutPayload')
  .implement({
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
    resolve: (_root, { input }, ctx) =>
      importSharedRecords(ctx, ctx.principal, {
        ...input,
        officeId: decodeId('Office', input.officeId, 'input.officeId'),
      }),
  }),
  recordOptOut: t.field({
    type: RecordOptOutPayload,
    authScopes: { compliance: true },
    errors: { directResult: true },
    args: { input: t.arg({ type: RecordOptOutInput, required: true }) },
    resolve: (_root, { input }, ctx) => recordOptOut(ctx, ctx.principal, input),
  }),
}));
