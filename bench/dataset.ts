// The benchmark's data set, built with set-based SQL only (generate_series, INSERT … SELECT): no row-by-row loops.
// Offices, contractors, processing locations, grants with categories, obligations, shared records, and the
// transfer history, which is inserted in two steps so the first page can be measured small and then at full size.
import type postgres from 'postgres';
import { PURPOSES } from '../src/db/enums.js';

export interface Scale {
  offices: number;
  contractors: number;
  grantsPerContractor: number;
  /** Transfers inserted before the small-history measurement. */
  transfersSmall: number;
  /** Total transfers after growing the history. */
  transfersFull: number;
  /** Shared records of office 1, which the benchmark contractor's grants cover. */
  sharedRecords: number;
  /** Records imported by the import scenario (through GraphQL, then again with COPY). */
  importRecords: number;
}

export const FULL: Scale = {
  offices: 50,
  contractors: 1000,
  grantsPerContractor: 10,
  transfersSmall: 10_000,
  transfersFull: 1_000_000,
  sharedRecords: 100_000,
  importRecords: 100_000,
};
export const QUICK: Scale = {
  offices: 50,
  contractors: 200,
  grantsPerContractor: 10,
  transfersSmall: 2_000,
  transfersFull: 20_000,
  sharedRecords: 5_000,
  importRecords: 10_000,
};

const OFFICE_COUNTRIES = ['DE', 'FR', 'IE', 'NL', 'GB', 'US', 'JP', 'IN', 'BR', 'SG'];
const CONTRACTOR_COUNTRIES = [
  'US',
  'IN',
  'DE',
  'FR',
  'GB',
  'IE',
  'NL',
  'JP',
  'BR',
  'SG',
  'CA',
  'AU',
  'CH',
  'ES',
  'IT',
  'PL',
  'SE',
  'KR',
  'MX',
  'ZA',
];
const EEA = ['DE', 'FR', 'IE', 'NL', 'ES', 'IT', 'PL', 'SE'];

/** The history spans three years up to this instant (midnight UTC today), so new CONTRACTOR_ACCESS rows fall after it. */
export function historyEnd(): Date {
  const d = new Date();
  d.setUTCHours(0, 0, 0, 0);
  return d;
}
const SPAN_MS = 3 * 365 * 24 * 3600 * 1000;

/** The benchmark contractor (id 1): ACTIVE, obligations acknowledged, TECHNICAL_SUPPORT grants from office 1. */
export const BENCH_CONTRACTOR = 1;
export const BENCH_PURPOSE = 'TECHNICAL_SUPPORT';
export const BENCH_CATEGORIES = ['contact.email', 'device.hardware', 'support.problem_description'];

const arr = (xs: readonly string[]) => `array[${xs.map((x) => `'${x}'`).join(',')}]`;

export async function seedRegistry(sql: postgres.Sql, s: Scale): Promise<void> {
  const oc = arr(OFFICE_COUNTRIES);
  const cc = arr(CONTRACTOR_COUNTRIES);
  await sql.begin(async (tx) => {
    // What the registry held (src/db/history.ts) since two years ago: the history triggers stamp every row with it.
    await tx.unsafe(`select set_config('registry.now', (now() - interval '2 years')::text, true)`);
    await tx.unsafe(`
      insert into offices (name, legal_entity, country, city, is_headquarters)
      select 'Office ' || i, 'Example Software ' || (${oc})[1 + i % ${OFFICE_COUNTRIES.length}] || ' Ltd',
             (${oc})[1 + i % ${OFFICE_COUNTRIES.length}], 'City ' || i, i = 1
      from generate_series(1, ${s.offices}) i`);
    await tx.unsafe(`
      insert into contractors (legal_name, country, services, role, status, contact_name, contact_email, contract_reference, dpa_signed_on, certifications)
      select 'Contractor ' || i || ' GmbH', (${cc})[1 + i % ${CONTRACTOR_COUNTRIES.length}],
             array['TECHNICAL_SUPPORT', 'HOSTING']::service[], 'PROCESSOR', 'ACTIVE', 'Contact ' || i, 'c' || i || '@contractor.example',
             'CTR-' || i, date '2024-01-01' + (i % 300), case when (${cc})[1 + i % ${CONTRACTOR_COUNTRIES.length}] = 'US' then array['EU_US_DPF']::certification[] else '{}' end
      from generate_series(1, ${s.contractors}) i`);
    await tx.unsafe(`
      insert into processing_locations (contractor_id, country, operations)
      select c.id, (${cc})[1 + (c.id + k * 7) % ${CONTRACTOR_COUNTRIES.length}], array['STORAGE', 'PROCESSING']::operation[]
      from contractors c cross join generate_series(0, 1) k`);
    // Grants: contractor-major order, so contractor c holds grant ids (c-1)*n+1 … c*n.
    await tx.unsafe(`
      insert into grants (contractor_id, office_id, purpose, valid_from, mechanism, scc_module, cross_border, policy_explanation, created_by)
      select c.id, o.id, (${arr(PURPOSES)})[1 + (c.id + k) % ${PURPOSES.length}]::purpose, now() - interval '2 years',
             case when o.country = c.country then 'NOT_REQUIRED' else 'SCC' end::mechanism,
             case when o.country = c.country then null else 2 end, o.country <> c.country,
             'benchmark data: route assumed allowed', 'bench@example.com'
      from contractors c cross join generate_series(0, ${s.grantsPerContractor - 1}) k
      join offices o on o.id = 1 + (c.id * 7 + k) % ${s.offices}
      order by c.id, k`);
    // The benchmark contractor's grants: all TECHNICAL_SUPPORT from office 1.
    await tx.unsafe(
      `update grants set purpose = '${BENCH_PURPOSE}', office_id = 1 where contractor_id = ${BENCH_CONTRACTOR}`,
    );
    await tx.unsafe(`
      insert into grant_categories (grant_id, category_key)
      select g.id, keys[1 + (g.id + k * 5) % cardinality(keys)]
      from grants g cross join generate_series(0, 2) k
      cross join (select array_agg(key order by key) as keys from data_categories where parent_key is not null and sensitivity <> 'RESTRICTED') d
      on conflict do nothing`);
    await tx.unsafe(`
      insert into grant_categories (grant_id, category_key)
      select g.id, k from grants g cross join unnest(${arr(BENCH_CATEGORIES)}) k
      where g.contractor_id = ${BENCH_CONTRACTOR}
      on conflict do nothing`);
    await tx.unsafe(`
      insert into obligations (contractor_id, kind, text, source_document, clause, effective_from, acknowledged_by, acknowledged_at)
      select c.id, 'CONFIDENTIALITY', 'Keep the data confidential.', 'DPA', '28(3)(b)', date '2024-01-01', 'Contact ' || c.id, now()
      from contractors c`);
    // Shared records of office 1: the three granted categories plus two that no grant gives (filtered out field by field).
    await tx.unsafe(`
      insert into shared_records (office_id, subject_ref, values)
      select 1, 'subj-' || i, jsonb_build_object(
        'contact.email', 's' || i || '@example.org', 'device.hardware', 'Laptop model ' || (i % 50),
        'support.problem_description', 'Cannot start product after update ' || (i % 97),
        'contact.name', 'Subject ' || i, 'financial.payment_card', '4111111111111111')
      from generate_series(1, ${s.sharedRecords}) i`);
  });
}

/**
 * Six months ago every contractor changed (a new contact, one version more) and every fifth grant was revoked: the
 * history holds two versions of each contractor and of those grants, so a page as of a year ago must pass over the
 * later versions the current page reads.
 */
export async function changeRegistryLater(sql: postgres.Sql): Promise<void> {
  await sql.begin(async (tx) => {
    await tx.unsafe(`select set_config('registry.now', (now() - interval '6 months')::text, true)`);
    await tx.unsafe(
      `update contractors set contact_name = contact_name || ' (new)', version = version + 1, updated_at = now() - interval '6 months'`,
    );
    await tx.unsafe(`update grants set status = 'REVOKED', revoked_at = now() - interval '6 months',
      revocation_reason = 'benchmark data: re-papered' where id % 5 = 0 and contractor_id <> ${BENCH_CONTRACTOR}`);
  });
}

/**
 * The month partitions of the three years of history (transfers and audit events are partitioned by month), as
 * the migration makes them for a database that holds rows of those months: without them every generated row
 * would land in the default partition.
 */
export async function partitionHistory(sql: postgres.Sql): Promise<void> {
  const start = new Date(historyEnd().getTime() - SPAN_MS);
  await sql`select registry_ensure_partitions(${start.toISOString()}::timestamptz, 37)`;
}

/** Transfer rows from..to (1-based), spread over the three years before historyEnd() by a fixed permutation. */
export async function insertTransfers(
  sql: postgres.Sql,
  s: Scale,
  from: number,
  to: number,
  chunk = 250_000,
): Promise<void> {
  const end = historyEnd().toISOString();
  const oc = arr(OFFICE_COUNTRIES);
  const cc = arr(CONTRACTOR_COUNTRIES);
  for (let lo = from; lo <= to; lo += chunk) {
    const hi = Math.min(to, lo + chunk - 1);
    // i → contractor 1 + i % C (its country from the same formula as contractors), office 1 + i % O;
    // time = end - ((i * 104729) mod span) ms, a permutation-like spread over three years.
    await sql.unsafe(`
      insert into transfers (occurred_at, kind, exporter_office_id, exporter_country, importer_kind, importer_contractor_id, importer_country,
        categories, purpose, mechanism, scc_module, policy_explanation, record_count, cross_border, third_country, grant_id, recorded_by)
      select timestamptz '${end}' - (((i::bigint * 104729) % ${SPAN_MS}) + 1) * interval '1 millisecond', 'CONTRACTOR_SHARE',
        x.office, x.ocountry, 'CONTRACTOR', x.contractor, x.ccountry,
        array['contact.email', 'device.hardware'], (${arr(PURPOSES)})[1 + i % ${PURPOSES.length}]::purpose,
        case when x.ocountry = x.ccountry then 'NOT_REQUIRED' else 'SCC' end::mechanism,
        case when x.ocountry = x.ccountry then null else 2 end,
        'benchmark data', 1 + i % 500, x.ocountry <> x.ccountry,
        x.ocountry <> x.ccountry and not (x.ocountry = any(${arr(EEA)}) and x.ccountry = any(${arr(EEA)})),
        (x.contractor - 1) * ${s.grantsPerContractor} + 1 + (i / ${s.contractors}) % ${s.grantsPerContractor}, 'bench@example.com'
      from generate_series(${lo}, ${hi}) i
      cross join lateral (select 1 + i % ${s.contractors} as contractor, 1 + i % ${s.offices} as office,
        (${cc})[1 + (1 + i % ${s.contractors}) % ${CONTRACTOR_COUNTRIES.length}] as ccountry,
        (${oc})[1 + (1 + i % ${s.offices}) % ${OFFICE_COUNTRIES.length}] as ocountry) x`);
  }
}

export async function analyze(sql: postgres.Sql): Promise<void> {
  await sql.unsafe('vacuum analyze');
}
