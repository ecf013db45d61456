// What an auditor asks of the transfer history over a period: where the data goes (exporter → importer country
// and mechanism, third-country flows marked), how much per month, and which contractors receive the most. Each
// is one grouping SQL statement over [from, to), a range the time index (transfers_time_idx) serves, so the
// answer is a few dozen rows whatever the number of transfers. The console draws them; the CSV exports write them.
import { and, desc, eq, gte, lt, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Queryable } from '../db/client.js';
import type { Mechanism } from '../db/enums.js';
import { contractors, transfers } from '../db/tables.js';
import { assertPeriod, parseInput } from './validation.js';

const periodSchema = z.object({ from: z.date(), to: z.date() }).strict();

/** The condition for [from, to), validated first (a ValidationError names the argument). */
function inPeriod(f: { from: Date; to: Date }) {
  assertPeriod(f.from, f.to);
  return and(gte(transfers.occurredAt, f.from), lt(transfers.occurredAt, f.to));
}
const period = (args: unknown) => inPeriod(parseInput(periodSchema, args, 'args'));

const count = sql<number>`count(*)::int`;
const records = sql<number>`coalesce(sum(${transfers.recordCount}), 0)::bigint`;

export interface TransferFlow {
  exporterCountry: string;
  importerCountry: string;
  mechanism: Mechanism;
  /** The data left the exporter's jurisdiction (e.g. the EU/EEA). */
  thirdCountry: boolean;
  transfers: number;
  records: number;
}
export const FLOW_COLUMNS = [
  'exporterCountry',
  'importerCountry',
  'mechanism',
  'thirdCountry',
  'transfers',
  'records',
] as const satisfies readonly (keyof TransferFlow)[];

/** Transfers over [from, to) per exporter country → importer country, mechanism and third-country flag. */
export async function transferFlows(db: Queryable, args: unknown): Promise<TransferFlow[]> {
  const t = transfers;
  const rows = await db
    .select({
      exporterCountry: t.exporterCountry,
      importerCountry: t.importerCountry,
      mechanism: t.mechanism,
      thirdCountry: t.thirdCountry,
      transfers: count,
      records,
    })
    .from(t)
    .where(period(args))
    .groupBy(t.exporterCountry, t.importerCountry, t.mechanism, t.thirdCountry)
    .orderBy(t.exporterCountry, t.importerCountry, t.mechanism, t.thirdCountry);
  return rows.map((r) => ({ ...r, transfers: Number(r.transfers), records: Number(r.records) }));
}

export interface MonthlyVolume {
  /** YYYY-MM, in UTC. */
  month: string;
  transfers: number;
  records: number;
  /** Records that left the exporter's jurisdiction. */
  thirdCountryRecords: number;
}
export const MONTHLY_COLUMNS = [
  'month',
  'transfers',
  'records',
  'thirdCountryRecords',
] as const satisfies readonly (keyof MonthlyVolume)[];

/**
 * Transfers over [from, to) per calendar month (UTC); months without a transfer are left out. Grouped by the
 * month's first instant and formatted once per month: formatting every row (to_char) cost more than the scan
 * itself at 1,000,000 transfers (BENCHMARKS.md).
 */
export async function monthlyVolume(db: Queryable, args: unknown): Promise<MonthlyVolume[]> {
  const monthStart = sql`date_trunc('month', ${transfers.occurredAt} at time zone 'UTC')`;
  const rows = await db
    .select({
      month: sql<string>`to_char(${monthStart}, 'YYYY-MM')`,
      transfers: count,
      records,
      thirdCountryRecords: sql<number>`coalesce(sum(${transfers.recordCount}) filter (where ${transfers.thirdCountry}), 0)::bigint`,
    })
    .from(transfers)
    .where(period(args))
    .groupBy(monthStart)
    .orderBy(monthStart);
  return rows.map((r) => ({
    month: r.month,
    transfers: Number(r.transfers),
    records: Number(r.records),
    thirdCountryRecords: Number(r.thirdCountryRecords),
  }));
}

export interface ContractorVolume {
  contractorId: number;
  legalName: string;
  country: string;
  transfers: number;
  records: number;
}
export const TOP_CONTRACTOR_COLUMNS = ['contractor', 'legalName', 'country', 'transfers', 'records'] as const;

const topSchema = periodSchema.extend({ limit: z.number().int().min(1).max(100).nullish() });

/** The contractors that received the most records over [from, to) (ties: the lower ID first), at most `limit` (10). */
export async function topContractors(db: Queryable, args: unknown): Promise<ContractorVolume[]> {
  const { limit, ...rest } = parseInput(topSchema, args, 'args');
  const c = contractors;
  const rows = await db
    .select({
      contractorId: c.id,
      legalName: c.legalName,
      country: c.country,
      transfers: count,
      records,
    })
    .from(transfers)
    .innerJoin(c, eq(c.id, transfers.importerContractorId))
    .where(inPeriod(rest))
    .groupBy(c.id)
    .orderBy(desc(records), c.id)
    .limit(limit ?? 10);
  return rows.map((r) => ({ ...r, transfers: Number(r.transfers), records: Number(r.records) }));
}
