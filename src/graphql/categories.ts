// The data-category taxonomy (seeded; staff can add more): the type, the tree and defineDataCategory, whose rules
// live in src/registry/categories.ts.
import { SENSITIVITIES } from '../db/enums.js';
import { defineDataCategory } from '../registry/categories.js';
import { builder } from './builder.js';

const SensitivityEnum = builder.enumType('Sensitivity', { values: SENSITIVITIES });

const DataCategory = builder.drizzleNode('dataCategories', {
  name: 'DataCategory',
  id: { column: (c) => c.key },
  // Always loaded: what a grant shows of its categories; the description only when asked.
  select: { columns: { key: true, parentKey: true, name: true, sensitivity: true } },
  fields: (t) => ({
    key: t.exposeString('key', { description: 'Dotted key, e.g. contact.email.' }),
    name: t.exposeString('name'),
    description: t.exposeString('description'),
    sensitivity: t.expose('sensitivity', { type: SensitivityEnum }),
    parent: t.relation('parent', { nullable: true }),
    children: t.relation('children', { query: { orderBy: { key: 'asc' } } }),
  }),
});

builder.queryFields((t) => ({
  dataCategories: t.drizzleField({
    type: ['dataCategories'],
    description: 'The taxonomy as a tree: the roots (or the children of `parentKey`), each with its `children`.',
    args: { parentKey: t.arg.string({ required: false }) },
    resolve: (query, _root, args, ctx) =>
      ctx.db.query.dataCategories.findMany(
        query({
          where: args.parentKey ? { parentKey: args.parentKey } : { parentKey: { isNull: true } },
          orderBy: { key: 'asc' },
        }),
      ),
  }),
}));

const DefineDataCategoryInput = builder.inputType('DefineDataCategoryInput', {
  fields: (t) => ({
    key: t.string({
      required: true,
      description: 'Dotted key; its parent (the key without its last segment) must exist.',
    }),
    name: t.string({ required: true }),
    description: t.string({ required: true }),
    sensitivity: t.field({ type: SensitivityEnum, required: true }),
  }),
});

builder.mutationFields((t) => ({
  defineDataCategory: t.field({
    type: DataCategory,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'dataCategory' } },
    args: { input: t.arg({ type: DefineDataCategoryInput, required: true }) },
    resolve: (_root, { input }, ctx) => defineDataCategory(ctx, ctx.principal, input),
  }),
}));
