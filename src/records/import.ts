// Bulk import of shared records: validated whole, then written set-based (one statement per chunk),
// all in the caller's transaction, so a batch lands entirely or not at all.
import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { rowsOf, type Queryable } from '../db/client.js';
import { offices } from '../db/tables.js';
import { NotFoundError, ValidationError, type FieldIssue } from '../errors.js';
import { valueProblem } from './values.js';

export const MAX_IMPORT_BATCH = 1000;
/**
 * Values one record may carry: one per leaf data category, of which the seeded taxonomy has a few dozen. Checked
 * before anything else, so a record of 70,000 keys is refused at once instead of reaching the database.
 */
export const MAX_VALUES_PER_RECORD = 200;

/** A record's values, keyed by data-category key (each checked by importRecords). */
export const recordValuesSchema = z.record(z.string(), z.unknown())
  .refine((v) => Object.keys(v).length <= MAX_VALUES_PER_RECORD, `at most ${MAX_VALUES_PER_RECORD} values per record (one per data category)`);

/**
 * Pseudonymous subject references only: no spaces or @, so a name or an e-mail cannot pass as one. Not
 * trimmed: a reference is matched exactly (opt-outs, re-imports), so " subj-9 " is refused, never a second subject.
 */
export const subjectRefSchema = z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters')
  .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only (a pseudonymous reference)');
const CHUNK = 1000;

export async function importRecords(
  tx: Queryable, officeId: number, officeGlobalId: string,
  records: { subjectRef: string; values: Record<string, unknown> }[], knownCategories: ReadonlySet<string>,
  groupCategories: ReadonlySet<string>,
): Promise<{ imported: number; created: number; updated: number }> {
  const issues: FieldIssue[] = [];
  const seen = new Map<string, number>();
  records.forEach((r, i) => {
    const ref = subjectRefSchema.safeParse(r.subjectRef);
    if (!ref.success) issues.push({ field: `input.records.${i}.subjectRef`, message: ref.error.issues[0]!.message });
    const prior = seen.get(r.subjectRef);
    if (prior !== undefined) issues.push({ field: `input.records.${i}.subjectRef`, message: `duplicates input.records.${prior}` });
    seen.set(r.subjectRef, i);
    const entries = Object.entries(r.values);
    if (!entries.length) issues.push({ field: `input.records.${i}.values`, message: 'at least one value' });
    for (const [key, value] of entries) {
      const field = `input.records.${i}.values.${key}`;
      if (groupCategories.has(key)) issues.push({ field, message: `${key} groups other categories: file the value under one of them` });
      else if (!knownCategories.has(key)) issues.push({ field, message: `unknown data category ${key}` });
      else {
        const problem = valueProblem(key, value);
        if (problem) issues.push({ field, message: problem });
      }
    }
  });
  if (issues.length) throw new ValidationError(issues.slice(0, 50));
  const [office] = await tx.select({ id: offices.id }).from(offices).where(eq(offices.id, officeId));
  if (!office) throw new NotFoundError('Office', officeGlobalId);

  let created = 0;
  for (let i = 0; i < records.length; i += CHUNK) {
    const chunk = records.slice(i, i + CHUNK).map((r) => ({ s: r.subjectRef, v: r.values }));
    const result = await tx.execute(sql`
      insert into shared_records (office_id, subject_ref, values)
      select ${officeId}, x.s, x.v from jsonb_to_recordset(${JSON.stringify(chunk)}::text::jsonb) as x(s text, v jsonb)
      on conflict (office_id, subject_ref) do update set values = shared_records.values || excluded.values, updated_at = now()
      returning (xmax = 0) as created`);
    const rows = rowsOf<{ created: boolean }>(result);
    created += rows.filter((r) => r.created).length;
  }
  return { imported: records.length, created, updated: records.length - created };
}
