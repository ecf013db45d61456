// The office a change names (the exporter of a grant or transfer, the office a disclosure request asks about),
// read in one place so each reports a missing one the same way. Apart from offices.ts, which imports grants.ts:
// grants.ts needs this too.
import { eq } from 'drizzle-orm';
import type { Queryable } from '../db/client.js';
import { offices } from '../db/tables.js';
import { NotFoundError } from '../errors.js';
import { publicId } from './ids.js';

export type OfficeRow = typeof offices.$inferSelect;

/** The office `id` names, or NOT_FOUND. */
export async function findOffice(db: Queryable, id: number): Promise<OfficeRow> {
  const [office] = await db.select().from(offices).where(eq(offices.id, id));
  if (!office) throw new NotFoundError('Office', publicId('Office', id));
  return office;
}
