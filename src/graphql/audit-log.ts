// The audit log for staff (auditors above all): read with filters and keyset pages, and verify the hash chain
// (the filters and the verification live in src/registry/audit-log.ts). Contractor tokens never reach it (every
// field and type asks for a staff token).
import { auditLogFilters, verifyAuditLog, type AuditLogVerification } from '../registry/audit-log.js';
import { builder } from './builder.js';

builder.drizzleNode('auditEvents', {
  name: 'AuditEvent',
  id: { column: (e) => e.seq },
  authScopes: { staff: true },
  description: 'One change (or record fetch), hash-chained to the one before it.',
  fields: (t) => ({
    seq: t.exposeInt('seq', { description: 'Gapless position in the chain, from 1.' }),
    occurredAt: t.expose('occurredAt', { type: 'DateTime' }),
    actor: t.exposeString('actor'),
    actorRole: t.exposeString('actorRole'),
    action: t.exposeString('action'),
    entityType: t.exposeString('entityType'),
    entityId: t.exposeString('entityId'),
    before: t.expose('before', { type: 'JSON', nullable: true }),
    after: t.expose('after', { type: 'JSON', nullable: true }),
    rowHashes: t.expose('rowHashes', {
      type: 'JSON',
      description:
        "The content hash of every evidence row the change wrote, [{table, key, hash}] (hash null: deleted); part of this event's hash.",
    }),
    prevHash: t.exposeString('prevHash'),
    hash: t.exposeString('hash', { description: 'SHA-256 over prevHash and the canonical JSON of this event.' }),
  }),
});

const BrokenEvent = builder.objectRef<{ seq: number; reason: string }>('AuditChainBreak').implement({
  fields: (t) => ({ seq: t.exposeInt('seq'), reason: t.exposeString('reason') }),
});

const RowProblem = builder.objectRef<AuditLogVerification['rows']['problems'][number]>('AuditRowProblem').implement({
  description: 'An evidence row that does not match the latest event naming it.',
  fields: (t) => ({
    table: t.exposeString('table'),
    key: t.exposeString('key', { description: 'Its primary key; a composite one as a JSON array of text.' }),
    seq: t.exposeInt('seq', { nullable: true, description: 'The latest event naming the row; null: none does.' }),
    reason: t.exposeString('reason'),
  }),
});

const RowVerification = builder.objectRef<AuditLogVerification['rows']>('AuditRowVerification').implement({
  fields: (t) => ({
    ok: t.exposeBoolean('ok'),
    checked: t.exposeInt('checked', { description: 'Evidence rows re-hashed.' }),
    unattested: t.exposeInt('unattested', {
      description: 'Rows of policy and taxonomy tables as the migrations seeded them, named by no event.',
    }),
    problemCount: t.exposeInt('problemCount'),
    problems: t.field({
      type: [RowProblem],
      description: 'The first 100 problems, table by table.',
      resolve: (v) => v.problems,
    }),
  }),
});

const Verification = builder.objectRef<AuditLogVerification>('AuditLogVerification').implement({
  fields: (t) => ({
    ok: t.exposeBoolean('ok', { description: 'The chain is whole and every evidence row matches its event.' }),
    checked: t.exposeInt('checked', { description: 'Events whose hash was recomputed and matched.' }),
    headSeq: t.exposeInt('headSeq'),
    headHash: t.exposeString('headHash'),
    firstBroken: t.field({ type: BrokenEvent, nullable: true, resolve: (v) => v.firstBroken }),
    rows: t.field({ type: RowVerification, resolve: (v) => v.rows }),
  }),
});

builder.queryFields((t) => ({
  auditLog: t.drizzleConnection(
    {
      type: 'auditEvents',
      authScopes: { staff: true },
      description: 'Newest first. Filters: actor, entity (type and optionally id), time range [from, to).',
      args: {
        actor: t.arg.string({ required: false }),
        entityType: t.arg.string({ required: false }),
        entityId: t.arg.string({ required: false }),
        from: t.arg({ type: 'DateTime', required: false }),
        to: t.arg({ type: 'DateTime', required: false }),
      },
      resolve: (query, _root, args, ctx) =>
        ctx.db.query.auditEvents.findMany(
          query({
            where: auditLogFilters({
              actor: args.actor,
              entityType: args.entityType,
              entityId: args.entityId,
              from: args.from,
              to: args.to,
            }),
            orderBy: { seq: 'desc' },
          }),
        ),
    },
    { name: 'AuditEventConnection' },
    { name: 'AuditEventEdge' },
  ),
  verifyAuditLog: t.field({
    type: Verification,
    authScopes: { staff: true },
    description:
      'Recomputes the whole hash chain and returns the first broken event, if any; re-hashes every evidence row and names those that differ from their event.',
    resolve: (_root, _args, ctx) => verifyAuditLog(ctx.db),
  }),
}));
