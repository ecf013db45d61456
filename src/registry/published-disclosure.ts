// The privacy policy's sharing section as a product of the registry. The seed policy promises "We are always ready
// to explain … with whom the information may be shared": what it must say follows from the live grants, the
// contractors' places, the offices and the transfers of the last 12 months, as statements (one fact each) and as
// Markdown. `publishDisclosure` freezes a dated version; `disclosureDrift` compares the registry with the latest.
import { sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import type { Queryable } from '../db/client.js';
import { rowsOf } from '../db/rows.js';
import { disclosureVersions } from '../db/tables.js';
import { countryName } from '../policy/countries.js';
import { leavesJurisdictionSql } from '../policy/load.js';
import { grantLive } from './grant-status.js';
import { publicId } from './ids.js';
import { write, type RegistryDeps } from './tx.js';
import { dayOf, parseInput } from './validation.js';

export const STATEMENT_KINDS = ['CONTRACTOR_COUNTRY', 'OFFICE_COUNTRY', 'CATEGORY', 'MECHANISM'] as const;
export type StatementKind = (typeof STATEMENT_KINDS)[number];

/**
 * One fact the sharing section states. CONTRACTOR_COUNTRY: contractors providing service `subject` handle data in
 * country `object`. OFFICE_COUNTRY: an office of the group is in `object`. CATEGORY: data category `object` is
 * shared for purpose `subject`. MECHANISM: data reaches country `subject` (outside the exporter's regime) under
 * mechanism `object`.
 */
export interface Statement {
  kind: StatementKind;
  subject: string;
  object: string;
}

/** Transfers this recent are part of what the policy must cover. */
const RECENT = sql`interval '12 months'`;

/**
 * SQL: every statement the registry makes true at `now`, one row per statement and source (the grant, location,
 * office or transfer that makes it true). Set-based: one statement for the whole registry.
 */
function currentStatements(now: Date): SQL {
  // grantLive names the table itself, so the grants are never aliased here.
  const live = grantLive(now);
  return sql`
    select 'CONTRACTOR_COUNTRY' as kind, s::text as subject, c.country::text as object, 'Grant' as source_type, grants.id::text as source_id
      from grants join contractors c on c.id = grants.contractor_id, unnest(c.services) s where ${live}
    union all
    select 'CONTRACTOR_COUNTRY', s::text, l.country::text, 'ProcessingLocation', l.id::text
      from processing_locations l join contractors c on c.id = l.contractor_id, unnest(c.services) s
      where exists (select 1 from grants where grants.contractor_id = c.id and ${live})
    union all
    select 'OFFICE_COUNTRY', 'OFFICE', o.country::text, 'Office', o.id::text from offices o
    union all
    select 'CATEGORY', grants.purpose::text, gc.category_key, 'Grant', grants.id::text
      from grants join grant_categories gc on gc.grant_id = grants.id where ${live}
    union all
    select 'MECHANISM', d.country::text, grants.mechanism::text, 'Grant', grants.id::text
      from grants join offices o on o.id = grants.office_id join contractors c on c.id = grants.contractor_id,
        lateral (select c.country union select l.country from processing_locations l where l.contractor_id = c.id) d(country)
      where ${live} and grants.mechanism <> 'NOT_REQUIRED' and ${leavesJurisdictionSql(sql`o.country`, sql`d.country`, now)}
    union all
    select 'MECHANISM', t.importer_country::text, t.mechanism::text, 'Transfer', t.id::text
      from transfers t
      where t.occurred_at > ${now}::timestamptz - ${RECENT} and t.occurred_at <= ${now}::timestamptz
        and t.importer_kind <> 'AUTHORITY' and t.mechanism <> 'NOT_REQUIRED' and t.third_country
    union all
    select 'CONTRACTOR_COUNTRY', s::text, t.importer_country::text, 'Transfer', t.id::text
      from transfers t join contractors c on c.id = t.importer_contractor_id, unnest(c.services) s
      where t.occurred_at > ${now}::timestamptz - ${RECENT} and t.occurred_at <= ${now}::timestamptz
    union all
    select 'OFFICE_COUNTRY', 'OFFICE', t.importer_country::text, 'Transfer', t.id::text
      from transfers t
      where t.importer_kind = 'OFFICE' and t.occurred_at > ${now}::timestamptz - ${RECENT} and t.occurred_at <= ${now}::timestamptz`;
}

const byStatement = (a: Statement, b: Statement) =>
  STATEMENT_KINDS.indexOf(a.kind) - STATEMENT_KINDS.indexOf(b.kind) ||
  a.subject.localeCompare(b.subject) ||
  a.object.localeCompare(b.object);

export interface DisclosureDocument {
  asOf: Date;
  statements: Statement[];
  contractors: { service: string; countries: string[] }[];
  offices: string[];
  categories: { purpose: string; categories: string[] }[];
  mechanisms: { country: string; mechanisms: string[] }[];
  howToObject: string;
  markdown: string;
}

const SERVICE_NAMES: Record<string, string> = {
  DISTRIBUTION: 'Distributing products',
  TECHNICAL_SUPPORT: 'Technical support',
  ORDER_PROCESSING: 'Order processing',
  PAYMENT_PROCESSING: 'Payment processing',
  MARKETING_EMAIL: 'Newsletters and e-mail',
  HOSTING: 'Hosting',
  OTHER: 'Other services',
};

const MECHANISM_NAMES: Record<string, string> = {
  ADEQUACY: 'an adequacy decision',
  SCC: 'standard contractual clauses',
  BCR: 'binding corporate rules',
  INTRA_GROUP_AGREEMENT: 'our intra-group agreement',
  IDTA: 'the UK International Data Transfer Agreement',
  UK_ADDENDUM: 'the UK Addendum to the standard contractual clauses',
};
const mechanismName = (m: string) =>
  MECHANISM_NAMES[m] ?? `an exception for occasional transfers (${m.toLowerCase().replaceAll('_', ' ')})`;

const HOW_TO_OBJECT =
  "You can opt out of our e-mail newsletters and bulletins by replying with 'unsubscribe' in the subject line, and object to any other use of your information listed here, or ask which contractor received it, by contacting us at the address shown at the bottom of this page.";

const group = <K extends string>(
  rows: Statement[],
  kind: StatementKind,
  key: 'subject' | 'object',
  value: 'subject' | 'object',
) => {
  const out = new Map<string, string[]>();
  for (const s of rows.filter((r) => r.kind === kind)) out.set(s[key], [...(out.get(s[key]) ?? []), s[value]]);
  return [...out].map(([k, vs]) => [k as K, vs] as const);
};

/** The document from its statements: sections as data, and the Markdown a privacy policy can publish. Pure. */
export function renderDisclosure(
  statements: Statement[],
  asOf: Date,
  names: { categories: ReadonlyMap<string, string>; purposes: ReadonlyMap<string, string> },
): DisclosureDocument {
  const sorted = [...statements].sort(byStatement);
  const contractors = group(sorted, 'CONTRACTOR_COUNTRY', 'subject', 'object').map(([service, countries]) => ({
    service,
    countries,
  }));
  const offices = sorted.filter((s) => s.kind === 'OFFICE_COUNTRY').map((s) => s.object);
  const categories = group(sorted, 'CATEGORY', 'subject', 'object').map(([purpose, keys]) => ({
    purpose,
    categories: keys,
  }));
  const mechanisms = group(sorted, 'MECHANISM', 'subject', 'object').map(([country, ms]) => ({
    country,
    mechanisms: ms,
  }));
  const countries = (cs: string[]) => cs.map(countryName).join(', ');
  const lines = [
    '## With whom we share your information',
    '',
    `As of ${dayOf(asOf)}.`,
    '',
    '### Outside contractors',
    '',
    contractors.length
      ? 'We retain outside contractors to provide services for us. They must keep your information secure and confidential and use it only on our behalf. In these countries they may collect, transfer, store and process it:'
      : 'We share no personal information with outside contractors.',
    '',
    ...contractors.map((c) => `- **${SERVICE_NAMES[c.service] ?? c.service}**: ${countries(c.countries)}`),
    '',
    '### Our offices around the world',
    '',
    offices.length
      ? `We are an international company: your information may be transferred to our offices in ${countries(offices)}.`
      : 'We have no offices registered.',
    '',
    '### What they receive, and why',
    '',
    ...categories.map(
      (c) =>
        `- **${names.purposes.get(c.purpose) ?? c.purpose}**: ${c.categories.map((k) => names.categories.get(k) ?? k).join(', ')}`,
    ),
    '',
    '### How your information is protected when it leaves',
    '',
    mechanisms.length
      ? 'Where your information leaves the jurisdiction it was collected in for a country without the same protection, it travels under:'
      : 'Your information does not leave the jurisdiction it was collected in.',
    '',
    ...mechanisms.map((m) => `- **${countryName(m.country)}**: ${m.mechanisms.map(mechanismName).join('; ')}`),
    '',
    '### How to object',
    '',
    HOW_TO_OBJECT,
    '',
  ];
  return {
    asOf,
    statements: sorted,
    contractors,
    offices,
    categories,
    mechanisms,
    howToObject: HOW_TO_OBJECT,
    markdown: lines.join('\n').replace(/\n{3,}/g, '\n\n'),
  };
}

async function names(db: Queryable) {
  const r = await db.execute(sql`select 'c' as t, key::text as key, name from data_categories
    union all select 'p', key::text, name from purposes`);
  const rows = rowsOf<{ t: string; key: string; name: string }>(r);
  return {
    categories: new Map(rows.filter((x) => x.t === 'c').map((x) => [x.key, x.name])),
    purposes: new Map(rows.filter((x) => x.t === 'p').map((x) => [x.key, x.name])),
  };
}

/** What the sharing section must say now: one statement for the facts, one for the names. */
export async function publishedDisclosure(db: Queryable, now: Date): Promise<DisclosureDocument> {
  const [r, n] = await Promise.all([
    db.execute(sql`select distinct kind, subject, object from (${currentStatements(now)}) s`),
    names(db),
  ]);
  return renderDisclosure(rowsOf<Statement>(r), now, n);
}

export type DisclosureVersion = typeof disclosureVersions.$inferSelect;

const publishSchema = z.object({ effectiveOn: z.string().nullish() }).strict();

/** Freezes what the section must say now as the next version, effective on a day (default today); audited. */
export async function publishDisclosure(deps: RegistryDeps, principal: Principal, input: unknown) {
  const data = parseInput(publishSchema, input);
  return write(deps, principal, async ({ tx, now, wrote }) => {
    // One version number at a time: concurrent publications queue here.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('disclosure_versions'))`);
    const effectiveOn = data.effectiveOn ?? dayOf(now);
    const doc = await publishedDisclosure(tx, now);
    const [row] = await tx
      .insert(disclosureVersions)
      .values({
        version: sql`(select coalesce(max(version), 0) + 1 from disclosure_versions)`,
        effectiveOn,
        statements: doc.statements,
        markdown: doc.markdown,
        publishedBy: principal.subject,
        publishedAt: now,
      })
      .returning();
    wrote(disclosureVersions, [row!]);
    return {
      result: row!,
      audit: {
        action: 'publishDisclosure',
        entityType: 'DisclosureVersion',
        entityId: row!.version,
        after: { version: row!.version, effectiveOn, statements: doc.statements.length },
      },
    };
  });
}

export interface DriftItem {
  /** UNCOVERED: true now, not in the published version. NO_LONGER_TRUE: published, no longer true. */
  drift: 'UNCOVERED' | 'NO_LONGER_TRUE';
  statement: Statement;
  /** For UNCOVERED: the grants, locations, offices and transfers that make it true (their public IDs). */
  sources: string[];
}

/**
 * The registry against the latest published version, both ways, in one statement: every live grant, location,
 * office or recent transfer route whose statement the version lacks, and every statement of the version that no
 * longer holds. Without a published version, everything is uncovered.
 */
export async function disclosureDrift(
  db: Queryable,
  now: Date,
): Promise<{ version: DisclosureVersion | null; items: DriftItem[] }> {
  const [latest] = await db
    .select()
    .from(disclosureVersions)
    .orderBy(sql`version desc`)
    .limit(1);
  const r = await db.execute(sql`with cur as (${currentStatements(now)}),
    pub as (select s.kind, s.subject, s.object from disclosure_versions v,
      jsonb_to_recordset(v.statements) as s(kind text, subject text, object text)
      where v.version = (select max(version) from disclosure_versions))
    select 'UNCOVERED' as drift, c.kind, c.subject, c.object,
      array_agg(distinct c.source_type || ':' || c.source_id) as sources
    from cur c where not exists (select 1 from pub p where (p.kind, p.subject, p.object) = (c.kind, c.subject, c.object))
    group by c.kind, c.subject, c.object
    union all
    select 'NO_LONGER_TRUE', p.kind, p.subject, p.object, array[]::text[]
    from pub p where not exists (select 1 from cur c where (p.kind, p.subject, p.object) = (c.kind, c.subject, c.object))`);
  const items = rowsOf<Statement & { drift: DriftItem['drift']; sources: string[] | string }>(r).map((x) => ({
    drift: x.drift,
    statement: { kind: x.kind, subject: x.subject, object: x.object },
    sources: toArray(x.sources)
      .map((s) => {
        const [type, id] = s.split(':');
        return publicId(type!, id!);
      })
      .sort(),
  }));
  items.sort((a, b) => a.drift.localeCompare(b.drift) || byStatement(a.statement, b.statement));
  return { version: latest ?? null, items };
}

/** A text[] from a raw statement: postgres.js parses it, PGlite may answer the literal. */
function toArray(v: string[] | string): string[] {
  if (Array.isArray(v)) return v;
  const inner = v.replace(/^\{|\}$/g, '');
  return inner ? inner.split(',').map((s) => s.replace(/^"|"$/g, '')) : [];
}
