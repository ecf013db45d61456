// Grants: types, the list and the two mutations. The rules (status at a moment, policy check, revocation) live in
// src/registry/grants.ts.
import { GRANT_STATUSES_AT, MECHANISMS, PURPOSES } from '../db/enums.js';
import { readsOwn } from '../auth/principal.js';
import { grantStatusAt } from '../registry/grant-status.js';
import { awaitingRepaper, grantDataAccess, grantFilters, repaperGrant, revokeGrant } from '../registry/grants.js';
import { heldAt } from '../registry/history.js';
import { asOfAt, asOfRoot, nestedWhere } from './as-of.js';
import { builder } from './builder.js';
import { listedContractorId } from '../registry/visibility.js';
import { decodeId, decodeOptionalId } from './input.js';

/**
 * The orders of a contractor's grants and of a grant's categories: the resolvers' and the page answered from SQL
 * (src/graphql/sql-json/) read them here.
 */
export const CONTRACTOR_GRANTS_ORDER = { id: 'asc' } as const;
export const GRANT_CATEGORIES_ORDER = { key: 'asc' } as const;

export const PurposeEnum = builder.enumType('Purpose', { values: PURPOSES });
export const MechanismEnum = builder.enumType('TransferMechanism', { values: MECHANISMS });
const GrantStatusEnum = builder.enumType('GrantStatus', {
  values: GRANT_STATUSES_AT,
  description:
    'As the grant reads now (or at the `asOf` it was listed with): SCHEDULED before its validFrom, EXPIRED from its validUntil, SUSPENDED_BY_POLICY from the effective instant of a policy change that no longer allows its route (until re-papered).',
});

export const Grant = builder.drizzleNode('grants', {
  name: 'Grant',
  id: { column: (g) => g.id },
  authScopes: (g, ctx) => readsOwn(ctx.principal, g.contractorId),
  // Always loaded: what the checks and `status` read, and what lists show; the long texts only when asked.
  select: {
    columns: {
      id: true,
      contractorId: true,
      officeId: true,
      purpose: true,
      mechanism: true,
      validFrom: true,
      validUntil: true,
      status: true,
      suspendedByPolicyFrom: true,
    },
  },
  fields: (t) => ({
    contractor: t.relation('contractor', { query: (_args, ctx, pathInfo) => ({ where: nestedWhere(ctx, pathInfo) }) }),
    office: t.relation('office', {
      description: 'The exporting office.',
      query: (_args, ctx, pathInfo) => ({ where: nestedWhere(ctx, pathInfo) }),
    }),
    parentGrant: t.relation('parentGrant', {
      query: (_args, ctx, pathInfo) => ({ where: nestedWhere(ctx, pathInfo) }),
      description:
        'An onward grant: the grant of the processor that engaged this sub-processor, through which the data reaches it. It ends when that grant is revoked.',
    }),
    categories: t.relation('categories', { query: { orderBy: GRANT_CATEGORIES_ORDER } }),
    purpose: t.expose('purpose', { type: PurposeEnum }),
    validFrom: t.expose('validFrom', { type: 'DateTime' }),
    validUntil: t.expose('validUntil', { type: 'DateTime', nullable: true }),
    mechanism: t.expose('mechanism', { type: MechanismEnum }),
    sccModule: t.exposeInt('sccModule', { nullable: true }),
    tiaReference: t.exposeString('tiaReference', { nullable: true }),
    tiaDate: t.expose('tiaDate', { type: 'Date', nullable: true }),
    crossBorder: t.exposeBoolean('crossBorder'),
    policyExplanation: t.exposeString('policyExplanation', {
      description: 'Why the transfer policy allowed this route.',
    }),
    status: t.field({
      type: GrantStatusEnum,
      resolve: (g, _args, ctx, info) => grantStatusAt(g, asOfAt(ctx, info) ?? ctx.clock.now()),
    }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    revocationReason: t.exposeString('revocationReason', { nullable: true }),
    suspendedByPolicyFrom: t.expose('suspendedByPolicyFrom', {
      type: 'DateTime',
      nullable: true,
      description:
        'From this instant a policy change no longer allows its route: it reads SUSPENDED_BY_POLICY until re-papered.',
    }),
    policySuspensionReason: t.exposeString('policySuspensionReason', {
      nullable: true,
      description: 'Why the policy change refuses its route with the mechanism it records.',
    }),
    suspendedByChange: t.relation('suspendedByChange', {
      nullable: true,
      authScopes: { staff: true },
      description: 'The policy change that suspends it (null: none does).',
    }),
    createdBy: t.exposeString('createdBy'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.drizzleObjectField('contractors', 'grants', (t) =>
  t.relatedConnection(
    'grants',
    { query: (_args, ctx, pathInfo) => ({ where: nestedWhere(ctx, pathInfo), orderBy: CONTRACTOR_GRANTS_ORDER }) },
    { name: 'ContractorGrantConnection' },
    { name: 'ContractorGrantEdge' },
  ),
);
builder.drizzleObjectField('offices', 'grants', (t) =>
  t.relatedConnection(
    'grants',
    {
      authScopes: { staff: true },
      query: (_args, ctx, pathInfo) => ({ where: nestedWhere(ctx, pathInfo), orderBy: { id: 'asc' } }),
    },
    { name: 'OfficeGrantConnection' },
    { name: 'OfficeGrantEdge' },
  ),
);

builder.queryFields((t) => ({
  grants: t.drizzleConnection(
    {
      type: 'grants',
      description: 'Staff see every grant; a contractor token sees only its own.',
      extensions: asOfRoot.extensions,
      authScopes: { scope: 'registry:read' },
      args: {
        contractorId: t.arg.id({ required: false }),
        officeId: t.arg.id({ required: false }),
        status: t.arg({ type: GrantStatusEnum, required: false }),
        purpose: t.arg({ type: PurposeEnum, required: false }),
        asOf: t.arg({
          type: 'DateTime',
          required: false,
          description: `${asOfRoot.description} \`status\` is judged at that instant.`,
        }),
      },
      resolve: (query, _root, args, ctx, info) => {
        const contractorId = listedContractorId(
          ctx.principal,
          decodeOptionalId('Contractor', args.contractorId as string | null | undefined, 'contractorId') ?? undefined,
        );
        const officeId = args.officeId ? decodeId('Office', String(args.officeId), 'officeId') : undefined;
        const at = asOfAt(ctx, info);
        const where = grantFilters(
          { contractorId, officeId, purpose: args.purpose, status: args.status },
          at ?? ctx.clock.now(),
        );
        if (!at) return ctx.db.query.grants.findMany(query({ where, orderBy: { id: 'asc' } }));
        return ctx.db.query.grantsHistory.findMany(
          query({ where: { AND: [where, heldAt(at)] } as never, orderBy: { id: 'asc' } }) as never,
        ) as never;
      },
    },
    { name: 'GrantConnection' },
    { name: 'GrantEdge' },
  ),
  policyFindings: t.drizzleConnection(
    {
      type: 'grants',
      description:
        'The work queue of a policy change: every grant not ended that a policy change suspends (now, or from a later effective instant), to re-paper with a mechanism valid under the new policy (repaperGrant) or revoke.',
      authScopes: { staff: true },
      resolve: (query, _root, _args, ctx) =>
        ctx.db.query.grants.findMany(
          query({ where: { RAW: (g) => awaitingRepaper(ctx.clock.now(), g) }, orderBy: { id: 'asc' } }),
        ),
    },
    { name: 'PolicyFindingConnection' },
    { name: 'PolicyFindingEdge' },
  ),
}));

const GrantDataAccessInput = builder.inputType('GrantDataAccessInput', {
  fields: (t) => ({
    contractorId: t.id({ required: true }),
    officeId: t.id({ description: "The exporting office; for an onward grant, its parent grant's (may be left out)." }),
    parentGrantId: t.id({
      description:
        "Required for a SUBPROCESSOR: the grant of the processor that engaged it, under which this onward grant is given (same office, the parent's purpose, categories within the parent's).",
    }),
    categories: t.stringList({ required: true, description: 'Data-category keys, e.g. contact.email.' }),
    purpose: t.field({ type: PurposeEnum, required: true }),
    validFrom: t.field({ type: 'DateTime', description: 'Defaults to now.' }),
    validUntil: t.field({ type: 'DateTime' }),
    mechanism: t.field({
      type: MechanismEnum,
      description: "Needed when the route leaves the exporter's jurisdiction for a country without adequacy.",
    }),
    sccModule: t.int({
      description: "With SCC, or with UK_ADDENDUM the EU SCC module it amends: 1–4, matching the parties' roles.",
    }),
    tiaReference: t.string({ description: 'Transfer-impact-assessment reference.' }),
    tiaDate: t.field({ type: 'Date' }),
  }),
});

const RepaperGrantInput = builder.inputType('RepaperGrantInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    mechanism: t.field({ type: MechanismEnum, required: true, description: 'Valid under the policy now in force.' }),
    sccModule: t.int(),
    tiaReference: t.string(),
    tiaDate: t.field({ type: 'Date' }),
  }),
});

const RevokeGrantInput = builder.inputType('RevokeGrantInput', {
  fields: (t) => ({ id: t.id({ required: true }), reason: t.string({ required: true }) }),
});

builder.mutationFields((t) => ({
  grantDataAccess: t.field({
    type: Grant,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'grant' } },
    args: { input: t.arg({ type: GrantDataAccessInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      grantDataAccess(ctx, ctx.principal, {
        ...input,
        contractorId: decodeId('Contractor', input.contractorId, 'input.contractorId'),
        officeId: decodeOptionalId('Office', input.officeId, 'input.officeId'),
        parentGrantId: decodeOptionalId('Grant', input.parentGrantId, 'input.parentGrantId'),
      }),
  }),
  repaperGrant: t.field({
    type: Grant,
    description:
      'Gives a grant a policy change suspended a mechanism valid under the new policy: the suspension is lifted (its revoked tokens stay revoked).',
    authScopes: { compliance: true },
    errors: { dataField: { name: 'grant' } },
    args: { input: t.arg({ type: RepaperGrantInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      repaperGrant(ctx, ctx.principal, { ...input, id: decodeId('Grant', input.id, 'input.id') }),
  }),
  revokeGrant: t.field({
    type: Grant,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'grant' } },
    args: { input: t.arg({ type: RevokeGrantInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      revokeGrant(ctx, ctx.principal, { id: decodeId('Grant', input.id, 'input.id'), reason: input.reason }),
  }),
}));
