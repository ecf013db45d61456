// Confidentiality obligations: the type, the list and the two mutations. The rules live in
// src/registry/obligations.ts.
import { OWN_READ_SCOPES, readsOwn } from '../auth/principal.js';
import { OBLIGATION_KINDS } from '../db/enums.js';
import { acknowledgeObligation, addObligation, isCurrentOn, obligationFilters } from '../registry/obligations.js';
import { dayOf } from '../registry/validation.js';
import { heldAt } from '../registry/history.js';
import { asOfAt, asOfRoot, nestedWhere } from './as-of.js';
import { builder } from './builder.js';
import { listedContractorId } from '../registry/visibility.js';
import { decodeId, decodeOptionalId } from './input.js';

const ObligationKindEnum = builder.enumType('ObligationKind', { values: OBLIGATION_KINDS });

const Obligation = builder.drizzleNode('obligations', {
  name: 'Obligation',
  id: { column: (o) => o.id },
  authScopes: (o, ctx) => readsOwn(ctx.principal, o.contractorId, OWN_READ_SCOPES.obligations),
  fields: (t) => ({
    contractor: t.relation('contractor', { query: (_args, ctx, pathInfo) => ({ where: nestedWhere(ctx, pathInfo) }) }),
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
      description: 'In force today (or on the day of the `asOf` it was listed with): effective, not expired.',
      resolve: (o, _args, ctx, info) => isCurrentOn(o, dayOf(asOfAt(ctx, info) ?? ctx.clock.now())),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.drizzleObjectField('contractors', 'obligations', (t) =>
  t.relatedConnection(
    'obligations',
    { query: (_args, ctx, pathInfo) => ({ where: nestedWhere(ctx, pathInfo), orderBy: { id: 'asc' } }) },
    { name: 'ContractorObligationConnection' },
    { name: 'ContractorObligationEdge' },
  ),
);

builder.queryFields((t) => ({
  obligations: t.drizzleConnection(
    {
      type: 'obligations',
      extensions: asOfRoot.extensions,
      description:
        "Staff: all, one contractor's, or those expiring or due for review within `dueWithinDays`. A contractor token: its own.",
      authScopes: { scope: OWN_READ_SCOPES.obligations },
      args: {
        contractorId: t.arg.id({ required: false }),
        dueWithinDays: t.arg.int({
          required: false,
          description: 'Only obligations whose expiry or review date falls within this many days (or is already past).',
        }),
        unacknowledgedOnly: t.arg.boolean({ required: false }),
        asOf: t.arg({
          type: 'DateTime',
          required: false,
          description: `${asOfRoot.description} \`dueWithinDays\` counts from that instant.`,
        }),
      },
      resolve: (query, _root, args, ctx, info) => {
        const at = asOfAt(ctx, info);
        const where = obligationFilters(
          {
            ...args,
            contractorId: listedContractorId(
              ctx.principal,
              decodeOptionalId('Contractor', args.contractorId as string | null | undefined, 'contractorId') ??
                undefined,
            ),
          },
          at ?? ctx.clock.now(),
        );
        if (!at) return ctx.db.query.obligations.findMany(query({ where, orderBy: { id: 'asc' } }));
        return ctx.db.query.obligationsHistory.findMany(
          query({ where: { AND: [where, heldAt(at)] } as never, orderBy: { id: 'asc' } }) as never,
        ) as never;
      },
    },
    { name: 'ObligationConnection' },
    { name: 'ObligationEdge' },
  ),
}));

const AddObligationInput = builder.inputType('AddObligationInput', {
  fields: (t) => ({
    contractorId: t.id({ required: true }),
    kind: t.field({ type: ObligationKindEnum, required: true }),
    text: t.string({ required: true }),
    sourceDocument: t.string({ required: true, description: "e.g. the DPA's title and version." }),
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

builder.mutationFields((t) => ({
  addObligation: t.field({
    type: Obligation,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'obligation' } },
    args: { input: t.arg({ type: AddObligationInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      addObligation(ctx, ctx.principal, {
        ...input,
        contractorId: decodeId('Contractor', input.contractorId, 'input.contractorId'),
      }),
  }),
  acknowledgeObligation: t.field({
    type: Obligation,
    description: 'A contractor acknowledges one of its own obligations, with its own token.',
    authScopes: { scope: 'obligations:acknowledge' },
    errors: { dataField: { name: 'obligation' } },
    args: { input: t.arg({ type: AcknowledgeObligationInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      acknowledgeObligation(ctx, ctx.principal, { id: decodeId('Obligation', String(input.id), 'input.id') }),
  }),
}));
