// "Occasional" for Art. 49 derogations: how often one route may rely on one, as policy data (derogation_limits,
// versions changed by policy changes like the rest of the policy), checked when a transfer is recorded.
import { sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { rowsOf } from '../db/rows.js';
import { DEROGATIONS, type Mechanism } from '../db/enums.js';
import { PolicyViolationError } from '../errors.js';
import { loadDerogationLimits, loadPolicyTables } from '../policy/load.js';
import { decideOccasional, derogationLimitFor, type Route } from '../policy/transfer-rules.js';

/**
 * Refuses one more transfer of `recordCount` records under `derogation` on the route when it would no longer be
 * occasional. Race-safe: the route × derogation is locked for the rest of the transaction, so of two concurrent
 * transfers the second counts the first (committed by then) and cannot take the same last slot. The count is the
 * busiest 12 months that contain the new transfer: a backdated one counts in the windows after it too. The limit is
 * the one in force at the transfer's instant: a backdated transfer is judged under the limit of its day.
 */
export async function assertOccasional(
  tx: Tx,
  route: Route,
  derogation: Mechanism,
  recordCount: number,
): Promise<void> {
  const { exporterCountry: from, importerCountry: to, at } = route;
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`derogation ${derogation} ${from} ${to}`}, 0))`);
  const [limits, tables, [used]] = await Promise.all([
    loadDerogationLimits(tx, at),
    loadPolicyTables(tx, at, { exporter: route.originCountry ?? from, importer: to }),
    derogationUse(tx, { derogation, exporterCountry: from, importerCountry: to }, at),
  ]);
  const reason = decideOccasional(tables, route, derogation, derogationLimitFor(limits, derogation, from, to), {
    transfers: (used?.transfers ?? 0) + 1,
    records: (used?.records ?? 0) + recordCount,
  });
  if (reason) throw new PolicyViolationError(from, to, reason);
}

/** The key of a derogation limit: null matches any derogation or country. */
export type DerogationKey = {
  derogation: Mechanism | null;
  exporterCountry: string | null;
  importerCountry: string | null;
};

/** A route's use of a derogation, in the busiest 12 months that contain an instant. */
export interface DerogationUse {
  derogation: Mechanism;
  exporterCountry: string;
  importerCountry: string;
  transfers: number;
  records: number;
}

/**
 * The count "occasional" is judged on: for each route and derogation `key` covers with a transfer within 12 months
 * of `at`, the transfers and records in the busiest 12 months that contain `at` (a transfer at `at` counts in the
 * windows ending at later transfers too). One statement over the (mechanism, time) index; ordered by derogation,
 * exporter, importer.
 */
export async function derogationUse(tx: Tx, key: DerogationKey, at: Date): Promise<DerogationUse[]> {
  const derogations = key.derogation ? [key.derogation] : [...DEROGATIONS];
  const rows = rowsOf<DerogationUse & { records: string | number }>(
    await tx.execute(sql`with same as (
        select mechanism, exporter_country, importer_country, occurred_at, record_count from transfers
        where mechanism in (${sql.join(
          derogations.map((d) => sql`${d}`),
          sql`, `,
        )})
          ${key.exporterCountry ? sql`and exporter_country = ${key.exporterCountry}` : sql``}
          ${key.importerCountry ? sql`and importer_country = ${key.importerCountry}` : sql``}
          and occurred_at > ${at}::timestamptz - interval '12 months' and occurred_at < ${at}::timestamptz + interval '12 months'),
      ends as (
        select distinct mechanism, exporter_country, importer_country, ${at}::timestamptz as e from same
        union select mechanism, exporter_country, importer_country, occurred_at from same where occurred_at >= ${at}::timestamptz)
      select ends.mechanism as derogation, ends.exporter_country as "exporterCountry",
        ends.importer_country as "importerCountry",
        max(w.n)::int as transfers, coalesce(max(w.r), 0)::bigint as records
      from ends, lateral (select count(*) as n, sum(record_count) as r from same
        where same.mechanism = ends.mechanism and same.exporter_country = ends.exporter_country
          and same.importer_country = ends.importer_country
          and occurred_at > ends.e - interval '12 months' and occurred_at <= ends.e) w
      group by 1, 2, 3 order by 1, 2, 3`),
  );
  return rows.map((r) => ({ ...r, transfers: Number(r.transfers), records: Number(r.records) }));
}
