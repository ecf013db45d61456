// Shared records: what the company holds of its data subjects, per exporting office, and what a contractor may
// fetch of it. Grants in effect × token × purpose × opt-outs decide, value by value; one SQL statement checks the
// contractor's gates and fetches and filters a page; each page is logged as a CONTRACTOR_ACCESS transfer in the
// same transaction as the read.
import { eq, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { ContractorPrincipal, Principal } from '../auth/principal.js';
import type { Queryable } from '../db/client.js';
import { rowsOf } from '../db/rows.js';
import { PURPOSES, type ContractorStatus, type ObligationKind, type Purpose } from '../db/enums.js';
import { grants, obligations, offices, subjectOptOuts, transfers } from '../db/tables.js';
import { ForbiddenError, NotFoundError, ValidationError, type FieldIssue } from '../errors.js';
import { leavesJurisdictionSql } from '../policy/load.js';
import { coversSql, knownCategories, type KnownCategory } from './categories.js';
import { mayHoldTokens } from './contractor-status.js';
import { grantGivesData, heldBackBy, ProcessorNotActiveError } from './grant-status.js';
import { publicId } from './ids.js';
import { currentOn } from './obligations.js';
import { valueProblem } from './record-values.js';
import { write, type RegistryDeps, type Write } from './tx.js';
import { dayOf, parseInput } from './validation.js';
import { MAX_PAGE_SIZE } from './paging.js';

export const MAX_IMPORT_BATCH = 1000;
/**
 * Values one record may carry: one per leaf data category, of which the seeded taxonomy has a few dozen. Checked
 * before anything else, so a record of 70,000 keys is refused at once instead of reaching the database.
 */
const MAX_VALUES_PER_RECORD = 200;
/** Records per insert statement of an import. */
const CHUNK = 1000;

/**
 * Pseudonymous subject references only: no spaces or @, so a name or an e-mail cannot pass as one. Not
 * trimmed: a reference is matched exactly (opt-outs, re-imports), so " subj-9 " is refused, never a second subject.
 */
const subjectRefSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only (a pseudonymous reference)');

const id = z.number().int().positive();

/** A record's values, keyed by data-category key (each checked by recordIssues). */
const recordValuesSchema = z
  .record(z.string(), z.unknown())
  .refine(
    (v) => Object.keys(v).length <= MAX_VALUES_PER_RECORD,
    `at most ${MAX_VALUES_PER_RECORD} values per record (one per data category)`,
  );

// The records are checked one by one below, so that every issue names its record and value.
const importSharedRecordsSchema = z
  .object({
    officeId: id,
    records: z
      .array(z.object({ subjectRef: z.string(), values: recordValuesSchema }))
      .min(1, 'at least one record')
      .max(MAX_IMPORT_BATCH, `at most ${MAX_IMPORT_BATCH} records per call`),
  })
  .strict();

type ImportedRecord = z.infer<typeof importSharedRecordsSchema>['records'][number];

/** Why each record cannot be imported: its reference, a duplicate, a category that is unknown or a group, a bad value. */
function recordIssues(records: ImportedRecord[], known: ReadonlyMap<string, KnownCategory>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const seen = new Map<string, number>();
  records.forEach((r, i) => {
    const ref = subjectRefSchema.safeParse(r.subjectRef);
    if (!ref.success) issues.push({ field: `input.records.${i}.subjectRef`, message: ref.error.issues[0]!.message });
    const prior = seen.get(r.subjectRef);
    if (prior !== undefined)
      issues.push({ field: `input.records.${i}.subjectRef`, message: `duplicates input.records.${prior}` });
    seen.set(r.subjectRef, i);
    const entries = Object.entries(r.values);
    if (!entries.length) issues.push({ field: `input.records.${i}.values`, message: 'at least one value' });
    for (const [key, value] of entries) {
      const field = `input.records.${i}.values.${key}`;
      const category = known.get(key);
      // Values go under leaf categories only: a card number filed under `financial` would skip its check digit
      // and reach anyone granted `financial`, though payment cards must be granted by name.
      if (!category) issues.push({ field, message: `unknown data category ${key}` });
      else if (category.isGroup)
        issues.push({ field, message: `${key} groups other categories: file the value under one of them` });
      else {
        const problem = valueProblem(key, value);
        if (problem) issues.push({ field, message: problem });
      }
    }
  });
  return issues;
}

export interface ImportResult {
  imported: number;
  created: number;
  updated: number;
}

/**
 * Imports records of one office: validated whole, then written set-based (one statement per chunk), so a batch
 * lands entirely or not at all. A subject the office already holds gets the new values merged into its record.
 */
export async function importSharedRecords(
  deps: RegistryDeps,
  principal: Principal,
  input: unknown,
): Promise<ImportResult> {
  const { officeId, records } = parseInput(importSharedRecordsSchema, input);
  const keys = [...new Set(records.flatMap((r) => Object.keys(r.values)))].sort();
  return write(deps, principal, async ({ tx }) => {
    // Unknown keys are reported per record and value below, not by their place in `keys`.
    const known = await knownCategories(tx, keys, 'input.records', []);
    const issues = recordIssues(records, known);
    if (issues.length) throw new ValidationError(issues.slice(0, 50));
    const [office] = await tx.select({ id: offices.id }).from(offices).where(eq(offices.id, officeId));
    if (!office) throw new NotFoundError('Office', publicId('Office', officeId));
    let created = 0;
    for (let i = 0; i < records.length; i += CHUNK) {
      const chunk = records.slice(i, i + CHUNK).map((r) => ({ s: r.subjectRef, v: r.values }));
      const result = await tx.execute(sql`
        insert into shared_records (office_id, subject_ref, values)
        select ${officeId}, x.s, x.v from jsonb_to_recordset(${JSON.stringify(chunk)}::text::jsonb) as x(s text, v jsonb)
        on conflict (office_id, subject_ref) do update set values = shared_records.values || excluded.values, updated_at = now()
        returning (xmax = 0) as created`);
      created += rowsOf<{ created: boolean }>(result).filter((r) => r.created).length;
    }
    const result = { imported: records.length, created, updated: records.length - created };
    // The audit log records what was imported, never the personal data itself.
    return {
      result,
      audit: {
        action: 'importSharedRecords',
        entityType: 'Office',
        entityId: officeId,
        after: { ...result, categories: keys },
      },
    };
  });
}

const recordOptOutSchema = z.object({ subjectRef: subjectRefSchema, purpose: z.enum(PURPOSES) }).strict();

/** A subject objects to a purpose: no contractor fetches its records for that purpose from then on. Idempotent. */
export async function recordOptOut(deps: RegistryDeps, principal: Principal, input: unknown) {
  const data = parseInput(recordOptOutSchema, input);
  return write(deps, principal, async ({ tx, wrote }) => {
    const [row] = await tx
      .insert(subjectOptOuts)
      .values({ ...data, recordedBy: principal.subject })
      .onConflictDoUpdate({
        target: [subjectOptOuts.subjectRef, subjectOptOuts.purpose],
        set: { subjectRef: sql`excluded.subject_ref` },
      })
      .returning();
    wrote(subjectOptOuts, [row!]);
    return {
      result: row!,
      audit: {
        action: 'recordOptOut',
        entityType: 'Subject',
        entityId: data.subjectRef,
        after: { purpose: data.purpose },
      },
    };
  });
}

// --- fetching ---

export interface SharedRecordRow {
  id: number;
  subjectRef: string;
  officeId: number;
  exporterCountry: string;
  values: Record<string, string>;
}

/** Refused: the contractor has obligations in force that it has not acknowledged (their IDs, to acknowledge them). */
export class ObligationsUnacknowledgedError extends ForbiddenError {
  constructor(
    message: string,
    readonly obligations: string[],
  ) {
    super(message, 'obligations_unacknowledged');
  }
}

interface PageResult {
  status: ContractorStatus | null;
  blockers: { id: number; kind: ObligationKind }[];
  rows: SharedRecordRow[];
  /** Per office in the page: the grant in effect that allowed it. */
  routes: { officeId: number; grantId: number }[];
}

/** The tables as named in fetchPage's statement. */
const gr = alias(grants, 'gr');
const ob = alias(obligations, 'ob');

/**
 * One statement: the contractor's gates (status, unacknowledged obligations in force), the categories each office's
 * grants in effect for this purpose allow within the token's categories, and one page of records with only those
 * values, excluding subjects who opted out of the purpose. What a granted key (or a token's) covers is `coversSql`.
 */
async function fetchPage(
  db: Queryable,
  p: ContractorPrincipal,
  purpose: Purpose,
  at: Date,
  afterId: number,
  limit: number,
): Promise<PageResult> {
  const tokenCategories = `{${p.categories.map((c) => `"${c}"`).join(',')}}`;
  const result = await db.execute(sql`
    with g as (
      select gr.id as grant_id, gr.office_id, gc.category_key as granted
      from grants gr join grant_categories gc on gc.grant_id = gr.id
      where gr.contractor_id = ${p.contractorId} and gr.purpose = ${purpose} and ${grantGivesData(at, gr)}
    ),
    allowed as (
      select distinct g.office_id, dc.key
      from g join data_categories dc on ${coversSql(sql`g.granted`, sql`dc.key`, sql`dc.sensitivity`)}
      where exists (select 1 from unnest(${tokenCategories}::text[]) t(k) where ${coversSql(sql`t.k`, sql`dc.key`, sql`dc.sensitivity`)})
    ),
    blockers as (
      select ob.id, ob.kind from obligations ob
      where ob.contractor_id = ${p.contractorId} and ob.acknowledged_at is null and ${currentOn(dayOf(at), ob)}
    ),
    page as (
      select r.id, r.subject_ref, r.office_id, f.vals
      from shared_records r
      cross join lateral (
        select jsonb_object_agg(e.key, e.value) as vals from jsonb_each_text(r.values) e
        where exists (select 1 from allowed a where a.office_id = r.office_id and a.key = e.key)
      ) f
      where r.office_id in (select office_id from allowed) and r.id > ${afterId} and f.vals is not null
        and not exists (select 1 from subject_opt_outs so where so.subject_ref = r.subject_ref and so.purpose = ${purpose})
        and not exists (select 1 from blockers)
      order by r.id
      limit ${limit}
    )
    select
      (select status from contractors where id = ${p.contractorId}) as status,
      (select coalesce(json_agg(json_build_object('id', b.id, 'kind', b.kind) order by b.id), '[]') from blockers b) as blockers,
      (select coalesce(json_agg(json_build_object('id', pg.id, 'subjectRef', pg.subject_ref, 'officeId', pg.office_id, 'exporterCountry', o.country, 'values', pg.vals) order by pg.id), '[]')
         from page pg join offices o on o.id = pg.office_id) as rows,
      (select coalesce(json_agg(json_build_object('officeId', x.office_id, 'grantId', x.grant_id)), '[]')
         from (select distinct on (g.office_id) g.office_id, g.grant_id from g order by g.office_id, g.grant_id) x) as routes
  `);
  const row = rowsOf<Record<string, unknown>>(result)[0]!;
  const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;
  return {
    status: row.status as ContractorStatus | null,
    blockers: json(row.blockers),
    rows: json(row.rows),
    routes: json(row.routes),
  };
}

/**
 * Writes one CONTRACTOR_ACCESS transfer per exporting office in `rows`, at `at`: the record count and the
 * categories actually returned, with the mechanism and policy explanation of the grant that allowed it.
 */
async function logAccess(
  { tx, wrote }: Pick<Write, 'tx' | 'wrote'>,
  at: Date,
  a: { principal: ContractorPrincipal; purpose: Purpose; rows: SharedRecordRow[]; routes: PageResult['routes'] },
) {
  const byOffice = new Map<number, { count: number; categories: Set<string> }>();
  for (const r of a.rows) {
    const entry = byOffice.get(r.officeId) ?? { count: 0, categories: new Set<string>() };
    entry.count++;
    for (const k of Object.keys(r.values)) entry.categories.add(k);
    byOffice.set(r.officeId, entry);
  }
  for (const [officeId, { count, categories }] of byOffice) {
    const route = a.routes.find((r) => r.officeId === officeId);
    if (!route) throw new Error(`no grant route for office ${officeId} in an access page`);
    const keys = `{${[...categories]
      .sort()
      .map((c) => `"${c}"`)
      .join(',')}}`;
    const inserted = await tx.execute(sql`
      insert into transfers (occurred_at, kind, exporter_office_id, exporter_country, importer_kind, importer_contractor_id, importer_country,
        categories, purpose, mechanism, scc_module, policy_explanation, record_count, cross_border, third_country, grant_id, access_token_id, recorded_by)
      select ${at.toISOString()}::timestamptz, 'CONTRACTOR_ACCESS', o.id, o.country, 'CONTRACTOR', c.id, c.country,
        ${keys}::text[], ${a.purpose}, g.mechanism, g.scc_module, g.policy_explanation, ${count}, o.country <> c.country,
        ${leavesJurisdictionSql(sql`o.country`, sql`c.country`, at)},
        g.id, (select t.id from access_tokens t where t.jti = ${a.principal.tokenId}), ${a.principal.subject}
      from grants g join offices o on o.id = g.office_id join contractors c on c.id = g.contractor_id
      where g.id = ${route.grantId}
      returning id`);
    wrote(transfers, rowsOf<{ id: string | number }>(inserted));
  }
  return byOffice.size;
}

const fetchSharedRecordsSchema = z
  .object({
    purpose: z.enum(PURPOSES),
    first: z
      .number()
      .int()
      .min(1, `must be between 1 and ${MAX_PAGE_SIZE}`)
      .max(MAX_PAGE_SIZE, `must be between 1 and ${MAX_PAGE_SIZE}`),
    /** Keyset: records after this ID (0 for the first page). */
    afterId: z.number().int().nonnegative(),
  })
  .strict();

export interface SharedRecordPage {
  rows: SharedRecordRow[];
  hasNextPage: boolean;
}

/**
 * A contractor token's page of the records its grants in effect for `purpose` cover, with only the values it may
 * read. Refused (FORBIDDEN, with its reason) for a staff token, a purpose the token does not carry, a contractor
 * that is not ACTIVE, or one with unacknowledged obligations in force; INVALID_STATE (ProcessorNotActiveError) when
 * its grants for the purpose are all held back by a processor above it that is not ACTIVE. Every page is logged and audited.
 */
export async function fetchSharedRecords(
  deps: RegistryDeps,
  principal: Principal,
  input: unknown,
): Promise<SharedRecordPage> {
  if (principal.kind !== 'contractor') throw new ForbiddenError('Shared records are fetched with a contractor token');
  const { purpose, first, afterId } = parseInput(fetchSharedRecordsSchema, input, 'args');
  if (!principal.purposes.includes(purpose))
    throw new ForbiddenError(`This token does not cover the purpose ${purpose}`, 'insufficient_scope');
  return write(deps, principal, async ({ tx, now, wrote }) => {
    const page = await fetchPage(tx, principal, purpose, now, afterId, first + 1);
    if (!page.status || !mayHoldTokens({ status: page.status }))
      throw new ForbiddenError(`The contractor is ${page.status}`, 'contractor_not_active');
    if (page.blockers.length) {
      const ids = page.blockers.map((b) => publicId('Obligation', b.id));
      throw new ObligationsUnacknowledgedError(
        `Acknowledge your current obligations first: ${page.blockers.map((b, i) => `${b.kind} (${ids[i]})`).join(', ')}`,
        ids,
      );
    }
    // Nothing given for this purpose: if a processor above the contractor holds its grants back, say which.
    if (!page.routes.length) {
      const processor = (await heldBackBy(tx, [principal.contractorId], now)).get(principal.contractorId);
      if (processor) throw new ProcessorNotActiveError(processor);
    }
    const rows = page.rows.slice(0, first);
    const logged = await logAccess({ tx, wrote }, now, { principal, purpose, rows, routes: page.routes });
    return {
      result: { rows, hasNextPage: page.rows.length > first },
      audit: {
        action: 'fetchSharedRecords',
        entityType: 'Contractor',
        entityId: principal.contractorId,
        after: { purpose, records: rows.length, transfers: logged, tokenId: principal.tokenId },
      },
    };
  });
}

/** The relational-query `where` of `accessHistory`: a contractor token's own record fetches. */
export function accessHistoryFilter(principal: Principal, purpose?: Purpose | null) {
  if (principal.kind !== 'contractor') throw new ForbiddenError('accessHistory is read with a contractor token');
  return {
    importerContractorId: principal.contractorId,
    kind: 'CONTRACTOR_ACCESS' as const,
    ...(purpose ? { purpose } : {}),
  };
}
