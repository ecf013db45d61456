// Contractors: the types, the list and the mutations; the rules live in src/registry/contractors.ts.
import { readsOwn } from '../auth/principal.js';
import { CERTIFICATIONS, CONTRACTOR_ROLES, CONTRACTOR_STATUSES, OPERATIONS, SERVICES } from '../db/enums.js';
import type { processingLocations } from '../db/tables.js';
import {
  addProcessingLocation,
  contractorFilters,
  registerContractor,
  removeProcessingLocation,
  setContractorStatus,
  updateContractor,
} from '../registry/contractors.js';
import { grantsHeldBack } from '../registry/grant-status.js';
import { heldAt } from '../registry/history.js';
import { asOfAt, asOfRoot, nestedWhere } from './as-of.js';
import { batched } from './batch.js';
import { builder } from './builder.js';
import { decodeId, decodeOptionalId } from './input.js';

/**
 * The orders of the contractors list and of a contractor's processing locations: the resolvers' and the page
 * answered from SQL (src/graphql/sql-json/) read them here.
 */
export const CONTRACTORS_ORDER = { id: 'asc' } as const;
export const PROCESSING_LOCATIONS_ORDER = { country: 'asc' } as const;

const ServiceEnum = builder.enumType('Service', { values: SERVICES });
export const ContractorRoleEnum = builder.enumType('ContractorRole', { values: CONTRACTOR_ROLES });
const ContractorStatusEnum = builder.enumType('ContractorStatus', { values: CONTRACTOR_STATUSES });
const OperationEnum = builder.enumType('Operation', { values: OPERATIONS });
export const CertificationEnum = builder.enumType('Certification', { values: CERTIFICATIONS });

/** A contractor token sees its own record and nothing of any other contractor. */
export const Contractor = builder.drizzleNode('contractors', {
  name: 'Contractor',
  id: { column: (c) => c.id },
  authScopes: (c, ctx) => readsOwn(ctx.principal, c.id),
  fields: (t) => ({
    legalName: t.exposeString('legalName'),
    country: t.exposeString('country', { description: 'Country of establishment, ISO 3166-1 alpha-2.' }),
    services: t.field({ type: [ServiceEnum], resolve: (c) => c.services }),
    role: t.expose('role', { type: ContractorRoleEnum }),
    parent: t.relation('parent', {
      nullable: true,
      description: 'For a SUBPROCESSOR: the contractor that engaged it.',
      query: (_args, ctx, pathInfo) => ({ where: nestedWhere(ctx, pathInfo) }),
    }),
    status: t.expose('status', { type: ContractorStatusEnum }),
    statusReason: t.exposeString('statusReason', { nullable: true }),
    statusChangedAt: t.expose('statusChangedAt', { type: 'DateTime', nullable: true }),
    contactName: t.exposeString('contactName', { nullable: true }),
    contactEmail: t.exposeString('contactEmail', { nullable: true }),
    contractReference: t.exposeString('contractReference', { nullable: true }),
    dpaSignedOn: t.expose('dpaSignedOn', { type: 'Date', nullable: true }),
    certifications: t.field({ type: [CertificationEnum], resolve: (c) => c.certifications }),
    version: t.exposeInt('version', { description: 'Pass it back to updateContractor: a stale version is refused.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    processingLocations: t.relation('processingLocations', {
      query: (_args, ctx, pathInfo) => ({ where: nestedWhere(ctx, pathInfo), orderBy: PROCESSING_LOCATIONS_ORDER }),
    }),
  }),
});

const ProcessingLocation = builder.drizzleObject('processingLocations', {
  name: 'ProcessingLocation',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Pass to removeProcessingLocation.' }),
    country: t.exposeString('country'),
    operations: t.field({ type: [OperationEnum], resolve: (l) => l.operations }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

/**
 * What removeProcessingLocation returns: the deleted row as it was. A plain object, not the drizzle
 * ProcessingLocation, which would be reloaded from the table after the delete and not be found.
 */
const RemovedProcessingLocation = builder
  .objectRef<typeof processingLocations.$inferSelect>('RemovedProcessingLocation')
  .implement({
    fields: (t) => ({
      id: t.exposeID('id'),
      country: t.exposeString('country'),
      operations: t.field({ type: [OperationEnum], resolve: (l) => l.operations }),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
    }),
  });

builder.queryFields((t) => ({
  contractors: t.drizzleConnection(
    {
      type: 'contractors',
      authScopes: { staff: true },
      extensions: asOfRoot.extensions,
      args: {
        name: t.arg.string({
          required: false,
          description: 'Every word given begins a word of the legal name ("north soft"), case-insensitive.',
        }),
        country: t.arg.string({ required: false }),
        status: t.arg({ type: ContractorStatusEnum, required: false }),
        service: t.arg({
          type: ServiceEnum,
          required: false,
          description: 'Only contractors that provide this service.',
        }),
        asOf: t.arg({ type: 'DateTime', required: false, description: asOfRoot.description }),
      },
      resolve: (query, _root, args, ctx, info) => {
        const at = asOfAt(ctx, info);
        const where = contractorFilters(args);
        if (!at) return ctx.db.query.contractors.findMany(query({ where, orderBy: CONTRACTORS_ORDER }));
        return ctx.db.query.contractorsHistory.findMany(
          query({ where: { AND: [where, heldAt(at)] } as never, orderBy: CONTRACTORS_ORDER }) as never,
        ) as never;
      },
    },
    { name: 'ContractorConnection' },
    { name: 'ContractorEdge' },
  ),
  contractor: t.drizzleField({
    type: 'contractors',
    nullable: true,
    authScopes: { scope: 'registry:read' },
    extensions: asOfRoot.extensions,
    args: {
      id: t.arg.id({ required: true }),
      asOf: t.arg({ type: 'DateTime', required: false, description: asOfRoot.description }),
    },
    resolve: async (query, _root, args, ctx, info) => {
      const id = decodeId('Contractor', String(args.id), 'id');
      // Another contractor's ID reads as absent, exactly like an ID that does not exist.
      if (ctx.principal.kind === 'contractor' && ctx.principal.contractorId !== id) return null;
      const at = asOfAt(ctx, info);
      if (!at) return ctx.db.query.contractors.findFirst(query({ where: { id } }));
      // Before the contractor existed (or after the instant): nothing, as for an ID that does not exist.
      return ((await ctx.db.query.contractorsHistory.findFirst(
        query({ where: { AND: [{ id }, heldAt(at)] } as never }) as never,
      )) ?? null) as never;
    },
  }),
}));

const RegisterContractorInput = builder.inputType('RegisterContractorInput', {
  fields: (t) => ({
    legalName: t.string({ required: true }),
    country: t.string({ required: true, description: 'Country of establishment, ISO 3166-1 alpha-2.' }),
    services: t.field({ type: [ServiceEnum], required: true }),
    role: t.field({ type: ContractorRoleEnum, required: true }),
    parentContractorId: t.id({ description: 'Required for a SUBPROCESSOR: the contractor that engaged it.' }),
    contactName: t.string(),
    contactEmail: t.string(),
    contractReference: t.string(),
    dpaSignedOn: t.field({ type: 'Date' }),
    certifications: t.field({
      type: [CertificationEnum],
      description: 'e.g. EU_US_DPF, which the US adequacy decision requires.',
    }),
  }),
});

const UpdateContractorInput = builder.inputType('UpdateContractorInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    version: t.int({
      required: true,
      description: 'The version you read; a stale one gets CONFLICT and changes nothing.',
    }),
    legalName: t.string(),
    country: t.string(),
    services: t.field({ type: [ServiceEnum] }),
    role: t.field({ type: ContractorRoleEnum }),
    parentContractorId: t.id(),
    contactName: t.string(),
    contactEmail: t.string(),
    contractReference: t.string(),
    dpaSignedOn: t.field({ type: 'Date' }),
    certifications: t.field({ type: [CertificationEnum] }),
  }),
});

const SetContractorStatusInput = builder.inputType('SetContractorStatusInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    status: t.field({ type: ContractorStatusEnum, required: true }),
    reason: t.string({ required: true }),
  }),
});

const AddProcessingLocationInput = builder.inputType('AddProcessingLocationInput', {
  fields: (t) => ({
    contractorId: t.id({ required: true }),
    country: t.string({ required: true }),
    operations: t.field({ type: [OperationEnum], required: true }),
  }),
});

const RemoveProcessingLocationInput = builder.inputType('RemoveProcessingLocationInput', {
  fields: (t) => ({ id: t.id({ required: true }) }),
});

const parentId = (globalId: string | null | undefined) =>
  decodeOptionalId('Contractor', globalId, 'input.parentContractorId');

builder.mutationFields((t) => ({
  registerContractor: t.field({
    type: Contractor,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'contractor' } },
    args: { input: t.arg({ type: RegisterContractorInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      registerContractor(ctx, ctx.principal, { ...input, parentContractorId: parentId(input.parentContractorId) }),
  }),
  updateContractor: t.field({
    type: Contractor,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'contractor' } },
    args: { input: t.arg({ type: UpdateContractorInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      updateContractor(ctx, ctx.principal, {
        ...input,
        id: decodeId('Contractor', input.id, 'input.id'),
        parentContractorId: parentId(input.parentContractorId),
      }),
  }),
  setContractorStatus: t.field({
    type: Contractor,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'contractor' } },
    args: { input: t.arg({ type: SetContractorStatusInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      setContractorStatus(ctx, ctx.principal, { ...input, id: decodeId('Contractor', input.id, 'input.id') }),
  }),
  addProcessingLocation: t.field({
    type: ProcessingLocation,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'processingLocation' } },
    args: { input: t.arg({ type: AddProcessingLocationInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      addProcessingLocation(ctx, ctx.principal, {
        ...input,
        contractorId: decodeId('Contractor', input.contractorId, 'input.contractorId'),
      }),
  }),
  removeProcessingLocation: t.field({
    type: RemovedProcessingLocation,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'processingLocation' } },
    args: { input: t.arg({ type: RemoveProcessingLocationInput, required: true }) },
    resolve: (_root, { input }, ctx) => removeProcessingLocation(ctx, ctx.principal, { id: String(input.id) }),
  }),
}));

builder.drizzleObjectField('grants', 'heldBackBy', (t) =>
  t.field({
    type: Contractor,
    nullable: true,
    authScopes: { staff: true },
    description:
      'Now: the processor above this onward grant on its chain that is not ACTIVE (SUSPENDED). While it is set, the grant gives no data — no records fetch, token or transfer rests on it — though its status is unchanged; it gives data again once the processor is ACTIVE. Null for a grant not in effect or not held back. Staff only.',
    resolve: (g, _args, ctx) =>
      batched(ctx, 'heldBackBy', g.id, (ids) => grantsHeldBack(ctx.db, ids, ctx.clock.now())).then((p) => p ?? null),
  }),
);
