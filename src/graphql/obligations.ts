// Confidentiality obligations per contractor (GDPR Art. 28(3)(a)–(h)) and their acknowledgement.
import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { writeWithAudit } from '../audit/write.js';
import { readsOwn } from '../auth/principal.js';
import { OBLIGATION_KINDS } from '../db/enums.js';
import { obligations } from '../db/tables.js';
import { ForbiddenError, InvalidStateError, NotFoundError, ValidationError } from '../errors.js';
import { builder } from './builder.js';
import { assertMayChange, lockContractor } from '../registry/contractor-status.js';
import { decodeId, optionalText, parseInput, text } from './input.js';

export const ObligationKindEnum = builder.enumType('ObligationKind', { values: OBLIGATION_KINDS });

const today = () => new Date().toISOString().slice(0, 10);

export const Obligation = builder.drizzleNode('obligations', {
  name: 'Obligation',
  id: { column: (o) => o.id },
  // An acknowledge-only token sees its obligations: it needs their IDs and texts to acknowledge them.
  authScopes: (o, ctx) => readsOwn(ctx.principal, o.contractorId, ['registry:read', 'obligations:acknowledge']),
  fields: (t) => ({
    contractor: t.relation('contractor'),
    kind: t.expose('kind', { type: ObligationKindEnum }),
    text: t.exposeString('text'),
    sourceDocument: t.exposeString('sourceDocument'),
    clause: t.exposeString('clause', { nullable: true }),
    breachNotificationHours: t.exposeInt('breachNotificationHours', { nullable: true }),
    effectiveFrom: t.expose('effectiveFrom', { type: 'Date' }),
    expiresOn: t.expose('expiresOn', { type: 'Date', nullable: true }),
    reviewDueOn: t.expose('reviewDueOn', { type: 'Date', nullable: true }),
    acknowledgedBy: t.exposeString('acknowledgedBy', { nullable: true }),
    acknowledgedAt: t.expose('acknowledgedAt', { type: 'DateTime', nullable: true }),
    isCurrent: t.boolean({
      description: 'In force today: effective, not expired.',
      resolve: (o) => o.effectiveFrom <= today() && (!o.expiresOn || o.expiresOn > today()),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.drizzleObjectField('contractors', 'obligations', (t) =>
  t.relatedConnection('obligations', { query: { orderBy: { id: 'asc' } } }, { name: 'ContractorObligationConnection' }, { name: 'ContractorObligationEdge' }),
);

builder.queryFields((t) => ({
  obligations: t.drizzleConnection({
    type: 'obligations',
    description: 'Staff: all, one contractor\'s, or those expiring or due for review within `dueWithinDays`. A contractor token: its own.',
    authScopes: { scope: 'registry:read' },
    args: {
      contractorId: t.arg.id({ required: false }),
      dueWithinDays: t.arg.int({ required: false, description: 'Only obligations whose expiry or review date falls within this many days (or is already past).' }),
      unacknowledgedOnly: t.arg.boolean({ required: false }),
    },
    resolve: (query, _root, args, ctx) => {
      const contractorId = ctx.principal.kind === 'contractor'
        ? ctx.principal.contractorId
        : args.contractorId ? decodeId('Contractor', String(args.contractorId), 'contractorId') : undefined;
      if (args.dueWithinDays != null && (args.dueWithinDays < 0 || args.dueWithinDays > 3650)) {
        throw ValidationError.field('dueWithinDays', 'must be between 0 and 3650');
      }
      const horizon = args.dueWithinDays != null ? new Date(Date.now() + args.dueWithinDays * 86_400_000).toISOString().slice(0, 10) : undefined;
      return ctx.db.query.obligations.findMany(query({
        where: {
          ...(contractorId ? { contractorId } : {}),
          ...(args.unacknowledgedOnly ? { acknowledgedAt: { isNull: true } } : {}),
          ...(horizon ? { RAW: (o) => sql`(${o.expiresOn} <= ${horizon} or ${o.reviewDueOn} <= ${horizon})` } : {}),
        },
        orderBy: { id: 'asc' },
      }));
    },
  }, { name: 'ObligationConnection' }, { name: 'ObligationEdge' }),
}));

const AddObligationInput = builder.inputType('AddObligationInput', {
  fields: (t) => ({
    contractorId: t.id({ required: true }),
    kind: t.field({ type: ObligationKindEnum, required: true }),
    text: t.string({ required: true }),
    sourceDocument: t.string({ required: true, description: 'e.g. the DPA\'s title and version.' }),
    clause: t.string(),
    breachNotificationHours: t.int({ description: 'Required for BREACH_NOTIFICATION, only there.' }),
    effectiveFrom: t.field({ type: 'Date', required: true }),
    expiresOn: t.field({ type: 'Date' }),
    reviewDueOn: t.field({ type: 'Date' }),
  }),
});

const AcknowledgeObligationInput = builder.inputType('AcknowledgeObligationInput', {
  fields: (t) => ({ id: t.id({ required: true }) }),
});

const obligationSchema = z.object({
  contractorId: z.string(),
  kind: z.enum(OBLIGATION_KINDS),
  text: text(5000),
  sourceDocument: text(300),
  clause: optionalText(100),
  breachNotificationHours: z.number().int().min(1).max(720).nullish(),
  effectiveFrom: z.string(),
  expiresOn: z.string().nullish(),
  reviewDueOn: z.string().nullish(),
}).strict();

builder.mutationFields((t) => ({
  addObligation: t.field({
    type: Obligation,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'obligation' } },
    args: { input: t.arg({ type: AddObligationInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const data = parseInput(obligationSchema, input);
      const contractorId = decodeId('Contractor', data.contractorId, 'input.contractorId');
      if ((data.kind === 'BREACH_NOTIFICATION') !== (data.breachNotificationHours != null)) {
        throw ValidationError.field('input.breachNotificationHours', data.kind === 'BREACH_NOTIFICATION' ? 'required for BREACH_NOTIFICATION' : 'only for BREACH_NOTIFICATION');
      }
      if (data.expiresOn && data.expiresOn <= data.effectiveFrom) throw ValidationError.field('input.expiresOn', 'must be after effectiveFrom');
      if (data.reviewDueOn && data.reviewDueOn < data.effectiveFrom) throw ValidationError.field('input.reviewDueOn', 'must not be before effectiveFrom');
      return writeWithAudit(ctx.db, ctx.principal, async (tx) => {
        assertMayChange(await lockContractor(tx, contractorId), 'take new obligations');
        const [row] = await tx.insert(obligations).values({ ...data, contractorId }).returning();
        return { result: row!, audit: { action: 'addObligation', entityType: 'Obligation', entityId: row!.id, after: row } };
      });
    },
  }),
  acknowledgeObligation: t.field({
    type: Obligation,
    description: 'A contractor acknowledges one of its own obligations, with its own token.',
    authScopes: { scope: 'obligations:acknowledge' },
    errors: { dataField: { name: 'obligation' } },
    args: { input: t.arg({ type: AcknowledgeObligationInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const id = decodeId('Obligation', String(input.id), 'input.id');
      const principal = ctx.principal;
      if (principal.kind !== 'contractor') throw new ForbiddenError('Only the contractor can acknowledge its obligations');
      return writeWithAudit(ctx.db, principal, async (tx) => {
        const [before] = await tx.select().from(obligations).where(eq(obligations.id, id)).for('update');
        // Another contractor's obligation reads as not found: its existence is not disclosed.
        if (!before || before.contractorId !== principal.contractorId) throw new NotFoundError('Obligation', String(input.id));
        if (before.acknowledgedAt) throw new InvalidStateError('Already acknowledged', 'ACKNOWLEDGED');
        const [after] = await tx.update(obligations).set({ acknowledgedBy: principal.subject, acknowledgedAt: new Date() })
          .where(and(eq(obligations.id, id))).returning();
        return { result: after!, audit: { action: 'acknowledgeObligation', entityType: 'Obligation', entityId: id, before, after } };
      });
    },
  }),
}));
