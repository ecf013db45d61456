// The registry as of an instant: which versions of the history tables (src/db/history.ts) it held then, and which
// instants may be asked. Lists read the history table of their entity with the same filters as the live one, plus
// `heldAt`; every level nested under them reads its own history table with `heldAt` at the same instant.
import { sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { ValidationError } from '../errors.js';

/** A history table or an alias of it: the period a version was held, [heldFrom, heldUntil). */
interface PeriodColumns {
  heldFrom: AnyPgColumn;
  heldUntil: AnyPgColumn;
}

/** The relational-query filter of the versions held at `at` (one per row that existed then, none of a later row). */
export const heldAt = (at: Date) => ({
  RAW: (t: PeriodColumns) =>
    sql`(${t.heldFrom} <= ${at.toISOString()} and (${t.heldUntil} is null or ${t.heldUntil} > ${at.toISOString()}))`,
});

/**
 * The instant an `asOf` argument asks for. The registry knows what it held up to now, not what it will hold: an
 * instant after now (by the app's clock) is refused rather than answered with today's state under a future date.
 * An instant before anything was recorded is no error: the registry held nothing then, and says so (empty lists,
 * null objects).
 */
export function checkAsOf(asOf: Date, now: Date, field = 'asOf'): Date {
  if (asOf.getTime() > now.getTime())
    throw ValidationError.field(
      field,
      `${asOf.toISOString()} is in the future (now is ${now.toISOString()}): the registry answers only for instants up to now`,
    );
  return asOf;
}
