// Grants: types, the list and the two mutations. The rules (status at a moment, policy check, revocation) live in
// src/registry/grants.ts.
import { GRANT_STATUSES_AT, MECHANISMS, PURPOSES } from '../db/enums.js';
import { readsOwn } from '../auth/principal.js';
import { grantStatusAt } from '../registry/grant-status.js';
import { grantDataAccess, grantFilters, revokeGrant } from '../registry/grants.js';
import { builder } from './builder.js';
import { listedContractorId } from '../registry/visibility.js';
import { decodeId, decodeOptionalId } from './input.js';

export const PurposeEnum = builder.enumType('Purpose', { values: PURPOSES });
export const MechanismEnum = builder.enumType('TransferMechanism', { values: MECHANISMS });
const GrantStatusEnum = builder.enumType('GrantStatus', {
  values: GRANT_STATUSES_AT,
  description: 'As the grant reads now: SCHEDULED before its validFrom, EXPIRED from its validUntil.',
});

const Grant = builder.drizzleNode('grants', {
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
    },
  },
  fields: (t) => ({
    contractor: t.relation('contractor'),
    office: t.relation('office', { description: 'The exporting office.' }),
    categories: t.relation('categories', { query: { orderBy: { key: 'asc' } } }),
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
    status: t.field({ type: GrantStatusEnum, resolve: (g, _args, ctx) => grantStatusAt(g, ctx.clock.now()) }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    revocationReason: t.exposeString('revocationReason', { nullable: true }),
    createdBy: t.exposeString('createdBy'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.drizzleObjectField('contractors', 'grants', (t) =>
  t.relatedConnection(
    'grants',
    { query: { orderBy: { id: 'asc' } } },
    { name: 'ContractorGrantConnection' },
    { name: 'ContractorGrantEdge' },
  ),
);
builder.drizzleObjectField('offices', 'grants', (t) =>
  t.relatedConnection(
    'grants',
    { authScopes: { staff: true }, query: { orderBy: { id: 'asc' } } },
    { name: 'OfficeGrantConnection' },
    { name: 'OfficeGrantEdge' },
  ),
);

builder.queryFields((t) => ({
  grants: t.drizzleConnection(
    {
      type: 'grants',
      description: 'Staff see every grant; a contractor token sees only its own.',
      authScopes: { scope: 'registry:read' },
      args: {
        contractorId: t.arg.id({ required: false }),
        officeId: t.arg.id({ required: false }),
        status: t.arg({ type: GrantStatusEnum, required: false }),
        purpose: t.arg({ type: PurposeEnum, required: false }),
      },
      resolve: (query, _root, args, ctx) => {
        const contractorId = listedContractorId(
          ctx.principal,
          decodeOptionalId('Contractor', args.contractorId as string | null | undefined, 'contractorId') ?? undefined,
        );
        const officeId = args.officeId ? decodeId('Office', String(args.officeId), 'officeId') : undefined;
        return ctx.db.query.grants.findMany(
          query({
            where: grantFilters(
              { contractorId, officeId, purpose: args.purpose, status: args.status },
              ctx.clock.now(),
            ),
            orderBy: { id: 'asc' },
          }),
        );
      },
    },
    { name: 'GrantConnection' },
    { name: 'GrantEdge' },
  ),
}));

const GrantDataAccessInput = builder.inputType('GrantDataAccessInput', {
  fields: (t) => ({
    contractorId: t.id({ required: true }),
    officeId: t.id({ required: true, description: 'The exporting office.' }),
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
        officeId: decodeId('Office', input.officeId, 'input.officeId'),
      }),
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
