// The month partitions of the history tables (`transfers`, `audit_events`; the migration `…_partitions` made them
// partitioned by month on occurred_at, UTC). A write never waits for a partition: a row of a month that has none
// lands in the table's default partition. Each instance asks the database, at start and every few hours, for the
// partitions of the current month and the next ones (`registry_ensure_partitions`, which runs as the owner and
// moves in any rows of those months that waited in the default partition).
import { sql } from 'drizzle-orm';
import type { Queryable } from './client.js';
import { rowsOf } from './rows.js';

/** The partitioned tables. */
type PartitionedTable = 'transfers' | 'audit_events';

/** Months ahead of the current one whose partitions are made in advance. */
export const MONTHS_AHEAD = 3;

/** How often each instance makes sure the coming months have their partitions. */
export const PARTITION_CHECK_MS = 6 * 3600_000;

/** Makes the partitions of the month of `at` and the `ahead` months after it, where missing (both tables). */
export async function ensurePartitions(db: Queryable, at: Date, ahead = MONTHS_AHEAD): Promise<void> {
  await db.execute(sql`select registry_ensure_partitions(${at.toISOString()}::timestamptz, ${ahead}::int)`);
}

/**
 * This instance's checks of the coming months' partitions (at start and every PARTITION_CHECK_MS). A failed check
 * is not fatal (a write still lands, in the default partition) but must not pass unseen: it is logged and counted
 * (the metric registry_partition_check_failures_total).
 */
export interface PartitionChecks {
  /** Checks now; a failure is logged and counted, not thrown. */
  run(): Promise<void>;
  /** Failed checks since the instance started. */
  failures(): number;
}

export function partitionChecks(db: Queryable, now: () => Date, onFailure: (e: unknown) => void): PartitionChecks {
  let failures = 0;
  return {
    async run() {
      try {
        await ensurePartitions(db, now());
      } catch (e) {
        failures += 1;
        onFailure(e);
      }
    },
    failures: () => failures,
  };
}

/** `YYYY-MM` of an instant, in UTC. */
export function monthOf(at: Date): string {
  return at.toISOString().slice(0, 7);
}

/** The first instant of the month `months` after (or before, if negative) the month of `at`, in UTC: a partition bound. */
export function monthStart(at: Date, months = 0): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + months, 1));
}

export interface MonthPartition {
  table: PartitionedTable;
  /** `YYYY-MM`. */
  month: string;
  name: string;
}

/** The month partitions attached now (the default partition excluded), oldest first. */
export async function monthPartitions(db: Queryable): Promise<MonthPartition[]> {
  const rows = rowsOf<{ parent: PartitionedTable; name: string }>(
    await db.execute(sql`select p.relname as parent, c.relname as name from pg_inherits i
      join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
      join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and p.relname in ('transfers', 'audit_events') and c.relname ~ '_[0-9]{4}_[0-9]{2}$'
      order by c.relname`),
  );
  return rows.map((r) => ({
    table: r.parent,
    name: r.name,
    month: r.name.slice(-7).replace('_', '-'),
  }));
}
