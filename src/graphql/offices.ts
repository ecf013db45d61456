// Offices: the company's own establishments. Transfers between them are intra-group.
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { writeWithAudit } from '../audit/write.js';
import { offices } from '../db/tables.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { builder } from './builder.js';
import { checkLiveGrants } from './grants.js';
import { country, decodeId, parseInput, text, version } from './input.js';

export const Office = builder.drizzleNode('offices', {
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
  offices: t.drizzleConnection({
    type: 'offices',
    authScopes: { staff: true },
    args: { country: t.arg.string({ required: false, description: 'Only offices in this country.' }) },
    resolve: (query, _root, args, ctx) =>
      ctx.db.query.offices.findMany(query({ where: args.country ? { country: args.country.toUpperCase() } : undefined, orderBy: { id: 'asc' } })),
  }, { name: 'OfficeConnection' }, { name: 'OfficeEdge' }),
  office: t.drizzleField({
    type: 'offices',
    nullable: true,
    authScopes: { staff: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args, ctx) =>
      ctx.db.query.offices.findFirst(query({ where: { id: decodeId('Office', String(args.id), 'id') } })),
  }),
}));

const officeFields = {
  name: text(200),
  legalEntity: text(200),
  country,
  city: text(100),
  isHeadquarters: z.boolean(),
};
const createSchema = z.object(officeFields).strict();
const updateSchema = z.object({ id: z.string(), version, ...Object.fromEntries(Object.entries(officeFields).map(([k, v]) => [k, v.optional()])) }).strict();

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

/** Unique-index name of the single headquarters, turned into a readable CONFLICT. */
function headquartersConflict(e: unknown): never {
  const cause = (e as { cause?: { constraint_name?: string; constraint?: string } }).cause ?? (e as { constraint?: string });
  const name = (cause as { constraint_name?: string }).constraint_name ?? (cause as { constraint?: string }).constraint;
  if (name === 'offices_one_headquarters') throw new ConflictError('Another office is already the headquarters');
  throw e;
}

builder.mutationFields((t) => ({
  createOffice: t.field({
    type: Office,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'office' } },
    args: { input: t.arg({ type: CreateOfficeInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const data = parseInput(createSchema, input);
      return writeWithAudit(ctx.db, ctx.principal, async (tx) => {
        const [row] = await tx.insert(offices).values(data).returning().catch(headquartersConflict);
        return { result: row!, audit: { action: 'createOffice', entityType: 'Office', entityId: row!.id, after: row } };
      });
    },
  }),
  updateOffice: t.field({
    type: Office,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'office' } },
    args: { input: t.arg({ type: UpdateOfficeInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const { id: globalId, version: read, ...changes } = parseInput(updateSchema, input);
      const id = decodeId('Office', globalId, 'input.id');
      return writeWithAudit(ctx.db, ctx.principal, async (tx) => {
        const [before] = await tx.select().from(offices).where(eq(offices.id, id)).for('update');
        if (!before) throw new NotFoundError('Office', globalId);
        if (before.version !== read) throw new ConflictError(`Office was changed since version ${read}`, before.version);
        // The routes of its live grants move with it: each must still be allowed under the mechanism it records.
        const { country: moved } = changes as Partial<z.infer<typeof createSchema>>;
        if (moved !== undefined && moved !== before.country) await checkLiveGrants(tx, { officeId: id }, { officeCountry: moved });
        const [after] = await tx.update(offices).set({ ...changes, version: read + 1, updatedAt: new Date() })
          .where(eq(offices.id, id)).returning().catch(headquartersConflict);
        return { result: after!, audit: { action: 'updateOffice', entityType: 'Office', entityId: id, before, after } };
      });
    },
  }),
}));
