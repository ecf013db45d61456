// Offices: the type, the list and the mutations; the rules live in src/registry/offices.ts.
import { createOffice, officeFilters, updateOffice } from '../registry/offices.js';
import { heldAt } from '../registry/history.js';
import { asOfAt, asOfRoot } from './as-of.js';
import { builder } from './builder.js';
import { decodeId } from './input.js';

const Office = builder.drizzleNode('offices', {
  name: 'Office',
  id: { column: (o) => o.id },
  // Contractors never see office details; staff do.
  authScopes: { staff: true },
  // Always loaded: what a grant or transfer shows of its office; the rest only when asked.
  select: { columns: { id: true, name: true, country: true } },
  fields: (t) => ({
    name: t.exposeString('name'),
    legalEntity: t.exposeString('legalEntity'),
    country: t.exposeString('country', { description: 'ISO 3166-1 alpha-2.' }),
    city: t.exposeString('city'),
    isHeadquarters: t.exposeBoolean('isHeadquarters'),
    version: t.exposeInt('version', { description: 'Pass it back to updateOffice: a stale version is refused.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  offices: t.drizzleConnection(
    {
      type: 'offices',
      authScopes: { staff: true },
      extensions: asOfRoot.extensions,
      args: {
        country: t.arg.string({ required: false, description: 'Only offices in this country.' }),
        asOf: t.arg({ type: 'DateTime', required: false, description: asOfRoot.description }),
      },
      resolve: (query, _root, args, ctx, info) => {
        const at = asOfAt(ctx, info);
        const where = officeFilters(args);
        if (!at) return ctx.db.query.offices.findMany(query({ where, orderBy: { id: 'asc' } }));
        return ctx.db.query.officesHistory.findMany(
          query({ where: { AND: [where, heldAt(at)] } as never, orderBy: { id: 'asc' } }) as never,
        ) as never;
      },
    },
    { name: 'OfficeConnection' },
    { name: 'OfficeEdge' },
  ),
  office: t.drizzleField({
    type: 'offices',
    nullable: true,
    authScopes: { staff: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args, ctx) =>
      ctx.db.query.offices.findFirst(query({ where: { id: decodeId('Office', String(args.id), 'id') } })),
  }),
}));

const CreateOfficeInput = builder.inputType('CreateOfficeInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    legalEntity: t.string({ required: true }),
    country: t.string({ required: true, description: 'ISO 3166-1 alpha-2.' }),
    city: t.string({ required: true }),
    isHeadquarters: t.boolean({ required: false, defaultValue: false }),
  }),
});

const UpdateOfficeInput = builder.inputType('UpdateOfficeInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    version: t.int({ required: true, description: 'The version you read; a stale one gets CONFLICT.' }),
    name: t.string(),
    legalEntity: t.string(),
    country: t.string(),
    city: t.string(),
    isHeadquarters: t.boolean(),
  }),
});

builder.mutationFields((t) => ({
  createOffice: t.field({
    type: Office,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'office' } },
    args: { input: t.arg({ type: CreateOfficeInput, required: true }) },
    resolve: (_root, { input }, ctx) => createOffice(ctx, ctx.principal, input),
  }),
  updateOffice: t.field({
    type: Office,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'office' } },
    args: { input: t.arg({ type: UpdateOfficeInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      updateOffice(ctx, ctx.principal, { ...input, id: decodeId('Office', input.id, 'input.id') }),
  }),
}));
