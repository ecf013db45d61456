// The data-category taxonomy: dotted keys (contact.email) with a sensitivity; seeded, and staff can add more.
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { writeWithAudit } from '../audit/write.js';
import { SENSITIVITIES } from '../db/enums.js';
import { dataCategories } from '../db/tables.js';
import { ConflictError, ValidationError } from '../errors.js';
import { builder } from './builder.js';
import { categoryKey, parseInput, text } from './input.js';

export const SensitivityEnum = builder.enumType('Sensitivity', { values: SENSITIVITIES });

export const DataCategory = builder.drizzleNode('dataCategories', {
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
      ctx.db.query.dataCategories.findMany(query({
        where: args.parentKey ? { parentKey: args.parentKey } : { parentKey: { isNull: true } },
        orderBy: { key: 'asc' },
      })),
  }),
}));

const DefineDataCategoryInput = builder.inputType('DefineDataCategoryInput', {
  fields: (t) => ({
    key: t.string({ required: true, description: 'Dotted key; its parent (the key without its last segment) must exist.' }),
    name: t.string({ required: true }),
    description: t.string({ required: true }),
    sensitivity: t.field({ type: SensitivityEnum, required: true }),
  }),
});

const SENSITIVITY_RANK = Object.fromEntries(SENSITIVITIES.map((s, i) => [s, i])) as Record<string, number>;

builder.mutationFields((t) => ({
  defineDataCategory: t.field({
    type: DataCategory,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'dataCategory' } },
    args: { input: t.arg({ type: DefineDataCategoryInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const data = parseInput(z.object({ key: categoryKey, name: text(200), description: text(2000), sensitivity: z.enum(SENSITIVITIES) }), input);
      const parentKey = data.key.includes('.') ? data.key.slice(0, data.key.lastIndexOf('.')) : null;
      return writeWithAudit(ctx.db, ctx.principal, async (tx) => {
        if (parentKey) {
          const [parent] = await tx.select().from(dataCategories).where(eq(dataCategories.key, parentKey));
          if (!parent) throw ValidationError.field('input.key', `parent category ${parentKey} does not exist`);
          // A child is never less sensitive than its parent: a grant of the parent covers it.
          if (SENSITIVITY_RANK[data.sensitivity]! < SENSITIVITY_RANK[parent.sensitivity]!) {
            throw ValidationError.field('input.sensitivity', `must be at least ${parent.sensitivity}, the sensitivity of ${parentKey}`);
          }
        }
        const [row] = await tx.insert(dataCategories).values({ ...data, parentKey }).onConflictDoNothing().returning();
        if (!row) throw new ConflictError(`Data category ${data.key} already exists`);
        return { result: row, audit: { action: 'defineDataCategory', entityType: 'DataCategory', entityId: row.key, after: row } };
      });
    },
  }),
}));
