// "Occasional" for Art. 49 derogations: how often one route may rely on one, as policy data (derogation_limits,
// versions changed by policy changes like the rest of the policy), checked when a transfer is recorded.
import { sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { onlyRow, rowsOf } from '../db/rows.js';
import type { Mechanism } from '../db/enums.js';
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
  const [limits, tables, used] = await Promise.all([
    loadDerogationLimits(tx, at),
    loadPolicyTables(tx, at, { exporter: route.originCountry ?? from, importer: to }),
    tx.execute(sql`with same as (
        select occurred_at, record_count from transfers
        where mechanism = ${derogation} and exporter_country = ${from} and importer_country = ${to}
          and occurred_at > ${at}::timestamptz - interval '12 months' and occurred_at < ${at}::timestamptz + interval '12 months'),
      ends(e) as (select ${at}::timestamptz union select occurred_at from same where occurred_at >= ${at}::timestamptz)
      select coalesce(max(w.n), 0)::int as transfers, coalesce(max(w.r), 0)::bigint as records
      from ends, lateral (select count(*) as n, sum(record_count) as r from same
        where occurred_at > ends.e - interval '12 months' and occurred_at <= ends.e) w`),
  ]);
  const row = onlyRow(rowsOf<{ transfers: number; records: string | number }>(used));
  const reason = decideOccasional(tables, route, derogation, derogationLimitFor(limits, derogation, from, to), {
    transfers: Number(row.transfers) + 1,
    records: Number(row.records) + recordCount,
  });
  if (reason) throw new PolicyViolationError(from, to, reason);
}
