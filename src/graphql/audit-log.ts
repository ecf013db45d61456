// The audit log for staff (auditors above all): read with filters and keyset pages, and verify the hash chain
// (the filters and the verification live in src/registry/audit-log.ts). Contractor tokens never reach it (every
// field and type asks for a staff token).
import { auditLogFilters, verifyAuditLog, type ChainVerification } from '../registry/audit-log.js';
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
    prevHash: t.exposeString('prevHash'),
    hash: t.exposeString('hash', { description: 'SHA-256 over prevHash and the canonical JSON of this event.' }),
  }),
});

const BrokenEvent = builder.objectRef<{ seq: number; reason: string }>('AuditChainBreak').implement({
  fields: (t) => ({ seq: t.exposeInt('seq'), reason: t.exposeString('reason') }),
});

const Verification = builder.objectRef<ChainVerification>('AuditLogVerification').implement({
  fields: (t) => ({
    ok: t.exposeBoolean('ok'),
    checked: t.exposeInt('checked', { description: 'Events whose hash was recomputed and matched.' }),
    headSeq: t.exposeInt('headSeq'),
    headHash: t.exposeString('headHash'),
    firstBroken: t.field({ type: BrokenEvent, nullable: true, resolve: (v) => v.firstBroken }),
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
    description: 'Recomputes the whole hash chain and returns the first broken event, if any.',
    resolve: (_root, _args, ctx) => verifyAuditLog(ctx.db),
  }),
}));
