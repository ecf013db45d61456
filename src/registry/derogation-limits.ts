// "Occasional" for Art. 49 derogations: how often one route may rely on one, as policy data (derogation_limits),
// checked when a transfer is recorded and set by staff through an audited change.
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import type { Tx } from '../db/client.js';
import { onlyRow, rowsOf } from '../db/rows.js';
import { DEROGATIONS, type Mechanism } from '../db/enums.js';
import { derogationLimits } from '../db/tables.js';
import { PolicyViolationError } from '../errors.js';
import { loadDerogationLimits, loadPolicyTables } from '../policy/load.js';
import { decideOccasional, derogationLimitFor, type Route } from '../policy/transfer-rules.js';
import { write, type RegistryDeps } from './tx.js';
import { country, parseInput } from './validation.js';

/**
 * Refuses one more transfer of `recordCount` records under `derogation` on the route when it would no longer be
 * occasional. Race-safe: the route × derogation is locked for the rest of the transaction, so of two concurrent
 * transfers the second counts the first (committed by then) and cannot take the same last slot. The count is the
 * busiest 12 months that contain the new transfer: a backdated one counts in the windows after it too.
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
    loadDerogationLimits(tx),
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

export const derogationLimitList = loadDerogationLimits;

const setLimitSchema = z
  .object({
    derogation: z.enum(DEROGATIONS).nullish(),
    exporterCountry: country.nullish(),
    importerCountry: country.nullish(),
    maxTransfers: z.number().int().min(0).max(1_000_000),
    maxRecords: z.number().int().min(0).max(1_000_000_000),
  })
  .strict();

/**
 * Sets the limit for a derogation (or every one, when null) on a route (a null country: any), replacing the row
 * for the same key. Audited with the row before and after.
 */
export async function setDerogationLimit(deps: RegistryDeps, principal: Principal, input: unknown) {
  const data = parseInput(setLimitSchema, input);
  const key = {
    derogation: data.derogation ?? null,
    exporterCountry: data.exporterCountry ?? null,
    importerCountry: data.importerCountry ?? null,
  };
  return write(deps, principal, async ({ tx, now, wrote }) => {
    const same = sql`${derogationLimits.derogation} is not distinct from ${key.derogation}::mechanism
      and ${derogationLimits.exporterCountry} is not distinct from ${key.exporterCountry}::char(2)
      and ${derogationLimits.importerCountry} is not distinct from ${key.importerCountry}::char(2)`;
    const [before] = await tx.select().from(derogationLimits).where(same).for('update');
    const values = { maxTransfers: data.maxTransfers, maxRecords: data.maxRecords, updatedBy: principal.subject };
    const [after] = before
      ? await tx
          .update(derogationLimits)
          .set({ ...values, updatedAt: now })
          .where(same)
          .returning()
      : await tx
          .insert(derogationLimits)
          .values({ ...key, ...values, updatedAt: now })
          .returning();
    wrote(derogationLimits, [after!]);
    return {
      result: after!,
      audit: {
        action: 'setDerogationLimit',
        entityType: 'DerogationLimit',
        entityId: after!.id,
        before: before ?? null,
        after,
      },
    };
  });
}
