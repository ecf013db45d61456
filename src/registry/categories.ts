// The data-category taxonomy: dotted keys (contact.email), each with a sensitivity; a child is never less
// sensitive than its parent. "Is this a known category" is answered here for every input that names categories.
import { eq, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import { SENSITIVITIES, type Sensitivity } from '../db/enums.js';
import type { Queryable } from '../db/client.js';
import { dataCategories } from '../db/tables.js';
import { ConflictError, ValidationError, type FieldIssue } from '../errors.js';
import { write, type RegistryDeps } from './tx.js';
import { categoryKey, parseInput, text } from './validation.js';

export interface KnownCategory {
  key: string;
  sensitivity: Sensitivity;
  /** Other categories sit under it: a value is filed under one of them, never under the group. */
  isGroup: boolean;
}

/**
 * The categories `keys` names, by key, with what callers decide on (sensitivity, group or leaf). Each unknown one
 * is an issue `${field}.${i}`: thrown as VALIDATION_FAILED, or added to `issues` for a caller that reports more.
 */
export async function knownCategories(
  db: Queryable,
  keys: readonly string[],
  field: string,
  issues?: FieldIssue[],
): Promise<Map<string, KnownCategory>> {
  const rows = keys.length
    ? await db
        .select({
          key: dataCategories.key,
          sensitivity: dataCategories.sensitivity,
          // Qualified by hand: drizzle writes ${dataCategories.key} here as a bare "key", which inside the subquery is c's own.
          isGroup: sql<boolean>`exists (select 1 from data_categories c where c.parent_key = data_categories.key)`,
          // The keys travel as one JSON parameter: an import batch may name more keys than a statement may have parameters (65,535).
        })
        .from(dataCategories)
        .where(
          sql`${dataCategories.key} in (select jsonb_array_elements_text(${JSON.stringify([...new Set(keys)])}::text::jsonb))`,
        )
    : [];
  const known = new Map(rows.map((r) => [r.key, { ...r, isGroup: Boolean(r.isGroup) }]));
  const unknown = keys.flatMap((k, i) =>
    known.has(k) ? [] : [{ field: `${field}.${i}`, message: `unknown data category ${k}` }],
  );
  if (issues) issues.push(...unknown);
  else if (unknown.length) throw new ValidationError(unknown);
  return known;
}

/** Does a granted category key cover `key`? The key itself, or a descendant unless the descendant is RESTRICTED. */
export function covers(granted: string, key: string, keyIsRestricted: boolean): boolean {
  return key === granted || (!keyIsRestricted && key.startsWith(`${granted}.`));
}

/** SQL: `covers`, for a granted key and a category's key and sensitivity, each an expression of the statement. */
export const coversSql = (granted: SQL, key: SQL, sensitivity: SQL): SQL =>
  sql`(${key} = ${granted} or (${sensitivity} <> 'RESTRICTED' and starts_with(${key}, ${granted} || '.')))`;

const defineCategorySchema = z
  .object({ key: categoryKey, name: text(200), description: text(2000), sensitivity: z.enum(SENSITIVITIES) })
  .strict();

const SENSITIVITY_RANK = Object.fromEntries(SENSITIVITIES.map((s, i) => [s, i])) as Record<Sensitivity, number>;

export function defineDataCategory(deps: RegistryDeps, principal: Principal, input: unknown) {
  const data = parseInput(defineCategorySchema, input);
  const parentKey = data.key.includes('.') ? data.key.slice(0, data.key.lastIndexOf('.')) : null;
  return write(deps, principal, async ({ tx, wrote }) => {
    if (parentKey) {
      const [parent] = await tx.select().from(dataCategories).where(eq(dataCategories.key, parentKey));
      if (!parent) throw ValidationError.field('input.key', `parent category ${parentKey} does not exist`);
      // A child is never less sensitive than its parent: a grant of the parent covers it.
      if (SENSITIVITY_RANK[data.sensitivity] < SENSITIVITY_RANK[parent.sensitivity]) {
        throw ValidationError.field(
          'input.sensitivity',
          `must be at least ${parent.sensitivity}, the sensitivity of ${parentKey}`,
        );
      }
    }
    const [row] = await tx
      .insert(dataCategories)
      .values({ ...data, parentKey })
      .onConflictDoNothing()
      .returning();
    if (!row) throw new ConflictError(`Data category ${data.key} already exists`);
    wrote(dataCategories, [row]);
    return {
      result: row,
      audit: { action: 'defineDataCategory', entityType: 'DataCategory', entityId: row.key, after: row },
    };
  });
}
