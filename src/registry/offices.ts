// Offices: the company's own establishments, the exporters of every grant. Transfers between them are intra-group.
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import type { Queryable } from '../db/client.js';
import { offices } from '../db/tables.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { checkLiveGrants } from './grants.js';
import { publicId } from './ids.js';
import { write, type RegistryDeps } from './tx.js';
import { country, parseInput, rowId, text, version } from './validation.js';

const officeFields = {
  name: text(200),
  legalEntity: text(200),
  country,
  city: text(100),
  isHeadquarters: z.boolean(),
};
const createOfficeSchema = z.object(officeFields).strict();
const updateOfficeSchema = createOfficeSchema.partial().extend({ id: rowId, version }).strict();

/** The relational-query `where` of the `offices` list. */
/** Whether any office is registered: the registry has been set up (the demo loads only into an empty one). */
export async function hasOffices(db: Queryable): Promise<boolean> {
  return (await db.select({ id: offices.id }).from(offices).limit(1)).length > 0;
}

export const officeFilters = (f: { country?: string | null }) =>
  f.country ? { country: f.country.toUpperCase() } : {};

/** The unique index that allows one headquarters, turned into a readable CONFLICT. */
function headquartersConflict(e: unknown): never {
  const cause =
    (e as { cause?: { constraint_name?: string; constraint?: string } }).cause ?? (e as { constraint?: string });
  const name = (cause as { constraint_name?: string }).constraint_name ?? (cause as { constraint?: string }).constraint;
  if (name === 'offices_one_headquarters') throw new ConflictError('Another office is already the headquarters');
  throw e;
}

export async function createOffice(deps: RegistryDeps, principal: Principal, input: unknown) {
  const data = parseInput(createOfficeSchema, input);
  return write(deps, principal, async ({ tx, wrote }) => {
    const [row] = await tx.insert(offices).values(data).returning().catch(headquartersConflict);
    wrote(offices, [row!]);
    return { result: row!, audit: { action: 'createOffice', entityType: 'Office', entityId: row!.id, after: row } };
  });
}

/** Optimistic: `version` is the one the caller read; a stale one gets CONFLICT and changes nothing. */
export async function updateOffice(deps: RegistryDeps, principal: Principal, input: unknown) {
  const { id, version: read, ...changes } = parseInput(updateOfficeSchema, input);
  return write(deps, principal, async ({ tx, now, wrote }) => {
    const [before] = await tx.select().from(offices).where(eq(offices.id, id)).for('update');
    if (!before) throw new NotFoundError('Office', publicId('Office', id));
    if (before.version !== read) throw new ConflictError(`Office was changed since version ${read}`, before.version);
    // The routes of its live grants move with it: each must still be allowed under the mechanism it records.
    if (changes.country !== undefined && changes.country !== before.country)
      await checkLiveGrants(tx, now, { officeId: id }, { officeCountry: changes.country });
    const [after] = await tx
      .update(offices)
      .set({ ...changes, version: read + 1, updatedAt: now })
      .where(eq(offices.id, id))
      .returning()
      .catch(headquartersConflict);
    wrote(offices, [after!]);
    return { result: after!, audit: { action: 'updateOffice', entityType: 'Office', entityId: id, before, after } };
  });
}
